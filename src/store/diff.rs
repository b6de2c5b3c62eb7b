//! [`Store::diff`]: how two value sets differ (guide: [Compare, preview and move](crate::_documentation::guide#compare-preview-and-move)).

use crate::access::Action;
use crate::codec::{Entry, EnvMeta};
use crate::error::Error;
use crate::history::diff::{self, Side};
use crate::history::{Reader, Scope};
use crate::id::{AppId, EnvId};
use crate::model::{Actor, Diff, DiffEnd, KeyDiff, ValueChange, VersionSelector};

use super::Store;
use super::read::snapshot_value;

/// One side of a comparison: the App's own values or an Environment's
/// effective values, at a version of that level's history.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiffSide {
    /// The Environment, or `None` for the App.
    pub env: Option<EnvId>,
    /// The version of that level's history.
    pub version: VersionSelector,
}

impl DiffSide {
    /// The App's own values at `version` of the App's history.
    pub fn app(version: VersionSelector) -> Self {
        DiffSide { env: None, version }
    }

    /// `env`'s effective values at `version` of its history.
    pub fn env(env: EnvId, version: VersionSelector) -> Self {
        DiffSide {
            env: Some(env),
            version,
        }
    }
}

impl Store {
    /// How the values of `from` and `to` differ: keys added, removed and
    /// changed, with both sides; description changes apart from value
    /// changes. A secret is compared by its keyed digest and shown only as
    /// changed or unchanged, with its version and location, never its
    /// content.
    ///
    /// Two versions of one level cost the keys the versions between them
    /// changed; two Environments' current sets (or an Environment's and
    /// its App's) cost the keys they override; other pairs read both sets.
    ///
    /// ```
    /// use valueset::{Actor, AppId, EnvId, Key, Store};
    /// use valueset::model::{NewValue, ValueChange, VersionSelector};
    /// use valueset::store::{DiffSide, SetOptions};
    ///
    /// let store = Store::in_memory();
    /// let admin = Actor::admin("alice");
    /// let (app, prod, staging) = (AppId::new("shop")?, EnvId::new("prod")?, EnvId::new("staging")?);
    /// store.create_app(&admin, &app)?;
    /// store.create_env(&admin, &app, &prod)?;
    /// store.create_env(&admin, &app, &staging)?;
    /// let host = Key::new("db.host")?;
    /// store.set(&admin, &app, None, &host, NewValue::plain("db.internal"), SetOptions::default())?;
    /// store.set(&admin, &app, Some(&prod), &host, NewValue::plain("db.prod"), SetOptions::default())?;
    ///
    /// let (from, to) = (DiffSide::env(staging, VersionSelector::Latest), DiffSide::env(prod, VersionSelector::Latest));
    /// let diff = store.diff(&admin, &app, &from, &to)?;
    /// assert_eq!(diff.changes.len(), 1);
    /// assert_eq!(diff.changes[0].value, ValueChange::Changed);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Forbidden`] without a role on the App; [`NotFound`](crate::error::NotFound)
    /// for the App, an Environment or a version.
    pub fn diff(
        &self,
        actor: &Actor,
        app: &AppId,
        from: &DiffSide,
        to: &DiffSide,
    ) -> Result<Diff, Error> {
        let (_, from_meta) = self.open_scope(actor, Action::ReadValues, app, from.env.as_ref())?;
        let (_, to_meta) = self.open_scope(actor, Action::ReadValues, app, to.env.as_ref())?;
        let reader = self.reader();
        let a = side(
            reader,
            app,
            from.env.as_ref(),
            from_meta.as_ref(),
            &from.version,
        )?;
        let b = side(reader, app, to.env.as_ref(), to_meta.as_ref(), &to.version)?;
        let changes = diff::diff(reader, a, b)?
            .into_iter()
            .map(|(key, x, y)| key_diff(key, x, y))
            .collect();
        Ok(Diff {
            from: end(a, from.env.as_ref()),
            to: end(b, to.env.as_ref()),
            changes,
        })
    }
}

/// A side's level and sequence number.
fn side<'a>(
    reader: Reader<'_>,
    app: &'a AppId,
    env: Option<&'a EnvId>,
    meta: Option<&'a EnvMeta>,
    version: &VersionSelector,
) -> Result<Side<'a>, Error> {
    let scope = Scope {
        app,
        env: env.zip(meta),
    };
    Ok(Side {
        scope,
        seq: reader.resolve(scope, version)?,
    })
}

fn end(side: Side<'_>, env: Option<&EnvId>) -> DiffEnd {
    DiffEnd {
        env: env.cloned(),
        version: side.scope.id_for(side.seq),
    }
}

fn key_diff(key: crate::id::Key, x: diff::Found, y: diff::Found) -> KeyDiff {
    let value = match (&x, &y) {
        (None, _) => ValueChange::Added,
        (_, None) => ValueChange::Removed,
        (Some((_, a)), Some((_, b))) if a.value_digest != b.value_digest => ValueChange::Changed,
        (Some(_), Some(_)) => ValueChange::Unchanged,
    };
    let description = |f: &diff::Found| {
        f.as_ref()
            .map(|(_, e): &(bool, Entry)| e.description.clone())
    };
    let description_changed = x.is_some() && y.is_some() && description(&x) != description(&y);
    KeyDiff {
        value,
        description_changed,
        from: x.map(|(o, e)| snapshot_value(key.clone(), o, e)),
        to: y.map(|(o, e)| snapshot_value(key.clone(), o, e)),
        key,
    }
}
