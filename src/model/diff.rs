//! What a comparison of two value sets shows
//! (guide: [Compare, preview and move](crate::_documentation::guide#compare-preview-and-move)).
//! A secret shows its version and location on each side and whether it
//! changed, never its content.

use serde::Serialize;

use crate::id::{EnvId, Key};

use super::{SnapshotValue, VersionId};

/// The differences between two value sets, key by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Diff {
    /// The set compared from.
    pub from: DiffEnd,
    /// The set compared to.
    pub to: DiffEnd,
    /// Every key that differs, in key order; keys that are the same on both
    /// sides are left out.
    pub changes: Vec<KeyDiff>,
}

/// One side of a [`Diff`]: a level and the version it was read at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DiffEnd {
    /// The Environment, or `None` for the App's own values.
    pub env: Option<EnvId>,
    /// The version of that level's history.
    pub version: VersionId,
}

/// How one key differs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct KeyDiff {
    /// The key.
    pub key: Key,
    /// What happened to the value.
    pub value: ValueChange,
    /// Whether the description differs (shown apart from the value).
    pub description_changed: bool,
    /// The key on the `from` side; `None` when it has no value there.
    pub from: Option<SnapshotValue>,
    /// The key on the `to` side; `None` when it has no value there.
    pub to: Option<SnapshotValue>,
}

/// What happened to a key's value between two sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ValueChange {
    /// Only on the `to` side.
    Added,
    /// Only on the `from` side.
    Removed,
    /// On both sides, with different values (secrets: different keyed
    /// digests; a template and a plain value of the same text differ).
    Changed,
    /// The same value on both sides: the description differs, or one
    /// side's content was purged.
    Unchanged,
}
