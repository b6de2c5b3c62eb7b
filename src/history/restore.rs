//! Planning a restore: which keys get which value back, as the plan of an
//! ordinary commit. The rules are those of the crate guide's *Restore*
//! section: the whole set or a subset, an Environment's overrides only, and
//! never a purged value.

use std::collections::BTreeMap;

use crate::codec::State;
use crate::error::Error;
use crate::id::Key;
use crate::model::VersionId;

use super::commit::{Plan, Planned};
use super::{Reader, Scope};

/// Plans a restore of `keys` (all when `None`) of `scope` to the version at
/// `target` (guide: [Restore](crate::_documentation::guide#restore)).
pub(crate) fn plan_restore(
    reader: Reader<'_>,
    scope: Scope<'_>,
    target: u64,
    target_id: VersionId,
    keys: Option<&[Key]>,
) -> Result<BTreeMap<Key, Planned>, Error> {
    let env = scope.env_id();
    let then = if scope
        .env
        .is_some_and(|(_, m)| m.diverged_at.is_none_or(|d| target < d))
    {
        BTreeMap::new()
    } else {
        reader.entries_at(scope.app, env, target)?
    };
    let now = reader.entries_at(scope.app, env, u64::MAX)?;
    let keys: Vec<Key> = match keys {
        Some(keys) => keys.to_vec(),
        None => then.keys().chain(now.keys()).cloned().collect(),
    };
    let mut planned = BTreeMap::new();
    for key in keys {
        let plan = match then.get(&key) {
            None => Plan::Delete,
            Some((_, entry)) => match &entry.state {
                State::Purged => {
                    return Err(Error::Purged {
                        key,
                        version: target_id,
                    });
                }
                State::Plain(v) => Plan::Plain(v.clone()),
                State::Template(v) => Plan::Template(v.clone()),
                State::Managed { store, reference } => Plan::CopySecret {
                    store: store.clone(),
                    reference: reference.clone(),
                },
                State::Reference { store, reference } => Plan::Reference {
                    store: store.clone(),
                    reference: reference.clone(),
                },
                State::Deleted => Plan::Delete,
            },
        };
        let description = then.get(&key).map(|(_, e)| e.description.clone());
        planned.insert(key, Planned { plan, description });
    }
    Ok(planned)
}
