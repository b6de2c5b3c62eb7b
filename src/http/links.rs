//! OpenAPI links: how an answer leads to the next call (a created App to
//! its values, a created value to reading, changing and deleting it, a
//! history to its newest version and its restore). Clients that follow
//! links, and fuzzers that chain calls (schemathesis' stateful phase), use
//! them to reach what a create made instead of guessing ids.

use std::collections::BTreeMap;

use utoipa::Modify;
use utoipa::openapi::RefOr;
use utoipa::openapi::link::{Link as ApiLink, LinkBuilder};
use utoipa::openapi::path::Operation;

use super::openapi::operations;

/// One link: from an operation's answer with `status`, named `name`, to
/// the operation `to`, with parameters as runtime expressions. `{L}` in an
/// operation id stands for the level: nothing for the App's, `_envs_envId`
/// for an Environment's (whose `envId` comes from the request).
struct Link {
    from: &'static str,
    status: &'static str,
    name: &'static str,
    to: &'static str,
    params: &'static [(&'static str, &'static str)],
}

const ORG: (&str, &str) = ("orgId", "$request.path.orgId");
const APP: (&str, &str) = ("appId", "$request.path.appId");

const VALUES: &str = "post_orgs_orgId_apps_appId{L}_values";
const GET_VALUE: &str = "get_orgs_orgId_apps_appId{L}_values_key";
const PUT_VALUE: &str = "put_orgs_orgId_apps_appId{L}_values_key";
const PATCH_VALUE: &str = "patch_orgs_orgId_apps_appId{L}_values_key";
const DELETE_VALUE: &str = "delete_orgs_orgId_apps_appId{L}_values_key";
const VERSIONS: &str = "get_orgs_orgId_apps_appId{L}_value_set_versions";
const VERSION: &str = "get_orgs_orgId_apps_appId{L}_value_set_versions_valueSetVersionId";
const RESTORE: &str = "post_orgs_orgId_apps_appId{L}_value_set_versions_valueSetVersionId_restore";

macro_rules! link {
    ($from:expr, $status:literal, $name:literal, $to:expr, [$($p:expr),* $(,)?]) => {
        Link { from: $from, status: $status, name: $name, to: $to, params: &[$($p),*] }
    };
}

const LINKS: &[Link] = &[
    link!(
        "createApplication",
        "201",
        "GetApplication",
        "getApplication",
        [ORG, ("appId", "$response.body#/id")]
    ),
    link!(
        "createApplication",
        "201",
        "CreateValue",
        "post_orgs_orgId_apps_appId_values",
        [ORG, ("appId", "$response.body#/id")]
    ),
    link!(
        "createApplication",
        "201",
        "CreateEnvironment",
        "createEnvironment",
        [ORG, ("appId", "$response.body#/id")]
    ),
    link!(
        "createApplication",
        "201",
        "ListVersions",
        "get_orgs_orgId_apps_appId_value_set_versions",
        [ORG, ("appId", "$response.body#/id")]
    ),
    link!(
        "createEnvironment",
        "201",
        "GetEnvironment",
        "getEnvironment",
        [ORG, APP, ("envId", "$response.body#/id")]
    ),
    link!(
        "createEnvironment",
        "201",
        "CreateValue",
        "post_orgs_orgId_apps_appId_envs_envId_values",
        [ORG, APP, ("envId", "$response.body#/id")]
    ),
    link!(
        VALUES,
        "201",
        "GetValue",
        GET_VALUE,
        [ORG, APP, ("key", "$response.body#/key")]
    ),
    link!(
        VALUES,
        "201",
        "ReplaceValue",
        PUT_VALUE,
        [ORG, APP, ("key", "$response.body#/key")]
    ),
    link!(
        VALUES,
        "201",
        "PatchValue",
        PATCH_VALUE,
        [ORG, APP, ("key", "$response.body#/key")]
    ),
    link!(
        VALUES,
        "201",
        "DeleteValue",
        DELETE_VALUE,
        [ORG, APP, ("key", "$response.body#/key")]
    ),
    link!(VALUES, "201", "ListVersions", VERSIONS, [ORG, APP]),
    link!(PATCH_VALUE, "200", "ListVersions", VERSIONS, [ORG, APP]),
    link!(
        VERSIONS,
        "200",
        "GetNewestVersion",
        VERSION,
        [ORG, APP, ("valueSetVersionId", "$response.body#/0/id")]
    ),
    link!(
        VERSIONS,
        "200",
        "RestoreNewestVersion",
        RESTORE,
        [ORG, APP, ("valueSetVersionId", "$response.body#/0/id")]
    ),
    link!(
        VERSION,
        "200",
        "Restore",
        RESTORE,
        [ORG, APP, ("valueSetVersionId", "$response.body#/id")]
    ),
];

