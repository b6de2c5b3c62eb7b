//! Many seeks in one query: the last row of each of a list of key ranges,
//! which a read of an older version asks for every key it seeks.

use postgres::types::ToSql;

use super::PostgresBackend;
use crate::backend::{BackendError, BackendErrorKind, KeyRange, KeyValue};

/// At most this many ranges go into one query, so one statement's
/// parameters and answer stay a few megabytes.
const RANGES_PER_QUERY: usize = 4_096;

impl PostgresBackend {
    /// What `Backend::last_in_each` answers: one query per
    /// [`RANGES_PER_QUERY`] ranges, each range one backward index seek on
    /// the server (a lateral join over the ranges, numbered, with a
    /// `LIMIT 1` per range).
    pub(super) fn seek_each(
        &self,
        ranges: &[KeyRange],
    ) -> Result<Vec<Option<KeyValue>>, BackendError> {
        let sql = format!(
            "SELECT r.n, t.k, t.v \
             FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS r(lo, hi, n) \
             CROSS JOIN LATERAL (SELECT k, v FROM {} WHERE k >= r.lo AND k < r.hi \
             ORDER BY k DESC LIMIT 1) AS t",
            self.table
        );
        let mut found = vec![None; ranges.len()];
        for (chunk, part) in ranges.chunks(RANGES_PER_QUERY).enumerate() {
            let starts: Vec<&[u8]> = part.iter().map(|(s, _)| s.as_slice()).collect();
            let ends: Vec<&[u8]> = part.iter().map(|(_, e)| e.as_slice()).collect();
            let rows = self.with_conn("read", |c| {
                let statement = c.statement(&sql)?;
                let params: [&(dyn ToSql + Sync); 2] = [&starts, &ends];
                c.client.query(&statement, &params)
            })?;
            for row in rows {
                // `n` counts the chunk's ranges from 1.
                let n: i64 = row.get(0);
                let at = usize::try_from(n)
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|n| n.checked_add(chunk * RANGES_PER_QUERY));
                let slot = at.and_then(|at| found.get_mut(at)).ok_or_else(|| {
                    BackendError::with_kind(
                        BackendErrorKind::Corrupted,
                        "the server numbered a range it was not given",
                    )
                })?;
                *slot = Some((row.get(1), row.get(2)));
            }
        }
        Ok(found)
    }
}
