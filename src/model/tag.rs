//! Tags as reads show them (guide: [Tags](crate::_documentation::guide#tags)).

use serde::Serialize;

use crate::id::{EnvId, TagName};

use super::{Timestamp, VersionId};

/// A name for a version of one level's history, with every version it has
/// named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tag {
    /// The tag.
    pub name: TagName,
    /// The Environment whose history it names a version of; `None` for the
    /// App's.
    pub env: Option<EnvId>,
    /// The version it names now.
    pub version: VersionId,
    /// Every placing of the tag, oldest first; the last is the current one.
    pub moves: Vec<TagMove>,
}

/// One placing of a tag.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct TagMove {
    /// The version it was pointed at.
    pub version: VersionId,
    /// When.
    pub at: Timestamp,
    /// By whom.
    pub by: String,
}
