//! Value set versions of an App and of an Environment: list (with
//! `key_changed`), read one, restore all or one key, purge one key. A
//! version is named by its UUID, the all-zero UUID (the latest), the
//! library's own id or a tag.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::error::Error;
use crate::id::Key;
use crate::model::{Actor, VersionSelector};
use crate::store::{HistoryOptions, RestoreKeys, WriteOptions};

use super::error::{ApiError, ErrorBody};
use super::extract::{Args, Body, IfMatch, Params};
use super::shapes::{PreviewJson, VersionJson, VersionOrPreview};
use super::{AppState, Shared};

/// How many versions one read of the history takes while listing.
const PAGE: usize = 200;

pub(super) fn routes() -> Router<Arc<Shared>> {
    let mut router = Router::new();
    for level in [
        "/orgs/{orgId}/apps/{appId}",
        "/orgs/{orgId}/apps/{appId}/envs/{envId}",
    ] {
        let base = format!("{level}/value-set-versions");
        router = router
            .route(&base, get(list))
            .route(&format!("{base}/{{valueSetVersionId}}"), get(read))
            .route(
                &format!("{base}/{{valueSetVersionId}}/restore"),
                post(restore),
            )
            .route(
                &format!("{base}/{{valueSetVersionId}}/restore/{{key}}"),
                post(restore_key),
            )
            .route(
                &format!("{base}/{{valueSetVersionId}}/purge/{{key}}"),
                post(purge),
            );
    }
    router
}

/// The query of a history list.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListArgs {
    /// Only versions that changed this key.
    key_changed: Option<String>,
}

/// The query of a restore or purge.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActionArgs {
    /// Answer with the version the change would make, and write nothing.
    #[serde(default)]
    dry_run: bool,
}

/// The body of a restore or purge (`ValueSetActionPayloadRequest`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct ActionBody {
    /// The comment the new version keeps (at most 4096 bytes).
    #[serde(default)]
    #[schema(max_length = 4096)]
    comment: String,
}

/// Every version of the level, newest first, each whole.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/value-set-versions", tag = "ValueSetVersion",
    params(("orgId" = String, Path), ("appId" = String, Path), ListArgs),
    responses((status = 200, body = [VersionJson]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn list(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Args(args): Args<ListArgs>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let key_changed = args
        .key_changed
        .map(|k| Key::new(k).map_err(Error::from))
        .transpose()?;
    let json = s
        .run(move |store| {
            let env = env.as_ref();
            let mut out = Vec::new();
            let mut before = None;
            loop {
                let options = HistoryOptions {
                    key_changed: key_changed.clone(),
                    limit: Some(PAGE),
                    before,
                };
                let page = store.history(&actor, &app, env, options)?;
                for info in &page {
                    let version = store.version(&actor, &app, env, VersionSelector::Id(info.id))?;
                    out.push(VersionJson::of(&app, env, &version));
                }
                match page.last() {
                    Some(last) if page.len() == PAGE => before = Some(last.id),
                    _ => return Ok(out),
                }
            }
        })
        .await?;
    Ok(axum::Json(json).into_response())
}

/// One version, whole.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/value-set-versions/{valueSetVersionId}", tag = "ValueSetVersion",
    params(("orgId" = String, Path), ("appId" = String, Path), ("valueSetVersionId" = String, Path)),
    responses((status = 200, body = VersionJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn read(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let selector = p.version(&app, env.as_ref())?;
    let json = s
        .run(move |store| {
            let version = store.version(&actor, &app, env.as_ref(), selector)?;
            Ok(VersionJson::of(&app, env.as_ref(), &version))
        })
        .await?;
    Ok(axum::Json(json).into_response())
}

/// Makes the level's values exactly those of the version, as a new
/// version.
#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/value-set-versions/{valueSetVersionId}/restore", tag = "ValueSetVersion",
    params(("orgId" = String, Path), ("appId" = String, Path), ("valueSetVersionId" = String, Path), ActionArgs),
    request_body = Option<ActionBody>,
    responses((status = 200, body = VersionOrPreview), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub(super) async fn restore(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ActionArgs>,
    Body(body): Body<ActionBody>,
) -> Result<Response, ApiError> {
    restore_keys(s, actor, p, if_match, args, body, None).await
}

/// Puts one key back as it was in the version (deleted, if it was not
/// there), as a new version.
#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/value-set-versions/{valueSetVersionId}/restore/{key}", tag = "ValueSetVersion",
    params(("orgId" = String, Path), ("appId" = String, Path), ("valueSetVersionId" = String, Path), ("key" = String, Path), ActionArgs),
    request_body = Option<ActionBody>,
    responses((status = 200, body = VersionOrPreview), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub(super) async fn restore_key(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ActionArgs>,
    Body(body): Body<ActionBody>,
) -> Result<Response, ApiError> {
    let key = p.key()?;
    restore_keys(s, actor, p, if_match, args, body, Some(key)).await
}

async fn restore_keys(
    s: Arc<Shared>,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    args: ActionArgs,
    body: ActionBody,
    key: Option<Key>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let selector = p.version(&app, env.as_ref())?;
    let expect = if_match.expect(&app, env.as_ref())?;
    s.run(move |store| {
        let env = env.as_ref();
        let keys = key.map_or(RestoreKeys::All, |k| RestoreKeys::Only(vec![k]));
        let options = WriteOptions {
            comment: body.comment,
            expect,
        };
        if args.dry_run {
            let preview = store
                .dry_run()
                .restore(&actor, &app, env, selector, keys, options)?;
            let json = VersionOrPreview::Preview(PreviewJson::of(&app, env, &preview.version));
            return Ok(axum::Json(json).into_response());
        }
        let made = store.restore(&actor, &app, env, selector, keys, options)?;
        let version = store.version(&actor, &app, env, VersionSelector::Id(made.id))?;
        let json = VersionOrPreview::Version(VersionJson::of(&app, env, &version));
        Ok(axum::Json(json).into_response())
    })
    .await
}

/// Removes the content of the value the version introduced, from every
/// version that holds it, irreversibly; the rules of purging apply.
#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/value-set-versions/{valueSetVersionId}/purge/{key}", tag = "ValueSetVersion",
    params(("orgId" = String, Path), ("appId" = String, Path), ("valueSetVersionId" = String, Path), ("key" = String, Path), ActionArgs),
    request_body = Option<ActionBody>,
    responses((status = 204), (status = 200, body = PreviewJson), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub(super) async fn purge(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ActionArgs>,
    Body(body): Body<ActionBody>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let selector = p.version(&app, env.as_ref())?;
    let key = p.key()?;
    let expect = if_match.expect(&app, env.as_ref())?;
    s.run(move |store| {
        let env = env.as_ref();
        let options = WriteOptions {
            comment: body.comment,
            expect,
        };
        if args.dry_run {
            let preview = store.dry_run().purge(&actor, &app, env, selector, &key, options)?;
            let json = PreviewJson::of(&app, env, &preview.version);
            return Ok(axum::Json(json).into_response());
        }
        let outcome = store.purge(&actor, &app, env, selector, &key, options)?;
        if let Some(e) = outcome.compaction {
            tracing::warn!(target: "valueset::http", error = %e, "purged, but compacting the storage failed");
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}
