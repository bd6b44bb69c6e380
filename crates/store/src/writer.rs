//! The one writer per process. Write jobs queue up on a channel; a dedicated
//! thread runs everything queued in one transaction (each job in its own
//! savepoint) and commits once, so many appends share one fsync (group commit).
//! Results reach callers only after the commit is durable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use std::cell::RefCell;

use rusqlite::{Connection, OptionalExtension};
use tokio::sync::oneshot;

use crate::blobfile::{BlobDir, BlobFile};
use crate::error::{Result, StoreError};
use crate::types::now;

/// Most jobs in one transaction: bounds how long one batch holds the lock.
const MAX_BATCH: usize = 512;
/// How long a batch keeps retrying another process's write lock before failing
/// with a temporary error.
const MAX_LOCK_WAIT: Duration = Duration::from_secs(60);
/// How long change-log rows are kept for feeds that poll (other processes).
const CHANGE_LOG_RETENTION_SECS: i64 = 3600;

/// A write transaction as seen by one job.
pub struct Tx<'c> {
    conn: &'c Connection,
    pub(crate) now: i64,
    blobs: &'c BlobDir,
    /// Segment ranges named by rows this transaction inserted: kept if it commits.
    new_files: RefCell<Vec<BlobFile>>,
    /// Segment ranges whose rows this transaction deleted: released if it commits.
    dropped_files: RefCell<Vec<(String, u64, u64)>>,
}

impl<'c> Tx<'c> {
    pub(crate) fn conn(&self) -> &'c Connection {
        self.conn
    }

    pub(crate) fn blobs(&self) -> &'c BlobDir {
        self.blobs
    }

    /// A row naming `file` was inserted.
    pub(crate) fn file_added(&self, file: BlobFile) {
        self.new_files.borrow_mut().push(file);
    }

    /// The row naming a range of segment `name` was deleted.
    pub(crate) fn file_dropped(&self, name: String, offset: u64, len: u64) {
        self.dropped_files.borrow_mut().push((name, offset, len));
    }

    fn mark(&self) -> (usize, usize) {
        (
            self.new_files.borrow().len(),
            self.dropped_files.borrow().len(),
        )
    }

    /// A job rolled back to its savepoint: forget its file changes (its new
    /// files are removed as the guards drop).
    fn roll_back_to(&self, (added, dropped): (usize, usize)) {
        self.new_files.borrow_mut().truncate(added);
        self.dropped_files.borrow_mut().truncate(dropped);
    }
}

trait WriteJob: Send {
    fn run(&mut self, tx: &mut Tx<'_>);
    fn finish(self: Box<Self>, commit: Result<()>);
}

struct TypedJob<T, F> {
    f: Option<F>,
    result: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for TypedJob<T, F>
where
    T: Send,
    F: FnOnce(&mut Tx<'_>) -> Result<T> + Send,
{
    fn run(&mut self, tx: &mut Tx<'_>) {
        let Some(f) = self.f.take() else { return };
        let conn = tx.conn;
        let mark = tx.mark();
        let r = run_cached(conn, "SAVEPOINT job").map_err(StoreError::classify);
        let r = r.and_then(|()| match catch_unwind(AssertUnwindSafe(|| f(tx))) {
            Ok(r) => r,
            Err(_) => Err(StoreError::Internal("a write job panicked".into())),
        });
        let end = if r.is_ok() {
            run_cached(conn, "RELEASE job")
        } else {
            run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"))
        };
        let r = match (r, end) {
            (Ok(v), Ok(())) => Ok(v),
            (Err(e), _) => Err(e),
            (Ok(_), Err(e)) => Err(StoreError::classify(e)),
        };
        if r.is_err() {
            tx.roll_back_to(mark);
        }
        self.result = Some(r);
    }

    fn finish(self: Box<Self>, commit: Result<()>) {
        let out = match (self.result, commit) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(v)), Ok(())) => Ok(v),
            (_, Err(e)) => Err(e),
            (None, Ok(())) => Err(StoreError::Internal("write job never ran".into())),
        };
        // The caller may have gone away (connection closed); the write stands.
        let _ = self.reply.send(out);
    }
}

enum Msg {
    Job(Box<dyn WriteJob>),
    Close(oneshot::Sender<()>),
}

pub(crate) struct Writer {
    tx: mpsc::Sender<Msg>,
    stats: Arc<Counters>,
}

/// Commits and the jobs they carried, since the store was opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub commits: u64,
    pub jobs: u64,
}

