//! Shared values of an App and of an Environment: create, list, replace,
//! patch, delete one and delete all. Every change takes `If-Match` (the
//! version it expects to be current) and `?dry_run=true` (the version it
//! would make, nothing written).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::{self, Action};
use crate::codes;
use crate::error::Error;
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, NewValue, Source, VersionId};
use crate::secret::Secret;
use crate::store::{ChangeSet, DeleteOptions, HistoryOptions, SetOptions, Store, WriteOptions};

use super::error::ApiError;
use super::extract::{Args, Body, IfMatch, Params};
use super::payloads::{PatchBody, ValueBody, new_value, required_description};
use super::shapes::{PreviewJson, ValueJson, ValueOrPreview};
use super::{AppState, Shared};

pub(super) fn routes() -> Router<Arc<Shared>> {
    let list = get(list).post(create).delete(delete_all);
    let one = get(read).put(replace).patch(patch).delete(delete_one);
    Router::new()
        .route("/orgs/{orgId}/apps/{appId}/values", list.clone())
        .route("/orgs/{orgId}/apps/{appId}/values/{key}", one.clone())
        .route("/orgs/{orgId}/apps/{appId}/envs/{envId}/values", list)
        .route("/orgs/{orgId}/apps/{appId}/envs/{envId}/values/{key}", one)
}

/// The query of a change.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangeArgs {
    /// Answer with the version the change would make, and write nothing.
    #[serde(default)]
    dry_run: bool,
    /// Deleting App values: delete the Environments' overrides of them
    /// too, in the same version (without it, deleting an overridden App
    /// value is refused with 409 `overridden_in_envs`).
    #[serde(default)]
    cascade: bool,
}

/// A change's answer: what it made, or with `dry_run` what it would make.
enum Made<T> {
    Done(T),
    Preview(PreviewJson),
}

impl<T: IntoResponse> IntoResponse for Made<T> {
    fn into_response(self) -> Response {
        match self {
            Made::Done(r) => r.into_response(),
            Made::Preview(p) => (StatusCode::OK, axum::Json(p)).into_response(),
        }
    }
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/values", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path)),
    responses((status = 200, body = [ValueJson]), (status = 404, body = super::ErrorBody)))]
async fn list(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let answers = Arc::clone(&s.answers);
    let body = s
        .run(move |store| {
            let head = store.head(&actor, &app, env.as_ref())?;
            if let Some(body) = answers.get(&head) {
                return Ok(body);
            }
            // Listed after the head was read: never older than the head.
            let values = store.list(&actor, &app, env.as_ref())?;
            let json: Vec<ValueJson> = values.iter().map(ValueJson::of).collect();
            let body = serde_json::to_vec(&json).map_err(|_| {
                let status = StatusCode::INTERNAL_SERVER_ERROR;
                ApiError::new(status, codes::BACKEND, "the answer could not be written")
            })?;
            let body = Bytes::from(body);
            answers.put(head, body.clone());
            Ok(body)
        })
        .await?;
    Ok(([(CONTENT_TYPE, "application/json")], body).into_response())
}

#[utoipa::path(get, path = "/orgs/{orgId}/apps/{appId}/values/{key}", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = ValueJson), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
async fn read(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
) -> Result<Response, ApiError> {
    let (app, env) = p.level(&s)?;
    let key = p.key()?;
    let view = s
        .run(move |store| Ok(store.get(&actor, &app, env.as_ref(), &key)?))
        .await?;
    Ok(axum::Json(ValueJson::of(&view)).into_response())
}

#[utoipa::path(post, path = "/orgs/{orgId}/apps/{appId}/values", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ChangeArgs),
    request_body = ValueBody,
    responses((status = 201, body = ValueJson), (status = 200, body = PreviewJson),
        (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 412, body = super::ErrorBody)))]
async fn create(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ChangeArgs>,
    Body(body): Body<ValueBody>,
) -> Result<Made<(StatusCode, axum::Json<ValueJson>)>, ApiError> {
    let (app, env) = p.level(&s)?;
    let key_text = body
        .key
        .clone()
        .ok_or_else(|| ApiError::bad_request("the body has no `key`"))?;
    let key = Key::new(key_text).map_err(Error::from)?;
    let expect = if_match.expect(&app, env.as_ref())?;
    let description = Some(required_description(body.description)?);
    let value = new_value(body.is_secret, body.value, body.secret_ref, body.template)?;
    let level = Level { app, env, key };
    s.run(move |store| {
        level.guarded(store, &actor, expect, Exists::Refuse, |store, expect| {
            let options = SetOptions {
                description: description.clone(),
                comment: String::new(),
                expect,
            };
            level.set(store, &actor, value_again(&value), options, args.dry_run)
        })
    })
    .await
    .map(|made| match made {
        Made::Done(v) => Made::Done((StatusCode::CREATED, axum::Json(v))),
        Made::Preview(p) => Made::Preview(p),
    })
}

