//! The embedded SQLite backend (rusqlite, bundled SQLite).
//!
//! WAL journal, foreign keys on, one writer thread with group commit (`writer.rs`), and a
//! small pool of read connections used inline by the caller: a point read costs tens of
//! microseconds, less than a hop to another thread.

mod api;
mod idempotency;
mod import;
mod ops;
mod tasks;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::Value;

use crate::Durability;
use crate::clock::Clock;
use crate::error::{Result, StoreError};
use crate::migrate::{self, Applied};

pub(crate) use writer::Writer;

pub struct SqliteStore {
    path: PathBuf,
    pub(crate) writer: Writer,
    readers: Mutex<Vec<Connection>>,
    pub(crate) counts: CountCache,
    pub(crate) clock: Clock,
    /// Declared last: dropped after the writer has finished.
    _checkpointer: Checkpointer,
}

/// Copies the WAL back into the database file every second, on its own connection
/// (`PASSIVE`: it never blocks readers or the writer), and once more, truncating the WAL,
/// when the store closes.
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    fn spawn(path: &Path) -> Result<Checkpointer> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("taskman-sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    rx.recv_timeout(std::time::Duration::from_secs(1))
                {
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                }
                let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
            })
            .map_err(|e| StoreError::Unavailable(format!("checkpoint thread: {e}")))?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

/// Totals of filtered task lists, kept until this store's next commit (and at most
/// [`CountCache::TTL`], for changes other processes commit to the same file): paging
/// through a list counts its matches once, not once per page.
#[derive(Default)]
pub(crate) struct CountCache {
    entries: Mutex<std::collections::HashMap<String, (u64, std::time::Instant, i64)>>,
}

impl CountCache {
    const TTL: std::time::Duration = std::time::Duration::from_secs(2);
    const MAX: usize = 4096;

    pub(crate) fn get_or(
        &self,
        key: String,
        generation: u64,
        count: impl FnOnce() -> Result<i64>,
    ) -> Result<i64> {
        if let Ok(entries) = self.entries.lock()
            && let Some(&(g, at, n)) = entries.get(&key)
            && g == generation
            && at.elapsed() < Self::TTL
        {
            return Ok(n);
        }
        let n = count()?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::MAX {
                entries.clear();
            }
            entries.insert(key, (generation, std::time::Instant::now(), n));
        }
        Ok(n)
    }
}

/// Readers kept for reuse; more may be opened under load, extras are closed.
const MAX_IDLE_READERS: usize = 8;

