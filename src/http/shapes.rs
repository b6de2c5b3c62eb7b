//! The JSON the service answers with, in the shapes of Humanitec's API:
//! every field its document requires, `null` where it allows, lists always
//! arrays. Fields Humanitec does not have are additions (`template`,
//! `version`, `purged_keys`), never renames.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::id::{AppId, EnvId};
use crate::model::{
    AppInfo, ChangeOp, Content, EnvInfo, ResultOf, SnapshotValue, Source, Version, VersionId,
    VersionInfo,
};

use super::ids::version_uuid;

/// A shared value (`ValueResponse`). A secret's `value` is always empty.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ValueJson {
    /// Its key.
    pub(crate) key: String,
    /// The value; `""` for a secret.
    pub(crate) value: String,
    /// What it is for.
    pub(crate) description: String,
    /// Whether it is a secret.
    pub(crate) is_secret: bool,
    /// Where a secret lives in its store: the reference.
    pub(crate) secret_key: Option<String>,
    /// A secret's version, as a string.
    pub(crate) secret_version: Option<String>,
    /// The store a secret lives in.
    pub(crate) secret_store_id: Option<String>,
    /// Where the value comes from: `app`, or `env` for an override.
    #[schema(value_type = String, example = "app")]
    pub(crate) source: Source,
    /// When it was created (UTC, `YYYY-MM-DDTHH:MM:SS.mmmZ`).
    pub(crate) created_at: String,
    /// When it last changed.
    pub(crate) updated_at: String,
    /// Whether the value is a template over the same level's values (an
    /// addition to Humanitec's shape).
    pub(crate) template: bool,
}

/// One change of a version, as a JSON patch (`JSONPatchResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PatchJson {
    /// `add`, `replace` or `remove`.
    pub(crate) op: &'static str,
    /// `/KEY`.
    pub(crate) path: String,
    /// The value after the change; absent for `remove`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) value: Option<ValueJson>,
}

/// A value set version (`ValueSetVersionResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VersionJson {
    /// Its UUID.
    pub(crate) id: String,
    /// Every value as it stood after the change, by key (an Environment's
    /// merged with the App's, each with its `source`). Purged values are
    /// in `purged_keys` instead.
    pub(crate) values: BTreeMap<String, ValueJson>,
    /// What changed, as JSON patches.
    pub(crate) change: Vec<PatchJson>,
    /// What made it (`app_value_create` … `env_value_set_version_purge`).
    #[schema(value_type = String, example = "app_value_create")]
    pub(crate) result_of: ResultOf,
    /// The version restored from or purged in, if any.
    pub(crate) source_value_set_version_id: Option<String>,
    /// The comment given with the change.
    pub(crate) comment: String,
    /// When it was made.
    pub(crate) created_at: String,
    /// The same: versions never change (a purge makes a new one).
    pub(crate) updated_at: String,
    /// Who made it.
    pub(crate) created_by: String,
    /// The library's own id of the version (`a3`, `e7`), also accepted
    /// wherever a version is named (an addition).
    pub(crate) version: String,
    /// Keys whose values were purged from this version (an addition).
    pub(crate) purged_keys: Vec<String>,
}

/// What a change would make, answered to `?dry_run=true`: the version's
/// id, what it would change and what made it; nothing was written.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PreviewJson {
    /// The UUID the version would have.
    pub(crate) id: String,
    /// The library's id it would have.
    pub(crate) version: String,
    /// What it would change.
    pub(crate) change: Vec<PatchJson>,
    /// What would make it.
    #[schema(value_type = String)]
    pub(crate) result_of: ResultOf,
    /// Always `true`.
    pub(crate) dry_run: bool,
}

/// An Environment as an App lists it (`EnvironmentBaseResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvBaseJson {
    /// Its id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub(crate) env_type: String,
}

/// An Environment (`EnvironmentResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct EnvJson {
    /// Its id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub(crate) env_type: String,
    /// When it was created.
    pub(crate) created_at: String,
    /// Who created it.
    pub(crate) created_by: String,
    /// Always `active`: a deletion is done before it answers.
    pub(crate) status: &'static str,
    /// When the status last changed: when it was created.
    pub(crate) status_changed_at: String,
}

/// An App (`ApplicationResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AppJson {
    /// Its id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// The organization.
    pub(crate) org_id: String,
    /// When it was created.
    pub(crate) created_at: String,
    /// Who created it.
    pub(crate) created_by: String,
    /// Its Environments.
    pub(crate) envs: Vec<EnvBaseJson>,
    /// Always `active`.
    pub(crate) status: &'static str,
    /// When the status last changed: when it was created.
    pub(crate) status_changed_at: String,
}

/// A secret store (`SecretStoreResponse`): which stores the service was
/// started with; never their credentials.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SecretStoreJson {
    /// Its id.
    pub(crate) id: String,
    /// Whether it keeps the secrets given to the service.
    pub(crate) primary: bool,
    /// When the service started.
    pub(crate) created_at: String,
    /// `valuesd`: stores are configured when it starts.
    pub(crate) created_by: String,
    /// When the service started.
    pub(crate) updated_at: String,
    /// `valuesd`.
    pub(crate) updated_by: String,
    /// For a Vault store (`VaultResponse`): where it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) vault: Option<VaultStoreJson>,
    /// For the built-in store (`HumanitecResponse`, Humanitec's own
    /// store's place): an empty object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) humanitec: Option<BuiltinStoreJson>,
}

