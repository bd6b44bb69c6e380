//! The outbound queue: messages waiting to leave (submitted mail, Sieve
//! redirects, vacation replies, notifications, delivery status notifications),
//! with per-recipient state. A delivery attempt leases its recipients; results
//! are recorded per recipient, so a recipient that got 250 is never sent to
//! again and a crash mid-attempt loses nothing.

use std::collections::BTreeMap;
use std::fmt;

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::Store;
use crate::blobfile::blob_bytes;
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::message::{PreparedMessage, release_blob, store_blob};
use crate::types::{AccountId, QueueId};
use crate::writer::Tx;

/// How long a message stays queued when no runner says otherwise.
pub const DEFAULT_LIFETIME_SECS: i64 = 5 * 24 * 3600;

/// What put a message in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueSource {
    Submission,
    Redirect,
    Vacation,
    Notify,
    Dsn,
    /// Inbound mail the MX accepted for a local recipient whose delivery
    /// failed temporarily while others' succeeded; redelivered over LMTP.
    Inbound,
}

impl QueueSource {
    pub fn as_str(self) -> &'static str {
        match self {
            QueueSource::Submission => "submission",
            QueueSource::Redirect => "redirect",
            QueueSource::Vacation => "vacation",
            QueueSource::Notify => "notify",
            QueueSource::Dsn => "dsn",
            QueueSource::Inbound => "inbound",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "redirect" => QueueSource::Redirect,
            "vacation" => QueueSource::Vacation,
            "notify" => QueueSource::Notify,
            "dsn" => QueueSource::Dsn,
            "inbound" => QueueSource::Inbound,
            _ => QueueSource::Submission,
        }
    }
}

impl fmt::Display for QueueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 3461 4.3: how much of the message a failure report returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DsnRet {
    Full,
    Hdrs,
}

impl DsnRet {
    pub fn as_str(self) -> &'static str {
        match self {
            DsnRet::Full => "FULL",
            DsnRet::Hdrs => "HDRS",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "FULL" => Some(DsnRet::Full),
            "HDRS" => Some(DsnRet::Hdrs),
            _ => None,
        }
    }
}

/// The BODY= of MAIL FROM (RFC 6152, RFC 3030).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyType {
    #[default]
    SevenBit,
    EightBitMime,
    BinaryMime,
}

impl BodyType {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }

    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("8BITMIME") => BodyType::EightBitMime,
            Some("BINARYMIME") => BodyType::BinaryMime,
            _ => BodyType::SevenBit,
        }
    }
}

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    /// Envelope sender; "" is the null sender (DSNs, vacation replies).
    pub sender: String,
    pub account: Option<AccountId>,
    pub source: QueueSource,
    pub recipients: Vec<OutboundRecipient>,
    pub raw: Vec<u8>,
    /// RFC 3461 ENVID, as received (xtext decoded).
    pub env_id: Option<String>,
    pub dsn_ret: Option<DsnRet>,
    pub body_type: BodyType,
    pub smtputf8: bool,
    /// RFC 4865: not before this time (Unix seconds).
    pub hold_until: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRecipient {
    pub address: String,
    /// RFC 3461 ORCPT, as "addr-type;address" (xtext decoded).
    pub orcpt: Option<String>,
    /// RFC 3461 NOTIFY, e.g. "SUCCESS,FAILURE" or "NEVER"; None: the default.
    pub notify: Option<String>,
}

impl OutboundRecipient {
    pub fn new(address: impl Into<String>) -> Self {
        OutboundRecipient {
            address: address.into(),
            orcpt: None,
            notify: None,
        }
    }
}

/// One recipient row of the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecipientId(pub i64);

impl fmt::Display for RecipientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecipientStatus {
    Pending,
    Delivered,
    Failed,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "delivered" => RecipientStatus::Delivered,
            "failed" => RecipientStatus::Failed,
            _ => RecipientStatus::Pending,
        }
    }
}

/// A delivery status notification a recipient's result still needs
/// (RFC 3464 2.3.3 Action).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportAction {
    Delivered,
    Relayed,
    Delayed,
    Failed,
}

impl ReportAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportAction::Delivered => "delivered",
            ReportAction::Relayed => "relayed",
            ReportAction::Delayed => "delayed",
            ReportAction::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "delivered" => Some(ReportAction::Delivered),
            "relayed" => Some(ReportAction::Relayed),
            "delayed" => Some(ReportAction::Delayed),
            "failed" => Some(ReportAction::Failed),
            _ => None,
        }
    }
}

