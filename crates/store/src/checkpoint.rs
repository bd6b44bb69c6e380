//! Copying the WAL back into the main database file, on a thread of its own.
//! The writer's connection never checkpoints (wal_autocheckpoint = 0), so a
//! commit only ever waits for its own WAL frames to reach the disk.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::blobfile::{BlobDir, ORPHAN_AGE};
use crate::connection::{self, Role};
use crate::error::Result;

/// When a running process first looks for blob files no row names, and how
/// often after that.
const FIRST_SWEEP: Duration = Duration::from_secs(600);
const SWEEP_INTERVAL: Duration = Duration::from_secs(6 * 3600);
/// Checkpoint at most this often while writes go on.
const INTERVAL: Duration = Duration::from_millis(200);
/// WAL frames after which the checkpointer asks the writer to restart the
/// WAL (see `restart_wanted`). Under steady load
/// readers always hold an older snapshot and new commits keep arriving, so a
/// passive checkpoint alone never lets the WAL start again from its
/// beginning; it would grow until the load stops.
const FORCE_FRAMES: i64 = 4 * 1024;

pub(crate) struct Checkpointer {
    dirty: Mutex<bool>,
    cond: Condvar,
    stop: AtomicBool,
    restart: AtomicBool,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> Result<Arc<Checkpointer>> {
        let conn = connection::open(path, Role::Checkpointer)?;
        let blobs = BlobDir::for_database(path);
        let c = Arc::new(Checkpointer {
            dirty: Mutex::new(false),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
            restart: AtomicBool::new(false),
        });
        let me = c.clone();
        thread::Builder::new()
            .name("zest-store-checkpoint".into())
            .spawn(move || me.run(conn, blobs))?;
        Ok(c)
    }

    /// Called after each commit.
    pub(crate) fn wrote(&self) {
        if let Ok(mut d) = self.dirty.lock() {
            *d = true;
            self.cond.notify_one();
        }
    }

    /// Whether the WAL has grown past what a passive checkpoint can catch up
    /// with; the writer then restarts it between two batches (it holds the
    /// write lock already, which this thread would have to fight it for).
    /// Asking clears the request.
    pub(crate) fn restart_wanted(&self) -> bool {
        self.restart.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wrote();
    }

    fn run(self: Arc<Self>, conn: Connection, blobs: BlobDir) {
        // Short-lived processes (`zest deliver`) never sweep; a daemon sweeps
        // a while after it starts and then now and again.
        let mut next_sweep = Instant::now() + FIRST_SWEEP;
        while !self.stop.load(Ordering::SeqCst) {
            let dirty = match self.dirty.lock() {
                Ok(guard) => match self
                    .cond
                    .wait_while(guard, |d| !*d && !self.stop.load(Ordering::SeqCst))
                {
                    Ok(mut guard) => std::mem::replace(&mut *guard, false),
                    Err(_) => return,
                },
                Err(_) => return,
            };
            if dirty {
                match checkpoint(&conn) {
                    Ok(behind) => {
                        if behind {
                            self.restart.store(true, Ordering::SeqCst);
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying later"),
                }
            }
            if dirty && Instant::now() >= next_sweep {
                next_sweep = Instant::now() + SWEEP_INTERVAL;
                match blobs.sweep(&conn, ORPHAN_AGE) {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(files = n, "removed blob files no message uses"),
                    Err(e) => tracing::warn!(error = %e, "sweeping blob files failed"),
                }
            }
            thread::sleep(INTERVAL);
        }
    }
}

/// A passive checkpoint; true when the WAL is long. Even when this one
/// caught up, readers that started before it ended keep the next commit
/// from starting the WAL again, which under steady load is always.
fn checkpoint(conn: &Connection) -> Result<bool> {
    let (_busy, log, _done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(log > FORCE_FRAMES)
}

/// How long the writer waits for readers of older snapshots when it restarts
/// the WAL; past that it gives up and the WAL goes on growing for a while.
const RESTART_WAIT: Duration = Duration::from_millis(50);

/// On the writer's connection, between batches: copies what is left of the
/// WAL and waits (briefly) until no reader needs it, so that the next commit
/// writes the WAL from its beginning again.
pub(crate) fn restart_wal(conn: &Connection) {
    if conn.busy_timeout(RESTART_WAIT).is_err() {
        return;
    }
    match conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0)) {
        Ok(0) => {}
        Ok(_) => tracing::debug!("readers kept the WAL from restarting; trying again later"),
        Err(e) => tracing::debug!(error = %e, "restarting the WAL failed"),
    }
    let _ = conn.busy_timeout(connection::BUSY_TIMEOUT);
}
