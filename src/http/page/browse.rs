//! The pages that only read: the Apps, an App, a level's values, its
//! history and one of its versions.

use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use crate::access::{Action, allows};
use crate::id::{AppId, EnvId};
use crate::model::{ChangeOp, SnapshotValue, VersionId, VersionInfo, VersionSelector};
use crate::store::HistoryOptions;

use super::layout::{self, crumbs, env_query, level};
use super::{Page, PageError, PageState, app_id, env_id, version_id};

/// How many versions a history page lists.
pub(super) const HISTORY_PAGE: usize = 20;

/// The level a page is about: `?env=NAME`, or the App's own.
#[derive(Deserialize)]
pub(super) struct Level {
    env: Option<String>,
}

/// A history page: its level, and the version it starts below.
#[derive(Deserialize)]
pub(super) struct HistoryQuery {
    env: Option<String>,
    before: Option<String>,
    made: Option<String>,
}

/// A version of a level.
#[derive(Deserialize)]
pub(super) struct VersionQuery {
    env: Option<String>,
    id: String,
}

/// The Apps the person may read.
pub(super) async fn apps(State(s): PageState, Page(session): Page) -> Result<Markup, PageError> {
    let actor = session.actor.clone();
    let apps = s.run(move |store| Ok(store.apps(&actor)?)).await?;
    let body = html! {
        @if apps.is_empty() {
            p { "There are no Apps you may read." }
        } @else {
            ul.cards {
                @for app in &apps {
                    li { a href={ "/ui/apps/" (app) } { (app) } }
                }
            }
        }
    };
    Ok(layout::page("Apps", Some(&session), &[], body))
}

/// An App: its own values' level and its Environments.
pub(super) async fn app(
    State(s): PageState,
    Page(session): Page,
    Path(app): Path<String>,
) -> Result<Markup, PageError> {
    let app = app_id(&app)?;
    let (actor, id) = (session.actor.clone(), app.clone());
    let envs = s
        .run(move |store| Ok(store.envs_info(&actor, &id)?))
        .await?;
    let body = html! {
        h2 { "The App's values" }
        p {
            a href={ "/ui/apps/" (app) "/values" } { "Values" } " · "
            a href={ "/ui/apps/" (app) "/history" } { "History" } " · "
            a href={ "/ui/apps/" (app) "/compare" } { "Compare" }
        }
        h2 { "Environments" }
        @if envs.is_empty() {
            p { "This App has no Environments." }
        } @else {
            table {
                thead { tr { th scope="col" { "Environment" } th scope="col" { "Type" } th scope="col" { "History" } } }
                tbody {
                    @for env in &envs {
                        tr {
                            td data-label="Environment" { a href={ "/ui/apps/" (app) "/values?env=" (env.id) } { (env.name) } }
                            td data-label="Type" { (env.env_type) }
                            td data-label="History" { a href={ "/ui/apps/" (app) "/history?env=" (env.id) } { "History" } }
                        }
                    }
                }
            }
        }
    };
    let title = format!("App {app}");
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&app, None)[..1],
        body,
    ))
}

