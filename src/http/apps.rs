//! Apps and Environments: list, create, read, rename, delete.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::Error;
use crate::id::{AppId, EnvId};
use crate::model::{Actor, DEFAULT_ENV_TYPE};
use crate::store::{AppOptions, EnvOptions, Store};

use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Params};
use super::shapes::{AppJson, EnvJson};
use super::{AppState, Shared};

/// The Environment an App gets when it is created without one.
const DEFAULT_ENV: &str = "development";

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/orgs/{orgId}/apps", get(list_apps).post(create_app))
        .route(
            "/orgs/{orgId}/apps/{appId}",
            get(read_app).patch(patch_app).delete(delete_app),
        )
        .route(
            "/orgs/{orgId}/apps/{appId}/envs",
            get(list_envs).post(create_env),
        )
        .route(
            "/orgs/{orgId}/apps/{appId}/envs/{envId}",
            get(read_env).patch(patch_env).delete(delete_env),
        )
}

/// A new App (`ApplicationCreationRequest`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct AppBody {
    /// Its id.
    #[schema(pattern = "^[a-z0-9](?:-?[a-z0-9]+)+$", max_length = 50)]
    id: String,
    /// Its name (at most 256 bytes).
    #[schema(max_length = 256)]
    name: String,
    /// The Environment to create with it; `development` when absent.
    env: Option<EnvBody>,
    /// Create no Environment with it.
    #[serde(default)]
    skip_environment_creation: bool,
}

/// A new name (`ApplicationPatchPayload`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppPatchBody {
    /// The new name (at most 256 bytes).
    #[schema(max_length = 256)]
    name: String,
}

/// A new Environment (`EnvironmentDefinitionRequest`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct EnvBody {
    /// Its id.
    #[schema(pattern = "^[a-z0-9](?:-?[a-z0-9]+)+$", max_length = 50)]
    id: String,
    /// Its name (at most 256 bytes).
    #[schema(max_length = 256)]
    name: String,
    /// Its type (at most 256 bytes); `development` when absent.
    #[serde(rename = "type")]
    #[schema(max_length = 256)]
    env_type: Option<String>,
}

/// A change of an Environment (`EnvironmentBaseUpdateRequest`).
#[derive(Deserialize, ToSchema)]
pub(crate) struct EnvPatchBody {
    /// The new name (at most 256 bytes).
    #[schema(max_length = 256)]
    name: Option<String>,
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps", operation_id = "listApplications", tag = "Application",
    params(("orgId" = String, Path)),
    responses((status = 200, body = [AppJson]), (status = 404, body = ErrorBody)))]
pub(super) async fn list_apps(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    p.org(&s)?;
    let org = s.org.clone();
    let json = s
        .run(move |store| {
            let mut out = Vec::new();
            for app in store.apps(&actor)? {
                out.push(app_json(store, &actor, &org, &app)?);
            }
            Ok(out)
        })
        .await?;
    Ok(axum::Json(json).into_response())
}