/// Adds [`LINKS`] to the answers they start from.
pub(super) struct Links;

impl Modify for Links {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut ops: BTreeMap<String, &mut Operation> = BTreeMap::new();
        for item in doc.paths.paths.values_mut() {
            for op in operations(item) {
                if let Some(id) = op.operation_id.clone() {
                    ops.insert(id, op);
                }
            }
        }
        for (from, status, name, link) in expanded() {
            let Some(op) = ops.get_mut(&from) else {
                continue;
            };
            if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
                response.links.insert(name.to_owned(), RefOr::T(link));
            }
        }
    }
}

/// Spells each link's fields as OpenAPI does (`operationId`): utoipa 5
/// writes them as its Rust fields are named (`operation_id`), which no
/// client reads.
pub(super) fn spell_links(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let responses = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut())
        .filter_map(|op| op.get_mut("responses").and_then(|r| r.as_object_mut()))
        .flat_map(|responses| responses.values_mut());
    for response in responses {
        let Some(links) = response.get_mut("links").and_then(|l| l.as_object_mut()) else {
            continue;
        };
        for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
            for (from, to) in [
                ("operation_id", "operationId"),
                ("operation_ref", "operationRef"),
                ("request_body", "requestBody"),
            ] {
                if let Some(v) = link.remove(from) {
                    link.insert(to.to_owned(), v);
                }
            }
        }
    }
}

/// Every link at each level it applies to: its source operation, status,
/// name and the link itself. A link whose source names the level goes at
/// both, the Environment's taking `envId` from its request.
fn expanded() -> Vec<(String, &'static str, &'static str, ApiLink)> {
    let mut out = Vec::new();
    for l in LINKS {
        let levels: &[&str] = if l.from.contains("{L}") {
            &["", "_envs_envId"]
        } else {
            &[""]
        };
        for level in levels {
            let mut b = LinkBuilder::new().operation_id(l.to.replace("{L}", level));
            for (param, expr) in l.params {
                b = b.parameter(*param, *expr);
            }
            if !level.is_empty() {
                b = b.parameter("envId", "$request.path.envId");
            }
            out.push((l.from.replace("{L}", level), l.status, l.name, b.build()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every link starts from an answer the document has and names an
    /// operation it has, with parameters that operation takes, all of them
    /// given.
    #[test]
    fn every_link_leads_somewhere_real() {
        let doc: Value = serde_json::from_str(&super::super::openapi_json()).unwrap();
        let mut ops = std::collections::BTreeMap::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                if let Some(id) = op["operationId"].as_str() {
                    ops.insert(id.to_owned(), op.clone());
                }
            }
        }
        let mut count = 0;
        for op in ops.values() {
            for response in op["responses"].as_object().unwrap().values() {
                let Some(links) = response["links"].as_object() else {
                    continue;
                };
                for (name, link) in links {
                    count += 1;
                    let to = &ops[link["operationId"].as_str().unwrap()];
                    let wanted: Vec<&str> = to["parameters"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|p| p["in"] == "path")
                        .map(|p| p["name"].as_str().unwrap())
                        .collect();
                    let mut given: Vec<&str> = link["parameters"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(String::as_str)
                        .collect();
                    let mut wanted = wanted;
                    wanted.sort_unstable();
                    given.sort_unstable();
                    assert_eq!(given, wanted, "{name} of {}", op["operationId"]);
                }
            }
        }
        // Each link of the table, at one level or both.
        assert_eq!(count, 24);
    }

    #[test]
    fn a_created_value_leads_to_reading_it_at_its_level() {
        let doc: Value = serde_json::from_str(&super::super::openapi_json()).unwrap();
        let env = &doc["paths"]["/orgs/{orgId}/apps/{appId}/envs/{envId}/values"]["post"];
        let link = &env["responses"]["201"]["links"]["GetValue"];
        assert_eq!(
            link["operationId"],
            "get_orgs_orgId_apps_appId_envs_envId_values_key"
        );
        assert_eq!(link["parameters"]["envId"], "$request.path.envId");
        assert_eq!(link["parameters"]["key"], "$response.body#/key");
        let app = &doc["paths"]["/orgs/{orgId}/apps"]["post"]["responses"]["201"]["links"];
        assert_eq!(
            app["GetApplication"]["parameters"]["appId"],
            "$response.body#/id"
        );
        let history = &doc["paths"]["/orgs/{orgId}/apps/{appId}/value-set-versions"]["get"];
        assert_eq!(
            history["responses"]["200"]["links"]["RestoreNewestVersion"]["parameters"]["valueSetVersionId"],
            "$response.body#/0/id"
        );
    }
}
