//! The web page, for people: server-rendered HTML under `/ui` (guide:
//! [The page](crate::_documentation::guide#the-page)).
//!
//! It signs in with a token posted once, keeps the session in a signed
//! cookie ([`session`]), and shows the Apps, an Environment's values with
//! where each comes from, a level's history, a version, the difference
//! between two sets, and restore and purge with their dry run first. Every
//! page is made by [maud](https://maud.lambda.xyz) templates the compiler
//! checks, escapes every value, uses no script at all, and is answered
//! with a Content-Security-Policy that would refuse one. A page never holds
//! a secret's content: reads never return it.

mod browse;
mod change;
mod compare;
mod layout;
pub(crate) mod session;
mod sign;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{ApiError, AppState, Shared};
use crate::error::Error;
use crate::id::{AppId, EnvId, InvalidId};
use crate::model::VersionId;
use session::Session;

/// What every page is answered with: no script, style or image from
/// anywhere but the service, no frame around it, no address sent to another
/// site (`same-origin`: with `no-referrer`, browsers send `Origin: null`
/// with the page's own forms, which the origin check refuses).
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page's style sheet: the only file it loads.
const STYLE: &str = include_str!("style.css");

/// The page's routes, each answered with its security headers.
pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/ui", get(browse::apps))
        .route("/ui/style.css", get(style))
        .route("/ui/sign-in", get(sign::form).post(sign::sign_in))
        .route("/ui/sign-out", axum::routing::post(sign::sign_out))
        .route("/ui/apps/{app}", get(browse::app))
        .route("/ui/apps/{app}/values", get(browse::values))
        .route("/ui/apps/{app}/history", get(browse::history))
        .route("/ui/apps/{app}/version", get(browse::version))
        .route("/ui/apps/{app}/compare", get(compare::compare))
        .route(
            "/ui/apps/{app}/restore",
            get(change::restore_preview).post(change::restore),
        )
        .route(
            "/ui/apps/{app}/purge",
            get(change::purge_preview).post(change::purge),
        )
        .layer(middleware::from_fn(security_headers))
}

/// A signed-in request: its session. A request without one is sent to
/// the sign-in page.
pub(crate) struct Page(pub(crate) Session);

impl<S> FromRequestParts<S> for Page
where
    Arc<Shared>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let shared = Arc::<Shared>::from_ref(state);
        session::cookie_value(&parts.headers)
            .and_then(|c| shared.page.key.open(c, session::now(), &shared.tokens))
            .map(Page)
            .ok_or_else(|| Redirect::to("/ui/sign-in").into_response())
    }
}

/// The page's settings, from [`ServiceOptions`](super::ServiceOptions).
pub(crate) struct PageSettings {
    pub(crate) key: session::SessionKey,
    pub(crate) ttl: std::time::Duration,
    pub(crate) secure_cookies: bool,
}

/// A page that could not be made: its status and what to tell the person.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
        }
    }

    /// Bad input in the address or a form: 400.
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A form posted without its session's CSRF token, or from another
    /// site: 403.
    fn forged() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "This form did not come from this page (its CSRF token is missing or wrong). Go back, reload the page and try again.",
        )
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::new(e.status(), e.message().to_owned())
    }
}

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        ApiError::from(e).into()
    }
}

impl From<InvalidId> for PageError {
    fn from(e: InvalidId) -> Self {
        PageError::bad_request(e.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self
            .status
            .canonical_reason()
            .unwrap_or("Something went wrong");
        let body = maud::html! {
            p role="alert" { (self.message) }
            p { a href="/ui" { "Back to the Apps" } }
        };
        (self.status, layout::page(title, None, &[], body)).into_response()
    }
}

/// An App id from the address.
fn app_id(text: &str) -> Result<AppId, PageError> {
    Ok(AppId::new(text)?)
}

/// An Environment id from the address or a form, where empty (or absent)
/// means the App's own level.
fn env_id(text: Option<&str>) -> Result<Option<EnvId>, PageError> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Ok(Some(EnvId::new(t)?)),
    }
}

/// A version id (`a3`, `e7`) from the address or a form.
fn version_id(text: &str) -> Result<VersionId, PageError> {
    text.parse()
        .map_err(|_| PageError::bad_request(format!("`{text}` is not a version id")))
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
}

/// Adds the page's security headers to every answer under `/ui`; pages
/// (which hold values) are never cached.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The state a page handler runs with.
pub(crate) type PageState = AppState;
