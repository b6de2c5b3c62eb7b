//! Tags (guide: [Tags](crate::_documentation::guide#tags)): names for
//! versions of one level's history. A tag's record keeps every version it
//! has named, with when and by whom, so moving it is recorded. Tags are
//! labels kept beside the history, not part of its hash chain.

use std::ops::ControlFlow;

use crate::backend::Batch;
use crate::codec::{self, AppMeta, TagMove, TagRecord};
use crate::error::Error;
use crate::id::TagName;

use super::commit::Ctx;
use super::{Reader, Scope};

impl Reader<'_> {
    /// The tag `name` of `scope`'s history, if any.
    pub(crate) fn tag(&self, scope: Scope<'_>, name: &TagName) -> Result<Option<TagRecord>, Error> {
        self.get(
            &codec::tag_key(scope.app, scope.env_id(), name),
            TagRecord::decode,
        )
    }

    /// Every tag of `scope`'s history, by name.
    pub(crate) fn tags(&self, scope: Scope<'_>) -> Result<Vec<(TagName, TagRecord)>, Error> {
        let prefix = codec::tags_prefix(scope.app, scope.env_id());
        let mut raw = Vec::new();
        self.backend
            .scan(&prefix, &codec::successor(&prefix), false, &mut |k, v| {
                raw.push((
                    k.get(prefix.len()..).unwrap_or_default().to_vec(),
                    v.to_vec(),
                ));
                ControlFlow::Continue(())
            })?;
        raw.into_iter()
            .map(|(name, record)| {
                let name = std::str::from_utf8(&name)
                    .ok()
                    .and_then(|s| TagName::new(s).ok())
                    .ok_or_else(|| codec::corrupted("a tag key"))?;
                Ok((name, TagRecord::decode(&record)?))
            })
            .collect()
    }
}

/// Points the tag `name` of `scope` at `seq` (a version of that history),
/// recording the move; the tag as it is afterwards. Written only if
/// neither the tag nor the App's bookkeeping changed since they were read.
pub(crate) fn place_tag(
    ctx: Ctx<'_>,
    scope: Scope<'_>,
    meta: &AppMeta,
    name: &TagName,
    seq: u64,
) -> Result<TagRecord, Error> {
    let reader = Reader {
        backend: ctx.backend,
    };
    let key = codec::tag_key(scope.app, scope.env_id(), name);
    let old = reader.tag(scope, name)?;
    let mut record = old.clone().unwrap_or(TagRecord { moves: Vec::new() });
    if record.current() == Some(seq) {
        return Ok(record);
    }
    record.moves.push(TagMove {
        seq,
        at: ctx.now,
        by: ctx.actor.to_owned(),
    });
    let mut batch = Batch::new();
    batch.expect(codec::app_key(scope.app), Some(meta.encode()));
    batch.expect(key.clone(), old.map(|o| o.encode()));
    batch.insert(key, record.encode());
    ctx.backend.apply(batch)?;
    Ok(record)
}
