//! The single SQLite writer, with group commit.
//!
//! One thread owns the write connection. Callers queue jobs; the thread takes every job
//! waiting, runs each in its own savepoint inside one transaction, commits once, and only
//! then answers each caller. A job that fails rolls back its savepoint alone. While one
//! batch's commit waits on fsync, new jobs queue up for the next batch, so many small
//! durable writes share one fsync instead of paying one each.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Result, StoreError};

/// A queued job: runs against the connection inside a savepoint, says whether it succeeded,
/// and returns how to answer its caller once the batch has committed (or failed to).
type Reply = Box<dyn FnOnce(Option<StoreError>) + Send>;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

type Job = Box<dyn FnOnce(&Connection) -> (bool, Reply) + Send>;

/// Most jobs in one transaction: bounds how long one commit keeps callers waiting.
const MAX_BATCH: usize = 512;

pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
    /// Bumped after every commit: what readers cached before is stale.
    pub(crate) generation: Arc<AtomicU64>,
}

impl Writer {
    pub(crate) fn spawn(conn: Connection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        let generation = Arc::new(AtomicU64::new(0));
        let g = generation.clone();
        let thread = std::thread::Builder::new()
            .name("taskman-sqlite-writer".into())
            .spawn(move || run(conn, rx, &g))
            .expect("spawning the writer thread");
        Writer {
            tx: Some(tx),
            thread: Some(thread),
            generation,
        }
    }

    /// Run `f` in the writer and wait until its transaction has committed.
    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R> + Send + 'static,
    {
        let (done, wait) = oneshot::channel::<Result<R>>();
        let job: Job = Box::new(move |conn: &Connection| {
            let r = f(conn);
            let ok = r.is_ok();
            let reply: Reply = Box::new(move |commit: Option<StoreError>| {
                let _ = done.send(match commit {
                    Some(e) if ok => Err(e),
                    _ => r,
                });
            });
            (ok, reply)
        });
        self.tx
            .as_ref()
            .ok_or_else(|| StoreError::Unavailable("the store is closed".into()))?
            .send(job)
            .map_err(|_| StoreError::Unavailable("the writer has stopped".into()))?;
        wait.await.map_err(|_| {
            StoreError::Unavailable(
                "the write was not carried out: no transaction could be started".into(),
            )
        })?
    }
}

impl Drop for Writer {
    /// Closing the queue lets the thread finish the jobs already queued, then stop.
    fn drop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(conn: Connection, rx: mpsc::Receiver<Job>, generation: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if conn.execute_batch("BEGIN IMMEDIATE").is_err() {
            // Nothing ran; dropping the jobs answers each caller that the write was not
            // carried out.
            drop(batch);
            continue;
        }
        let mut answers: Vec<Reply> = Vec::with_capacity(batch.len());
        let step = |sql: &str| {
            let _ = conn.prepare_cached(sql).and_then(|mut st| st.execute([]));
        };
        for job in batch {
            step("SAVEPOINT job");
            let (ok, reply) = job(&conn);
            if !ok {
                step("ROLLBACK TO job");
            }
            step("RELEASE job");
            answers.push(reply);
        }
        // Tasks created in this batch go into the full-text index in one statement, outside
        // the jobs' savepoints (FTS5 writes out its pending entries at every release).
        let indexed = conn
            .prepare_cached(
                "INSERT INTO tasks_fts (rowid, title, notes)
                 SELECT t.id, t.title, t.notes FROM fts_pending p JOIN tasks t ON t.id = p.id",
            )
            .and_then(|mut st| st.execute([]))
            .and_then(|_| conn.prepare_cached("DELETE FROM fts_pending")?.execute([]));
        let commit = match indexed {
            Err(e) => Some(StoreError::from(e)),
            Ok(_) => conn.execute_batch("COMMIT").err().map(StoreError::from),
        };
        if commit.is_some() {
            let _ = conn.execute_batch("ROLLBACK");
        }
        generation.fetch_add(1, Ordering::Release);
        for a in answers {
            a(commit.clone());
        }
    }
}