/// A queued message as the runner and `zest queue list` see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedMessage {
    pub id: QueueId,
    pub sender: String,
    pub account: Option<AccountId>,
    pub source: QueueSource,
    pub env_id: Option<String>,
    pub dsn_ret: Option<DsnRet>,
    pub body_type: BodyType,
    pub smtputf8: bool,
    pub hold_until: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub size: u64,
    pub recipients: Vec<QueuedRecipient>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedRecipient {
    pub id: RecipientId,
    pub address: String,
    /// Lower case, for grouping deliveries by destination.
    pub domain: String,
    pub orcpt: Option<String>,
    pub notify: Option<String>,
    pub status: RecipientStatus,
    /// Attempts started, including one in progress.
    pub attempts: u32,
    pub next_attempt: i64,
    pub last_attempt: Option<i64>,
    /// The last reply or error, e.g. "550 5.1.1 no such user".
    pub last_error: Option<String>,
    /// The host that gave `last_error` or accepted the message.
    pub remote_mta: Option<String>,
    /// An attempt holds this recipient until then.
    pub lease_until: Option<i64>,
    /// A report still to be queued for this recipient.
    pub report: Option<ReportAction>,
    pub finished_at: Option<i64>,
}

/// The result of one attempt for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The next hop took responsibility (250).
    Delivered {
        remote_mta: Option<String>,
        reply: String,
        /// Final delivery (LMTP to our own MDA) rather than a relay to an
        /// MTA outside; decides the Action of a success report.
        local: bool,
        /// The next hop accepted the DSN parameters, so it reports success
        /// itself (RFC 3461 5.2.2) and we send none.
        reported_downstream: bool,
    },
    /// Try again at `retry_at`.
    Deferred {
        remote_mta: Option<String>,
        error: String,
        retry_at: i64,
        /// Tell the sender about the delay (once per recipient, if NOTIFY allows).
        report_delay: bool,
    },
    /// Never deliverable (5xx, or the queue lifetime ran out).
    Failed {
        remote_mta: Option<String>,
        error: String,
    },
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::invalid("queue entry", reason)
}

/// The domain of an envelope address, lower case; errors on anything that
/// could not be routed.
pub fn recipient_domain(address: &str) -> Result<String> {
    let (local, domain) = address
        .rsplit_once('@')
        .ok_or_else(|| invalid(format!("{address:?} has no domain")))?;
    let bad = |c: char| c.is_control() || c.is_whitespace() || "<>()[],;\\\"".contains(c);
    if local.is_empty()
        || domain.is_empty()
        || domain.len() > 253
        || address.len() > 512
        || domain.chars().any(|c| bad(c) || c == '@')
        || address.chars().any(|c| c.is_control())
    {
        return Err(invalid(format!("{address:?} is not a routable address")));
    }
    Ok(domain.to_lowercase())
}

/// Does NOTIFY ask for reports of this kind? RFC 3461 4.1: without NOTIFY we
/// report failures and delays.
fn notify_allows(notify: Option<&str>, what: &str) -> bool {
    match notify {
        None => what != "SUCCESS",
        Some(n) => n.split(',').any(|k| k.trim().eq_ignore_ascii_case(what)),
    }
}

fn check(msg: &OutboundMessage) -> Result<Vec<String>> {
    if msg.recipients.is_empty() {
        return Err(invalid("no recipients"));
    }
    if !msg.sender.is_empty() {
        recipient_domain(&msg.sender)?;
    }
    msg.recipients
        .iter()
        .map(|r| recipient_domain(&r.address))
        .collect()
}

/// Queues `msg` inside a write job that does more (the MDA's delivery
/// transaction); it is durable when that job's commit is.
pub(crate) fn enqueue_in(tx: &Tx<'_>, msg: &OutboundMessage) -> Result<QueueId> {
    let prepared = PreparedMessage::queued(msg.raw.clone());
    enqueue_prepared(tx, msg, &prepared)
}

