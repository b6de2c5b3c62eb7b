//! `valueset` is an embeddable, versioned, hierarchical store of
//! configuration values and secrets, with a placeholder language that is
//! resolved at deployment time.
//!
//! ```
//! use valueset::{Key, Secret, Template};
//! use valueset::resolve::{Context, MapValues, Resolver};
//!
//! // Effective values for one deployment: a plain value and a secret.
//! let mut values = MapValues::new();
//! values.insert(Key::new("db.host")?, "db.prod.internal");
//! values.insert_secret(Key::new("db.password")?, Secret::new("s3cr3t".into()));
//!
//! let context = Context { env: Some("production".into()), ..Context::default() };
//! let resolver = Resolver::new(&values).with_context(context);
//!
//! // Templates parse without copying; every error is reported with its span.
//! let template = Template::parse("postgres://app:${values.db.password}@${values.db.host}/${context.env.id}")?;
//! assert_eq!(template.placeholders().count(), 3);
//!
//! // A string that holds a secret is a secret, and never prints.
//! let url = resolver.resolve(&template)?;
//! assert!(url.is_secret());
//! assert_eq!(format!("{url:?}"), "Secret(Secret([redacted]))");
//! assert_eq!(
//!     url.as_secret().map(Secret::expose_secret),
//!     Some("postgres://app:s3cr3t@db.prod.internal/production"),
//! );
//!
//! // Plain results stay plain; a template without placeholders is not copied.
//! assert_eq!(resolver.resolve_str("host=${values.db.host}")?.as_plain(), Some("host=db.prod.internal"));
//! Ok::<(), valueset::Error>(())
//! ```
//!
//! # Concepts
//!
//! Values are defined for an **App**, overridden per **Environment**, and
//! consumed by **Workloads** through `${values.KEY}` placeholders. The
//! effective value of a key for a workload is the workload's own value if it
//! defines one, else the environment's override, else the App's base value.
//! The versioned store that keeps App and Environment values, with a git-like
//! history of value set versions, restore and purge, is being built on top of
//! the pieces in this crate; see `ARCHITECTURE.md`.
//!
//! # Secrets
//!
//! Secret plaintext lives only inside [`Secret`], which wipes itself on drop,
//! prints as `Secret([redacted])` and has no `Display`, serde or `Clone`. Its
//! one exit is [`Secret::expose_secret`]. Resolving a template that uses a
//! secret gives a [`Resolved::Secret`]. Secrets are kept in a
//! [`SecretStore`](secret::SecretStore): [`MemorySecretStore`](secret::MemorySecretStore)
//! ships with the crate, and external stores plug in through the trait.
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
//! # Errors
//!
//! Every fallible function returns [`Error`], whose [`Error::code`] is a
//! stable snake_case code. Bad input never panics.

pub mod access;
pub mod backend;
#[doc(hidden)]
pub mod codec;
pub mod error;
mod history;
pub mod id;
pub mod model;
pub mod placeholder;
pub mod resolve;
pub mod secret;
pub mod store;

pub use error::{Error, Result};
pub use id::{AppId, EnvId, Key};
pub use model::{Actor, VersionId};
pub use placeholder::Template;
pub use resolve::Resolved;
pub use secret::Secret;
pub use store::{Store, StoreBuilder};

pub mod _documentation {
    //! Design documents, rendered with the API docs.

    #[doc = include_str!("../ARCHITECTURE.md")]
    pub mod architecture {}
}

/// The README's example is compiled and run as a doctest, so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
