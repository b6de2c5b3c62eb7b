//! Apps and Environments as reads show them: their ids, names and who made
//! them (guide: [The hierarchy](crate::_documentation::guide#the-hierarchy)).

use serde::Serialize;

use crate::id::{AppId, EnvId};

use super::Timestamp;

/// The type an Environment has when none was given.
pub const DEFAULT_ENV_TYPE: &str = "development";

/// The longest App or Environment name or Environment type, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// An App: its id, name, and when and by whom it was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AppInfo {
    /// Its id.
    pub id: AppId,
    /// Its human-friendly name; the id when none was given.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it; empty for Apps created before creators were kept,
    /// or brought in by an import of a document without names.
    pub created_by: String,
}

/// An Environment: its id, name, type, and when and by whom it was created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EnvInfo {
    /// Its id.
    pub id: EnvId,
    /// Its human-friendly name; the id when none was given.
    pub name: String,
    /// Its type, for grouping Environments (`development`, `production`,
    /// …); [`DEFAULT_ENV_TYPE`] when none was given.
    #[serde(rename = "type")]
    pub env_type: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Who created it; empty for Environments created before creators were
    /// kept, or brought in by an import of a document without names.
    pub created_by: String,
}