fn enqueue_prepared(
    tx: &Tx<'_>,
    msg: &OutboundMessage,
    prepared: &PreparedMessage,
) -> Result<QueueId> {
    let domains = check(msg)?;
    let conn = tx.conn();
    let blob = store_blob(tx, prepared)?;
    conn.prepare_cached(
        "INSERT INTO queue_messages (blob_id, sender, account_id, source, env_id, dsn_ret, body_type, \
           smtputf8, hold_until, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(rusqlite::params![
        blob.0,
        msg.sender,
        msg.account.map(|a| a.0),
        msg.source.as_str(),
        msg.env_id,
        msg.dsn_ret.map(DsnRet::as_str),
        msg.body_type.as_str(),
        msg.smtputf8,
        msg.hold_until,
        tx.now,
        tx.now + DEFAULT_LIFETIME_SECS,
    ])?;
    let id = conn.last_insert_rowid();
    let first = msg.hold_until.unwrap_or(tx.now).max(tx.now);
    for (r, domain) in msg.recipients.iter().zip(domains) {
        conn.prepare_cached(
            "INSERT INTO queue_recipients (queue_id, address, domain, orcpt, notify, status, next_attempt) \
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending', ?6)",
        )?
        .execute((id, &r.address, &domain, &r.orcpt, &r.notify, first))?;
    }
    tx.log(None, ChangeKind::QueueChanged)?;
    Ok(QueueId(id))
}

const MESSAGE_COLUMNS: &str = "q.id, q.sender, q.account_id, q.source, q.env_id, q.dsn_ret, q.body_type, \
     q.smtputf8, q.hold_until, q.created_at, q.expires_at, b.size";

const RECIPIENT_COLUMNS: &str = "id, address, domain, orcpt, notify, status, attempts, next_attempt, \
     last_attempt, last_error, remote_mta, lease_until, report, finished_at";

fn message_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedMessage> {
    Ok(QueuedMessage {
        id: QueueId(r.get(0)?),
        sender: r.get(1)?,
        account: r.get::<_, Option<i64>>(2)?.map(AccountId),
        source: QueueSource::parse(&r.get::<_, String>(3)?),
        env_id: r.get(4)?,
        dsn_ret: r
            .get::<_, Option<String>>(5)?
            .as_deref()
            .and_then(DsnRet::parse),
        body_type: BodyType::parse(r.get::<_, Option<String>>(6)?.as_deref()),
        smtputf8: r.get(7)?,
        hold_until: r.get(8)?,
        created_at: r.get(9)?,
        expires_at: r.get(10)?,
        size: r.get::<_, i64>(11)? as u64,
        recipients: Vec::new(),
    })
}

fn recipient_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedRecipient> {
    Ok(QueuedRecipient {
        id: RecipientId(r.get(0)?),
        address: r.get(1)?,
        domain: r.get(2)?,
        orcpt: r.get(3)?,
        notify: r.get(4)?,
        status: RecipientStatus::parse(&r.get::<_, String>(5)?),
        attempts: r.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        next_attempt: r.get(7)?,
        last_attempt: r.get(8)?,
        last_error: r.get(9)?,
        remote_mta: r.get(10)?,
        lease_until: r.get(11)?,
        report: r
            .get::<_, Option<String>>(12)?
            .as_deref()
            .and_then(ReportAction::parse),
        finished_at: r.get(13)?,
    })
}

fn load_message(conn: &Connection, id: i64) -> Result<Option<QueuedMessage>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM queue_messages q JOIN blobs b ON b.id = q.blob_id WHERE q.id = ?1"
        ))?
        .query_row([id], message_row)
        .optional()?)
}

fn all_recipients(conn: &Connection, id: i64) -> Result<Vec<QueuedRecipient>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RECIPIENT_COLUMNS} FROM queue_recipients WHERE queue_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([id], recipient_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes a message once nothing is left to do for it: no recipient pending
/// and no report waiting to be queued.
fn finish_if_done(tx: &Tx<'_>, id: i64) -> Result<bool> {
    let conn = tx.conn();
    let busy: bool = conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM queue_recipients WHERE queue_id = ?1 \
               AND (status = 'pending' OR report IS NOT NULL))",
        )?
        .query_row([id], |r| r.get(0))?;
    if busy {
        return Ok(false);
    }
    remove_message(tx, id)
}

