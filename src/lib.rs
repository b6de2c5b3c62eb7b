//! `valueset`: an embeddable, versioned store of configuration values and
//! secrets: App values, Environment overrides, `${values.KEY}` resolved for a
//! deployment, and a git-like history of every change.
//!
//! ```
//! use valueset::{Actor, AppId, EnvId, Key, Secret, Store};
//! use valueset::model::{NewValue, VersionSelector};
//! use valueset::store::SetOptions;
//!
//! let store = Store::in_memory();
//! let admin = Actor::admin("alice");
//! let (app, prod) = (AppId::new("shop")?, EnvId::new("production")?);
//! store.create_app(&admin, &app)?;
//! store.create_env(&admin, &app, &prod)?;
//!
//! // An App value, overridden in production, and a secret.
//! let (host, password) = (Key::new("db.host")?, Key::new("db.password")?);
//! store.set(&admin, &app, None, &host, NewValue::plain("db.dev"), SetOptions::default())?;
//! store.set(&admin, &app, Some(&prod), &host, NewValue::plain("db.prod"), SetOptions::default())?;
//! store.set(&admin, &app, None, &password, NewValue::secret(Secret::new("s3cr3t".into())), SetOptions::default())?;
//!
//! // No read returns a secret's value.
//! let read = store.get(&admin, &app, Some(&prod), &password)?;
//! assert!(read.is_secret() && read.plain().is_none());
//!
//! // Resolving for a deployment is the only way out, and gives a secret.
//! let values = store.snapshot(&admin, &app, &prod, VersionSelector::Latest)?;
//! let url = values.resolver().resolve_str("postgres://app:${values.db.password}@${values.db.host}")?;
//! assert_eq!(format!("{url:?}"), "Secret(Secret([redacted]))");
//! assert_eq!(url.as_secret().map(Secret::expose_secret), Some("postgres://app:s3cr3t@db.prod"));
//! # Ok::<(), valueset::Error>(())
//! ```
//!
//! # Concepts
//!
//! - An **App** holds base values; an **Environment** may override a key that
//!   has a base value; a **Workload**'s own values, given at resolve time,
//!   override both ([`resolve::Workload::values`]).
//! - Every change is one **value set version** ([`model::VersionInfo`]): who,
//!   when, why, what changed, and the whole set of values as it stood
//!   ([`Store::version`]). Several changes can be one version
//!   ([`store::ChangeSet`]).
//! - An Environment shares its App's history until its first override; then
//!   its history is its own, and every App change still **bubbles up** into
//!   it as a version of its own that names the App version
//!   ([`model::VersionInfo::app_version`]).
//! - [`Store::restore`] puts a version's values back as a new version;
//!   [`Store::purge`] removes one value from history for good, under the
//!   constraints of the [purge rules](crate::_documentation::guide#purge).
//! - [`Actor`]s have org and App roles; every operation checks them first
//!   ([`access`]).
//!
//! # Secrets
//!
//! Secret plaintext lives only inside [`Secret`], which wipes itself on drop,
//! prints as `Secret([redacted])` and has no `Display`, serde or `Clone`. Its
//! one exit is [`Secret::expose_secret`]. Reads show a secret's version and
//! location ([`model::SecretInfo`]), never its value. Resolving a template
//! that uses a secret gives a [`Resolved::Secret`], and only callers allowed
//! to deploy may. Submitted secrets go to the store's
//! [`SecretStore`](secret::SecretStore); references name a secret that its
//! owner keeps in another registered store.
//!
//! # Placeholders
//!
//! | path | meaning |
//! |---|---|
//! | `${values.KEY}` | the effective shared value `KEY` (keys may contain dots: `${values.a.b}` is key `a.b`) |
//! | `${context.app.id}`, `env`, `org`, `workload`, `deploy` | where the deployment happens |
//! | `${NAME.…}` | a caller-registered [`Namespace`](resolve::Namespace) |
//! | `$\{` | a literal `${` |
//!
//! Segments are names (`[A-Za-z0-9_-]+`) joined by dots, or quoted strings in
//! brackets: `${shared.users-db.name}`, `${["shared"]["users-db"]["name"]}`
//! and `${shared['users-db'].name}` are the same path. See [`placeholder`]
//! for the whole grammar and [`resolve`] for resolution.
//!
//! # Storage backends
//!
//! The history engine stores ordered bytes through [`backend::Backend`]: an
//! ordered keyspace with atomic, conditional batches. Three ship:
//! [`backend::MemoryBackend`], [`backend::SledBackend`] (a directory that
//! one process holds: [`Store::open`]) and, with the `postgres` feature,
//! `backend::PostgresBackend`: one store that many processes share, with
//! the same guarantees ([guide](crate::_documentation::guide#one-store-many-processes)).
//! Bring your own with [`StoreBuilder::open_with_backend`]. [`Store::watch`] follows
//! new versions as they are committed.
//!
//! # Crate features
//!
//! - `postgres` (off by default): `backend::PostgresBackend`, on the
//!   `postgres` client crate. The default build needs no server.
//!
//! # Errors
//!
//! Every fallible call of [`Store`] returns [`Error`]; the parts that work
//! without a store return their own small errors ([`placeholder::ParseErrors`],
//! [`error::InvalidInput`], [`resolve::ResolveStrError`], …), each converting
//! into [`Error`] with `?`. [`Error::code`] is a stable snake_case code,
//! listed with what it means in [`codes`]. Bad input never panics.
//!
//! # Modules
//!
//! | module | what is in it |
//! |---|---|
//! | [`store`] | [`Store`], [`StoreBuilder`], the option structs, [`store::ChangeSet`], [`store::DryRun`], [`store::Snapshot`], export documents |
//! | [`model`] | read views ([`model::ValueView`]), versions, changes, [`Actor`] and roles, [`model::NewValue`] |
//! | [`id`] | [`AppId`], [`EnvId`], [`Key`]: validated ids |
//! | [`placeholder`] | [`Template`]: parsing `${…}` without copying |
//! | [`resolve`] | [`resolve::Resolver`], [`Resolved`], workloads, namespaces |
//! | [`secret`] | [`Secret`], the [`secret::SecretStore`] trait, [`secret::MemorySecretStore`] |
//! | [`backend`] | the [`backend::Backend`] trait, [`backend::MemoryBackend`], [`backend::SledBackend`] |
//! | [`access`] | who may do what (guide: [Who may do what](crate::_documentation::guide#who-may-do-what)) |
//! | [`error`] | [`Error`] and the errors it holds |
//! | [`codes`] | every stable error code, with what it means |
//!
//! # Guide and design documents
//!
//! [`_documentation::guide`] states every rule the library keeps: the
//! hierarchy, versions and bubbling, restore and purge, secrets,
//! placeholders, roles and `valuesctl`'s JSON. The API docs link to its
//! sections. [`_documentation::architecture`] is `ARCHITECTURE.md`: where
//! everything is, and why.

