//! A change may not close a cycle of templates within its own level
//! (guide: [Values that use values](crate::_documentation::guide#values-that-use-values)).
//!
//! Only a change that sets a template can close a cycle (a plain value or a
//! deletion only removes edges), so only such a change pays for the check:
//! a walk from each new template along the `${values.KEY}` placeholders of
//! the level's templates, one seek per key it reaches. Each key is walked
//! once, so the cost is that of the templates the change can reach, not of
//! the level.
//!
//! Resolution checks again: an Environment's overrides can close a cycle
//! with its App's templates, which no single level shows.

use std::collections::HashMap;

use crate::codec::{self, Entry, State};
use crate::error::Error;
use crate::id::{AppId, EnvId, Key};
use crate::placeholder::Template;

use super::Reader;

/// The templates of one level as they will be after a change.
struct Level<'s> {
    reader: Reader<'s>,
    prefix: Vec<u8>,
    changed: HashMap<&'s Key, &'s Entry>,
}

/// Where the walk is with a key.
enum Mark {
    /// On the path being walked: meeting it again closes a cycle.
    OnPath,
    /// Every path from it was walked without meeting a cycle.
    Clear,
}

/// A key on the walk, with the keys its template names not walked yet.
struct Step {
    key: Key,
    names: std::vec::IntoIter<Key>,
}

/// Refuses the change when one of the templates it sets closes a cycle at
/// its level, naming the cycle (`A -> B -> A`).
pub(crate) fn check_cycles(
    reader: Reader<'_>,
    (app, env): (&AppId, Option<&EnvId>),
    changed: &[(Key, Entry)],
) -> Result<(), Error> {
    let starts: Vec<&Key> = changed
        .iter()
        .filter(|(_, e)| matches!(e.state, State::Template(_)))
        .map(|(k, _)| k)
        .collect();
    if starts.is_empty() {
        return Ok(());
    }
    let level = Level {
        reader,
        prefix: codec::history_prefix(app, env),
        changed: changed.iter().map(|(k, e)| (k, e)).collect(),
    };
    // Each key is marked when the walk reaches it, so it is read once.
    let mut marks: HashMap<Key, Mark> = HashMap::new();
    for start in starts {
        if marks.contains_key(start) {
            continue;
        }
        marks.insert(start.clone(), Mark::OnPath);
        let mut path = vec![level.step(start.clone())?];
        while let Some(top) = path.last_mut() {
            let Some(next) = top.names.next() else {
                if let Some(done) = path.pop() {
                    marks.insert(done.key, Mark::Clear);
                }
                continue;
            };
            match marks.get(&next) {
                Some(Mark::Clear) => {}
                Some(Mark::OnPath) => {
                    let at = path.iter().position(|s| s.key == next).unwrap_or(0);
                    let mut cycle: Vec<Key> = path.drain(at..).map(|s| s.key).collect();
                    cycle.push(next);
                    return Err(Error::TemplateCycle { path: cycle });
                }
                None => {
                    marks.insert(next.clone(), Mark::OnPath);
                    path.push(level.step(next)?);
                }
            }
        }
    }
    Ok(())
}

impl Level<'_> {
    /// `key` with the keys its template names (none when it is not a
    /// template at this level).
    fn step(&self, key: Key) -> Result<Step, Error> {
        let names = match self.changed.get(&key) {
            Some(entry) => names(entry),
            None => self
                .reader
                .entry_at(&self.prefix, &key, u64::MAX)?
                .map(|(_, entry)| names(&entry))
                .unwrap_or_default(),
        };
        Ok(Step {
            key,
            names: names.into_iter(),
        })
    }
}

/// The keys a template entry names, each once; none for other entries.
fn names(entry: &Entry) -> Vec<Key> {
    let State::Template(text) = &entry.state else {
        return Vec::new();
    };
    // A template's syntax is checked when it is set; one that does not
    // parse names nothing.
    let Ok(template) = Template::parse(text) else {
        return Vec::new();
    };
    let mut names: Vec<Key> = template
        .value_keys()
        .filter_map(|k| Key::new(k.as_ref()).ok())
        .collect();
    names.sort();
    names.dedup();
    names
}
