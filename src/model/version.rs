//! Value set versions as callers see them: ids, selectors, what a change
//! did and why, and a version with its whole set of values.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::id::{InvalidId, Key, TagName};

use super::{SnapshotValue, Timestamp};

/// An opaque version id: printable, parseable, stable forever.
///
/// App versions and an Environment's own versions have ids of their own; an
/// Environment without overrides shares its App's versions and ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId {
    seq: u64,
    env: bool,
}

/// A version named by id, by tag, or the latest one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// The newest version of the history.
    Latest,
    /// A version by id.
    Id(VersionId),
    /// The version a tag of the history names (guide: [Tags](crate::_documentation::guide#tags)).
    Tag(TagName),
}

/// What made a version (guide: [Value set versions](crate::_documentation::guide#value-set-versions)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResultOf {
    /// App values were created, and nothing else changed
    /// (`app_value_create`).
    AppValueCreate,
    /// App values changed in any other way: replaced, described anew, or a
    /// mix (`app_value_update`).
    AppValueUpdate,
    /// One App value was deleted, and nothing else changed
    /// (`app_value_delete`).
    AppValueDelete,
    /// Several App values (or all) were deleted, and nothing else changed
    /// (`app_values_delete`).
    AppValuesDelete,
    /// The App's values were restored from a version
    /// (`app_value_set_version_restore`).
    AppValueSetVersionRestore,
    /// A value was purged from the App's history
    /// (`app_value_set_version_purge`).
    AppValueSetVersionPurge,
    /// Environment overrides were created, and nothing else changed
    /// (`env_value_create`).
    EnvValueCreate,
    /// Environment overrides changed in any other way
    /// (`env_value_update`).
    EnvValueUpdate,
    /// One override was deleted, and nothing else changed
    /// (`env_value_delete`).
    EnvValueDelete,
    /// Several overrides (or all) were deleted, and nothing else changed
    /// (`env_values_delete`).
    EnvValuesDelete,
    /// An Environment's overrides were restored from a version
    /// (`env_value_set_version_restore`).
    EnvValueSetVersionRestore,
    /// A value was purged from an Environment's history
    /// (`env_value_set_version_purge`).
    EnvValueSetVersionPurge,
}

/// How a key changed in a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeOp {
    /// The key was created.
    Add,
    /// The value or its description changed.
    Replace,
    /// The key was deleted.
    Remove,
}

/// One key's change in a version. A secret's change names its new
/// `secret_version`, never its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Change {
    /// What happened.
    pub op: ChangeOp,
    /// To which key.
    pub key: Key,
    /// The secret's version after the change, for secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_version: Option<u32>,
}

/// A version without its values, as a history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VersionInfo {
    /// The version's id in this history.
    pub id: VersionId,
    /// When it was made.
    pub created_at: Timestamp,
    /// The name of the actor who made it.
    pub created_by: String,
    /// The comment given with the change.
    pub comment: String,
    /// What made it.
    pub result_of: ResultOf,
    /// The keys it changed, against the version before it in this history.
    pub change: Vec<Change>,
    /// The version restored from or purged in, where that applies.
    pub source_version: Option<VersionId>,
    /// For an App change that bubbled into a diverged Environment: the App
    /// version it came from.
    pub app_version: Option<VersionId>,
}

/// A whole version: its info and every value as it stood (a snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Version {
    /// The version.
    pub info: VersionInfo,
    /// Every key, as it stood after the change.
    pub values: BTreeMap<Key, SnapshotValue>,
}

impl VersionId {
    pub(crate) fn app(seq: u64) -> Self {
        VersionId { seq, env: false }
    }

    pub(crate) fn env(seq: u64) -> Self {
        VersionId { seq, env: true }
    }

    pub(crate) fn seq(self) -> u64 {
        self.seq
    }

    pub(crate) fn is_env(self) -> bool {
        self.env
    }
}

impl fmt::Display for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", if self.env { 'e' } else { 'a' }, self.seq)
    }
}

impl fmt::Debug for VersionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VersionId({self})")
    }
}

impl FromStr for VersionId {
    type Err = InvalidId;

