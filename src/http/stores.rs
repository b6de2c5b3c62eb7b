//! The secret stores the service was started with, and its health.
//! Stores are configured when the service starts (with their credentials,
//! which no response shows); creating, changing or deleting one over the
//! API is refused with 400 `configured_at_start`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::codes;
use crate::model::Actor;

use super::error::{ApiError, ErrorBody};
use super::extract::Params;
use super::shapes::{BuiltinStoreJson, SecretStoreJson, VaultStoreJson};
use super::{AppState, Shared};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/orgs/{orgId}/secretstores", get(list).post(refuse))
        .route(
            "/orgs/{orgId}/secretstores/{storeId}",
            get(read).patch(refuse_change).delete(refuse_delete),
        )
}

/// Every secret store, the primary (the one that keeps the secrets given
/// to the service) first.
#[utoipa::path(get, path = "/orgs/{orgId}/secretstores", tag = "SecretStore",
    params(("orgId" = String, Path)),
    responses((status = 200, body = [SecretStoreJson]), (status = 404, body = ErrorBody)))]
pub(super) async fn list(
    State(s): AppState,
    _: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    p.org(&s)?;
    Ok(axum::Json(secret_stores(&s)).into_response())
}

/// One secret store.
#[utoipa::path(get, path = "/orgs/{orgId}/secretstores/{storeId}", tag = "SecretStore",
    params(("orgId" = String, Path), ("storeId" = String, Path)),
    responses((status = 200, body = SecretStoreJson), (status = 404, body = ErrorBody)))]
pub(super) async fn read(
    State(s): AppState,
    _: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    p.org(&s)?;
    let id = p.store_id()?;
    secret_stores(&s)
        .into_iter()
        .find(|store| store.id == id)
        .map(|store| axum::Json(store).into_response())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                codes::UNKNOWN_SECRET_STORE,
                format!("no secret store `{id}` is configured"),
            )
        })
}

/// Creating, changing or deleting a store: refused, they are configured
/// when the service starts.
#[utoipa::path(post, path = "/orgs/{orgId}/secretstores", tag = "SecretStore",
    params(("orgId" = String, Path)),
    responses((status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn refuse(
    State(s): AppState,
    _: axum::Extension<Actor>,
    p: Params,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    // The body is read (within the body limit) and dropped, so the
    // connection stays fit for the client's next request.
    drop(body);
    p.org(&s)?;
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        codes::CONFIGURED_AT_START,
        "secret stores are configured when the service starts (valuesd's command line and \
         environment), not over the API",
    ))
}

/// Changing a store: refused, as [`refuse`].
#[utoipa::path(patch, path = "/orgs/{orgId}/secretstores/{storeId}", tag = "SecretStore",
    params(("orgId" = String, Path), ("storeId" = String, Path)),
    responses((status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn refuse_change(
    s: AppState,
    a: axum::Extension<Actor>,
    p: Params,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    refuse(s, a, p, body).await
}

/// Deleting a store: refused, as [`refuse`].
#[utoipa::path(delete, path = "/orgs/{orgId}/secretstores/{storeId}", tag = "SecretStore",
    params(("orgId" = String, Path), ("storeId" = String, Path)),
    responses((status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn refuse_delete(
    s: AppState,
    a: axum::Extension<Actor>,
    p: Params,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    refuse(s, a, p, body).await
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "Health", responses((status = 200, body = String)))]
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// The store answers: 200, or 503 with `Retry-After` while it cannot be
/// reached.
#[utoipa::path(get, path = "/readyz", tag = "Health",
    responses((status = 200, body = String), (status = 503, body = ErrorBody)))]
pub(super) async fn readyz(State(s): AppState) -> Result<&'static str, ApiError> {
    s.run(|store| Ok(store.ping()?)).await?;
    Ok("ok")
}

fn secret_stores(s: &Shared) -> Vec<SecretStoreJson> {
    let primary = s.store.managed_secret_store();
    let at = s.started_at.to_string();
    let mut stores = s.store.secret_stores();
    stores.sort_by_key(|(id, _)| *id != primary);
    stores
        .into_iter()
        .map(|(id, info)| SecretStoreJson {
            id: id.to_owned(),
            primary: id == primary,
            created_at: at.clone(),
            created_by: "valuesd".to_owned(),
            updated_at: at.clone(),
            updated_by: "valuesd".to_owned(),
            vault: (info.kind == "vault").then(|| VaultStoreJson {
                url: info.url.clone().unwrap_or_default(),
                path: info.path.clone().unwrap_or_default(),
            }),
            humanitec: (info.kind == "builtin").then_some(BuiltinStoreJson {}),
        })
        .collect()
}
