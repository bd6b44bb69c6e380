//! Graceful shutdown: a trigger every task can watch, the signals that pull it, and
//! a tracker of in-flight connections so a daemon can stop accepting, let open
//! sessions finish within the grace period, and then cut the rest.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal as unix_signal};
use tokio::sync::watch;
use tokio::task::{AbortHandle, JoinHandle};

use crate::Error;

/// A cheap, cloneable handle: trigger shutdown, wait for it, track connections.
#[derive(Debug, Clone)]
pub struct Shutdown {
    triggered: watch::Sender<bool>,
    tracker: Arc<Tracker>,
}

#[derive(Debug)]
struct Tracker {
    next_id: AtomicU64,
    /// In-flight connections; the handle is set once the task is spawned.
    tasks: Mutex<HashMap<u64, Option<AbortHandle>>>,
    /// How many entries `tasks` has, for waiters.
    active: watch::Sender<usize>,
}

/// What [`Shutdown::drain`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainReport {
    /// Connections that ended by themselves within the grace period.
    pub finished: usize,
    /// Connections still open when the grace period ran out, which were aborted.
    pub cut: usize,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    pub fn new() -> Self {
        Shutdown {
            triggered: watch::Sender::new(false),
            tracker: Arc::new(Tracker {
                next_id: AtomicU64::new(0),
                tasks: Mutex::new(HashMap::new()),
                active: watch::Sender::new(0),
            }),
        }
    }

    /// Starts shutdown; idempotent.
    pub fn trigger(&self) {
        self.triggered.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.triggered.borrow()
    }

    /// Resolves once shutdown has been triggered (at once if it already was).
    /// Cancel-safe: use it as a branch of `tokio::select!` in accept and read loops.
    pub async fn triggered(&self) {
        let mut rx = self.triggered.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = rx.wait_for(|t| *t).await;
    }

    /// Counts a connection as in flight until the token is dropped. Prefer
    /// [`Shutdown::spawn`], which also lets [`Shutdown::drain`] abort it.
    pub fn track(&self) -> ConnectionToken {
        let id = self.tracker.next_id.fetch_add(1, Ordering::Relaxed);
        let mut tasks = self.tracker.lock();
        tasks.insert(id, None);
        self.tracker.active.send_replace(tasks.len());
        ConnectionToken {
            id,
            tracker: Arc::clone(&self.tracker),
        }
    }

    /// Spawns a connection task that is tracked until it ends.
    pub fn spawn<F>(&self, task: F) -> JoinHandle<()>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let token = self.track();
        let id = token.id;
        let handle = tokio::spawn(async move {
            let _token = token;
            task.await;
        });
        // If the task already finished, its entry is gone and stays gone.
        if let Some(slot) = self.tracker.lock().get_mut(&id) {
            *slot = Some(handle.abort_handle());
        }
        handle
    }

    /// Connections in flight now.
    pub fn active(&self) -> usize {
        *self.tracker.active.borrow()
    }

    /// Waits up to `grace` for tracked connections to end, then aborts those still
    /// running. Call it after the listeners stopped accepting and `trigger` was called.
    pub async fn drain(&self, grace: Duration) -> DrainReport {
        let before = self.active();
        let mut rx = self.tracker.active.subscribe();
        if tokio::time::timeout(grace, rx.wait_for(|n| *n == 0))
            .await
            .is_ok()
        {
            return DrainReport {
                finished: before,
                cut: 0,
            };
        }
        let tasks: Vec<Option<AbortHandle>> = self.tracker.lock().values().cloned().collect();
        let cut = tasks.len();
        for handle in tasks.into_iter().flatten() {
            handle.abort();
        }
        if cut > 0 {
            tracing::warn!(
                cut,
                ?grace,
                "shutdown grace period over; cutting connections"
            );
        }
        DrainReport {
            finished: before.saturating_sub(cut),
            cut,
        }
    }
}

