//! The objects of SPEC 1–3 as callers see them: read views, versions,
//! changes, actors and roles. None of them holds secret content, so their
//! `Debug` and serde output are safe to print.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::id::{AppId, InvalidInput, Key};
use crate::secret::{Secret, SecretRef};

/// Milliseconds since the Unix epoch, UTC. Prints as RFC 3339
/// (`2026-11-23T08:03:14.123Z`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

/// Where the time of a change comes from. Inject one with
/// [`StoreBuilder::clock`](crate::StoreBuilder::clock) to make tests
/// deterministic; any `Fn() -> Timestamp` is a clock (so the trait does not
/// ask for `Debug`, which closures lack).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

/// Which level a value comes from (SPEC 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The App's base value.
    App,
    /// The Environment's override.
    Env,
}

/// A shared value as a read shows it: never a secret's content.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueView {
    /// The key.
    pub key: Key,
    /// What the value is for.
    pub description: String,
    /// Where it comes from.
    pub source: Source,
    /// When the key was created at this level.
    pub created_at: Timestamp,
    /// When it last changed at this level.
    pub updated_at: Timestamp,
    /// The value, or where the secret is.
    pub content: Content,
}

/// What a [`ValueView`] shows of a value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Content {
    /// A plain value, returned by every read.
    Plain(String),
    /// A secret: its version and location, never its content.
    Secret(SecretInfo),
}

/// Where a secret is, and its version (SPEC 4.3). No content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SecretInfo {
    /// 1 when created, +1 each time the value changes, per level.
    pub secret_version: u32,
    /// The id of the [`SecretStore`](crate::secret::SecretStore) that holds it.
    pub secret_store_id: String,
    /// The secret's location in that store.
    pub secret_ref: SecretRef,
    /// Whether the library stored it (a submitted secret) or it belongs to
    /// its owner (a reference).
    pub managed: bool,
}

/// One key of a version snapshot: a value, or a value that was purged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SnapshotValue {
    /// The value as it stood.
    Value(ValueView),
    /// The value was purged from this version (SPEC 3.4).
    Purged {
        /// The key.
        key: Key,
        /// Where the purged value came from.
        source: Source,
    },
}

/// A new value to set.
#[derive(Debug)]
#[non_exhaustive]
pub enum NewValue {
    /// A plain value.
    Plain(String),
    /// A secret, given once and kept in the store's secret store.
    Secret(Secret),
    /// A reference to a secret managed by its owner in a registered
    /// [`SecretStore`](crate::secret::SecretStore).
    SecretRef {
        /// The store's id.
        store: String,
        /// Where the secret is in that store.
        reference: SecretRef,
    },
}

/// An opaque version id: printable, parseable, stable forever.
///
/// App versions and an Environment's own versions have ids of their own; an
/// Environment without overrides shares its App's versions and ids.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VersionId {
    seq: u64,
    env: bool,
}

/// A version named by id, or the latest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionSelector {
    /// The newest version of the history.
    Latest,
    /// A version by id.
    Id(VersionId),
}

/// What made a version (SPEC 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
#[allow(missing_docs)] // the names say it
pub enum ResultOf {
    AppValueCreate,
    AppValueUpdate,
    AppValueDelete,
    AppValuesDelete,
    AppValueSetVersionRestore,
    AppValueSetVersionPurge,
    EnvValueCreate,
    EnvValueUpdate,
    EnvValueDelete,
    EnvValuesDelete,
    EnvValueSetVersionRestore,
    EnvValueSetVersionPurge,
}

/// How a key changed in a version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Change {
    /// What happened.
    pub op: ChangeOp,
    /// To which key.
    pub key: Key,
    /// The secret's version after the change, for secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
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

/// Who makes a change: a name, an org role and roles on Apps (SPEC 6).
///
/// ```
/// use valueset::{Actor, AppId};
/// use valueset::model::{AppRole, OrgRole};
///
/// let admin = Actor::admin("alice");
/// let dev = Actor::new("bob", OrgRole::Member).with_app_role(AppId::new("shop")?, AppRole::Developer);
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    name: String,
    org_role: OrgRole,
    app_roles: BTreeMap<AppId, AppRole>,
}

/// An organization role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OrgRole {
    /// May do everything.
    Administrator,
    /// May create Apps and Environments; otherwise as a Member.
    Manager,
    /// May do what their App roles allow.
    Member,
}

/// A role on one App.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AppRole {
    /// Read, write, restore, purge, resolve with secrets.
    Owner,
    /// Read, write, restore, resolve with secrets; not purge.
    Developer,
    /// Read only.
    Viewer,
}

impl Timestamp {
    /// From milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Timestamp(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.rem_euclid(1000);
        let secs = self.0.div_euclid(1000);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp(millis)
    }
}

impl<F: Fn() -> Timestamp + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

impl ValueView {
    /// Whether the value is a secret.
    pub fn is_secret(&self) -> bool {
        matches!(self.content, Content::Secret(_))
    }

    /// The plain value; `None` for a secret.
    pub fn plain(&self) -> Option<&str> {
        match &self.content {
            Content::Plain(v) => Some(v),
            Content::Secret(_) => None,
        }
    }