#[utoipa::path(post, path = "/orgs/{orgId}/apps", operation_id = "createApplication", tag = "Application",
    params(("orgId" = String, Path)), request_body = AppBody,
    responses((status = 201, body = AppJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn create_app(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Body(body): Body<AppBody>,
) -> Result<Response, ApiError> {
    p.org(&s)?;
    let app = AppId::new(body.id).map_err(Error::from)?;
    // Everything is checked before anything is written.
    let env = match (body.skip_environment_creation, body.env) {
        (true, _) => None,
        (false, Some(e)) => Some((EnvId::new(e.id).map_err(Error::from)?, e.name, e.env_type)),
        (false, None) => Some((
            EnvId::new(DEFAULT_ENV).map_err(Error::from)?,
            DEFAULT_ENV.to_owned(),
            None,
        )),
    };
    let org = s.org.clone();
    let name = body.name;
    let json = s
        .run(move |store| {
            store.create_app_with(&actor, &app, AppOptions { name: Some(name) })?;
            if let Some((env, name, env_type)) = env {
                let options = EnvOptions {
                    name: Some(name),
                    env_type: Some(env_type.unwrap_or_else(|| DEFAULT_ENV_TYPE.to_owned())),
                };
                store.create_env_with(&actor, &app, &env, options)?;
            }
            app_json(store, &actor, &org, &app)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(json)).into_response())
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}", operation_id = "getApplication", tag = "Application",
    params(("orgId" = String, Path), ("appId" = String, Path)),
    responses((status = 200, body = AppJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn read_app(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let org = s.org.clone();
    let json = s
        .run(move |store| app_json(store, &actor, &org, &app))
        .await?;
    Ok(axum::Json(json).into_response())
}

#[utoipa::path(patch, path = "/orgs/{orgId}/apps/{appId}", operation_id = "patchApplication", tag = "Application",
    params(("orgId" = String, Path), ("appId" = String, Path)), request_body = AppPatchBody,
    responses((status = 200, body = AppJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn patch_app(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Body(body): Body<AppPatchBody>,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let org = s.org.clone();
    let json = s
        .run(move |store| {
            store.update_app(
                &actor,
                &app,
                AppOptions {
                    name: Some(body.name),
                },
            )?;
            app_json(store, &actor, &org, &app)
        })
        .await?;
    Ok(axum::Json(json).into_response())
}

#[utoipa::path(delete, path = "/orgs/{orgId}/apps/{appId}", operation_id = "deleteApplication", tag = "Application",
    params(("orgId" = String, Path), ("appId" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_app(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    s.run(move |store| {
        let outcome = store.delete_app(&actor, &app)?;
        log_outcome(&outcome);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/envs", operation_id = "listEnvironments", tag = "Environment",
    params(("orgId" = String, Path), ("appId" = String, Path)),
    responses((status = 200, body = [EnvJson]), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn list_envs(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let envs = s
        .run(move |store| Ok(store.envs_info(&actor, &app)?))
        .await?;
    let json: Vec<EnvJson> = envs.iter().map(EnvJson::of).collect();
    Ok(axum::Json(json).into_response())
}

#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/envs", operation_id = "createEnvironment", tag = "Environment",
    params(("orgId" = String, Path), ("appId" = String, Path)), request_body = EnvBody,
    responses((status = 201, body = EnvJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn create_env(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Body(body): Body<EnvBody>,
) -> Result<Response, ApiError> {
    let app = p.app(&s)?;
    let env = EnvId::new(body.id).map_err(Error::from)?;
    let options = EnvOptions {
        name: Some(body.name),
        env_type: body.env_type,
    };
    let info = s
        .run(move |store| {
            store.create_env_with(&actor, &app, &env, options)?;
            Ok(store.env(&actor, &app, &env)?)
        })
        .await?;
    Ok((StatusCode::CREATED, axum::Json(EnvJson::of(&info))).into_response())
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/envs/{envId}", operation_id = "getEnvironment", tag = "Environment",
    params(("orgId" = String, Path), ("appId" = String, Path), ("envId" = String, Path)),
    responses((status = 200, body = EnvJson), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn read_env(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = env_level(&s, &p)?;
    let info = s
        .run(move |store| Ok(store.env(&actor, &app, &env)?))
        .await?;
    Ok(axum::Json(EnvJson::of(&info)).into_response())
}

#[utoipa::path(patch, path = "/orgs/{orgId}/apps/{appId}/envs/{envId}", operation_id = "updateEnvironment", tag = "Environment",
    params(("orgId" = String, Path), ("appId" = String, Path), ("envId" = String, Path)), request_body = Option<EnvPatchBody>,
    responses((status = 200, body = EnvJson), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn patch_env(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Body(body): Body<EnvPatchBody>,
) -> Result<Response, ApiError> {
    let (app, env) = env_level(&s, &p)?;
    let options = EnvOptions {
        name: body.name,
        env_type: None,
    };
    let info = s
        .run(move |store| Ok(store.update_env(&actor, &app, &env, options)?))
        .await?;
    Ok(axum::Json(EnvJson::of(&info)).into_response())
}

#[utoipa::path(delete, path = "/orgs/{orgId}/apps/{appId}/envs/{envId}", operation_id = "deleteEnvironment", tag = "Environment",
    params(("orgId" = String, Path), ("appId" = String, Path), ("envId" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn delete_env(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = env_level(&s, &p)?;
    s.run(move |store| {
        let outcome = store.delete_env(&actor, &app, &env)?;
        log_outcome(&outcome);
        Ok(())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn env_level(s: &Shared, p: &Params) -> Result<(AppId, EnvId), ApiError> {
    let (app, env) = p.level(s)?;
    let env = env.ok_or_else(|| ApiError::bad_request("the path has no `envId`"))?;
    Ok((app, env))
}

fn app_json(store: &Store, actor: &Actor, org: &str, app: &AppId) -> Result<AppJson, ApiError> {
    let info = store.app(actor, app)?;
    let envs = store.envs_info(actor, app)?;
    Ok(AppJson::of(org, &info, &envs))
}

/// What a deletion that was made could not finish goes to the log (the
/// deletion stands).
fn log_outcome(outcome: &crate::store::DeleteOutcome) {
    if let Some(e) = &outcome.compaction {
        tracing::warn!(target: "valueset::http", error = %e, "deleted, but compacting the storage failed");
    }
    for e in &outcome.secrets_not_deleted {
        tracing::warn!(target: "valueset::http", error = %e, "deleted, but a secret store kept a secret");
    }
}