#[utoipa::path(put, path = "/orgs/{orgId}/apps/{appId}/values/{key}", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ("key" = String, Path), ChangeArgs),
    request_body = ValueBody,
    responses((status = 200, body = ValueOrPreview), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 412, body = super::ErrorBody)))]
async fn replace(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ChangeArgs>,
    Body(body): Body<ValueBody>,
) -> Result<Made<axum::Json<ValueJson>>, ApiError> {
    let (app, env) = p.level(&s)?;
    let key = p.key()?;
    if body.key.as_ref().is_some_and(|k| k != key.as_str()) {
        return Err(ApiError::bad_request("the body's `key` is not the path's"));
    }
    let expect = if_match.expect(&app, env.as_ref())?;
    let description = Some(required_description(body.description)?);
    let value = new_value(body.is_secret, body.value, body.secret_ref, body.template)?;
    let level = Level { app, env, key };
    s.run(move |store| {
        level.guarded(store, &actor, expect, Exists::Require, |store, expect| {
            let options = SetOptions {
                description: description.clone(),
                comment: String::new(),
                expect,
            };
            level.set(store, &actor, value_again(&value), options, args.dry_run)
        })
    })
    .await
    .map(|m| match m {
        Made::Done(v) => Made::Done(axum::Json(v)),
        Made::Preview(p) => Made::Preview(p),
    })
}

#[utoipa::path(patch, path = "/orgs/{orgId}/apps/{appId}/values/{key}", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ("key" = String, Path), ChangeArgs),
    request_body = Option<PatchBody>,
    responses((status = 200, body = ValueOrPreview), (status = 400, body = super::ErrorBody), (status = 404, body = super::ErrorBody),
        (status = 409, body = super::ErrorBody), (status = 412, body = super::ErrorBody)))]
async fn patch(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ChangeArgs>,
    Body(body): Body<PatchBody>,
) -> Result<Made<axum::Json<ValueJson>>, ApiError> {
    let (app, env) = p.level(&s)?;
    let key = p.key()?;
    let expect = if_match.expect(&app, env.as_ref())?;
    let level = Level { app, env, key };
    s.run(move |store| {
        level.may_write(&actor)?;
        let current = level.own(store, &actor)?.ok_or_else(|| level.unknown())?;
        let value = match (body.value, body.secret_ref) {
            (None, None) => None,
            (value, secret_ref) => Some(new_value(
                current.is_secret(),
                value,
                secret_ref,
                current.template,
            )?),
        };
        let Some(value) = value else {
            let Some(description) = body.description else {
                return Ok(Made::Done(axum::Json(ValueJson::of(&current))));
            };
            let options = WriteOptions {
                comment: String::new(),
                expect,
            };
            return level.describe(store, &actor, description, options, args.dry_run);
        };
        let options = SetOptions {
            description: body.description,
            comment: String::new(),
            expect,
        };
        level
            .set(store, &actor, value, options, args.dry_run)
            .map(|m| match m {
                Made::Done(v) => Made::Done(axum::Json(v)),
                Made::Preview(p) => Made::Preview(p),
            })
    })
    .await
}

#[utoipa::path(delete, path = "/orgs/{orgId}/apps/{appId}/values/{key}", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ("key" = String, Path), ChangeArgs),
    responses((status = 204), (status = 200, body = PreviewJson), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 412, body = super::ErrorBody)))]
async fn delete_one(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ChangeArgs>,
) -> Result<Made<StatusCode>, ApiError> {
    let (app, env) = p.level(&s)?;
    let key = p.key()?;
    let expect = if_match.expect(&app, env.as_ref())?;
    s.run(move |store| {
        let options = DeleteOptions {
            cascade: args.cascade,
            comment: String::new(),
            expect,
        };
        if args.dry_run {
            let preview = store
                .dry_run()
                .delete(&actor, &app, env.as_ref(), &key, options)?;
            return Ok(Made::Preview(PreviewJson::of(
                &app,
                env.as_ref(),
                &preview.version,
            )));
        }
        store.delete(&actor, &app, env.as_ref(), &key, options)?;
        Ok(Made::Done(StatusCode::NO_CONTENT))
    })
    .await
}