fn remove_message(tx: &Tx<'_>, id: i64) -> Result<bool> {
    let conn = tx.conn();
    let blob: Option<i64> = conn
        .prepare_cached("DELETE FROM queue_messages WHERE id = ?1 RETURNING blob_id")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    match blob {
        Some(b) => {
            release_blob(tx, b)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn record(tx: &Tx<'_>, id: RecipientId, outcome: &Outcome) -> Result<Option<i64>> {
    let conn = tx.conn();
    let row: Option<(i64, String, Option<String>, i64)> = conn
        .prepare_cached(
            "SELECT r.queue_id, q.sender, r.notify, r.delay_notified FROM queue_recipients r \
             JOIN queue_messages q ON q.id = r.queue_id WHERE r.id = ?1 AND r.status = 'pending'",
        )?
        .query_row([id.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    // Deleted meanwhile, or already finished by an earlier attempt.
    let Some((queue_id, sender, notify, delay_notified)) = row else {
        return Ok(None);
    };
    let reports = !sender.is_empty();
    let notify = notify.as_deref();
    match outcome {
        Outcome::Delivered {
            remote_mta,
            reply,
            local,
            reported_downstream,
        } => {
            let report = (reports && !reported_downstream && notify_allows(notify, "SUCCESS"))
                .then_some(if *local {
                    ReportAction::Delivered
                } else {
                    ReportAction::Relayed
                });
            conn.prepare_cached(
                "UPDATE queue_recipients SET status = 'delivered', lease_until = NULL, last_error = ?1, \
                   remote_mta = ?2, report = ?3, finished_at = ?4 WHERE id = ?5",
            )?
            .execute((reply, remote_mta, report.map(ReportAction::as_str), tx.now, id.0))?;
        }
        Outcome::Deferred {
            remote_mta,
            error,
            retry_at,
            report_delay,
        } => {
            let delay =
                *report_delay && delay_notified == 0 && reports && notify_allows(notify, "DELAY");
            conn.prepare_cached(
                "UPDATE queue_recipients SET lease_until = NULL, last_error = ?1, remote_mta = ?2, \
                   next_attempt = ?3, delay_notified = delay_notified + ?4, \
                   report = CASE WHEN ?4 THEN 'delayed' ELSE report END WHERE id = ?5",
            )?
            .execute((error, remote_mta, (*retry_at).max(tx.now), delay, id.0))?;
        }
        Outcome::Failed { remote_mta, error } => {
            let report = reports && notify_allows(notify, "FAILURE");
            conn.prepare_cached(
                "UPDATE queue_recipients SET status = 'failed', lease_until = NULL, last_error = ?1, \
                   remote_mta = ?2, report = ?3, finished_at = ?4 WHERE id = ?5",
            )?
            .execute((
                error,
                remote_mta,
                report.then_some(ReportAction::Failed.as_str()),
                tx.now,
                id.0,
            ))?;
        }
    }
    Ok(Some(queue_id))
}

/// Which recipients an admin command acts on: all, or those of some messages.
fn id_filter(ids: &Option<Vec<QueueId>>) -> Vec<i64> {
    ids.as_ref()
        .map(|v| v.iter().map(|q| q.0).collect())
        .unwrap_or_default()
}

impl Store {
    /// Queues a message for delivery; durable when this returns.
    pub async fn enqueue(&self, msg: OutboundMessage) -> Result<QueueId> {
        check(&msg)?;
        let raw = msg.raw.clone();
        let blobs = self.inner.blobs.clone();
        self.prepare_and_write(
            move || PreparedMessage::queued_spilled(raw, &blobs),
            move |tx, prepared| enqueue_prepared(tx, &msg, &prepared),
        )
        .await
    }

    /// Leases up to `limit` due recipients for `lease_secs` and returns them
    /// grouped by message (each message with only its leased recipients).
    /// Attempts are counted here, so an attempt cut short by a crash counts.
    pub async fn claim_due(&self, limit: usize, lease_secs: i64) -> Result<Vec<QueuedMessage>> {
        self.write(move |tx| {
            let conn = tx.conn();
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {RECIPIENT_COLUMNS}, queue_id FROM queue_recipients \
                 WHERE status = 'pending' AND next_attempt <= ?1 \
                   AND (lease_until IS NULL OR lease_until <= ?1) \
                 ORDER BY next_attempt, id LIMIT ?2"
            ))?;
            let due: Vec<(i64, QueuedRecipient)> = stmt
                .query_map((tx.now, limit as i64), |r| {
                    Ok((r.get(14)?, recipient_row(r)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let lease_until = tx.now + lease_secs.max(1);
            let mut grouped: BTreeMap<i64, Vec<QueuedRecipient>> = BTreeMap::new();
            for (queue_id, mut r) in due {
                conn.prepare_cached(
                    "UPDATE queue_recipients SET lease_until = ?1, attempts = attempts + 1, \
                       last_attempt = ?2 WHERE id = ?3",
                )?
                .execute((lease_until, tx.now, r.id.0))?;
                r.attempts = r.attempts.saturating_add(1);
                r.last_attempt = Some(tx.now);
                r.lease_until = Some(lease_until);
                grouped.entry(queue_id).or_default().push(r);
            }
            let mut out = Vec::with_capacity(grouped.len());
            for (queue_id, recipients) in grouped {
                if let Some(mut m) = load_message(conn, queue_id)? {
                    m.recipients = recipients;
                    out.push(m);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Records the results of an attempt, one per leased recipient; a
    /// message with nothing left to do leaves the queue.
    pub async fn record_outcomes(&self, outcomes: Vec<(RecipientId, Outcome)>) -> Result<()> {
        self.write(move |tx| {
            let mut touched = Vec::new();
            for (id, outcome) in &outcomes {
                if let Some(q) = record(tx, *id, outcome)? {
                    touched.push(q);
                }
            }
            touched.sort_unstable();
            touched.dedup();
            for q in touched {
                finish_if_done(tx, q)?;
            }
            tx.log(None, ChangeKind::QueueChanged)?;
            Ok(())
        })
        .await
    }

    /// Gives leased recipients back untried (the runner is stopping).
    pub async fn release_leases(&self, ids: Vec<RecipientId>) -> Result<()> {
        self.write(move |tx| {
            for id in ids {
                tx.conn()
                    .prepare_cached(
                        "UPDATE queue_recipients SET lease_until = NULL, \
                           attempts = MAX(attempts - 1, 0) WHERE id = ?1 AND status = 'pending'",
                    )?
                    .execute([id.0])?;
            }
            Ok(())
        })
        .await
    }

    /// At runner start: leases left by a runner that died are void. One
    /// runner works on a database at a time.
    pub async fn recover_leases(&self) -> Result<usize> {
        self.write(|tx| {
            Ok(tx.conn().execute(
                "UPDATE queue_recipients SET lease_until = NULL WHERE lease_until IS NOT NULL",
                [],
            )?)
        })
        .await
    }

    /// The raw message of a queue entry.
    pub async fn queue_message_raw(&self, id: QueueId) -> Result<Vec<u8>> {
        let blobs = self.inner.blobs.clone();
        self.read(move |c| {
            let blob: Option<i64> = c
                .prepare_cached("SELECT blob_id FROM queue_messages WHERE id = ?1")?
                .query_row([id.0], |r| r.get(0))
                .optional()?;
            match blob {
                Some(b) => blob_bytes(c, &blobs, b)?,
                None => None,
            }
            .ok_or(StoreError::NotFound(Subject::QueueEntry(id.0)))
        })
        .await
    }

    /// Messages with reports (DSNs) waiting to be queued, each with all its
    /// recipients; those to report on have `report` set.
    pub async fn pending_reports(&self, limit: usize) -> Result<Vec<QueuedMessage>> {
        self.read(move |c| {
            let ids: Vec<i64> = c
                .prepare_cached(
                    "SELECT DISTINCT queue_id FROM queue_recipients WHERE report IS NOT NULL \
                     ORDER BY queue_id LIMIT ?1",
                )?
                .query_map([limit as i64], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(mut m) = load_message(c, id)? {
                    m.recipients = all_recipients(c, id)?;
                    out.push(m);
                }
            }
            Ok(out)
        })
        .await
    }

    /// Marks the reports of `recipients` as done, queueing `report` (the DSN
    /// built for them) in the same transaction, so a report is queued once.
    pub async fn complete_reports(
        &self,
        id: QueueId,
        recipients: Vec<RecipientId>,
        report: Option<OutboundMessage>,
    ) -> Result<Option<QueueId>> {
        if let Some(r) = &report {
            check(r)?;
        }
        let raw = report.as_ref().map(|r| r.raw.clone());
        self.prepare_and_write(
            move || Ok(raw.map(PreparedMessage::queued)),
            move |tx, prepared| {
                let queued = match (&report, &prepared) {
                    (Some(r), Some(p)) => Some(enqueue_prepared(tx, r, p)?),
                    _ => None,
                };
                for r in &recipients {
                    tx.conn()
                        .prepare_cached(
                            "UPDATE queue_recipients SET report = NULL WHERE id = ?1 AND queue_id = ?2",
                        )?
                        .execute((r.0, id.0))?;
                }
                finish_if_done(tx, id.0)?;
                tx.log(None, ChangeKind::QueueChanged)?;
                Ok(queued)
            },
        )
        .await
    }

    /// When the runner has something to do next: the earliest due recipient
    /// (or lease end), or now if reports are waiting. None: the queue is idle.
    pub async fn next_queue_due(&self) -> Result<Option<i64>> {
        self.read(|c| {
            let reports: bool = c
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM queue_recipients WHERE report IS NOT NULL)",
                )?
                .query_row([], |r| r.get(0))?;
            if reports {
                return Ok(Some(crate::types::now()));
            }
            Ok(c.prepare_cached(
                "SELECT MIN(MAX(next_attempt, COALESCE(lease_until, 0))) FROM queue_recipients \
                 WHERE status = 'pending'",
            )?
            .query_row([], |r| r.get(0))?)
        })
        .await
    }

    /// Every queued message with all its recipients, oldest first.
    pub async fn list_queue(&self) -> Result<Vec<QueuedMessage>> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM queue_messages q JOIN blobs b ON b.id = q.blob_id ORDER BY q.id"
            ))?;
            let mut out: Vec<QueuedMessage> = stmt
                .query_map([], message_row)?
                .collect::<rusqlite::Result<_>>()?;
            for m in &mut out {
                m.recipients = all_recipients(c, m.id.0)?;
            }
            Ok(out)
        })
        .await
    }

    /// One queued message with all its recipients.
    pub async fn queue_entry(&self, id: QueueId) -> Result<QueuedMessage> {
        self.read(move |c| {
            let mut m =
                load_message(c, id.0)?.ok_or(StoreError::NotFound(Subject::QueueEntry(id.0)))?;
            m.recipients = all_recipients(c, id.0)?;
            Ok(m)
        })
        .await
    }

    /// `zest queue flush`: pending recipients (of `ids`, or all) are due now.
    /// Messages held by FUTURERELEASE stay held unless named in `ids`.
    /// Returns how many recipients were made due.
    pub async fn flush_queue(&self, ids: Option<Vec<QueueId>>) -> Result<usize> {
        let all = ids.is_none();
        let ids = id_filter(&ids);
        self.write(move |tx| {
            let conn = tx.conn();
            let mut n = 0;
            if all {
                n += conn.execute(
                    "UPDATE queue_recipients SET next_attempt = ?1 WHERE status = 'pending' \
                       AND next_attempt > ?1 AND queue_id IN \
                       (SELECT id FROM queue_messages WHERE hold_until IS NULL OR hold_until <= ?1)",
                    [tx.now],
                )?;
            } else {
                for id in &ids {
                    let exists: bool = conn
                        .prepare_cached("SELECT EXISTS(SELECT 1 FROM queue_messages WHERE id = ?1)")?
                        .query_row([id], |r| r.get(0))?;
                    if !exists {
                        return Err(StoreError::NotFound(Subject::QueueEntry(*id)));
                    }
                    conn.prepare_cached("UPDATE queue_messages SET hold_until = NULL WHERE id = ?1")?
                        .execute([id])?;
                    n += conn
                        .prepare_cached(
                            "UPDATE queue_recipients SET next_attempt = ?1 WHERE queue_id = ?2 \
                               AND status = 'pending' AND next_attempt > ?1",
                        )?
                        .execute((tx.now, id))?;
                }
            }
            tx.log(None, ChangeKind::QueueChanged)?;
            Ok(n)
        })
        .await
    }

    /// `zest queue del`: removes messages without reporting to their senders.
    pub async fn delete_queued(&self, ids: Vec<QueueId>) -> Result<()> {
        self.write(move |tx| {
            for id in &ids {
                if !remove_message(tx, id.0)? {
                    return Err(StoreError::NotFound(Subject::QueueEntry(id.0)));
                }
            }
            tx.log(None, ChangeKind::QueueChanged)?;
            Ok(())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_defaults_to_failure_and_delay() {
        assert!(notify_allows(None, "FAILURE"));
        assert!(notify_allows(None, "DELAY"));
        assert!(!notify_allows(None, "SUCCESS"));
        assert!(notify_allows(Some("SUCCESS,FAILURE"), "SUCCESS"));
        assert!(!notify_allows(Some("NEVER"), "FAILURE"));
        assert!(!notify_allows(Some("SUCCESS"), "DELAY"));
    }

    #[test]
    fn recipient_domains() {
        assert_eq!(recipient_domain("a@Example.NET").unwrap(), "example.net");
        assert_eq!(recipient_domain("\"a b\"@x.org").unwrap(), "x.org");
        assert!(recipient_domain("nobody").is_err());
        assert!(recipient_domain("@x.org").is_err());
        assert!(recipient_domain("a@").is_err());
        assert!(recipient_domain("a@b c").is_err());
        assert!(recipient_domain("a@b\r\nRCPT").is_err());
    }
}
