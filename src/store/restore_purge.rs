//! Taking values back: [`Store::restore`] puts a version's values back as a
//! new version; [`Store::purge`] removes one value from history for good.

use crate::access::Action;
use crate::backend::BackendError;
use crate::codec;
use crate::error::Error;
use crate::history::{self, Commit, Purge, Removed};
use crate::id::{AppId, EnvId, Key};
use crate::model::{
    Actor, PurgePreview, ResultOf, Source, Tag, VersionId, VersionInfo, VersionSelector,
};

use super::read::view;
use super::tags::tags_of;
use super::write::Change;
use super::{MAX_COMMENT_LEN, RestoreKeys, Store, WriteOptions, check_len};

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
    /// The version that records the purge.
    pub version: VersionInfo,
    /// Why compacting the storage after the purge failed; `None` when it
    /// was compacted. The purge stands either way: the
    /// value is gone from every read, and [`Store::compact`] takes it off
    /// the disk.
    pub compaction: Option<BackendError>,
}

impl Store {
    /// Puts the values of `version` back at its level as one new version
    /// (guide: [Restore](crate::_documentation::guide#restore)). History is
    /// never rewritten. In an Environment, acts on its overrides only.
    ///
    /// # Errors
    ///
    /// [`NotFound::Version`](crate::error::NotFound::Version); [`Error::Purged`] naming a purged key in the
    /// restored set; [`Error::NoBaseValue`] for an override whose App value is
    /// gone; [`Error::OverriddenInEnvs`] when the restore would delete an App
    /// value that Environments override; the errors of [`set`](Self::set).
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
    ) -> Result<VersionInfo, Error> {
        let change = Change::of(env, options, false);
        self.restore_with(actor, app, &version, &keys, &change)
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
    ) -> Result<PurgeOutcome, Error> {
        let change = Change::of(env, options, false);
        let version = self.purge_with(actor, app, &version, key, &change)?.info;
        let compaction = self.inner.backend.compact().err();
        Ok(PurgeOutcome {
            version,
            compaction,
        })
    }

    /// [`restore`](Self::restore), or its dry run.
    pub(super) fn restore_with(
        &self,
        actor: &Actor,
        app: &AppId,
        version: &VersionSelector,
        keys: &RestoreKeys,
        change: &Change<'_>,
    ) -> Result<VersionInfo, Error> {
        let keys = match keys {
            RestoreKeys::All => None,
            RestoreKeys::Only(keys) => Some(keys.as_slice()),
        };
        self.writing(
            actor,
            Action::WriteValues,
            app,
            change.env,
            change.expect,
            |scope, meta| {
                let reader = self.reader();
                let target = reader.resolve(scope, version)?;
                let target_id = scope.id_for(target);
                let mut commit = Commit::new(history::plan_restore(
                    reader, scope, target, target_id, keys,
                )?);
                commit.result_of = Some(if change.env.is_some() {
                    ResultOf::EnvValueSetVersionRestore
                } else {
                    ResultOf::AppValueSetVersionRestore
                });
                commit.source = Some(target_id);
                self.commit_at(actor, scope, meta, commit, change)
            },
        )
    }

    /// What [`purge`](Self::purge) would do (its dry run): the version it
    /// would record, the value it would remove, and the versions of the
    /// level's history that hold that value.
    pub(super) fn purge_preview(
        &self,
        actor: &Actor,
        app: &AppId,
        version: &VersionSelector,
        key: &Key,
        change: &Change<'_>,
    ) -> Result<PurgePreview, Error> {
        let Purged {
            info,
            removed,
            versions,
            tags,
        } = self.purge_with(actor, app, version, key, change)?;
        let source = if change.env.is_some() {
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
        version: &VersionSelector,
        key: &Key,
        change: &Change<'_>,
    ) -> Result<Purged, Error> {
        check_len(|| "comment".to_owned(), &change.comment, MAX_COMMENT_LEN)?;
        self.writing(
            actor,
            Action::Purge,
            app,
            change.env,
            change.expect,
            |scope, meta| {
                let reader = self.reader();
                let seq = reader.resolve(scope, version)?;
                let purge = Purge {
                    seq,
                    id: scope.id_for(seq),
                    key,
                    comment: change.comment.clone(),
                    dry_run: change.dry_run,
                };
                let (info, removed) = history::purge(self.ctx(actor), scope, meta, purge)?;
                if !change.dry_run {
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
            },
        )
    }
}
