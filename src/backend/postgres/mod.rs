//! [`PostgresBackend`]: one store that many processes share, on a PostgreSQL
//! server (or an engine that speaks its protocol).
//!
//! The data is one table of ordered byte keys, `(k bytea primary key, v
//! bytea)`, which the backend creates itself. Every [`Batch`] is one
//! serializable transaction that checks the batch's preconditions and
//! applies its writes, so a commit is whole or absent, and two writers can
//! never both commit on the same bookkeeping.

mod errors;
mod listen;
mod pool;
mod seeks;
mod timeouts;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use postgres::types::ToSql;
use postgres::{Client, Config, NoTls, Statement};

use super::{Backend, BackendError, Batch, Changes, KeyRange, KeyValue, Visit};
use errors::pg_error;
use pool::{Pool, Taken};

/// A [`Backend`] in a PostgreSQL table, shared by every process that opens
/// it. Open it from a `postgres://` URL with [`PostgresBackend::connect`].
///
/// - Each [`Batch`] is one transaction at the serializable isolation level,
///   and one statement, sent in one round trip: its preconditions are read
///   (their rows locked) and compared, its writes applied only if they all
///   hold, and it commits whole or not at all. A serialization failure, a
///   deadlock or a unique violation (another writer came first) is
///   [`BackendErrorKind::Conflict`], which the store answers by planning
///   the change again; so engines that run every transaction serializable
///   (CockroachDB, YugabyteDB) work too.
/// - A lost connection or a restarting server is
///   [`BackendErrorKind::Unavailable`] (retryable), and the next call
///   connects again. A transaction lost before its commit was sent left
///   nothing; one lost while its commit was under way may have committed,
///   which a read tells. A network that drops
///   packets is noticed within seconds, not TCP's minutes: unless the URL
///   sets them, the backend sets `connect_timeout` (5 s),
///   `tcp_user_timeout` (10 s) and keepalive probes (after 5 s idle, 5
///   probes 1 s apart).
/// - At most 16 connections for reads and 4 for writes are open at once,
///   kept open between calls (a watcher's listening connection aside):
///   more callers at once wait for one to come back, up to 30 s, then get
///   `Unavailable`. A burst of callers then costs no new server processes.
///   Write connections run every transaction serializable
///   (`default_transaction_isolation`), so that a batch needs no `BEGIN`
///   and `COMMIT` of its own; reads keep the server's default.
/// - Reads need no transaction: a version's entries never change once
///   written.
/// - [`Backend::compact`] runs `VACUUM FULL` on the table, which rewrites
///   it into new files so that purged values and deleted secrets leave the
///   table's files. PostgreSQL's write-ahead log and any backups keep them
///   until they are recycled; see the guide.
///
/// The client is the synchronous `postgres` crate, which runs its own small
/// runtime: call the backend, and a [`Store`](crate::Store) over it, from
/// ordinary threads. From async code, never call it on a runtime thread
/// (the client would block that thread, and panics when it finds itself
/// inside a runtime); hand the call to `tokio::task::spawn_blocking`, as
/// `examples/postgres_async.rs` does:
///
/// ```text
/// let store = store.clone();
/// let version = tokio::task::spawn_blocking(move || {
///     store.set(&actor, &app, None, &key, NewValue::plain("db.internal"), SetOptions::default())
/// })
/// .await??;
/// ```
///
/// [`BackendErrorKind::Conflict`]: crate::backend::BackendErrorKind::Conflict
/// [`BackendErrorKind::Unavailable`]: crate::backend::BackendErrorKind::Unavailable
pub struct PostgresBackend {
    config: Config,
    table: String,
    pool: Pool<Conn>,
    writers: Pool<Conn>,
}

/// A key and its value, as a scan reads them.
type Row = (Vec<u8>, Vec<u8>);

/// The table's name when none is given.
pub const DEFAULT_TABLE: &str = "valueset_kv";

/// The first page of a reverse scan; later pages grow four times, so a
/// scan that stops after a few rows reads a few, and a long one takes few
/// queries. The engine's reverse scans list histories, newest first, and
/// stop after a page of versions.
const FIRST_PAGE: i64 = 16;

/// The first page of a forward scan, which the engine makes to read a whole
/// range (a level's key index, a key's history, the Apps), so that one
/// query answers most of them: a deployment reads an index of a thousand
/// keys in one round trip instead of four (16, 64, 256, 1,024).
const FIRST_FORWARD_PAGE: i64 = 1024;

