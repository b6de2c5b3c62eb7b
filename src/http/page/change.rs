//! Restore and purge: each shows its dry run first, then asks to confirm
//! with a form that carries the session's CSRF token and the version the
//! dry run saw, so what is confirmed is what was shown (a change made in
//! between is refused, and the person looks again).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::id::{AppId, EnvId, Key};
use crate::model::{VersionId, VersionSelector};
use crate::store::{RestoreKeys, WriteOptions};

use super::super::values::latest;
use super::layout::{self, crumbs, env_query, level};
use super::session::{self, Session};
use super::{Page, PageError, PageState, app_id, env_id, version_id};
use crate::codes;
use crate::http::ApiError;

/// What a restore or a purge is about, from the address.
#[derive(Deserialize)]
pub(super) struct Target {
    env: Option<String>,
    version: String,
    key: Option<String>,
}

/// The confirmation form.
#[derive(Deserialize)]
pub(super) struct Confirm {
    #[serde(default)]
    csrf: String,
    env: Option<String>,
    version: String,
    key: Option<String>,
    /// The latest version when the dry run was shown.
    expect: Option<String>,
    #[serde(default)]
    comment: String,
}

/// A target, checked.
struct Checked {
    app: AppId,
    env: Option<EnvId>,
    version: VersionId,
    key: Option<Key>,
}

impl Checked {
    fn new(
        app: &str,
        env: Option<&str>,
        version: &str,
        key: Option<&str>,
    ) -> Result<Self, PageError> {
        Ok(Checked {
            app: app_id(app)?,
            env: env_id(env)?,
            version: version_id(version)?,
            key: key.filter(|k| !k.is_empty()).map(Key::new).transpose()?,
        })
    }
}

/// A restore's dry run, and the form that makes it.
pub(super) async fn restore_preview(
    State(shared): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(query): Query<Target>,
) -> Result<Markup, PageError> {
    let target = Checked::new(
        &app,
        query.env.as_deref(),
        &query.version,
        query.key.as_deref(),
    )?;
    let (actor, a, e, v, k) = (
        session.actor.clone(),
        target.app.clone(),
        target.env.clone(),
        target.version,
        target.key.clone(),
    );
    let (latest, preview) = shared
        .run(move |store| {
            let latest = latest(store, &actor, &a, e.as_ref())?;
            let preview = store.dry_run().restore(
                &actor,
                &a,
                e.as_ref(),
                VersionSelector::Id(v),
                restore_keys(k),
                WriteOptions::default(),
            )?;
            Ok((latest, preview))
        })
        .await?;
    let changes = &preview.version.change;
    let what = if let Some(key) = &target.key {
        html! { "key " code { (key) } " of " }
    } else {
        html! { "every value of " }
    };
    let body = html! {
        p { "Restoring " (what) (level(&target.app, target.env.as_ref())) " as it stood at version "
            (layout::version_link(&target.app, target.env.as_ref(), target.version)) " makes a new version; history is kept." }
        h2 { "Dry run" }
        @if changes.is_empty() {
            p role="status" { "Nothing would change: the values are already those of that version." }
        } @else {
            p { "It would make version " strong { (preview.version.id) } " with these changes:" }
            ul.changes { @for c in changes { li { (layout::change(c)) } } }
        }
        (confirm_form(&session, &target, latest, "restore", "Restore", &format!("Restore version {}", target.version)))
    };
    let title = format!("Restore {}", level(&target.app, target.env.as_ref()));
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&target.app, target.env.as_ref()),
        body,
    ))
}

/// Makes a confirmed restore, then shows the history.
pub(super) async fn restore(
    State(shared): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Confirm>,
) -> Result<Response, PageError> {
    let (target, options) = confirmed(&session, &headers, &app, &form)?;
    let (actor, a, e, v) = (
        session.actor.clone(),
        target.app.clone(),
        target.env.clone(),
        target.version,
    );
    let keys = restore_keys(target.key.clone());
    let made = shared
        .run(move |store| {
            Ok(store.restore(
                &actor,
                &a,
                e.as_ref(),
                VersionSelector::Id(v),
                keys,
                options,
            )?)
        })
        .await
        .map_err(moved_on)?;
    Ok(to_history(&target, made.id))
}