    /// Parses an id as [`Display`](fmt::Display) prints it.
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        let bad = || InvalidId::Version {
            input: s.to_owned(),
        };
        let (env, digits) = match s.as_bytes().first() {
            Some(b'a') => (false, s.get(1..).unwrap_or("")),
            Some(b'e') => (true, s.get(1..).unwrap_or("")),
            _ => return Err(bad()),
        };
        if digits.is_empty()
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(bad());
        }
        let seq = digits.parse::<u64>().map_err(|_| bad())?;
        Ok(VersionId { seq, env })
    }
}

impl Serialize for VersionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reads an id as [`Display`](fmt::Display) prints it.
impl<'de> Deserialize<'de> for VersionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for VersionSelector {
    type Err = InvalidId;

    /// `latest`, a version id, or a tag.
    ///
    /// # Errors
    ///
    /// [`InvalidId::Version`] for text that is none of them.
    fn from_str(s: &str) -> Result<Self, InvalidId> {
        if s == "latest" {
            return Ok(VersionSelector::Latest);
        }
        let id = s.parse().map(VersionSelector::Id);
        // A tag never reads as a version, so the two cannot be confused.
        id.or_else(|e| TagName::new(s).map(VersionSelector::Tag).map_err(|_| e))
    }
}

impl From<VersionId> for VersionSelector {
    fn from(id: VersionId) -> Self {
        VersionSelector::Id(id)
    }
}

impl ResultOf {
    /// The snake_case name, as the [guide](crate::_documentation::guide#value-set-versions) spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultOf::AppValueCreate => "app_value_create",
            ResultOf::AppValueUpdate => "app_value_update",
            ResultOf::AppValueDelete => "app_value_delete",
            ResultOf::AppValuesDelete => "app_values_delete",
            ResultOf::AppValueSetVersionRestore => "app_value_set_version_restore",
            ResultOf::AppValueSetVersionPurge => "app_value_set_version_purge",
            ResultOf::EnvValueCreate => "env_value_create",
            ResultOf::EnvValueUpdate => "env_value_update",
            ResultOf::EnvValueDelete => "env_value_delete",
            ResultOf::EnvValuesDelete => "env_values_delete",
            ResultOf::EnvValueSetVersionRestore => "env_value_set_version_restore",
            ResultOf::EnvValueSetVersionPurge => "env_value_set_version_purge",
        }
    }

    /// Whether an Environment change made it.
    pub fn is_env(self) -> bool {
        self.as_str().starts_with("env_")
    }
}

impl fmt::Display for ResultOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_ids_round_trip() {
        for s in ["a1", "e42", "a18446744073709551615"] {
            assert_eq!(s.parse::<VersionId>().unwrap().to_string(), s);
        }
        for bad in [
            "",
            "a",
            "x1",
            "a0",
            "a01",
            "a-1",
            "a+1",
            "e1x",
            "a18446744073709551616",
            "latest",
        ] {
            assert!(bad.parse::<VersionId>().is_err(), "{bad}");
        }
        assert_eq!(
            "latest".parse::<VersionSelector>().unwrap(),
            VersionSelector::Latest
        );
    }

    #[test]
    fn a_version_id_knows_its_level_and_number() {
        let (app, env) = (VersionId::app(7), VersionId::env(9));
        assert_eq!((app.is_env(), app.seq()), (false, 7));
        assert_eq!((env.is_env(), env.seq()), (true, 9));
        assert_ne!(VersionId::app(7), VersionId::env(7));
    }

    #[test]
    fn a_result_names_its_level() {
        let env = [
            ResultOf::EnvValueCreate,
            ResultOf::EnvValueUpdate,
            ResultOf::EnvValueDelete,
            ResultOf::EnvValuesDelete,
            ResultOf::EnvValueSetVersionRestore,
            ResultOf::EnvValueSetVersionPurge,
        ];
        let app = [
            ResultOf::AppValueCreate,
            ResultOf::AppValueUpdate,
            ResultOf::AppValueDelete,
            ResultOf::AppValuesDelete,
            ResultOf::AppValueSetVersionRestore,
            ResultOf::AppValueSetVersionPurge,
        ];
        for r in env {
            assert!(r.is_env(), "{r}");
            assert_eq!(r.to_string(), r.as_str());
            assert!(r.to_string().starts_with("env_value"));
        }
        for r in app {
            assert!(!r.is_env(), "{r}");
            assert_eq!(r.to_string(), r.as_str());
            assert!(r.to_string().starts_with("app_value"));
        }
    }
}
