//! [`DryRun`]: every change of values asked what it would do, without doing
//! it (guide: [Dry run](crate::_documentation::guide#dry-run)). Each call
//! takes what the change takes and goes the same way, every check
//! included, up to the write, which it leaves out.

use crate::error::Error;
use crate::id::{AppId, EnvId, Key};
use crate::model::{Actor, ChangePreview, NewValue, PurgePreview, VersionSelector};

use super::write::Change;
use super::{ChangeSet, DeleteOptions, RestoreKeys, SetOptions, Store, WriteOptions};

/// The changes of a [`Store`], as dry runs: each returns what its change
/// would make, or the error the change would give, and writes nothing.
///
/// ```
/// use valueset::{Actor, AppId, Key, Store};
/// use valueset::model::NewValue;
/// use valueset::store::SetOptions;
///
/// let store = Store::in_memory();
/// let admin = Actor::admin("alice");
/// let app = AppId::new("shop")?;
/// store.create_app(&admin, &app)?;
/// let key = Key::new("A")?;
/// let preview = store.dry_run().set(&admin, &app, None, &key, NewValue::plain("1"), SetOptions::default())?;
/// assert_eq!(preview.version.change.len(), 1);
/// assert!(store.list(&admin, &app, None)?.is_empty(), "nothing was written");
/// # Ok::<(), valueset::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DryRun<'s> {
    store: &'s Store,
}

impl Store {
    /// Dry runs of this store's changes.
    pub fn dry_run(&self) -> DryRun<'_> {
        DryRun { store: self }
    }
}

impl DryRun<'_> {
    /// What [`Store::set`] would make.
    ///
    /// # Errors
    ///
    /// The errors [`Store::set`] would give.
    pub fn set(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        value: NewValue,
        options: SetOptions,
    ) -> Result<ChangePreview, Error> {
        let version = self
            .store
            .set_with(actor, app, env, key, value, options, true)?;
        Ok(ChangePreview { version })
    }

    /// What [`Store::describe`] would make.
    ///
    /// # Errors
    ///
    /// The errors [`Store::describe`] would give.
    pub fn describe(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        description: String,
        options: WriteOptions,
    ) -> Result<ChangePreview, Error> {
        let change = Change::of(env, options, true);
        let version = self
            .store
            .describe_with(actor, app, key, description, &change)?;
        Ok(ChangePreview { version })
    }

    /// What [`Store::delete`] would make.
    ///
    /// # Errors
    ///
    /// The errors [`Store::delete`] would give.
    pub fn delete(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        key: &Key,
        options: DeleteOptions,
    ) -> Result<ChangePreview, Error> {
        let changes = ChangeSet::new().delete(key.clone());
        self.apply(actor, app, env, changes, options)
    }

    /// What [`Store::apply`] would make.
    ///
    /// # Errors
    ///
    /// The errors [`Store::apply`] would give.
    pub fn apply(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        changes: ChangeSet,
        options: DeleteOptions,
    ) -> Result<ChangePreview, Error> {
        let change = Change {
            env,
            comment: options.comment,
            expect: options.expect,
            dry_run: true,
        };
        let version = self
            .store
            .apply_with(actor, app, changes, options.cascade, &change)?;
        Ok(ChangePreview { version })
    }

    /// What [`Store::restore`] would make.
    ///
    /// # Errors
    ///
    /// The errors [`Store::restore`] would give.
    // The version and keys by value, as every call takes them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn restore(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        version: VersionSelector,
        keys: RestoreKeys,
        options: WriteOptions,
    ) -> Result<ChangePreview, Error> {
        let change = Change::of(env, options, true);
        let version = self
            .store
            .restore_with(actor, app, &version, &keys, &change)?;
        Ok(ChangePreview { version })
    }

    /// What [`Store::purge`] would do: the version it would record, the
    /// value it would remove, the versions of the level's history that
    /// hold that value, and the tags that name one of them.
    ///
    /// # Errors
    ///
    /// The errors [`Store::purge`] would give.
    // The version and keys by value, as every call takes them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn purge(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
        version: VersionSelector,
        key: &Key,
        options: WriteOptions,
    ) -> Result<PurgePreview, Error> {
        let change = Change::of(env, options, true);
        self.store.purge_preview(actor, app, &version, key, &change)
    }
}
