//! Resolving a workload for a deployment (an addition to Humanitec's API):
//! `POST /orgs/{orgId}/apps/{appId}/envs/{envId}/resolve` with the
//! workload document `valuesctl resolve --workload` reads, answering as it
//! does. Secrets are shown only with `?reveal_secrets=true`, and only to a
//! role that may resolve them (a developer or above); otherwise a result a
//! secret went into is `"value": null`, with the secrets its template
//! names (their stores and references, never their content), and no
//! secret is read from its store.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use crate::access::{self, Action};
use crate::model::{Actor, VersionSelector};
use crate::placeholder::Template;
use crate::resolve::{Resolved, ResolvedWorkload, Workload};
use crate::store::Snapshot;

use super::error::{ApiError, ErrorBody};
use super::extract::{Args, Body, Params};
use super::{AppState, Shared};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/orgs/{orgId}/apps/{appId}/envs/{envId}/resolve",
        post(resolve),
    )
}

/// The query of a resolution.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResolveArgs {
    /// The version to resolve against (a UUID, the library's id, a tag or
    /// `latest`); the latest by default.
    version: Option<String>,
    /// Show secrets (only to a role that may resolve them).
    #[serde(default)]
    reveal_secrets: bool,
}

/// Resolves a workload's variables, files, labels and webhooks.
#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/envs/{envId}/resolve", tag = "Resolve",
    params(("orgId" = String, Path), ("appId" = String, Path), ("envId" = String, Path), ResolveArgs),
    request_body = Workload,
    responses((status = 200, body = Object, description = "Each item as `{\"value\", \"secret\"}`; a withheld secret's value is null, with `secrets` naming those its template uses."),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn resolve(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    Args(args): Args<ResolveArgs>,
    Body(workload): Body<Workload>,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let env = env.ok_or_else(|| ApiError::bad_request("the path has no `envId`"))?;
    let selector = match &args.version {
        Some(text) => super::ids::parse_selector(&app, Some(&env), text)
            .ok_or_else(|| ApiError::bad_request(format!("`{text}` names no version")))?,
        None => VersionSelector::Latest,
    };
    let json = s
        .run(move |store| {
            let reveal =
                args.reveal_secrets && access::allows(&actor, Action::ResolveSecrets, &app);
            let snapshot = store.snapshot_for(&actor, &app, &env, selector, &workload)?;
            let secrets = secrets_of(&snapshot);
            let version = snapshot.version().to_string();
            let snapshot = if reveal {
                snapshot
            } else {
                snapshot.redacted()
            };
            let out = snapshot
                .resolver()
                .resolve_workload(&workload)
                .map_err(unresolved)?;
            let show = Shown {
                reveal,
                secrets,
                workload: &workload,
            };
            Ok(show.answer(&out, &version))
        })
        .await?;
    Ok(axum::Json(json).into_response())
}

/// A workload that does not resolve is the request's fault (400), whatever
/// its placeholders lacked, unless a secret store could not answer (503).
fn unresolved(e: crate::resolve::ResolveErrors) -> ApiError {
    let e = crate::Error::from(e);
    let code = e.code();
    let status = match super::error::status_of(code) {
        StatusCode::SERVICE_UNAVAILABLE => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    ApiError::new(status, code, e.to_string())
}

/// How results are shown.
struct Shown<'w> {
    reveal: bool,
    /// Each secret among the values the workload reaches: its store,
    /// reference and version.
    secrets: BTreeMap<String, Value>,
    workload: &'w Workload,
}

impl Shown<'_> {
    /// The answer: each item of the resolved workload `out` as shown, and
    /// the `version` resolved against.
    fn answer(&self, out: &ResolvedWorkload<'_>, version: &str) -> Value {
        let map =
            |m: &BTreeMap<String, Resolved<'_>>, templates: &BTreeMap<String, String>| -> Value {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            self.item(v, templates.get(k).map_or("", String::as_str)),
                        )
                    })
                    .collect::<Map<_, _>>()
                    .into()
            };
        let files: Map<_, _> = out
            .files
            .iter()
            .map(|(k, f)| {
                let template = self.workload.files.get(k).map_or("", |t| t.value.as_str());
                let mut v = self.item(&f.content, template);
                v["mode"] = json!(f.mode);
                (k.clone(), v)
            })
            .collect();
        let labels: Map<_, _> = out
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), json!({"value": v, "secret": false})))
            .collect();
        let webhooks: Map<_, _> = out
            .webhooks
            .iter()
            .map(|(k, w)| {
                let t = self.workload.webhooks.get(k);
                let url = t.map_or("", |t| t.url.as_str());
                let none = BTreeMap::new();
                let headers = t.map_or(&none, |t| &t.headers);
                (
                    k.clone(),
                    json!({"url": self.item(&w.url, url), "headers": map(&w.headers, headers)}),
                )
            })
            .collect();
        json!({
            "version": version,
            "variables": map(&out.variables, &self.workload.variables),
            "files": files,
            "labels": labels,
            "webhooks": webhooks,
        })
    }

    fn item(&self, resolved: &Resolved<'_>, template: &str) -> Value {
        match resolved {
            Resolved::Plain(text) => json!({"value": text, "secret": false}),
            Resolved::Secret(s) if self.reveal => {
                json!({"value": s.expose_secret(), "secret": true})
            }
            Resolved::Secret(_) => {
                json!({"value": null, "secret": true, "secrets": self.named_by(template)})
            }
        }
    }

    /// The secrets a template names directly (through `${values.KEY}`;
    /// a workload value of the same key hides the Environment's).
    fn named_by(&self, template: &str) -> Vec<Value> {
        let Ok(t) = Template::parse(template) else {
            return Vec::new();
        };
        t.value_keys()
            .filter(|k| !self.workload.values.contains_key(k.as_ref()))
            .filter_map(|k| self.secrets.get(k.as_ref()).cloned())
            .collect()
    }
}

/// The secrets of a snapshot as an answer names them (no content).
fn secrets_of(snapshot: &Snapshot) -> BTreeMap<String, Value> {
    snapshot
        .secrets()
        .map(|(k, info)| {
            (
                k.to_string(),
                json!({
                    "key": k.as_str(),
                    "secret_store_id": info.secret_store_id,
                    "secret_key": info.secret_ref.reference,
                    "secret_version": info.secret_version.to_string(),
                }),
            )
        })
        .collect()
}
