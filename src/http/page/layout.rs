//! What every page shares: the frame (head, header, breadcrumbs), and how
//! a value, a secret and a change are shown.

use maud::{DOCTYPE, Markup, html};

use crate::id::{AppId, EnvId};
use crate::model::{
    Change, ChangeOp, Content, ResultOf, SnapshotValue, Source, ValueView, VersionId,
};

use super::session::Session;

/// A whole page: `title` as its heading, the person signed in (with the
/// sign-out button), the way back up, and `body`.
// The body by value: every caller makes it for this page alone.
#[allow(clippy::needless_pass_by_value)]
pub(super) fn page(
    title: &str,
    session: Option<&Session>,
    crumbs: &[(String, String)],
    body: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · valueset" }
                link rel="stylesheet" href="/ui/style.css";
            }
            body {
                header {
                    a.brand href="/ui" { "valueset" }
                    @if let Some(s) = session {
                        form.signout method="post" action="/ui/sign-out" {
                            span { "Signed in as " strong { (s.actor.name()) } }
                            (csrf(s))
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                @if !crumbs.is_empty() {
                    nav aria-label="Breadcrumb" {
                        ol {
                            @for (label, href) in crumbs {
                                li { a href=(href) { (label) } }
                            }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden field that carries the session's CSRF token.
pub(super) fn csrf(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The breadcrumbs down to an App, and to one of its levels.
pub(super) fn crumbs(app: &AppId, env: Option<&EnvId>) -> Vec<(String, String)> {
    let mut out = vec![
        ("Apps".to_owned(), "/ui".to_owned()),
        (app.to_string(), format!("/ui/apps/{app}")),
    ];
    if let Some(env) = env {
        out.push((
            format!("Environment {env}"),
            format!("/ui/apps/{app}/values?env={env}"),
        ));
    }
    out
}

/// A level's name: `App shop` or `Environment prod`.
pub(super) fn level(app: &AppId, env: Option<&EnvId>) -> String {
    match env {
        Some(env) => format!("Environment {env}"),
        None => format!("App {app}"),
    }
}

/// `&env=NAME` for a level's links, empty for the App's.
pub(super) fn env_query(env: Option<&EnvId>) -> String {
    env.map(|e| format!("&env={e}")).unwrap_or_default()
}

/// The address of a level's history.
pub(super) fn history_href(app: &AppId, env: Option<&EnvId>) -> String {
    match env {
        Some(env) => format!("/ui/apps/{app}/history?env={env}"),
        None => format!("/ui/apps/{app}/history"),
    }
}

/// A value as the page shows it: a plain value as text, a secret as its
/// version only.
pub(super) fn content(view: &ValueView) -> Markup {
    match &view.content {
        Content::Plain(text) => html! {
            code.value { (text) }
            @if view.template { " " span.badge { "template" } }
        },
        Content::Secret(info) => html! {
            span.secret { "secret (version " (info.secret_version) ")" }
        },
    }
}

/// A key of a version: its value, or that it was purged.
pub(super) fn snapshot_content(value: &SnapshotValue) -> Markup {
    match value {
        SnapshotValue::Value(view) => content(view),
        SnapshotValue::Purged { .. } => html! { span.purged { "purged" } },
    }
}

/// Where a value comes from.
pub(super) fn source(source: Source) -> &'static str {
    match source {
        Source::App => "App",
        Source::Env => "override",
    }
}

/// Where a key of a version comes from.
pub(super) fn snapshot_source(value: &SnapshotValue) -> &'static str {
    match value {
        SnapshotValue::Value(view) => source(view.source),
        SnapshotValue::Purged { source: s, .. } => source(*s),
    }
}

/// What made a version, in words.
pub(super) fn result_of(result: ResultOf) -> &'static str {
    match result {
        ResultOf::AppValueCreate | ResultOf::EnvValueCreate => "created values",
        ResultOf::AppValueDelete | ResultOf::EnvValueDelete => "deleted a value",
        ResultOf::AppValuesDelete | ResultOf::EnvValuesDelete => "deleted values",
        ResultOf::AppValueSetVersionRestore | ResultOf::EnvValueSetVersionRestore => "restored",
        ResultOf::AppValueSetVersionPurge | ResultOf::EnvValueSetVersionPurge => "purged",
        ResultOf::AppValueUpdate | ResultOf::EnvValueUpdate => "changed values",
    }
}

/// One key's change in a version, as a list item's text.
pub(super) fn change(change: &Change) -> Markup {
    let op = match change.op {
        ChangeOp::Add => "added",
        ChangeOp::Replace => "changed",
        ChangeOp::Remove => "removed",
    };
    html! {
        code { (change.key) } " " (op)
        @if let Some(v) = change.secret_version { " (secret version " (v) ")" }
    }
}

/// A version id as a link to its snapshot.
pub(super) fn version_link(app: &AppId, env: Option<&EnvId>, id: VersionId) -> Markup {
    html! {
        a href={ "/ui/apps/" (app) "/version?id=" (id) (env_query(env)) } { (id) }
    }
}
