//! What Humanitec's API lacks, under the same paths: the difference
//! between two versions or Environments, tags, and moving an App with its
//! history (export and import). Their JSON is the library's own, as
//! `valuesctl` prints it.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::crypto::MasterKey;
use crate::error::Error;
use crate::id::{AppId, EnvId, TagName};
use crate::model::{Actor, VersionSelector};
use crate::store::{DiffSide, ExportDocument};

use super::error::{ApiError, ErrorBody};
use super::extract::{Args, Body, Params};
use super::ids::parse_selector;
use super::shapes::AppJson;
use super::{AppState, Shared};

/// The header that carries the key sealing an export's secrets (64 hex
/// characters), and opening them on import.
pub const EXPORT_KEY_HEADER: &str = "x-valueset-export-key";

pub(super) fn routes() -> Router<Arc<Shared>> {
    let mut router = Router::new()
        .route("/orgs/{orgId}/apps/{appId}/export", get(export))
        .route("/orgs/{orgId}/import", post(import));
    for level in [
        "/orgs/{orgId}/apps/{appId}",
        "/orgs/{orgId}/apps/{appId}/envs/{envId}",
    ] {
        router = router
            .route(&format!("{level}/diff"), get(diff))
            .route(&format!("{level}/tags"), get(tags))
            .route(&format!("{level}/tags/{{tag}}"), put(tag));
    }
    router
}

/// The two sides of a difference.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffArgs {
    /// A version of the level (UUID, library id, tag or `latest`), or
    /// `env:NAME` for that Environment's latest values.
    from: String,
    /// As `from`.
    to: String,
}

/// What a tag names.
#[derive(Deserialize, ToSchema)]
pub(crate) struct TagBody {
    /// The version (UUID, library id, another tag or `latest`).
    version: String,
}

/// The query of an export.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportArgs {
    /// Every version of the App and its Environments, not only the current
    /// values.
    #[serde(default)]
    history: bool,
}

/// What changed between two versions of a level, or two Environments.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/diff", tag = "Diff",
    params(("orgId" = String, Path), ("appId" = String, Path), DiffArgs),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn diff(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Args(args): Args<DiffArgs>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let from = side(&app, env.as_ref(), &args.from)?;
    let to = side(&app, env.as_ref(), &args.to)?;
    let diff = s
        .run(move |store| Ok(store.diff(&actor, &app, &from, &to)?))
        .await?;
    Ok(axum::Json(diff).into_response())
}

/// The tags of a level, with every version each has named.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/tags", tag = "Tag",
    params(("orgId" = String, Path), ("appId" = String, Path)),
    responses((status = 200, body = [Object]), (status = 404, body = ErrorBody)))]
pub(super) async fn tags(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let tags = s
        .run(move |store| Ok(store.tags(&actor, &app, env.as_ref())?))
        .await?;
    Ok(axum::Json(tags).into_response())
}

/// Places a tag on a version (moving it if it named another).
#[utoipa::path(put, path = "/orgs/{orgId}/apps/{appId}/tags/{tag}", tag = "Tag",
    params(("orgId" = String, Path), ("appId" = String, Path), ("tag" = String, Path)),
    request_body = TagBody,
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn tag(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Body(body): Body<TagBody>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let name = TagName::new(p.tag()?).map_err(Error::from)?;
    let version = parse_selector(&app, env.as_ref(), &body.version).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            crate::codes::UNKNOWN_VERSION,
            format!("`{}` names no version of this level", body.version),
        )
    })?;
    let tag = s
        .run(move |store| Ok(store.tag(&actor, &app, env.as_ref(), version, &name)?))
        .await?;
    Ok(axum::Json(tag).into_response())
}

/// The App's values, Environments, overrides and tags (and with
/// `history=true` every version) as an export document; with the export
/// key header, its secrets sealed under that key.
#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/export", tag = "Export",
    params(("orgId" = String, Path), ("appId" = String, Path), ExportArgs),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn export(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    headers: HeaderMap,
    Args(args): Args<ExportArgs>,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let key = export_key(&headers)?;
    let doc = s
        .run(move |store| {
            Ok(if args.history {
                store.export_history(&actor, &app, key.as_ref())?
            } else {
                store.export_app(&actor, &app, key.as_ref())?
            })
        })
        .await?;
    Ok(axum::Json(doc).into_response())
}

/// Creates the App an export document holds, in one atomic write.
#[utoipa::path(post, path = "/orgs/{orgId}/import", tag = "Export",
    params(("orgId" = String, Path)),
    request_body(content = Object, description = "An export document."),
    responses((status = 201, body = AppJson), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn import(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    headers: HeaderMap,
    Body(doc): Body<ExportDocument>,
) -> Result<Response, ApiError> {
    p.org(&s)?;
    let key = export_key(&headers)?;
    let org = s.org.clone();
    let json = s
        .run(move |store| {
            store.import_app(&actor, &doc, key.as_ref())?;
            let info = store.app(&actor, &doc.app)?;
            let envs = store.envs_info(&actor, &doc.app)?;
            Ok(AppJson::of(&org, &info, &envs))
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

/// A side of a difference: `env:NAME`, or a version of the path's level.
fn side(app: &AppId, env: Option<&EnvId>, text: &str) -> Result<DiffSide, ApiError> {
    if let Some(name) = text.strip_prefix("env:") {
        let other = EnvId::new(name).map_err(Error::from)?;
        return Ok(DiffSide::env(other, VersionSelector::Latest));
    }
    let version = parse_selector(app, env, text).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            crate::codes::UNKNOWN_VERSION,
            format!("`{text}` names no version of this level"),
        )
    })?;
    Ok(match env {
        Some(env) => DiffSide::env(env.clone(), version),
        None => DiffSide::app(version),
    })
}

fn export_key(headers: &HeaderMap) -> Result<Option<MasterKey>, ApiError> {
    let Some(value) = headers.get(EXPORT_KEY_HEADER) else {
        return Ok(None);
    };
    let hex = value
        .to_str()
        .map_err(|_| ApiError::bad_request("the export key is not text"))?;
    Ok(Some(MasterKey::from_hex(hex.trim()).map_err(Error::from)?))
}