impl SqliteStore {
    /// Open (creating if needed) the database at `path` and apply pending migrations.
    pub fn open(path: &Path, durability: Durability, clock: Clock) -> Result<SqliteStore> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let conn = Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Unavailable(format!(
                "{}: cannot switch to WAL (journal mode {mode})",
                path.display()
            )));
        }
        // A large page cache for the writer: a big import touches every index of the
        // tasks and events tables, and SQLite's default (2 MB) makes it re-read pages.
        // Checkpoints run in their own thread (`Checkpointer`), not in the commit that
        // happens to cross the threshold: a large import would otherwise pay for copying the
        // whole WAL back before it is acknowledged.
        conn.execute_batch(
            "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
        )?;
        conn.execute_batch(match durability {
            Durability::Durable => "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
            Durability::Fast => "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        })?;
        apply_migrations(&conn, &clock)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            writer: Writer::spawn(conn),
            readers: Mutex::new(Vec::new()),
            counts: CountCache::default(),
            clock,
            _checkpointer: Checkpointer::spawn(path)?,
        })
    }

    /// Reader connections kept open for reuse.
    pub fn idle_readers(&self) -> usize {
        self.readers.lock().map_or(0, |v| v.len())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run a read on a pooled connection.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let conn = self.readers.lock().ok().and_then(|mut v| v.pop());
        let conn = match conn {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(|e| StoreError::Unavailable(format!("{}: {e}", self.path.display())))?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.execute_batch(
                    "PRAGMA query_only = ON; PRAGMA foreign_keys = ON; PRAGMA cache_size = -16384;",
                )?;
                c
            }
        };
        let r = f(&conn);
        if let Ok(mut v) = self.readers.lock()
            && v.len() < MAX_IDLE_READERS
        {
            v.push(conn);
        }
        r
    }

    /// Run a change in the writer; it is acknowledged after its batch commits.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection, &str) -> Result<R> + Send + 'static,
    {
        let clock = self.clock.clone();
        self.writer
            .write(move |conn| {
                let now = clock.now();
                f(conn, &now)
            })
            .await
    }

    pub fn migrations(&self) -> Result<Vec<Applied>> {
        self.read(applied)
    }

    /// Copy the live database to `dest` with SQLite's online backup: readers and the
    /// writer carry on while it runs, and the copy is one consistent snapshot.
    pub fn backup(&self, dest: &Path) -> Result<()> {
        if dest.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists; backups never overwrite",
                dest.display()
            )));
        }
        self.read(|conn| {
            conn.backup(
                rusqlite::MAIN_DB,
                dest,
                None::<fn(rusqlite::backup::Progress)>,
            )
            .map_err(|e| StoreError::Database(format!("backup to {}: {e}", dest.display())))
        })
    }

    /// Replace the database's contents with the backup at `src`, in the writer, so no
    /// write interleaves. The backup is checked first: it must be a taskman database whose
    /// migrations this binary knows.
    pub async fn restore(&self, src: &Path) -> Result<()> {
        let check = Connection::open_with_flags(src, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Invalid(format!("{}: {e}", src.display())))?;
        let ok: String = check
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| StoreError::Invalid(format!("{}: not a database: {e}", src.display())))?;
        if ok != "ok" {
            return Err(StoreError::Invalid(format!(
                "{}: integrity check failed: {ok}",
                src.display()
            )));
        }
        let applied = applied(&check).map_err(|_| {
            StoreError::Invalid(format!("{}: not a taskman database", src.display()))
        })?;
        migrate::pending(migrate::SQLITE, &applied)?;
        drop(check);
        let src = src.to_path_buf();
        let clock = self.clock.clone();
        // Restoring replaces every page, so it cannot run inside the writer's batch
        // transaction: the job commits the open batch first and begins a new one after.
        self.writer
            .write(move |conn| {
                conn.execute_batch("COMMIT")?;
                let r = restore_into(conn, &src, &clock);
                conn.execute_batch("BEGIN IMMEDIATE")?;
                r
            })
            .await
    }
}

fn restore_into(conn: &Connection, src: &Path, clock: &Clock) -> Result<()> {
    // `restore` needs a mutable connection; a second connection to the same file does it.
    let path = conn
        .path()
        .map(PathBuf::from)
        .ok_or_else(|| StoreError::Database("in-memory database".into()))?;
    let mut target = Connection::open(&path)?;
    target.busy_timeout(std::time::Duration::from_secs(5))?;
    target
        .restore(
            rusqlite::MAIN_DB,
            src,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .map_err(|e| StoreError::Database(format!("restore from {}: {e}", src.display())))?;
    drop(target);
    apply_migrations(conn, clock)
}

fn applied(conn: &Connection) -> Result<Vec<Applied>> {
    let exists: Option<i64> = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare(
        "SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Applied {
            version: r.get(0)?,
            name: r.get(1)?,
            checksum: r.get(2)?,
            applied_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn apply_migrations(conn: &Connection, clock: &Clock) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
            applied_at TEXT NOT NULL)",
    )?;
    let done = applied(conn)?;
    for m in migrate::pending(migrate::SQLITE, &done)? {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(m.sql)
            .map_err(|e| StoreError::Migration(format!("{} ({}): {e}", m.version, m.name)))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?1, ?2, ?3, ?4)",
            params![m.version, m.name, m.checksum(), clock.now()],
        )?;
        tx.commit()?;
    }
    Ok(())
}

/// Append one event to the log.
#[allow(clippy::too_many_arguments)]
pub(crate) fn event(
    conn: &Connection,
    at: &str,
    actor: &str,
    project: Option<i64>,
    task: Option<i64>,
    action: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO events (at, actor, project_id, task_id, action, before, after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    st.execute(params![
        at,
        actor,
        project,
        task,
        action,
        before.map(Value::to_string),
        after.map(Value::to_string)
    ])?;
    Ok(())
}
