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
/// WAL frames after which a passive checkpoint that could not catch up is
/// followed by one that waits for readers, so the WAL cannot grow without bound.
const FORCE_FRAMES: i64 = 64 * 1024;

pub(crate) struct Checkpointer {
    dirty: Mutex<bool>,
    cond: Condvar,
    stop: AtomicBool,
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> Result<Arc<Checkpointer>> {
        let conn = connection::open(path, Role::Checkpointer)?;
        let blobs = BlobDir::for_database(path);
        let c = Arc::new(Checkpointer {
            dirty: Mutex::new(false),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
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
            if dirty && let Err(e) = checkpoint(&conn) {
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying later");
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

fn checkpoint(conn: &Connection) -> Result<()> {
    let (_busy, log, done): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    if log > FORCE_FRAMES && done < log {
        conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))?;
    }
    Ok(())
}
