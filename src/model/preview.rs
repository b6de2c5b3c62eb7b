//! What a dry run of a purge shows (guide: [Dry run](crate::_documentation::guide#dry-run)).

use serde::Serialize;

use super::{Tag, ValueView, VersionId, VersionInfo};

/// What a change would make, as its dry run
/// ([`Store::dry_run`](crate::Store::dry_run)) found it. Nothing was
/// written to find it. It is not a version: the version it describes
/// exists only if the change is then made, and nothing else is written
/// first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChangePreview {
    /// The version the change would make; its id is the one it would take
    /// if nothing else were written first.
    pub version: VersionInfo,
}

/// What a purge would do, as its dry run
/// ([`DryRun::purge`](crate::store::DryRun::purge)) found it. Nothing was
/// written to find it.
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