#[derive(Default)]
struct Counters {
    commits: std::sync::atomic::AtomicU64,
    jobs: std::sync::atomic::AtomicU64,
}

impl Writer {
    /// Starts the writer thread on `conn`; `on_commit` runs after each
    /// durable commit, and the WAL is restarted between batches whenever
    /// `restart_wanted` says so.
    pub(crate) fn spawn(
        conn: Connection,
        blobs: Arc<BlobDir>,
        on_commit: Box<dyn Fn() + Send>,
        restart_wanted: Box<dyn Fn() -> bool + Send>,
    ) -> Result<Writer> {
        let (tx, rx) = mpsc::channel();
        let stats = Arc::new(Counters::default());
        let st = stats.clone();
        thread::Builder::new()
            .name("zest-store-writer".into())
            .spawn(move || run(conn, &blobs, rx, st, on_commit, restart_wanted))?;
        Ok(Writer { tx, stats })
    }

    pub(crate) fn stats(&self) -> WriteStats {
        WriteStats {
            commits: self.stats.commits.load(Ordering::SeqCst),
            jobs: self.stats.jobs.load(Ordering::Relaxed),
        }
    }

    /// Queues `f` for the next batch and waits for its commit. Jobs that
    /// arrive while a batch commits share the one after it: the writer never
    /// waits for more, so a lone write costs one sync and many share one.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job = TypedJob {
            f: Some(f),
            result: None,
            reply,
        };
        self.tx
            .send(Msg::Job(Box::new(job)))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Finishes queued work and stops the thread.
    pub(crate) async fn close(&self) {
        let (done, rx) = oneshot::channel();
        if self.tx.send(Msg::Close(done)).is_ok() {
            let _ = rx.await;
        }
    }
}

fn run(
    conn: Connection,
    blobs: &BlobDir,
    rx: mpsc::Receiver<Msg>,
    stats: Arc<Counters>,
    on_commit: Box<dyn Fn() + Send>,
    restart_wanted: Box<dyn Fn() -> bool + Send>,
) {
    let mut last_prune = Instant::now();
    let mut closing = None;
    while closing.is_none() {
        let mut batch: Vec<Box<dyn WriteJob>> = Vec::new();
        match rx.recv() {
            Ok(Msg::Job(j)) => batch.push(j),
            Ok(Msg::Close(done)) => closing = Some(done),
            Err(_) => break,
        }
        while closing.is_none() && batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Close(done)) => closing = Some(done),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        let prune = last_prune.elapsed() > Duration::from_secs(60);
        if prune {
            last_prune = Instant::now();
        }
        let jobs = batch.len();
        let commit = run_batch(&conn, blobs, &mut batch, prune);
        let committed = commit.is_ok();
        if committed {
            // Counted before any caller hears back, so that whoever learns
            // of this write from a caller also sees the count move.
            stats.commits.fetch_add(1, Ordering::SeqCst);
            stats.jobs.fetch_add(jobs as u64, Ordering::Relaxed);
        }
        for job in batch {
            job.finish(match &commit {
                Ok(()) => Ok(()),
                Err(e) => Err(copy_error(e)),
            });
        }
        if committed {
            on_commit();
        }
        if restart_wanted() {
            crate::checkpoint::restart_wal(&conn);
        }
    }
    // Leave the WAL checkpointed so a copy of the main file alone is complete.
    let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    drop(conn);
    if let Some(done) = closing {
        let _ = done.send(());
    }
}

fn run_batch(
    conn: &Connection,
    blobs: &BlobDir,
    batch: &mut [Box<dyn WriteJob>],
    prune: bool,
) -> Result<()> {
    begin(conn)?;
    let mut tx = Tx {
        conn,
        now: now(),
        blobs,
        new_files: RefCell::new(Vec::new()),
        dropped_files: RefCell::new(Vec::new()),
    };
    for job in batch.iter_mut() {
        job.run(&mut tx);
    }
    if prune {
        // Feeds in other processes poll within a second; an hour is ample.
        if let Err(e) = prune_change_log(conn, tx.now - CHANGE_LOG_RETENTION_SECS) {
            tracing::warn!(error = %e, "pruning the change log failed");
        }
    }
    // Rows about to commit name these ranges: their bytes reach the disk first.
    let durable = tx
        .new_files
        .borrow()
        .iter()
        .try_for_each(BlobFile::wait_durable);
    let commit = durable.and_then(|()| run_cached(conn, "COMMIT").map_err(StoreError::classify));
    match commit {
        Ok(()) => {
            for f in tx.new_files.into_inner() {
                f.keep();
            }
            for (name, offset, len) in tx.dropped_files.into_inner() {
                blobs.release(&name, offset, len);
            }
            Ok(())
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %e, "commit failed");
            Err(e)
        }
    }
}

