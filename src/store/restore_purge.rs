//! Taking values back: [`Store::restore`] puts a version's values back as a
//! new version; [`Store::purge`] removes one value from history for good.

use crate::access::Action;
use crate::backend::BackendError;
use crate::codec;
use crate::error::Error;
use crate::history::{self, Commit, Purge, Removed, Scope};
use crate::id::{AppId, Key};
use crate::model::{
    Actor, PurgePreview, ResultOf, Source, Tag, VersionId, VersionInfo, VersionSelector,
};

use super::read::view;
use super::tags::tags_of;
use super::{MAX_COMMENT_LEN, RestoreKeys, Store, WriteOptions, check_len, retrying};

/// A purge or its dry run, as [`Store::purge_with`] made it.
struct Purged {
    /// The version recorded (in a dry run, that would be).
    info: VersionInfo,
    removed: Removed,
    /// In a dry run: the versions that hold the value, and the tags that
    /// name one of them.
    versions: Vec<VersionId>,
    tags: Vec<Tag>,
}

/// What [`Store::purge`] did: the version it recorded, and whether the
/// storage was then compacted, so that no file holds the purged value.
#[derive(Debug)]
#[non_exhaustive]
pub struct PurgeOutcome {
    /// The version that records the purge (for a dry run, the one it
    /// would record).
    pub version: VersionInfo,
    /// Why compacting the storage after the purge failed; `None` when it
    /// was compacted (or for a dry run). The purge stands either way: the
    /// value is gone from every read, and [`Store::compact`] takes it off
    /// the disk.
    pub compaction: Option<BackendError>,
}

impl Store {
    /// Puts the values of `version` back as one new version (guide: [Restore](crate::_documentation::guide#restore)).
    /// History is never rewritten. In an Environment, acts on its overrides
    /// only.
    ///
    /// # Errors
    ///
    /// [`NotFound::Version`](crate::error::NotFound::Version); [`Error::Purged`] naming a purged key in the
    /// restored set; [`Error::NoBaseValue`] for an override whose App value is
    /// gone; [`Error::OverriddenInEnvs`] when the restore would delete an App
    /// value that Environments override; the errors of [`set`](Self::set).
    // Options by value, as every write takes them; each attempt reads them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn restore(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionSelector,
        keys: RestoreKeys,
        options: WriteOptions,
    ) -> Result<VersionInfo, Error> {
        let keys = match keys {
            RestoreKeys::All => None,
            RestoreKeys::Only(keys) => Some(keys),
        };
        retrying(|| {
            let _guard = self.lock();
            let (meta, env_meta) =
                self.open_scope(actor, Action::WriteValues, app, options.env.as_ref())?;
            let scope = Scope {
                app,
                env: options.env.as_ref().zip(env_meta.as_ref()),
            };
            let reader = self.reader();
            let target = reader.resolve(scope, &version)?;
            let target_id = scope.id_for(target);
            let planned = history::plan_restore(reader, scope, target, target_id, keys.as_deref())?;
            let result_of = if options.env.is_some() {
                ResultOf::EnvValueSetVersionRestore
            } else {
                ResultOf::AppValueSetVersionRestore
            };
            let commit = Commit {
                planned,
                cascade: false,
                result_of: Some(result_of),
                source: Some(target_id),
                comment: String::new(),
                dry_run: false,
            };
            let metas = (&meta, env_meta.as_ref());
            self.commit_locked(actor, app, metas, commit, options.clone())
        })
    }

    /// Removes one value from history, for good (guide:
    /// [Purge](crate::_documentation::guide#purge)). `version` must be the
    /// version whose change introduced the value, and the value must not be
    /// the key's current one. The purge is recorded as a version.
    ///
    /// The value also leaves the disk before this returns: the storage is
    /// compacted ([`Store::compact`]), so no file of a durable store holds
    /// the purged value, or the ciphertext of a purged secret, any more.
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] unless app Owner or org Administrator;
    /// [`NotFound::Version`](crate::error::NotFound::Version);
    /// [`Error::PurgeRefused`] with the constraint that failed;
    /// [`Error::Backend`] when the purge could not be recorded. A purge
    /// that was recorded is never an error: when compacting the storage
    /// after it fails, [`PurgeOutcome::compaction`] says so (run
    /// [`Store::compact`] again to take the value off the disk).
    // Options by value, as every write takes them; each attempt reads them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn purge(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionId,
        key: &Key,
        options: WriteOptions,
    ) -> Result<PurgeOutcome, Error> {
        let version = self.purge_with(actor, app, version, key, &options)?.info;
        let compaction = if options.dry_run {
            None
        } else {
            self.inner.backend.compact().err()
        };
        Ok(PurgeOutcome {
            version,
            compaction,
        })
    }

    /// What [`purge`](Self::purge) would do, without doing it (guide:
    /// [Dry run](crate::_documentation::guide#dry-run)): the version it
    /// would record, the value it would remove, and the versions of the
    /// level's history that hold that value. Nothing is written.
    ///
    /// # Errors
    ///
    /// The errors [`purge`](Self::purge) would give.
    // Options by value, as every write takes them.
    #[allow(clippy::needless_pass_by_value)]
    pub fn purge_preview(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionId,
        key: &Key,
        options: WriteOptions,
    ) -> Result<PurgePreview, Error> {
        let options = WriteOptions {
            dry_run: true,
            ..options
        };
        let Purged {
            info,
            removed,
            versions,
            tags,
        } = self.purge_with(actor, app, version, key, &options)?;
        let source = if options.env.is_some() {
            Source::Env
        } else {
            Source::App
        };
        let value = view(key.clone(), source, removed.entry)
            .ok_or_else(|| Error::from(codec::corrupted("a value to purge")))?;
        Ok(PurgePreview {
            version: info,
            value,
            versions,
            tags,
        })
    }

    /// A purge, or its dry run: the version it records and what it removes,
    /// with the versions that hold the value and the tags that name them
    /// (found in a dry run only).
    fn purge_with(
        &self,
        actor: &Actor,
        app: &AppId,
        version: VersionId,
        key: &Key,
        options: &WriteOptions,
    ) -> Result<Purged, Error> {
        check_len(|| "comment".to_owned(), &options.comment, MAX_COMMENT_LEN)?;
        retrying(|| {
            let _guard = self.lock();
            let (meta, env_meta) =
                self.open_scope(actor, Action::Purge, app, options.env.as_ref())?;
            let scope = Scope {
                app,
                env: options.env.as_ref().zip(env_meta.as_ref()),
            };
            self.check_expect(scope, options.expect)?;
            let reader = self.reader();
            let seq = reader.resolve(scope, &VersionSelector::Id(version))?;
            let purge = Purge {
                seq,
                id: version,
                key,
                comment: options.comment.clone(),
                dry_run: options.dry_run,
            };
            let (info, removed) = history::purge(self.ctx(actor), scope, &meta, purge)?;
            if !options.dry_run {
                return Ok(Purged {
                    info,
                    removed,
                    versions: Vec::new(),
                    tags: Vec::new(),
                });
            }
            let versions: Vec<VersionId> = reader
                .seqs(scope, u64::MAX, usize::MAX)?
                .into_iter()
                .rev()
                .filter(|s| {
                    removed
                        .spans
                        .iter()
                        .any(|(from, to)| (*from..*to).contains(s))
                })
                .map(|s| scope.id_for(s))
                .collect();
            let mut tags = tags_of(reader, scope)?;
            tags.retain(|t| versions.contains(&t.version));
            Ok(Purged {
                info,
                removed,
                versions,
                tags,
            })
        })
    }
}
