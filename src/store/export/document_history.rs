//! The history part of an export document (guide: [Export and import](crate::_documentation::guide#export-and-import)):
//! every version of an App and its Environments as it was written, with
//! its id, author, time and comment, every value each version wrote, and
//! the tags. [`Store::export_history`](crate::Store::export_history)
//! writes it; [`Store::import_app`](crate::Store::import_app) rebuilds the
//! same history from it. Times are milliseconds since the Unix epoch.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::id::{EnvId, Key, TagName};

use super::document::{ExportDocument, ExportedValue};
use crate::model::{Change, ChangeOp, ResultOf, VersionId};

/// An App's whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedHistory {
    /// When the App was created.
    pub created_at_ms: i64,
    /// The sequence number the App's next change takes (one counter for the
    /// App and its Environments), so versions made after the import get
    /// ids the source never gave out.
    pub next_seq: u64,
    /// When each Environment was created; the same Environments as the
    /// document's `envs`.
    pub envs: BTreeMap<EnvId, i64>,
    /// Every version of every level, oldest first.
    pub versions: Vec<ExportedVersion>,
}

/// One version as it was written: the App's (`env` is `None`) or one
/// Environment's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedVersion {
    /// Its id, kept by the import.
    pub id: VersionId,
    /// The Environment whose version it is; `None` for the App's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvId>,
    /// When it was made.
    pub created_at_ms: i64,
    /// Who made it.
    pub created_by: String,
    /// The comment given with the change.
    pub comment: String,
    /// What made it.
    pub result_of: ResultOf,
    /// The keys it changed.
    pub change: Vec<Change>,
    /// The version restored from or purged in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<VersionId>,
    /// Every key it wrote at its level, as written.
    pub entries: BTreeMap<Key, ExportedEntry>,
    /// For an App version that deleted values Environments overrode: the
    /// overrides it deleted with them, by Environment.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cascaded: BTreeMap<EnvId, BTreeMap<Key, ExportedEntry>>,
}

/// One key as a version wrote it: a value (`content` holds exactly one of
/// `value`, `sealed` and `secret_ref`), a deletion (`content` holds none and
/// there is no `purged_digest`), or a value purged since (`purged_digest`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedEntry {
    /// The value and its description.
    pub content: ExportedValue,
    /// For a purged value: the digest its versions committed to, in hex
    /// (the content is gone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_digest: Option<String>,
    /// When the key was created at this level.
    pub created_at_ms: i64,
    /// When this entry was written.
    pub updated_at_ms: i64,
    /// The sequence number of the version that introduced the value (a
    /// description change keeps it).
    pub introduced: u64,
    /// The secret's version, for secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_version: Option<u32>,
}

/// A tag of one level's history, with every version it has named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedTag {
    /// The tag.
    pub name: TagName,
    /// The Environment whose history it names a version of; `None` for the
    /// App's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<EnvId>,
    /// Every placing, oldest first; the last is the current one.
    pub moves: Vec<ExportedTagMove>,
}

/// One placing of a tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ExportedTagMove {
    /// The version it named.
    pub version: VersionId,
    /// When.
    pub at_ms: i64,
    /// By whom.
    pub by: String,
}

impl ExportedHistory {
    /// The history a document without one stands for, so that importing it
    /// is one write like any history: a version of the App's values, then
    /// one of each Environment's overrides (levels without values make
    /// none), each made at `now_ms` by `by` with the comment `imported`.
    pub(crate) fn of_current(doc: &ExportDocument, by: &str, now_ms: i64) -> ExportedHistory {
        let levels = std::iter::once((None, &doc.values))
            .chain(doc.envs.iter().map(|(env, values)| (Some(env), values)))
            .filter(|(_, values)| !values.is_empty());
        let mut versions = Vec::new();
        for (seq, (env, values)) in (1..).zip(levels) {
            let secret_version =
                |v: &ExportedValue| (v.sealed.is_some() || v.secret_ref.is_some()).then_some(1);
            let change = values
                .iter()
                .map(|(key, v)| Change {
                    op: ChangeOp::Add,
                    key: key.clone(),
                    secret_version: secret_version(v),
                })
                .collect();
            let entries = values
                .iter()
                .map(|(key, v)| {
                    let entry = ExportedEntry {
                        content: v.clone(),
                        purged_digest: None,
                        created_at_ms: now_ms,
                        updated_at_ms: now_ms,
                        introduced: seq,
                        secret_version: secret_version(v),
                    };
                    (key.clone(), entry)
                })
                .collect();
            let (id, result_of) = match env {
                None => (VersionId::app(seq), ResultOf::AppValueCreate),
                Some(_) => (VersionId::env(seq), ResultOf::EnvValueCreate),
            };
            versions.push(ExportedVersion {
                id,
                env: env.cloned(),
                created_at_ms: now_ms,
                created_by: by.to_owned(),
                comment: "imported".to_owned(),
                result_of,
                change,
                source_version: None,
                entries,
                cascaded: BTreeMap::new(),
            });
        }
        ExportedHistory {
            created_at_ms: now_ms,
            next_seq: versions.len() as u64 + 1,
            envs: doc.envs.keys().map(|env| (env.clone(), now_ms)).collect(),
            versions,
        }
    }
}
