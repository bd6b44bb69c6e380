//! The queue runner: claims due recipients from the store's queue, delivers
//! them (LMTP to our MDA for local domains, SMTP by route, smarthost or MX
//! otherwise), records each recipient's result as soon as it is known, and
//! turns results that need one into delivery status notifications.

mod client;
pub mod dkim;
mod dsn;
mod route;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use store::{FeedItem, Outcome, QueuedMessage, RecipientId, Store};
use tokio::task::JoinSet;
use zest_core::config::Config;
use zest_core::shutdown::Shutdown;

use crate::Error;
use client::{Delivery, Protocol};
use route::{Destination, Router};

/// How long one attempt holds its recipients; a runner that dies mid-attempt
/// leaves them due again after this (or at the next runner start).
const LEASE_SECS: i64 = 15 * 60;
/// Recipients claimed per round.
const CLAIM_BATCH: usize = 500;
/// Destinations worked on at once.
const MAX_PARALLEL: usize = 32;
/// Connections open at once to one remote destination.
const MAX_CONNECTIONS_PER_DESTINATION: usize = 8;
/// Connections open at once to our own MDA: each of its deliveries waits for
/// a commit, and more of them at once share each commit.
const MAX_LOCAL_CONNECTIONS: usize = 16;
/// The longest the runner sleeps without looking at the queue.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// Waits between attempts: 1, 5, 15, 30 minutes, 1, 2, then every 4 hours.
const BACKOFF: [i64; 7] = [60, 300, 900, 1800, 3600, 7200, 14400];

pub(crate) fn backoff(attempts: u32) -> i64 {
    let i = (attempts.max(1) - 1) as usize;
    BACKOFF[i.min(BACKOFF.len() - 1)]
}

/// Owned by the submission daemon; `run` works until shutdown.
pub struct Runner {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub config: Arc<Config>,
    pub store: Store,
    pub shutdown: Shutdown,
    pub router: Router,
    pub tls: Arc<rustls::ClientConfig>,
}

/// One claimed message bound for one destination, with its recipients there.
pub(crate) struct Job {
    pub message: Arc<QueuedMessage>,
    pub recipients: Vec<store::QueuedRecipient>,
}

impl Runner {
    pub fn new(config: Arc<Config>, store: Store, shutdown: Shutdown) -> Result<Runner, Error> {
        let router = Router::new(&config);
        Ok(Runner {
            inner: Arc::new(Inner {
                tls: crate::tls_client::opportunistic()?,
                config,
                store,
                shutdown,
                router,
            }),
        })
    }

    pub async fn run(self) {
        let inner = self.inner;
        if let Err(e) = inner.store.recover_leases().await {
            tracing::error!(error = %e, "cannot recover queue leases");
        }
        let mut feed = inner.store.subscribe_all_changes();
        while !inner.shutdown.is_triggered() {
            let worked = match round(&inner).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "queue round failed");
                    0
                }
            };
            if worked > 0 {
                continue;
            }
            let wait = match inner.store.next_queue_due().await {
                Ok(Some(at)) => {
                    let secs = (at - crate::mail::now()).clamp(0, MAX_IDLE.as_secs() as i64);
                    Duration::from_secs(secs as u64)
                }
                _ => MAX_IDLE,
            };
            if wait.is_zero() {
                // Due now but nothing claimable (leased elsewhere): look again soon.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    _ = inner.shutdown.triggered() => return,
                }
                continue;
            }
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(deadline) => break,
                    _ = inner.shutdown.triggered() => return,
                    item = feed.next() => match item {
                        Some(FeedItem::Change(c)) if c.kind == store::ChangeKind::QueueChanged => break,
                        Some(FeedItem::Missed(_)) => break,
                        Some(_) => {}
                        None => return,
                    },
                }
            }
        }
    }
}

/// One round: reports first, then a batch of due recipients. Returns how
/// much it did.
async fn round(inner: &Arc<Inner>) -> Result<usize, store::StoreError> {
    let reported = dsn::send_reports(inner).await?;
    let claimed = inner.store.claim_due(CLAIM_BATCH, LEASE_SECS).await?;
    if claimed.is_empty() {
        return Ok(reported);
    }
    let n = claimed.iter().map(|m| m.recipients.len()).sum::<usize>();
    let mut by_dest: BTreeMap<Destination, Vec<Job>> = BTreeMap::new();
    for m in claimed {
        let m = Arc::new(m);
        let mut per_domain: BTreeMap<String, Vec<store::QueuedRecipient>> = BTreeMap::new();
        for r in &m.recipients {
            per_domain
                .entry(r.domain.clone())
                .or_default()
                .push(r.clone());
        }
        for (domain, recipients) in per_domain {
            let dest = inner.router.destination(&inner.store, &domain).await;
            by_dest.entry(dest).or_default().push(Job {
                message: m.clone(),
                recipients,
            });
        }
    }
    let mut set = JoinSet::new();
    for (dest, jobs) in by_dest {
        // Several connections to a busy destination, each reused for its share.
        let most = match dest {
            Destination::Lmtp(_) => MAX_LOCAL_CONNECTIONS,
            _ => MAX_CONNECTIONS_PER_DESTINATION,
        };
        let workers = jobs.len().min(most);
        let mut shares: Vec<Vec<Job>> = (0..workers).map(|_| Vec::new()).collect();
        for (i, job) in jobs.into_iter().enumerate() {
            shares[i % workers].push(job);
        }
        for share in shares {
            while set.len() >= MAX_PARALLEL {
                let _ = set.join_next().await;
            }
            let (inner, dest) = (inner.clone(), dest.clone());
            set.spawn(async move { deliver_to(&inner, dest, share).await });
        }
    }
    while set.join_next().await.is_some() {}
    Ok(n + reported)
}

