//! What a dry run of a purge shows (guide: [Dry run](crate::_documentation::guide#dry-run)).

use serde::Serialize;

use super::{Tag, ValueView, VersionId, VersionInfo};

/// What [`Store::purge_preview`](crate::Store::purge_preview) finds a purge
/// would do. Nothing was written to find it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PurgePreview {
    /// The version the purge would record; its id is the one it would
    /// take if nothing else were written first.
    pub version: VersionInfo,
    /// The value it would remove, as reads show it (a secret: its version
    /// and location, never its content).
    pub value: ValueView,
    /// The versions of the level's history whose values hold it, oldest
    /// first: after the purge, each shows the key as purged.
    pub versions: Vec<VersionId>,
    /// The level's tags that name one of those versions.
    pub tags: Vec<Tag>,
}