/// A purge's dry run, and the form that makes it.
pub(super) async fn purge_preview(
    State(shared): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    Query(query): Query<Target>,
) -> Result<Markup, PageError> {
    let target = Checked::new(
        &app,
        query.env.as_deref(),
        &query.version,
        query.key.as_deref(),
    )?;
    let key = target
        .key
        .clone()
        .ok_or_else(|| PageError::bad_request("a purge names one key (`key=`)"))?;
    let (actor, a, e, v) = (
        session.actor.clone(),
        target.app.clone(),
        target.env.clone(),
        target.version,
    );
    let (latest, preview) = shared
        .run(move |store| {
            let latest = latest(store, &actor, &a, e.as_ref())?;
            let preview = store.dry_run().purge(
                &actor,
                &a,
                e.as_ref(),
                VersionSelector::Id(v),
                &key,
                WriteOptions::default(),
            )?;
            Ok((latest, preview))
        })
        .await?;
    let env = target.env.as_ref();
    let body = html! {
        p.warning role="alert" { "A purge cannot be undone: the value leaves every version and the disk." }
        h2 { "Dry run" }
        p { "It would remove this value of " code { (preview.value.key) } ", set at version "
            (layout::version_link(&target.app, env, target.version)) ": " (layout::content(&preview.value)) }
        p { "These versions hold it, and would show it as purged: "
            @for (i, v) in preview.versions.iter().enumerate() {
                @if i > 0 { ", " } (layout::version_link(&target.app, env, *v))
            }
        }
        @if !preview.tags.is_empty() {
            p { "Tags that name one of them: "
                @for (i, tag) in preview.tags.iter().enumerate() { @if i > 0 { ", " } code { (tag.name) } } }
        }
        p { "It would be recorded as version " strong { (preview.version.id) } "." }
        (confirm_form(&session, &target, latest, "purge", "Purge for good", &format!("Purge {} set at {}", preview.value.key, target.version)))
    };
    let title = format!("Purge from {}", level(&target.app, env));
    Ok(layout::page(
        &title,
        Some(&session),
        &crumbs(&target.app, env),
        body,
    ))
}

/// Makes a confirmed purge, then shows the history.
pub(super) async fn purge(
    State(shared): PageState,
    Page(session): Page,
    Path(app): Path<String>,
    headers: HeaderMap,
    Form(form): Form<Confirm>,
) -> Result<Response, PageError> {
    let (target, options) = confirmed(&session, &headers, &app, &form)?;
    let key = target
        .key
        .clone()
        .ok_or_else(|| PageError::bad_request("a purge names one key (`key=`)"))?;
    let (actor, a, e, v) = (
        session.actor.clone(),
        target.app.clone(),
        target.env.clone(),
        target.version,
    );
    let made = shared
        .run(move |store| {
            Ok(store.purge(
                &actor,
                &a,
                e.as_ref(),
                VersionSelector::Id(v),
                &key,
                options,
            )?)
        })
        .await
        .map_err(moved_on)?;
    Ok(to_history(&target, made.version.id))
}

/// A confirmation's target and options, when it came from this session's
/// page; the store checks the person's role again.
fn confirmed(
    session: &Session,
    headers: &HeaderMap,
    app: &str,
    form: &Confirm,
) -> Result<(Checked, WriteOptions), PageError> {
    if !session::same_origin(headers) || !session.csrf_matches(&form.csrf) {
        return Err(PageError::forged());
    }
    let target = Checked::new(app, form.env.as_deref(), &form.version, form.key.as_deref())?;
    let expect = form
        .expect
        .as_deref()
        .filter(|e| !e.is_empty())
        .map(version_id)
        .transpose()?;
    let options = WriteOptions {
        comment: form.comment.clone(),
        expect,
    };
    Ok((target, options))
}

/// The form that confirms a dry run, for a person whose role allows it.
fn confirm_form(
    session: &Session,
    target: &Checked,
    latest: Option<VersionId>,
    action: &str,
    button: &str,
    comment: &str,
) -> Markup {
    let cancel = layout::history_href(&target.app, target.env.as_ref());
    html! {
        form.confirm method="post" action={ "/ui/apps/" (target.app) "/" (action) } {
            (layout::csrf(session))
            @if let Some(env) = &target.env { input type="hidden" name="env" value=(env); }
            input type="hidden" name="version" value=(target.version);
            @if let Some(key) = &target.key { input type="hidden" name="key" value=(key); }
            @if let Some(latest) = latest { input type="hidden" name="expect" value=(latest); }
            label for="comment" { "Comment" }
            input #comment type="text" name="comment" value=(comment);
            button type="submit" class=[(action == "purge").then_some("danger")] { (button) }
            " " a href=(cancel) { "Cancel" }
        }
    }
}

/// A confirmation refused because the level changed after its dry run
/// was shown: 409, and the person looks again.
fn moved_on(e: ApiError) -> PageError {
    if e.code() == codes::CONFLICT {
        PageError::new(
            StatusCode::CONFLICT,
            format!(
                "The values changed since this dry run was shown ({}); nothing was done. Go back, reload the dry run and confirm again.",
                e.message()
            ),
        )
    } else {
        e.into()
    }
}

fn restore_keys(key: Option<Key>) -> RestoreKeys {
    key.map_or(RestoreKeys::All, |k| RestoreKeys::Only(vec![k]))
}

/// The level's history, showing the version just made.
fn to_history(target: &Checked, made: VersionId) -> Response {
    Redirect::to(&format!(
        "/ui/apps/{}/history?made={made}{}",
        target.app,
        env_query(target.env.as_ref())
    ))
    .into_response()
}