#[utoipa::path(delete, path = "/orgs/{orgId}/apps/{appId}/values", tag = "Value",
    params(("orgId" = String, Path), ("appId" = String, Path), ChangeArgs),
    responses((status = 204), (status = 200, body = PreviewJson), (status = 400, body = super::ErrorBody),
        (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 412, body = super::ErrorBody)))]
async fn delete_all(
    State(s): AppState,
    actor: axum::Extension<Actor>,
    p: Params,
    if_match: IfMatch,
    Args(args): Args<ChangeArgs>,
) -> Result<Made<StatusCode>, ApiError> {
    let (app, env) = p.level(&s)?;
    let expect = if_match.expect(&app, env.as_ref())?;
    s.run(move |store| {
        // Nothing to delete is done already (and makes no version).
        let own = store.list(&actor, &app, env.as_ref())?;
        let source = if env.is_some() {
            Source::Env
        } else {
            Source::App
        };
        if !own.iter().any(|v| v.source == source) {
            return Ok(Made::Done(StatusCode::NO_CONTENT));
        }
        let options = DeleteOptions {
            cascade: args.cascade,
            comment: String::new(),
            expect,
        };
        let changes = ChangeSet::new().delete_all();
        if args.dry_run {
            let preview = store
                .dry_run()
                .apply(&actor, &app, env.as_ref(), changes, options)?;
            return Ok(Made::Preview(PreviewJson::of(
                &app,
                env.as_ref(),
                &preview.version,
            )));
        }
        store.apply(&actor, &app, env.as_ref(), changes, options)?;
        Ok(Made::Done(StatusCode::NO_CONTENT))
    })
    .await
}

/// One key at one level.
struct Level {
    app: AppId,
    env: Option<EnvId>,
    key: Key,
}

/// What a change needs of the key before it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Exists {
    /// A create: the level must not have it.
    Refuse,
    /// A replacement: the level must have it.
    Require,
}

impl Level {
    /// The key's value at this level itself (not one an Environment
    /// shows from its App).
    fn own(
        &self,
        store: &Store,
        actor: &Actor,
    ) -> Result<Option<crate::model::ValueView>, ApiError> {
        match store.get(actor, &self.app, self.env.as_ref(), &self.key) {
            Ok(v) if self.env.is_none() || v.source == Source::Env => Ok(Some(v)),
            Ok(_) => Ok(None),
            Err(e) if e.code() == codes::UNKNOWN_KEY => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The role to change values comes first: without it, whether the key
    /// is there is not the answer.
    fn may_write(&self, actor: &Actor) -> Result<(), ApiError> {
        access::check(actor, Action::WriteValues, &self.app).map_err(|e| Error::from(e).into())
    }

    fn unknown(&self) -> ApiError {
        let at = self
            .env
            .as_ref()
            .map_or(String::new(), |e| format!(" in environment `{e}`"));
        ApiError::new(
            StatusCode::NOT_FOUND,
            codes::UNKNOWN_KEY,
            format!("no value `{}`{at} of app `{}`", self.key, self.app),
        )
    }

    /// Runs `change` if the key is (or is not) there, on the condition
    /// that nothing changed the level since that was read: the storage
    /// refuses a change whose expected version is no longer current, and
    /// the check is made again. With the caller's own `expect`, its
    /// refusal is the caller's 412.
    fn guarded<T>(
        &self,
        store: &Store,
        actor: &Actor,
        expect: Option<VersionId>,
        exists: Exists,
        mut change: impl FnMut(&Store, Option<VersionId>) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        self.may_write(actor)?;
        loop {
            // `a0` when the level has no version yet: the library's name
            // of the empty history.
            let current = match expect {
                Some(v) => Some(v),
                None => Some(
                    latest(store, actor, &self.app, self.env.as_ref())?
                        .unwrap_or_else(|| VersionId::app(0)),
                ),
            };
            let found = self.own(store, actor)?.is_some();
            match (exists, found) {
                (Exists::Refuse, true) => {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        codes::KEY_EXISTS,
                        format!(
                            "`{}` exists already at this level: replace it with PUT or PATCH",
                            self.key
                        ),
                    ));
                }
                (Exists::Require, false) => return Err(self.unknown()),
                _ => {}
            }
            match change(store, current) {
                Err(e) if expect.is_none() && e.code() == codes::CONFLICT => {}
                done => return done,
            }
        }
    }

