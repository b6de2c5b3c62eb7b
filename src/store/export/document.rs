//! The export document of an App (guide: [Export and import](crate::_documentation::guide#export-and-import)):
//! what [`Store::export_app`](crate::Store::export_app) makes and
//! [`Store::import_app`](crate::Store::import_app) takes. It is plain data
//! with serde support, so any serde format carries it; `valuesctl` writes
//! JSON. No secret is ever in it as plaintext.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{AppId, EnvId, Key};

use super::document_history::{ExportedHistory, ExportedTag};

/// The format of export documents this version writes and reads.
pub const EXPORT_FORMAT: u32 = 1;

/// An App's values, Environments and overrides, as one document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportDocument {
    /// The document format, [`EXPORT_FORMAT`].
    pub format: u32,
    /// The App.
    pub app: AppId,
    /// How the secrets in it are carried.
    pub secrets: ExportSecrets,
    /// The App's values.
    pub values: BTreeMap<Key, ExportedValue>,
    /// Each Environment's overrides (an Environment without any has an
    /// empty map).
    pub envs: BTreeMap<EnvId, BTreeMap<Key, ExportedValue>>,
    /// What the App and its Environments are called, their types, and who
    /// created them. Documents made before names were kept have none: an
    /// import then names the App and its Environments by their ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<ExportedNames>,
    /// The tags of the App's and its Environments' histories. Tags name
    /// versions, so they travel with the history: a document without
    /// `history` has none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<ExportedTag>,
    /// The whole history, when the export asked for it
    /// ([`Store::export_history`](crate::Store::export_history)); an import
    /// then rebuilds it, every version with its id, author, time and
    /// comment, and `values` and `envs` must be where it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<ExportedHistory>,
    /// The digest of everything above, in hex: keyed with the export key
    /// when the secrets are sealed (so only a holder of the key can make a
    /// document that imports), plain otherwise (so a cut or damaged
    /// document is refused).
    pub digest: String,
}

/// How an export carries secrets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExportSecrets {
    /// As references to the secret stores that hold them: for stores both
    /// sides share. A secret in the built-in store cannot leave this way.
    References,
    /// Encrypted with a key given to the export, for the importing side to
    /// open with the same key.
    Sealed,
}

/// One value of an export: exactly one of `value`, `sealed` and
/// `secret_ref`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedValue {
    /// What the value is for.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// A plain value's text (a template's own text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Whether `value` is a template.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub template: bool,
    /// A secret sealed with the export key, in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<String>,
    /// A secret as a reference to the store that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<ExportedRef>,
}

/// Where a secret is, in an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedRef {
    /// The secret store's id.
    pub store: String,
    /// The secret's location in it.
    pub reference: String,
    /// Its version in that store, if the store versions secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The names of an App and its Environments, in an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedNames {
    /// The App's.
    pub app: ExportedName,
    /// Each Environment's: one for every Environment of the document.
    pub envs: BTreeMap<EnvId, ExportedName>,
}

/// What an App or an Environment is called, in an export.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedName {
    /// Its human-friendly name.
    pub name: String,
    /// An Environment's type; empty for an App.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub env_type: String,
    /// Who created it; empty when the store did not know.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
}