/// A level's effective values, with where each comes from.
pub(super) async fn values(
    State(s): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(q): Query<Level>,
) -> Result<Markup, PageError> {
    let (app, env) = (app_id(&app)?, env_id(q.env.as_deref())?);
    let (actor, a, e) = (session.actor.clone(), app.clone(), env.clone());
    let values = s
        .run(move |store| Ok(store.list(&actor, &a, e.as_ref())?))
        .await?;
    let env = env.as_ref();
    let body = html! {
        p {
            a href=(layout::history_href(&app, env)) { "History" } " · "
            a href={ "/ui/apps/" (app) "/compare" } { "Compare" }
        }
        @if values.is_empty() {
            p { "No values at this level." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Values" {
                table {
                    thead { tr {
                        th scope="col" { "Key" } th scope="col" { "Value" }
                        th scope="col" { "From" } th scope="col" { "Description" } th scope="col" { "Updated" }
                    } }
                    tbody {
                        @for v in &values {
                            tr {
                                th scope="row" { code { (v.key) } }
                                td data-label="Value" { (layout::content(v)) }
                                td data-label="From" { (layout::source(v.source)) }
                                td data-label="Description" { (v.description) }
                                td data-label="Updated" { (v.updated_at) }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = format!("Values of {}", level(&app, env));
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&app, env),
        body,
    ))
}

/// A level's history, newest first, a page at a time.
pub(super) async fn history(
    State(s): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(q): Query<HistoryQuery>,
) -> Result<Markup, PageError> {
    let (app, env) = (app_id(&app)?, env_id(q.env.as_deref())?);
    let before = q.before.as_deref().map(version_id).transpose()?;
    let made = q.made.as_deref().map(version_id).transpose()?;
    let (actor, a, e) = (session.actor.clone(), app.clone(), env.clone());
    // One more than a page: the version before the page's last, to compare
    // with, and whether there is an older page.
    let mut versions = s
        .run(move |store| {
            let options = HistoryOptions {
                limit: Some(HISTORY_PAGE + 1),
                before,
                key_changed: None,
            };
            Ok(store.history(&actor, &a, e.as_ref(), options)?)
        })
        .await?;
    let older = versions.get(HISTORY_PAGE).map(|v| v.id);
    let previous: Vec<_> = versions
        .iter()
        .skip(1)
        .map(|v| Some(v.id))
        .chain([None])
        .collect();
    versions.truncate(HISTORY_PAGE);
    let env = env.as_ref();
    let (write, purge) = (
        allows(&session.actor, Action::WriteValues, &app),
        allows(&session.actor, Action::Purge, &app),
    );
    let q = env_query(env);
    let body = html! {
        @if let Some(made) = made {
            p.done role="status" { "Made version " (layout::version_link(&app, env, made)) "." }
        }
        @if versions.is_empty() {
            p { "No versions yet." }
        } @else {
            div.scroll tabindex="0" role="region" aria-label="Versions" {
                table {
                    thead { tr {
                        th scope="col" { "Version" } th scope="col" { "When" } th scope="col" { "Who" }
                        th scope="col" { "Comment" } th scope="col" { "What changed" } th scope="col" { "Actions" }
                    } }
                    tbody {
                        @for (v, prev) in versions.iter().zip(&previous) {
                            (history_row(&app, env, v, *prev, (write, purge)))
                        }
                    }
                }
            }
            @if let Some(older) = versions.last().filter(|_| older.is_some()) {
                p { a href={ "/ui/apps/" (app) "/history?before=" (older.id) (q) } { "Older versions" } }
            }
        }
    };
    let title = format!("History of {}", level(&app, env));
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&app, env),
        body,
    ))
}

/// One version of a history: who made it, when, why, what changed, and
/// what the person may do with it (`roles`: may write, may purge).
fn history_row(
    app: &AppId,
    env: Option<&EnvId>,
    v: &VersionInfo,
    prev: Option<VersionId>,
    (write, purge): (bool, bool),
) -> Markup {
    let q = env_query(env);
    html! {
    tr {
        th scope="row" { (layout::version_link(app, env, v.id)) }
        td data-label="When" { (v.created_at) }
        td data-label="Who" { (v.created_by) }
        td data-label="Comment" { (v.comment) }
        td data-label="What changed" {
            (layout::result_of(v.result_of))
            @if let Some(from) = v.app_version {
                " (from App version " (layout::version_link(app, None, from)) ")"
            }
            ul.changes {
                @for c in &v.change {
                    li {
                        (layout::change(c))
                        @if purge && c.op != ChangeOp::Remove {
                            " " a.danger href={ "/ui/apps/" (app) "/purge?version=" (v.id) "&key=" (c.key) (q) } { "Purge…" }
                        }
                    }
                }
            }
        }
        td.actions data-label="Actions" {
            @if let Some(prev) = prev {
                a href={ "/ui/apps/" (app) "/compare?from=" (prev) "&to=" (v.id) (compare_envs(env)) } { "Compare with " (prev) }
            }
            @if write {
                " " a.button href={ "/ui/apps/" (app) "/restore?version=" (v.id) (q) } { "Restore…" }
            }
        }
    }
    }
}

/// `&from_env=…&to_env=…` naming one level on both sides of a comparison.
fn compare_envs(env: Option<&EnvId>) -> String {
    env.map(|e| format!("&from_env={e}&to_env={e}"))
        .unwrap_or_default()
}

/// One version of a level, with every value as it stood.
pub(super) async fn version(
    State(s): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(q): Query<VersionQuery>,
) -> Result<Markup, PageError> {
    let (app, env) = (app_id(&app)?, env_id(q.env.as_deref())?);
    let id = version_id(&q.id)?;
    let (actor, a, e) = (session.actor.clone(), app.clone(), env.clone());
    let version = s
        .run(move |store| Ok(store.version(&actor, &a, e.as_ref(), VersionSelector::Id(id))?))
        .await?;
    let env = env.as_ref();
    let write = allows(&session.actor, Action::WriteValues, &app);
    let info = &version.info;
    let body = html! {
        p {
            "Made " (info.created_at) " by " strong { (info.created_by) } ": "
            (layout::result_of(info.result_of))
            @if !info.comment.is_empty() { " (“" (info.comment) "”)" }
        }
        @if write {
            p { a.button href={ "/ui/apps/" (app) "/restore?version=" (id) (env_query(env)) } { "Restore this version…" } }
        }
        div.scroll tabindex="0" role="region" aria-label="Values at this version" {
            table {
                thead { tr {
                    th scope="col" { "Key" } th scope="col" { "Value" } th scope="col" { "From" }
                    @if write { th scope="col" { "Actions" } }
                } }
                tbody {
                    @for (key, value) in &version.values {
                        tr {
                            th scope="row" { code { (key) } }
                            td data-label="Value" { (layout::snapshot_content(value)) }
                            td data-label="From" { (layout::snapshot_source(value)) }
                            @if write {
                                td data-label="Actions" {
                                    @if matches!(value, SnapshotValue::Value(_)) {
                                        a href={ "/ui/apps/" (app) "/restore?version=" (id) "&key=" (key) (env_query(env)) } { "Restore this key…" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let title = format!("Version {id} of {}", level(&app, env));
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&app, env),
        body,
    ))
}