    fn set(
        &self,
        store: &Store,
        actor: &Actor,
        value: NewValue,
        options: SetOptions,
        dry_run: bool,
    ) -> Result<Made<ValueJson>, ApiError> {
        let env = self.env.as_ref();
        if dry_run {
            let preview = store
                .dry_run()
                .set(actor, &self.app, env, &self.key, value, options)?;
            return Ok(Made::Preview(PreviewJson::of(
                &self.app,
                env,
                &preview.version,
            )));
        }
        store.set(actor, &self.app, env, &self.key, value, options)?;
        Ok(Made::Done(ValueJson::of(
            &store.get(actor, &self.app, env, &self.key)?,
        )))
    }

    fn describe(
        &self,
        store: &Store,
        actor: &Actor,
        description: String,
        options: WriteOptions,
        dry_run: bool,
    ) -> Result<Made<axum::Json<ValueJson>>, ApiError> {
        let env = self.env.as_ref();
        if dry_run {
            let preview =
                store
                    .dry_run()
                    .describe(actor, &self.app, env, &self.key, description, options)?;
            return Ok(Made::Preview(PreviewJson::of(
                &self.app,
                env,
                &preview.version,
            )));
        }
        store.describe(actor, &self.app, env, &self.key, description, options)?;
        let view = store.get(actor, &self.app, env, &self.key)?;
        Ok(Made::Done(axum::Json(ValueJson::of(&view))))
    }
}

/// The current version of a level, if it has any (the page's dry runs
/// name it too).
pub(super) fn latest(
    store: &Store,
    actor: &Actor,
    app: &AppId,
    env: Option<&EnvId>,
) -> Result<Option<VersionId>, ApiError> {
    let options = HistoryOptions {
        limit: Some(1),
        ..HistoryOptions::default()
    };
    Ok(store
        .history(actor, app, env, options)?
        .first()
        .map(|v| v.id))
}

/// A copy of a value to try again with (a secret's copy is a secret).
fn value_again(value: &NewValue) -> NewValue {
    match value {
        NewValue::Plain(v) => NewValue::plain(v.clone()),
        NewValue::Template(v) => NewValue::template(v.clone()),
        NewValue::Secret(s) => NewValue::secret(Secret::new(s.expose_secret().to_owned())),
        NewValue::SecretRef { store, reference } => {
            NewValue::secret_ref(store.clone(), reference.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another client creates the key between the check and the write: the
    /// write, which expects the level as it was checked, is refused by the
    /// store, and the check made again finds the key: 409, on an empty
    /// history as on one with versions.
    #[test]
    fn a_key_created_meanwhile_is_a_conflict_not_an_overwrite() {
        let store = Store::in_memory();
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        store.create_app(&admin, &app).unwrap();
        for (key, before) in [("FIRST", None), ("SECOND", Some("OTHER"))] {
            if let Some(other) = before {
                let k = Key::new(other).unwrap();
                store
                    .set(
                        &admin,
                        &app,
                        None,
                        &k,
                        NewValue::plain("0"),
                        SetOptions::default(),
                    )
                    .unwrap();
            }
            let level = Level {
                app: app.clone(),
                env: None,
                key: Key::new(key).unwrap(),
            };
            let mut calls = 0;
            let e = level
                .guarded(&store, &admin, None, Exists::Refuse, |store, expect| {
                    calls += 1;
                    // The other client, first.
                    let theirs = SetOptions::default();
                    store.set(
                        &admin,
                        &app,
                        None,
                        &level.key,
                        NewValue::plain("theirs"),
                        theirs,
                    )?;
                    let mine = SetOptions {
                        expect,
                        ..SetOptions::default()
                    };
                    store.set(
                        &admin,
                        &app,
                        None,
                        &level.key,
                        NewValue::plain("mine"),
                        mine,
                    )?;
                    Ok(())
                })
                .unwrap_err();
            assert_eq!((e.code(), calls), (codes::KEY_EXISTS, 1), "{key}");
            let kept = store.get(&admin, &app, None, &level.key).unwrap();
            assert_eq!(kept.plain(), Some("theirs"));
        }
    }
}