/// BEGIN IMMEDIATE takes the write lock up front, so a transaction never fails
/// half-way because another process wrote first. SQLite waits BUSY_TIMEOUT
/// itself; we keep trying up to MAX_LOCK_WAIT so "database is locked" never
/// reaches a user while the other writer is making progress.
fn begin(conn: &Connection) -> Result<()> {
    let start = Instant::now();
    loop {
        match run_cached(conn, "BEGIN IMMEDIATE") {
            Ok(()) => return Ok(()),
            Err(e) => {
                let e = StoreError::classify(e);
                if matches!(e, StoreError::Busy) && start.elapsed() < MAX_LOCK_WAIT {
                    tracing::debug!("database busy, retrying");
                    continue;
                }
                return Err(e);
            }
        }
    }
}

/// Deletes the change-log rows written before `cutoff` (Unix seconds), all
/// but the newest. Times rise with sequence numbers, so the first row at or
/// after the cut-off is found by bisecting on the sequence number.
fn prune_change_log(conn: &Connection, cutoff: i64) -> rusqlite::Result<()> {
    let (lo, hi): (Option<i64>, Option<i64>) =
        conn.query_row("SELECT MIN(seq), MAX(seq) FROM change_log", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let (Some(mut lo), Some(max)) = (lo, hi) else {
        return Ok(());
    };
    // The first row from `seq` on: its time, or none past the end.
    let mut stmt = conn
        .prepare_cached("SELECT created_at FROM change_log WHERE seq >= ?1 ORDER BY seq LIMIT 1")?;
    let mut time_from = |seq: i64| -> rusqlite::Result<Option<i64>> {
        stmt.query_row([seq], |r| r.get(0)).optional()
    };
    // Keep every row from the first one at or after the cut-off; `hi` is the
    // smallest number known to be kept.
    let mut hi = max;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match time_from(mid)? {
            Some(t) if t < cutoff => lo = mid + 1,
            _ => hi = mid,
        }
    }
    conn.prepare_cached("DELETE FROM change_log WHERE seq < ?1")?
        .execute([hi])?;
    Ok(())
}

/// Runs one statement that returns no rows, parsed once per connection: the
/// writer runs these around every job.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.raw_execute().map(drop)
}

/// Every job of a failed batch gets the commit's error; StoreError is not Clone
/// because rusqlite's error is not, so keep what matters.
fn copy_error(e: &StoreError) -> StoreError {
    match e {
        StoreError::Busy => StoreError::Busy,
        StoreError::DiskFull => StoreError::DiskFull,
        StoreError::Closed => StoreError::Closed,
        other => StoreError::Internal(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_with_times(times: &[i64]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE change_log (seq INTEGER PRIMARY KEY, created_at INTEGER NOT NULL)",
        )
        .unwrap();
        for t in times {
            conn.execute("INSERT INTO change_log (created_at) VALUES (?1)", [t])
                .unwrap();
        }
        conn
    }

    fn seqs(conn: &Connection) -> Vec<i64> {
        conn.prepare("SELECT seq FROM change_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn pruning_keeps_rows_from_the_cut_off_and_always_the_newest() {
        let times: Vec<i64> = (1..=100).map(|s| s * 10).collect();
        let conn = log_with_times(&times);
        // Gaps from earlier pruning change nothing.
        conn.execute("DELETE FROM change_log WHERE seq IN (20, 51, 52)", [])
            .unwrap();
        prune_change_log(&conn, 505).unwrap();
        assert_eq!(seqs(&conn), (53..=100).collect::<Vec<_>>());
        prune_change_log(&conn, 505).unwrap();
        assert_eq!(seqs(&conn).len(), 48);
        // All old: the newest stays, so its number is never handed out again.
        prune_change_log(&conn, 10_000).unwrap();
        assert_eq!(seqs(&conn), vec![100]);
        conn.execute("INSERT INTO change_log (created_at) VALUES (1)", [])
            .unwrap();
        assert_eq!(seqs(&conn), vec![100, 101]);
        // Nothing old: nothing goes.
        prune_change_log(&conn, 0).unwrap();
        assert_eq!(seqs(&conn), vec![100, 101]);
        // An empty log.
        prune_change_log(&log_with_times(&[]), 5).unwrap();
    }
}
