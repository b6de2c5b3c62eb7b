//! Signing in with a token, posted once from a form and never placed in an
//! address, and signing out.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use std::time::Instant;

use super::super::throttle::{self, ClientAddress};
use super::session::{self, SESSION_COOKIE};
use super::{Page, PageError, PageState, layout};

/// The sign-in form's fields.
#[derive(Deserialize)]
pub(super) struct SignIn {
    #[serde(default)]
    token: String,
}

/// A form that posts only its CSRF token.
#[derive(Deserialize)]
pub(super) struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// The sign-in page.
pub(super) async fn form() -> Markup {
    sign_in_page(None)
}

/// Signs in with the token posted: a session cookie, then the Apps.
pub(super) async fn sign_in(
    State(s): PageState,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<SignIn>,
) -> Response {
    if !session::same_origin(&headers) {
        return PageError::forged().into_response();
    }
    // Guessing tokens here is slowed as it is on the API.
    if let Some(wait) = address.and_then(|a| s.throttle.refused(a, Instant::now())) {
        let refusal = throttle::too_many(wait);
        let retry = refusal.retry_after_header();
        let mut page = PageError::from(refusal).into_response();
        if let Some(retry) = retry {
            page.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        return page;
    }
    let Some((hash, _)) = s.tokens.sign_in(form.token.trim()) else {
        if let Some(address) = address {
            s.throttle.failed(address, Instant::now());
        }
        return (
            StatusCode::UNAUTHORIZED,
            sign_in_page(Some("The service does not know that token.")),
        )
            .into_response();
    };
    let settings = &s.page;
    let cookie = settings
        .key
        .issue(&hash, session::now(), settings.ttl)
        .and_then(|value| session::set_cookie(&value, settings.ttl, settings.secure_cookies));
    match cookie {
        Some(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to("/ui")).into_response(),
        None => PageError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The operating system gave no randomness for a session; try again.",
        )
        .into_response(),
    }
}

/// Signs out: the cookie is dropped, then the sign-in page.
pub(super) async fn sign_out(
    State(s): PageState,
    Page(session): Page,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if !session::same_origin(&headers) || !session.csrf_matches(&form.csrf) {
        return PageError::forged().into_response();
    }
    match session::clear_cookie(s.page.secure_cookies) {
        Some(cookie) => {
            ([(header::SET_COOKIE, cookie)], Redirect::to("/ui/sign-in")).into_response()
        }
        None => Redirect::to("/ui/sign-in").into_response(),
    }
}

fn sign_in_page(problem: Option<&str>) -> Markup {
    let body = html! {
        @if let Some(problem) = problem {
            p.problem role="alert" { (problem) }
        }
        form method="post" action="/ui/sign-in" {
            label for="token" { "Token" }
            input #token type="password" name="token" autocomplete="current-password" required;
            button type="submit" { "Sign in" }
        }
        p.hint {
            "The token you call the service's API with. It is sent once; the page keeps a session cookie ("
            code { (SESSION_COOKIE) } ") instead."
        }
    };
    layout::page("Sign in", None, &[], body)
}