    /// The secret's version and location; `None` for a plain value.
    pub fn secret(&self) -> Option<&SecretInfo> {
        match &self.content {
            Content::Secret(s) => Some(s),
            Content::Plain(_) => None,
        }
    }
}

/// The JSON shape of SPEC 8: `{"key", "value" (absent for secrets),
/// "description", "is_secret", "secret_version", "secret_store_id" (secrets
/// only), "source", "created_at", "updated_at"}`.
impl Serialize for ValueView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("key", &self.key)?;
        match &self.content {
            Content::Plain(v) => map.serialize_entry("value", v)?,
            Content::Secret(info) => {
                map.serialize_entry("secret_version", &info.secret_version)?;
                map.serialize_entry("secret_store_id", &info.secret_store_id)?;
                map.serialize_entry("secret_ref", &info.secret_ref)?;
            }
        }
        map.serialize_entry("description", &self.description)?;
        map.serialize_entry("is_secret", &self.is_secret())?;
        map.serialize_entry("source", &self.source)?;
        map.serialize_entry("created_at", &self.created_at)?;
        map.serialize_entry("updated_at", &self.updated_at)?;
        map.end()
    }
}

impl SnapshotValue {
    /// The key.
    pub fn key(&self) -> &Key {
        match self {
            SnapshotValue::Value(v) => &v.key,
            SnapshotValue::Purged { key, .. } => key,
        }
    }

    /// The value, unless it was purged.
    pub fn value(&self) -> Option<&ValueView> {
        match self {
            SnapshotValue::Value(v) => Some(v),
            SnapshotValue::Purged { .. } => None,
        }
    }
}

/// A value as [`ValueView`] prints it; a purged one as
/// `{"key", "purged": true, "source"}`.
impl Serialize for SnapshotValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            SnapshotValue::Value(v) => v.serialize(s),
            SnapshotValue::Purged { key, source } => {
                let mut map = s.serialize_map(Some(3))?;
                map.serialize_entry("key", key)?;
                map.serialize_entry("purged", &true)?;
                map.serialize_entry("source", source)?;
                map.end()
            }
        }
    }
}

impl NewValue {
    /// A plain value.
    pub fn plain(value: impl Into<String>) -> Self {
        NewValue::Plain(value.into())
    }

    /// A secret, taking ownership of its plaintext.
    pub fn secret(value: Secret) -> Self {
        NewValue::Secret(value)
    }

    /// A reference to a secret in the store with id `store`.
    pub fn secret_ref(store: impl Into<String>, reference: SecretRef) -> Self {
        NewValue::SecretRef {
            store: store.into(),
            reference,
        }
    }

    /// The length that counts against the value size limit.
    pub(crate) fn len(&self) -> usize {
        match self {
            NewValue::Plain(v) => v.len(),
            NewValue::Secret(s) => s.expose_secret().len(),
            NewValue::SecretRef { store, reference } => {
                store.len()
                    + reference.reference.len()
                    + reference.version.as_ref().map_or(0, String::len)
            }
        }
    }
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
    type Err = InvalidInput;

    /// Parses an id as [`Display`](fmt::Display) prints it.
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        let bad = || InvalidInput::Version {
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

impl FromStr for VersionSelector {
    type Err = InvalidInput;

    /// `latest`, or a version id.
    fn from_str(s: &str) -> Result<Self, InvalidInput> {
        if s == "latest" {
            Ok(VersionSelector::Latest)
        } else {
            s.parse().map(VersionSelector::Id)
        }
    }
}

impl From<VersionId> for VersionSelector {
    fn from(id: VersionId) -> Self {
        VersionSelector::Id(id)
    }
}

impl ResultOf {
    /// The snake_case name, as SPEC 3 spells it.
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

impl Actor {
    /// An actor with an org role and no App roles.
    pub fn new(name: impl Into<String>, org_role: OrgRole) -> Self {
        Actor {
            name: name.into(),
            org_role,
            app_roles: BTreeMap::new(),
        }
    }

    /// An org Administrator.
    pub fn admin(name: impl Into<String>) -> Self {
        Actor::new(name, OrgRole::Administrator)
    }

    /// The same actor with `role` on `app`.
    #[must_use]
    pub fn with_app_role(mut self, app: AppId, role: AppRole) -> Self {
        self.app_roles.insert(app, role);
        self
    }

    /// The actor's name, as versions record it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The org role.
    pub fn org_role(&self) -> OrgRole {
        self.org_role
    }

    /// The role on `app`, if any.
    pub fn app_role(&self, app: &AppId) -> Option<AppRole> {
        self.app_roles.get(app).copied()
    }
}

impl fmt::Display for OrgRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrgRole::Administrator => "org Administrator",
            OrgRole::Manager => "org Manager",
            OrgRole::Member => "org Member",
        })
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AppRole::Owner => "app Owner",
            AppRole::Developer => "app Developer",
            AppRole::Viewer => "app Viewer",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_print_as_rfc3339() {
        assert_eq!(Timestamp(0).to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            Timestamp(1_795_420_994_123).to_string(),
            "2026-11-23T08:03:14.123Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000).to_string(),
            "2000-02-29T00:00:00.000Z"
        );
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31T23:59:59.999Z");
    }

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
}