impl PostgresBackend {
    /// Connects to the server at `url` (`postgres://user:password@host:port/db`)
    /// and creates the table if it is not there: [`DEFAULT_TABLE`], or the
    /// one a `table` parameter names (`postgres://host/db?table=shop_config`),
    /// so that several stores can share one database.
    ///
    /// # Errors
    ///
    /// [`BackendError`] of kind `Other` for a URL that does not parse,
    /// `Unavailable` when the server cannot be reached, `PermissionDenied`
    /// when the table cannot be created.
    pub fn connect(url: &str) -> Result<Self, BackendError> {
        let (url, table) = split_table(url);
        Self::connect_table(&url, table.as_deref().unwrap_or(DEFAULT_TABLE))
    }

    /// As [`connect`](Self::connect), with the data in `table` (lowercase
    /// letters, digits and `_`, starting with a letter or `_`, at most 63
    /// bytes): several stores can share one database.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect); `Other` for an invalid table name.
    pub fn connect_table(url: &str, table: &str) -> Result<Self, BackendError> {
        let valid = !table.is_empty()
            && table.len() <= 63
            && !table.starts_with(|c: char| c.is_ascii_digit())
            && table
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(BackendError::new(format!(
                "invalid table name `{table}`: lowercase letters, digits and `_`, at most 63 bytes"
            )));
        }
        let config: Config = url.parse().map_err(|_| {
            BackendError::new("invalid PostgreSQL URL: expected postgres://user@host:port/database")
        })?;
        let config = timeouts::with_defaults(config);
        let backend = PostgresBackend {
            config,
            table: table.to_owned(),
            pool: Pool::new(pool::MAX_CONNECTIONS),
            writers: Pool::new(pool::MAX_WRITERS),
        };
        backend.create_table()?;
        Ok(backend)
    }

    /// The notification channel commits of this table are announced on.
    fn channel(&self) -> String {
        format!("{}_changes", self.table)
    }

    fn create_table(&self) -> Result<(), BackendError> {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} (k bytea PRIMARY KEY, v bytea NOT NULL)",
            self.table
        );
        // Two processes creating it at once: PostgreSQL checks "if not
        // exists" before it takes its catalog locks, so the loser can fail
        // on the table, its row type or its catalog row that the winner
        // just made. Asking again then finds the table there; any other
        // failure comes back the same way.
        self.with_conn("create the table", |c| {
            c.client
                .batch_execute(&sql)
                .or_else(|_| c.client.batch_execute(&sql))
        })
    }

    /// A new connection.
    fn connect_client(&self) -> Result<Client, BackendError> {
        self.config
            .connect(NoTls)
            .map_err(|e| pg_error("could not connect", &e))
    }

    /// A new connection for writes: every transaction on it serializable,
    /// and its prepared statements planned once. (The write statement's
    /// plan is the same index lookups whatever its arrays hold, but the
    /// server would otherwise plan it again for each batch, since the
    /// plans it makes knowing the arrays look cheaper.)
    fn connect_writer(&self) -> Result<Client, BackendError> {
        let mut client = self.connect_client()?;
        client
            .batch_execute(
                "SET default_transaction_isolation TO serializable; \
                 SET plan_cache_mode TO force_generic_plan",
            )
            .map_err(|e| pg_error("could not connect", &e))?;
        Ok(client)
    }

    /// Runs `f` on an idle read connection (or a new one, while fewer
    /// than the bound are open), and keeps the connection for the next
    /// call unless it broke.
    fn with_conn<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        self.on(&self.pool, Self::connect_client, what, f)
    }

    /// [`with_conn`](Self::with_conn) on a write connection.
    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        self.on(&self.writers, Self::connect_writer, "write", f)
    }

    /// Runs `f` on a connection of `pool`, opened with `connect` when
    /// there is no idle one.
    fn on<T>(
        &self,
        pool: &Pool<Conn>,
        connect: fn(&Self) -> Result<Client, BackendError>,
        what: &str,
        f: impl FnOnce(&mut Conn) -> Result<T, postgres::Error>,
    ) -> Result<T, BackendError> {
        let mut conn = match pool.take(pool::WAIT)? {
            Taken::Idle(c) if !c.client.is_closed() => c,
            // A closed idle one, or a place to open one: a new connection
            // in that place, or the place given up.
            _ => match connect(self) {
                Ok(client) => Conn {
                    client,
                    statements: HashMap::new(),
                },
                Err(e) => {
                    pool.lost();
                    return Err(e);
                }
            },
        };
        let result = f(&mut conn);
        if conn.client.is_closed() {
            drop(conn);
            pool.lost();
        } else {
            pool.give_back(conn);
        }
        result.map_err(|e| pg_error(&format!("could not {what}"), &e))
    }

    /// One page of a scan: at most `limit` rows of `lo..hi` (`lo`
    /// inclusive unless `after`), in order.
    fn page(
        &self,
        (lo, after): (&[u8], bool),
        hi: &[u8],
        reverse: bool,
        limit: i64,
    ) -> Result<Vec<Row>, BackendError> {
        let sql = format!(
            "SELECT k, v FROM {} WHERE k {} $1 AND k < $2 ORDER BY k {} LIMIT $3",
            self.table,
            if after { ">" } else { ">=" },
            if reverse { "DESC" } else { "ASC" },
        );
        self.with_conn("read", |c| {
            let statement = c.statement(&sql)?;
            let params: [&(dyn ToSql + Sync); 3] = [&lo, &hi, &limit];
            let rows = c.client.query(&statement, &params)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    /// Checks the preconditions and applies the writes, in one statement
    /// on a write connection (so one serializable transaction, committed
    /// when the statement ends): it locks the rows of the expected keys,
    /// finds the first expected key whose value (or absence) differs, and
    /// writes everything (and announces a new version) only if there is
    /// none. One round trip, where `BEGIN`, a read, a write and `COMMIT`
    /// took four, each holding the locks a little longer.
    fn transact(&self, batch: &Batch) -> Result<Result<(), BackendError>, BackendError> {
        let writes = last_write_per_key(&batch.ops);
        let (puts, removes): (Vec<_>, Vec<_>) = writes.into_iter().partition(|(_, v)| v.is_some());
        let put_keys: Vec<&[u8]> = puts.iter().map(|(k, _)| *k).collect();
        let put_values: Vec<&[u8]> = puts.iter().filter_map(|(_, v)| *v).collect();
        let removes: Vec<&[u8]> = removes.iter().map(|(k, _)| *k).collect();
        let expected: Vec<&[u8]> = batch.expected.iter().map(|(k, _)| k.as_slice()).collect();
        let expected_values: Vec<Option<&[u8]>> =
            batch.expected.iter().map(|(_, v)| v.as_deref()).collect();
        let announce = batch.writes_version();
        let channel = self.channel();
        let sql = write_statement(&self.table);
        let conflict = self.with_writer(|c| {
            let statement = c.statement(&sql)?;
            let row = c.client.query_one(
                &statement,
                &[
                    &expected,
                    &expected_values,
                    &put_keys,
                    &put_values,
                    &removes,
                    &channel,
                    &announce,
                ],
            )?;
            Ok(row.get::<_, Option<Vec<u8>>>(0))
        })?;
        Ok(match conflict {
            Some(key) => Err(Batch::conflict(&key)),
            None => Ok(()),
        })
    }
}

/// The statement that commits a batch on `table`: `$1` and `$2` the
/// expected keys and their values (`NULL` for absent), `$3` and `$4` the
/// keys and values to put, `$5` the keys to remove, `$6` the channel to
/// announce on when `$7`. Its one row holds the first expected key whose
/// value differs (`NULL` when all hold, and the writes were made). The
/// parts of a `WITH` see one snapshot: the check reads the rows as they
/// were before the writes, and the writes wait on it.
fn write_statement(table: &str) -> String {
    format!(
        "WITH want AS (SELECT * FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS w(k, v, n)), \
         have AS (SELECT k, v FROM {table} WHERE k = ANY($1) FOR UPDATE), \
         bad AS (SELECT want.k FROM want LEFT JOIN have ON have.k = want.k \
                 WHERE want.v IS DISTINCT FROM have.v ORDER BY want.n LIMIT 1), \
         put AS (INSERT INTO {table} (k, v) SELECT * FROM unnest($3::bytea[], $4::bytea[]) \
                 WHERE NOT EXISTS (SELECT 1 FROM bad) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v), \
         gone AS (DELETE FROM {table} WHERE k = ANY($5) AND NOT EXISTS (SELECT 1 FROM bad)), \
         note AS (SELECT pg_notify($6, '') WHERE $7 AND NOT EXISTS (SELECT 1 FROM bad)) \
         SELECT (SELECT k FROM bad), (SELECT count(*) FROM note)"
    )
}

/// A connection, with the statements it has prepared: each statement is
/// prepared once per connection, so a call is one round trip, not two.
struct Conn {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl Conn {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

/// The URL without its `table` parameter, and the table it names.
fn split_table(url: &str) -> (String, Option<String>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_owned(), None);
    };
    let mut table = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|param| match param.strip_prefix("table=") {
            Some(t) => {
                table = Some(t.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, table)
}

/// The final write of each key of a batch: a later write of a key replaces
/// an earlier one.
fn last_write_per_key(ops: &[(Vec<u8>, Option<Vec<u8>>)]) -> BTreeMap<&[u8], Option<&[u8]>> {
    ops.iter()
        .map(|(k, v)| (k.as_slice(), v.as_deref()))
        .collect()
}

/// Closing a connection blocks on the client's runtime, which panics on a
/// thread that drives an async runtime; so connections are closed on a
/// thread of their own, and dropping the backend is safe anywhere.
impl Drop for PostgresBackend {
    fn drop(&mut self) {
        let mut idle = self.pool.drain();
        idle.extend(self.writers.drain());
        if !idle.is_empty() {
            let _ = std::thread::Builder::new()
                .name("valueset-pg-close".to_owned())
                .spawn(move || drop(idle));
        }
    }
}

impl fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The config holds the password: show where, not how.
        f.debug_struct("PostgresBackend")
            .field("hosts", &self.config.get_hosts().len())
            .field("dbname", &self.config.get_dbname())
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Backend for PostgresBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, BackendError> {
        let sql = format!("SELECT v FROM {} WHERE k = $1", self.table);
        self.with_conn("read", |c| {
            let statement = c.statement(&sql)?;
            Ok(c.client
                .query_opt(&statement, &[&key])?
                .map(|row| row.get(0)))
        })
    }

    /// One query for all of them.
    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, BackendError> {
        let sql = format!("SELECT k, v FROM {} WHERE k = ANY($1)", self.table);
        let wanted: Vec<&[u8]> = keys.to_vec();
        self.with_conn("read", |c| {
            let statement = c.statement(&sql)?;
            let found: std::collections::HashMap<Vec<u8>, Vec<u8>> = c
                .client
                .query(&statement, &[&wanted])?
                .into_iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            Ok(keys.iter().map(|k| found.get(*k).cloned()).collect())
        })
    }

    /// Reads in pages that grow as the visitor keeps going, so a scan that
    /// breaks after one row reads a handful.
    fn scan(
        &self,
        start: &[u8],
        end: &[u8],
        reverse: bool,
        visit: &mut Visit<'_>,
    ) -> Result<(), BackendError> {
        if start >= end {
            return Ok(());
        }
        let (mut lo, mut hi) = (start.to_vec(), end.to_vec());
        let mut after = false;
        let mut limit = if reverse {
            FIRST_PAGE
        } else {
            FIRST_FORWARD_PAGE
        };
        loop {
            let rows = self.page((&lo, after), &hi, reverse, limit)?;
            let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) == limit;
            let mut last = None;
            for (k, v) in rows {
                if visit(&k, &v).is_break() {
                    return Ok(());
                }
                last = Some(k);
            }
            match last {
                Some(k) if full => {
                    if reverse {
                        hi = k;
                    } else {
                        lo = k;
                        after = true;
                    }
                }
                _ => return Ok(()),
            }
            limit = limit.saturating_mul(4);
        }
    }

    /// One backward index seek: a query with `LIMIT 1`, where the default
    /// reverse scan would read a first page of `FIRST_PAGE` (16) rows.
    fn last_in(&self, start: &[u8], end: &[u8]) -> Result<Option<KeyValue>, BackendError> {
        Ok(self.page((start, false), end, true, 1)?.into_iter().next())
    }

    /// One query for all the ranges (`seeks.rs`), instead of one round trip
    /// each.
    fn last_in_each(&self, ranges: &[KeyRange]) -> Result<Vec<Option<KeyValue>>, BackendError> {
        self.seek_each(ranges)
    }

    fn apply(&self, batch: Batch) -> Result<(), BackendError> {
        if batch.ops.is_empty() && batch.expected.is_empty() {
            return Ok(());
        }
        self.transact(&batch)?
    }

    /// A connection that listens on the table's channel.
    fn changes(&self) -> Result<Option<Box<dyn Changes>>, BackendError> {
        let listener = listen::Listener::new(self.connect_client()?, &self.channel())?;
        Ok(Some(Box::new(listener)))
    }

    /// `VACUUM FULL` on the table: it is rewritten into new files without
    /// the rows that were deleted or replaced.
    fn compact(&self) -> Result<(), BackendError> {
        let sql = format!("VACUUM (FULL) {}", self.table);
        self.with_conn("compact", |c| c.client.batch_execute(&sql))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::BackendErrorKind;

    /// A URL where nothing listens: connecting fails at once.
    const NOBODY: &str = "postgres://postgres:hunter2@127.0.0.1:1/postgres";

    #[test]
    fn a_table_name_is_checked_before_connecting() {
        let long = "t".repeat(64);
        for bad in ["", long.as_str(), "1table", "Table", "my-table", "t.x"] {
            let err = PostgresBackend::connect_table(NOBODY, bad).unwrap_err();
            assert!(
                err.to_string().contains("invalid table name"),
                "{bad:?}: {err}"
            );
        }
        // Valid names get as far as connecting.
        let longest = "t".repeat(63);
        for good in ["t", "_t1", "valueset_kv", longest.as_str()] {
            let err = PostgresBackend::connect_table(NOBODY, good).unwrap_err();
            assert!(!err.to_string().contains("invalid table name"), "{good:?}");
            assert_eq!(err.kind(), BackendErrorKind::Unavailable, "{good:?}: {err}");
        }
    }

    #[test]
    fn a_failed_connection_says_why_without_the_url() {
        let err = PostgresBackend::connect(NOBODY).unwrap_err();
        let message = err.to_string();
        assert_eq!(err.kind(), BackendErrorKind::Unavailable);
        assert!(
            message.contains("could not reach the server (connection refused)"),
            "{message}"
        );
        // The URL may hold a password.
        assert!(!message.contains("hunter2") && !message.contains("127.0.0.1:1"));
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    /// A backend on the test server of `VALUESET_TEST_POSTGRES`, which
    /// the tests that need one require (they fail without it).
    fn on_test_server() -> PostgresBackend {
        let url = std::env::var("VALUESET_TEST_POSTGRES").expect(
            "VALUESET_TEST_POSTGRES must name the test server (scripts/postgres-test-server start)",
        );
        PostgresBackend::connect(&url).unwrap()
    }

    /// Needs the test server, as the PostgreSQL suites do
    /// (`VALUESET_TEST_POSTGRES`; with this feature on and without it,
    /// this fails). It is here, among the unit tests, which run before
    /// the suites, because code that stops keeping connections is slow
    /// rather than wrong: every statement then opens a connection, and
    /// the suites after it would run for many minutes before failing.
    #[test]
    fn one_caller_at_a_time_is_served_by_one_connection() {
        let backend = on_test_server();
        let server_process = || {
            backend
                .with_conn("ask for the server process", |c| {
                    c.client
                        .query_one("SELECT pg_backend_pid()", &[])
                        .map(|row| row.get::<_, i32>(0))
                })
                .unwrap()
        };
        let first = server_process();
        for _ in 0..5 {
            assert_eq!(server_process(), first);
        }
    }

    /// A batch is one statement without `BEGIN`: it is serializable only
    /// because its connection makes every transaction so. Reads keep the
    /// server's default. (Needs the test server, as above.)
    #[test]
    fn write_connections_are_serializable_and_read_connections_are_not() {
        let backend = on_test_server();
        let isolation = |c: &mut Conn| {
            c.client
                .query_one("SHOW transaction_isolation", &[])
                .map(|row| row.get::<_, String>(0))
        };
        assert_eq!(backend.with_writer(isolation).unwrap(), "serializable");
        let plans = backend
            .with_writer(|c| {
                c.client
                    .query_one("SHOW plan_cache_mode", &[])
                    .map(|row| row.get::<_, String>(0))
            })
            .unwrap();
        assert_eq!(plans, "force_generic_plan");
        assert_eq!(
            backend.with_conn("read", isolation).unwrap(),
            "read committed"
        );
    }

    #[test]
    fn each_table_has_its_own_notification_channel() {
        let backend = |table: &str| PostgresBackend {
            config: NOBODY.parse().expect("a valid URL"),
            table: table.to_owned(),
            pool: Pool::new(pool::MAX_CONNECTIONS),
            writers: Pool::new(pool::MAX_WRITERS),
        };
        let (a, b) = (backend("a").channel(), backend("b").channel());
        assert_ne!(a, b);
        assert!(a.starts_with('a') && b.starts_with('b'));
    }

    #[test]
    fn the_table_parameter_is_ours() {
        let split = |u: &str| split_table(u);
        assert_eq!(
            split("postgres://h/db"),
            ("postgres://h/db".to_owned(), None)
        );
        assert_eq!(
            split("postgres://h/db?table=t1"),
            ("postgres://h/db".to_owned(), Some("t1".to_owned()))
        );
        assert_eq!(
            split("postgres://h/db?sslmode=disable&table=t1&application_name=x"),
            (
                "postgres://h/db?sslmode=disable&application_name=x".to_owned(),
                Some("t1".to_owned())
            )
        );
    }
}