/// A Vault store's place (`VaultResponse`): its address and the path the
/// library's secrets go to; never its token or login.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct VaultStoreJson {
    /// The server's address.
    pub(crate) url: String,
    /// The KV mount and the prefix under it (`secret/valueset`).
    pub(crate) path: String,
}

/// The built-in store's place: nothing to say (`HumanitecResponse`).
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct BuiltinStoreJson {}

impl ValueJson {
    /// The JSON of a value as a read shows it.
    pub(crate) fn of(view: &crate::model::ValueView) -> Self {
        let (value, secret) = match &view.content {
            Content::Plain(v) => (v.clone(), None),
            Content::Secret(s) => (String::new(), Some(s)),
        };
        ValueJson {
            key: view.key.to_string(),
            value,
            description: view.description.clone(),
            is_secret: secret.is_some(),
            secret_key: secret.map(|s| s.secret_ref.reference.clone()),
            secret_version: secret.map(|s| s.secret_version.to_string()),
            secret_store_id: secret.map(|s| s.secret_store_id.clone()),
            source: view.source,
            created_at: view.created_at.to_string(),
            updated_at: view.updated_at.to_string(),
            template: view.template,
        }
    }
}

impl VersionJson {
    /// The JSON of a whole version of `app` (or of its Environment `env`).
    pub(crate) fn of(app: &AppId, env: Option<&EnvId>, version: &Version) -> Self {
        let info = &version.info;
        let mut values = BTreeMap::new();
        let mut purged_keys = Vec::new();
        for (key, value) in &version.values {
            match value {
                SnapshotValue::Value(v) => {
                    values.insert(key.to_string(), ValueJson::of(v));
                }
                SnapshotValue::Purged { .. } => purged_keys.push(key.to_string()),
            }
        }
        let change = patches(info, |key| {
            version.values.get(key).and_then(SnapshotValue::value)
        });
        VersionJson {
            id: uuid_of(app, env, info.id),
            values,
            change,
            result_of: info.result_of,
            source_value_set_version_id: info.source_version.map(|s| uuid_of(app, env, s)),
            comment: info.comment.clone(),
            created_at: info.created_at.to_string(),
            updated_at: info.created_at.to_string(),
            created_by: info.created_by.clone(),
            version: info.id.to_string(),
            purged_keys,
        }
    }
}

impl PreviewJson {
    /// The JSON of a dry run's version.
    pub(crate) fn of(app: &AppId, env: Option<&EnvId>, info: &VersionInfo) -> Self {
        PreviewJson {
            id: uuid_of(app, env, info.id),
            version: info.id.to_string(),
            change: patches(info, |_| None),
            result_of: info.result_of,
            dry_run: true,
        }
    }
}

impl EnvJson {
    /// The JSON of an Environment.
    pub(crate) fn of(info: &EnvInfo) -> Self {
        EnvJson {
            id: info.id.to_string(),
            name: info.name.clone(),
            env_type: info.env_type.clone(),
            created_at: info.created_at.to_string(),
            created_by: info.created_by.clone(),
            status: "active",
            status_changed_at: info.created_at.to_string(),
        }
    }
}

impl AppJson {
    /// The JSON of an App with its Environments.
    pub(crate) fn of(org: &str, info: &AppInfo, envs: &[EnvInfo]) -> Self {
        AppJson {
            id: info.id.to_string(),
            name: info.name.clone(),
            org_id: org.to_owned(),
            created_at: info.created_at.to_string(),
            created_by: info.created_by.clone(),
            envs: envs
                .iter()
                .map(|e| EnvBaseJson {
                    id: e.id.to_string(),
                    name: e.name.clone(),
                    env_type: e.env_type.clone(),
                })
                .collect(),
            status: "active",
            status_changed_at: info.created_at.to_string(),
        }
    }
}

fn uuid_of(app: &AppId, env: Option<&EnvId>, id: VersionId) -> String {
    version_uuid(app, env, id).to_string()
}

/// A version's changes as JSON patches, each with the value it left where
/// `value_of` knows it.
fn patches<'v>(
    info: &VersionInfo,
    value_of: impl Fn(&crate::id::Key) -> Option<&'v crate::model::ValueView>,
) -> Vec<PatchJson> {
    info.change
        .iter()
        .map(|c| PatchJson {
            op: match c.op {
                ChangeOp::Add => "add",
                ChangeOp::Replace => "replace",
                ChangeOp::Remove => "remove",
            },
            path: format!("/{}", c.key),
            value: match c.op {
                ChangeOp::Remove => None,
                _ => value_of(&c.key).map(ValueJson::of),
            },
        })
        .collect()
}

/// A change's answer at 200: what it made, or with `?dry_run=true` the
/// version it would make (for the document; the handlers answer either).
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
// Only the document names it: the handlers answer its variants' JSON
// through `values::Made`, which serialises each the same way.
#[allow(dead_code)]
pub(crate) enum ValueOrPreview {
    /// The value as the change left it.
    Value(ValueJson),
    /// With `?dry_run=true`: what the change would make.
    Preview(PreviewJson),
}

/// A restore's answer at 200: the version it made, or with
/// `?dry_run=true` the version it would make.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum VersionOrPreview {
    /// The new version.
    Version(VersionJson),
    /// With `?dry_run=true`: what the restore would make.
    Preview(PreviewJson),
}
