//! The OpenAPI 3 document of the service, generated from the handlers'
//! annotations and the types they take and answer with, so it cannot drift
//! from what the service does. The Environment-level paths of values and
//! versions are the App-level ones with `{envId}` added: the same handlers
//! serve both.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, ObjectBuilder, Ref, RefOr, Required, Response, ResponseBuilder, Type,
};
use utoipa::{Modify, OpenApi};

use super::links::Links;
use super::{apps, events, extras, resolve, stores, values, versions};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "valueset",
        description = "Humanitec's Shared Values API for Apps, Environments, Shared Values and \
            Value Set Versions, served by valueset. Additions: `If-Match` and `?dry_run=true` on \
            every change, version ids that are UUIDs or the library's own ids or tags, and the \
            fields `template`, `version` and `purged_keys`."
    ),
    paths(
        apps::list_apps, apps::create_app, apps::read_app, apps::patch_app, apps::delete_app,
        apps::list_envs, apps::create_env, apps::read_env, apps::patch_env, apps::delete_env,
        values::list, values::create, values::delete_all,
        values::read, values::replace, values::patch, values::delete_one,
        versions::list, versions::read, versions::restore, versions::restore_key, versions::purge,
        stores::list, stores::read, stores::refuse, stores::refuse_change, stores::refuse_delete, stores::healthz, stores::readyz,
        resolve::resolve,
        extras::diff, extras::tags, extras::tag, extras::export, extras::import,
        events::events,
    ),
    modifiers(&EnvLevels, &Rules, &Bearer, &Links),
)]
struct ApiDoc;

/// The OpenAPI document, as JSON.
pub fn openapi_json() -> String {
    let Ok(mut doc) = serde_json::to_value(ApiDoc::openapi()) else {
        return String::new();
    };
    super::links::spell_links(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

pub(super) async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], openapi_json())
}

/// Adds the Environment-level copy of each App-level path of values and
/// versions, and gives every operation a unique id.
struct EnvLevels;

const APP_LEVEL: &str = "/orgs/{orgId}/apps/{appId}/";

impl Modify for EnvLevels {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut added = Vec::new();
        for (path, item) in &doc.paths.paths {
            let Some(rest) = path.strip_prefix(APP_LEVEL) else {
                continue;
            };
            let levelled = ["values", "value-set-versions", "diff", "tags"];
            if !levelled.iter().any(|l| rest.starts_with(l)) {
                continue;
            }
            let mut item = item.clone();
            for op in operations(&mut item) {
                let env = ParameterBuilder::new()
                    .name("envId")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The Environment's id."))
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .build();
                let params = op.parameters.get_or_insert_with(Vec::new);
                let at = params
                    .iter()
                    .position(|p| p.name == "appId")
                    .map_or(0, |i| i + 1);
                params.insert(at, env);
            }
            added.push((format!("{APP_LEVEL}envs/{{envId}}/{rest}"), item));
        }
        doc.paths.paths.extend(added);
        for (path, item) in &mut doc.paths.paths {
            let methods = ["get", "put", "post", "delete", "patch"];
            let id_path: String = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| s.trim_matches(['{', '}']).replace('-', "_"))
                .collect::<Vec<_>>()
                .join("_");
            for (op, method) in operations_named(item, methods) {
                let named = op
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| id.chars().any(|c| c.is_ascii_uppercase()));
                if !named {
                    op.operation_id = Some(format!("{method}_{id_path}"));
                }
            }
        }
    }
}

/// The library's rules for ids, keys and tags, on every path and query
/// parameter that takes one, so that clients (and fuzzers) know them.
struct Rules;

/// The rule of App, Environment and organization ids.
const ID_PATTERN: &str = "^[a-z0-9](?:-?[a-z0-9]+)+$";
/// The rule of keys.
const KEY_PATTERN: &str = "^[A-Za-z0-9_.-]+$";
/// The rule of tags: a key's characters, never reading as a version.
const TAG_PATTERN: &str = "^(?!latest$)(?![ae][0-9]+$)[A-Za-z0-9_.-]+$";

fn rule(name: &str) -> Option<(&'static str, usize)> {
    match name {
        "orgId" | "appId" | "envId" => Some((ID_PATTERN, crate::id::MAX_ID_LEN)),
        "key" | "key_changed" => Some((KEY_PATTERN, crate::id::MAX_KEY_LEN)),
        "tag" => Some((TAG_PATTERN, crate::id::MAX_TAG_LEN)),
        _ => None,
    }
}

impl Modify for Rules {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                for param in op.parameters.iter_mut().flatten() {
                    if let Some((pattern, max)) = rule(&param.name) {
                        param.schema = Some(
                            ObjectBuilder::new()
                                .schema_type(Type::String)
                                .pattern(Some(pattern))
                                .max_length(Some(max))
                                .into(),
                        );
                    }
                }
            }
        }
    }
}

pub(super) fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

fn operations_named<'i>(
    item: &'i mut PathItem,
    methods: [&'static str; 5],
) -> impl Iterator<Item = (&'i mut Operation, &'static str)> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .zip(methods)
    .filter_map(|(op, m)| op.map(|op| (op, m)))
}

fn error_response(means: &str) -> RefOr<Response> {
    let content = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    RefOr::T(
        ResponseBuilder::new()
            .description(means)
            .content("application/json", content)
            .build(),
    )
}

/// Every path but the health checks and this document needs a bearer
/// token.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        for (path, item) in &mut doc.paths.paths {
            if !path.starts_with("/orgs/") {
                continue;
            }
            for op in operations(item) {
                op.security = Some(vec![SecurityRequirement::new(
                    "bearer",
                    Vec::<String>::new(),
                )]);
                // What any request may meet, whatever it asks.
                for (status, means) in [
                    ("400", "The request is malformed or its input invalid."),
                    ("401", "No token, or one the service does not know."),
                    ("403", "The token's roles do not allow this."),
                    (
                        "404",
                        "The organization, App, Environment, value or version is unknown.",
                    ),
                    ("408", "The request took longer than the service waits."),
                    ("413", "The body is larger than the service takes."),
                    (
                        "429",
                        "This address gave unknown tokens too often: retry after `Retry-After` seconds.",
                    ),
                    (
                        "503",
                        "The store cannot be reached for now: retry after `Retry-After` seconds.",
                    ),
                ] {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error_response(means));
                }
            }
        }
    }
}