impl Tracker {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Option<AbortHandle>>> {
        self.tasks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Marks one connection as in flight; dropping it (or its task ending) releases it.
#[derive(Debug)]
pub struct ConnectionToken {
    id: u64,
    tracker: Arc<Tracker>,
}

impl Drop for ConnectionToken {
    fn drop(&mut self) {
        let mut tasks = self.tracker.lock();
        tasks.remove(&self.id);
        self.tracker.active.send_replace(tasks.len());
    }
}

/// The signal that asked us to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Terminate,
    Interrupt,
}

/// SIGTERM and SIGINT handlers, installed when this is created so that a signal
/// arriving before anyone awaits [`Signals::recv`] is not lost (nor kills the process).
#[derive(Debug)]
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Must be called inside a tokio runtime.
    pub fn install() -> Result<Signals, Error> {
        let handler = |kind, name| {
            unix_signal(kind).map_err(|source| Error::SignalHandler {
                signal: name,
                source,
            })
        };
        Ok(Signals {
            term: handler(SignalKind::terminate(), "SIGTERM")?,
            int: handler(SignalKind::interrupt(), "SIGINT")?,
        })
    }

    /// The next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> StopSignal {
        tokio::select! {
            _ = self.term.recv() => StopSignal::Terminate,
            _ = self.int.recv() => StopSignal::Interrupt,
        }
    }
}

/// Installs the SIGHUP handler (so a hangup no longer ends the process) and
/// reloads every TLS certificate of the process on each one
/// ([`crate::tls::reload_all`]). Call it inside a tokio runtime, before the
/// daemons start.
pub fn reload_certificates_on_hangup() -> Result<(), Error> {
    let mut hup = unix_signal(SignalKind::hangup()).map_err(|source| Error::SignalHandler {
        signal: "SIGHUP",
        source,
    })?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            match crate::tls::reload_all() {
                Ok(n) => tracing::info!(acceptors = n, "SIGHUP: TLS certificates reloaded"),
                Err(e) => tracing::error!(error = %e, "SIGHUP: TLS certificate reload failed"),
            }
        }
    });
    Ok(())
}

/// Resolves on SIGTERM or SIGINT.
pub async fn signal() -> Result<StopSignal, Error> {
    Ok(Signals::install()?.recv().await)
}

impl Shutdown {
    /// Triggers shutdown on the first SIGTERM or SIGINT; run it as a task.
    pub async fn trigger_on_signal(self) -> Result<StopSignal, Error> {
        let received = signal().await?;
        tracing::info!(signal = ?received, "shutting down");
        self.trigger();
        Ok(received)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::oneshot;

    #[tokio::test]
    async fn trigger_wakes_waiters() {
        let shutdown = Shutdown::new();
        assert!(!shutdown.is_triggered());
        let waiter = tokio::spawn({
            let s = shutdown.clone();
            async move { s.triggered().await }
        });
        shutdown.trigger();
        waiter.await.unwrap();
        assert!(shutdown.is_triggered());
        // Already triggered: resolves at once; triggering again is harmless.
        shutdown.trigger();
        shutdown.triggered().await;
    }

    #[tokio::test]
    async fn drain_waits_for_connections_that_finish() {
        let shutdown = Shutdown::new();
        let (tx, rx) = oneshot::channel::<()>();
        let s = shutdown.clone();
        shutdown.spawn(async move {
            // A session that says goodbye when shutdown starts.
            s.triggered().await;
            let _ = rx.await;
        });
        let token = shutdown.track();
        assert_eq!(shutdown.active(), 2);
        // join! polls drain first, so it sees both connections in flight.
        let (report, ()) = tokio::join!(shutdown.drain(Duration::from_secs(3600)), async {
            shutdown.trigger();
            drop(token);
            tx.send(()).unwrap();
        });
        assert_eq!(
            report,
            DrainReport {
                finished: 2,
                cut: 0
            }
        );
        assert_eq!(shutdown.active(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn drain_cuts_connections_after_the_grace_period() {
        let shutdown = Shutdown::new();
        let stuck = shutdown.spawn(std::future::pending());
        let quick = shutdown.spawn(async {});
        quick.await.unwrap();
        assert_eq!(shutdown.active(), 1);
        let report = shutdown.drain(Duration::from_secs(10)).await;
        assert_eq!(
            report,
            DrainReport {
                finished: 0,
                cut: 1
            }
        );
        assert!(stuck.await.unwrap_err().is_cancelled());
        assert_eq!(shutdown.active(), 0);
    }

    #[tokio::test]
    async fn drain_with_nothing_in_flight() {
        let report = Shutdown::new().drain(Duration::ZERO).await;
        assert_eq!(
            report,
            DrainReport {
                finished: 0,
                cut: 0
            }
        );
    }

    #[tokio::test]
    async fn sigterm_is_received() {
        // Installing first means the signal cannot kill the test process.
        let mut signals = Signals::install().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        assert_eq!(signals.recv().await, StopSignal::Terminate);
    }
}
