//! [`Store::head`]: what a level's values are now, named without reading
//! them, for caches and entity tags.

use crate::access::Action;
use crate::id::{AppId, EnvId};
use crate::model::{Actor, Timestamp};

use super::Store;

/// The state of one level's values (an App's, or an Environment's merged
/// over its App's) at one moment, from the App's and the Environment's
/// bookkeeping alone.
///
/// Every change to an App or to any of its Environments takes the App's
/// next sequence number and moves the head of its chain, and an App or
/// Environment made again under the same id starts another chain; so two
/// equal heads of one level name the same values, on every replica of a
/// shared store. A cache of what [`Store::list`] answered may be kept
/// under its head and served while [`Store::head`] answers the same.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Head {
    app: AppId,
    env: Option<EnvId>,
    next_seq: u64,
    app_chain: (Timestamp, [u8; 32]),
    env_chain: Option<(Timestamp, [u8; 32])>,
}

impl Head {
    /// The place in the App's one sequence of versions (any level's) that
    /// this head is at: a watch from it sees every version made after.
    /// (The service's event streams start there; compiled, and tested,
    /// without the service too.)
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) fn place(&self) -> crate::model::VersionId {
        crate::model::VersionId::env(self.next_seq.saturating_sub(1))
    }
}

impl Store {
    /// The [`Head`] of a level now: two reads of bookkeeping, no values
    /// read.
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
    /// let before = store.head(&admin, &app, None)?;
    /// assert_eq!(store.head(&admin, &app, None)?, before);
    /// store.set(&admin, &app, None, &Key::new("HOST")?, NewValue::plain("db"), SetOptions::default())?;
    /// assert_ne!(store.head(&admin, &app, None)?, before);
    /// # Ok::<(), valueset::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`list`](Self::list).
    pub fn head(
        &self,
        actor: &Actor,
        app: &AppId,
        env: Option<&EnvId>,
    ) -> Result<Head, crate::Error> {
        let (app_meta, env_meta) = self.open_scope(actor, Action::ReadValues, app, env)?;
        Ok(Head {
            app: app.clone(),
            env: env.cloned(),
            next_seq: app_meta.next_seq,
            app_chain: (app_meta.created_at, app_meta.last_hash),
            env_chain: env_meta.map(|m| (m.created_at, m.last_hash)),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::model::NewValue;
    use crate::store::SetOptions;
    use crate::{Actor, AppId, Key, Store};

    #[test]
    fn the_place_is_the_last_version_of_any_level() {
        let store = Store::in_memory();
        let admin = Actor::admin("alice");
        let app = AppId::new("shop").unwrap();
        store.create_app(&admin, &app).unwrap();
        assert_eq!(store.head(&admin, &app, None).unwrap().place().seq(), 0);
        let key = Key::new("HOST").unwrap();
        let set = |v: &str| {
            store
                .set(
                    &admin,
                    &app,
                    None,
                    &key,
                    NewValue::plain(v),
                    SetOptions::default(),
                )
                .unwrap()
        };
        set("a");
        let made = set("b");
        let place = store.head(&admin, &app, None).unwrap().place();
        assert_eq!(place.seq(), made.id.seq());
        assert_eq!(place.seq(), 2);
    }
}