pub mod access;
pub mod backend;
mod codec;
pub mod codes;
mod crypto;
pub mod error;
mod history;
#[cfg(feature = "http")]
pub mod http;
pub mod id;
mod input;
pub mod model;
pub mod placeholder;
pub mod resolve;
pub mod secret;
pub mod store;
mod text;

pub use crypto::MasterKey;
pub use error::{Error, Result};
pub use id::{AppId, EnvId, Key, TagName};
pub use model::{Actor, VersionId};
pub use placeholder::Template;
pub use resolve::Resolved;
pub use secret::Secret;
pub use store::{Store, StoreBuilder};

pub mod _documentation {
    //! The guide and the design documents, rendered with the API docs.

    #[doc = include_str!("../docs/guide.md")]
    pub mod guide {}

    #[doc = include_str!("../ARCHITECTURE.md")]
    pub mod architecture {}
}

/// Not part of the API: what the fuzz targets in `fuzz/` reach past the
/// facade, with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz {
    /// Decodes any stored record by its tag: `Ok` names the kind.
    ///
    /// # Errors
    ///
    /// [`Corrupted`](crate::error::Corrupted) for bytes that are no record.
    pub fn decode_record(bytes: &[u8]) -> Result<&'static str, crate::error::Corrupted> {
        crate::codec::decode_any(bytes)
    }
}

/// The README's example is compiled and run as a doctest, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