/// Delivers jobs to one destination over one connection where possible.
async fn deliver_to(inner: &Arc<Inner>, dest: Destination, jobs: Vec<Job>) {
    let mut conn: Option<client::Connection> = None;
    // Once the destination could not be reached, the rest of this round's
    // jobs for it share that result instead of each waiting for a timeout.
    let mut unreachable: Option<client::Failure> = None;
    // Results are written while the next message goes out: the connection
    // does not wait for each commit.
    let mut recording = JoinSet::new();
    for job in jobs {
        if let Some(failure) = &unreachable {
            let outcomes = failure.outcomes(&job, inner);
            record(inner, &job, outcomes).await;
            continue;
        }
        let raw = match inner.store.queue_message_raw(job.message.id).await {
            Ok(raw) => raw,
            Err(e) => {
                tracing::error!(queue_id = %job.message.id, error = %e, "cannot read queued message");
                release(inner, &job).await;
                continue;
            }
        };
        let raw = match &dest {
            Destination::Lmtp(_) => raw,
            _ => dkim::sign(inner, &raw).await,
        };
        if conn.is_none() {
            match client::connect(inner, &dest).await {
                Ok(c) => conn = Some(c),
                Err(failure) => {
                    record(inner, &job, failure.outcomes(&job, inner)).await;
                    unreachable = Some(failure);
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let delivery = Delivery {
            message: &job.message,
            recipients: &job.recipients,
            raw: &raw,
        };
        let result = c.send(delivery).await;
        let outcomes = match result {
            Ok(per_rcpt) => per_rcpt
                .into_iter()
                .filter_map(|(id, reply)| {
                    let r = job.recipients.iter().find(|r| r.id == id)?;
                    let o =
                        reply.into_outcome(&job.message, r, inner, c.protocol(), c.host(), c.dsn());
                    Some((id, o))
                })
                .collect(),
            Err(failure) => {
                conn = None;
                failure.outcomes(&job, inner)
            }
        };
        let inner = inner.clone();
        recording.spawn(async move { record(&inner, &job, outcomes).await });
    }
    if let Some(c) = conn {
        c.quit().await;
    }
    while recording.join_next().await.is_some() {}
}

async fn record(inner: &Inner, job: &Job, outcomes: Vec<(RecipientId, Outcome)>) {
    for (id, o) in &outcomes {
        let address = job
            .recipients
            .iter()
            .find(|r| r.id == *id)
            .map(|r| r.address.as_str())
            .unwrap_or("");
        match o {
            Outcome::Delivered {
                remote_mta, reply, ..
            } => tracing::info!(
                queue_id = %job.message.id, rcpt = ?address, mta = ?remote_mta, reply = %reply, "delivered"
            ),
            Outcome::Deferred {
                error, retry_at, ..
            } => tracing::info!(
                queue_id = %job.message.id, rcpt = ?address, error = %error, retry_at, "deferred"
            ),
            Outcome::Failed { error, .. } => tracing::info!(
                queue_id = %job.message.id, rcpt = ?address, error = %error, "failed"
            ),
        }
    }
    if let Err(e) = inner.store.record_outcomes(outcomes).await {
        // The lease runs out and the recipients are tried again.
        tracing::error!(queue_id = %job.message.id, error = %e, "cannot record delivery results");
    }
}

async fn release(inner: &Inner, job: &Job) {
    let ids = job.recipients.iter().map(|r| r.id).collect();
    let _ = inner.store.release_leases(ids).await;
}

/// The outcome of a temporary failure: retry with back-off until the queue
/// lifetime runs out, then fail.
pub(crate) fn temporary(
    inner: &Inner,
    message: &QueuedMessage,
    r: &store::QueuedRecipient,
    remote_mta: Option<String>,
    error: String,
) -> Outcome {
    let now = crate::mail::now();
    let start = message
        .hold_until
        .unwrap_or(message.created_at)
        .max(message.created_at);
    let lifetime = i64::try_from(inner.config.submission.queue_lifetime_secs).unwrap_or(i64::MAX);
    if now >= start.saturating_add(lifetime) {
        return Outcome::Failed {
            remote_mta,
            error: format!("{error} (gave up after {} hours)", (now - start) / 3600),
        };
    }
    let delay = i64::try_from(inner.config.submission.delay_notify_secs).unwrap_or(i64::MAX);
    Outcome::Deferred {
        remote_mta,
        error,
        retry_at: (now + backoff(r.attempts)).min(start.saturating_add(lifetime)),
        report_delay: now - start >= delay,
    }
}

impl client::Protocol {
    pub(crate) fn is_local(self) -> bool {
        matches!(self, Protocol::Lmtp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_levels() {
        let waits: Vec<i64> = (1..=9).map(backoff).collect();
        assert_eq!(
            waits,
            vec![60, 300, 900, 1800, 3600, 7200, 14400, 14400, 14400]
        );
        assert_eq!(backoff(0), 60);
    }
}
