//! Messages in mailboxes: append (content-addressed blobs, computed summary),
//! flags with MODSEQ, expunge with VANISHED records, and what FETCH reads.

use std::cell::RefCell;

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Store;
use crate::account::touch_account;
use crate::blobfile::{BlobDir, BlobFile, FILE_THRESHOLD, blob_bytes};
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::mailbox::{mailbox_id, normalize_name};
use crate::summary::{MessageSummary, summarize};
use crate::types::{AccountId, BlobId, Flags, MailboxId, ModSeq, Uid, UidValidity};
use crate::writer::Tx;

/// One message in a mailbox, as SELECT and FETCH FLAGS need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub uid: Uid,
    pub modseq: ModSeq,
    pub flags: Flags,
    pub internal_date: i64,
    pub size: u64,
    pub blob: BlobId,
}

/// One message of [`Store::append_many`]: its bytes, flags and INTERNALDATE
/// (default now), with the zone to report that date in, in minutes east of UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub raw: Vec<u8>,
    pub flags: Flags,
    pub internal_date: Option<i64>,
    pub zone_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxStatus {
    pub id: MailboxId,
    pub uidvalidity: UidValidity,
    pub uidnext: u32,
    pub highestmodseq: ModSeq,
    pub messages: u64,
    pub unseen: u64,
    pub deleted: u64,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

/// Everything computed from the bytes before the write transaction, so the
/// writer thread only inserts.
pub(crate) struct PreparedMessage {
    hash: [u8; 32],
    raw: Vec<u8>,
    /// None for bytes only the queue reads: nothing searches or fetches them.
    summary: Option<MessageSummary>,
    /// The bytes already written to a blob file (large messages), until a row names it.
    file: RefCell<Option<BlobFile>>,
}

impl PreparedMessage {
    pub(crate) fn new(raw: Vec<u8>) -> Self {
        let summary = summarize(&raw);
        Self::with_summary(raw, Some(summary))
    }

    /// For a message that only goes to the queue: no summary is computed or
    /// stored (a mailbox that later gets the same bytes adds it).
    pub(crate) fn queued(raw: Vec<u8>) -> Self {
        Self::with_summary(raw, None)
    }

    fn with_summary(raw: Vec<u8>, summary: Option<MessageSummary>) -> Self {
        PreparedMessage {
            hash: Sha256::digest(&raw).into(),
            raw,
            summary,
            file: RefCell::new(None),
        }
    }

    /// Like `new`, and writes a large message's blob file now, on the
    /// caller's thread, so the writer thread only inserts rows.
    pub(crate) fn new_spilled(raw: Vec<u8>, blobs: &BlobDir) -> Result<Self> {
        Self::new(raw).spill(blobs)
    }

    /// Like `queued`, with the blob file written now.
    pub(crate) fn queued_spilled(raw: Vec<u8>, blobs: &BlobDir) -> Result<Self> {
        Self::queued(raw).spill(blobs)
    }

    fn spill(self, blobs: &BlobDir) -> Result<Self> {
        let msg = self;
        if msg.raw.len() >= FILE_THRESHOLD {
            let file = blobs.write(&msg.raw)?;
            *msg.file.borrow_mut() = Some(file);
        }
        Ok(msg)
    }

    pub(crate) fn size(&self) -> u64 {
        self.raw.len() as u64
    }
}

/// The counters of mailbox `name` (normalised) of `account`.
pub(crate) fn status_by_name(
    c: &Connection,
    account: AccountId,
    name: String,
) -> Result<MailboxStatus> {
    c.prepare_cached(
        "SELECT id, uidvalidity, uidnext, highestmodseq, message_count, unseen_count, deleted_count, size_bytes \
         FROM mailboxes WHERE account_id = ?1 AND name = ?2 AND noselect = 0",
    )?
    .query_row((account.0, &name), |r| {
        Ok(MailboxStatus {
            id: MailboxId(r.get(0)?),
            uidvalidity: UidValidity(r.get(1)?),
            uidnext: r.get(2)?,
            highestmodseq: ModSeq(r.get::<_, i64>(3)? as u64),
            messages: r.get::<_, i64>(4)? as u64,
            unseen: r.get::<_, i64>(5)? as u64,
            deleted: r.get::<_, i64>(6)? as u64,
            size: r.get::<_, i64>(7)? as u64,
        })
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound(Subject::Mailbox(name)))
}

/// Entries added or changed after `since`, UIDs expunged after it, and the
/// mailbox's HIGHESTMODSEQ, read inside the caller's transaction.
pub(crate) fn changes_since(
    c: &Connection,
    mailbox: MailboxId,
    since: ModSeq,
) -> Result<(Vec<Entry>, Vec<Uid>, ModSeq)> {
    let highest: i64 = c
        .prepare_cached("SELECT highestmodseq FROM mailboxes WHERE id = ?1")?
        .query_row([mailbox.0], |r| r.get(0))?;
    let since = i64::try_from(since.0).unwrap_or(i64::MAX);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {} FROM mailbox_messages \
         WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
        crate::listing::COLUMNS
    ))?;
    let changed = stmt
        .query_map((mailbox.0, since), crate::listing::entry_row)?
        .collect::<rusqlite::Result<Vec<Entry>>>()?;
    drop(stmt);
    let mut stmt = c.prepare_cached(
        "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
    )?;
    let expunged = stmt
        .query_map((mailbox.0, since), |r| Ok(Uid(r.get(0)?)))?
        .collect::<rusqlite::Result<Vec<Uid>>>()?;
    Ok((changed, expunged, ModSeq(highest as u64)))
}

/// Finds or stores the blob and takes one reference on it.
pub(crate) fn store_blob(tx: &Tx<'_>, msg: &PreparedMessage) -> Result<BlobId> {
    let conn = tx.conn();
    let existing: Option<i64> = conn
        .prepare_cached("SELECT id FROM blobs WHERE hash = ?1")?
        .query_row([&msg.hash[..]], |r| r.get(0))
        .optional()?;
    let id = match existing {
        Some(id) => {
            // Stored for the queue alone, it may have no summary yet.
            if let Some(summary) = &msg.summary {
                let has_meta = conn
                    .prepare_cached("SELECT 1 FROM message_meta WHERE blob_id = ?1")?
                    .query_row([id], |_| Ok(()))
                    .optional()?
                    .is_some();
                if !has_meta {
                    insert_meta(conn, id, summary, &msg.raw)?;
                }
            }
            id
        }
        None => {
            let mut file = msg.file.borrow_mut().take();
            if file.is_none() && msg.raw.len() >= FILE_THRESHOLD {
                file = Some(tx.blobs().write(&msg.raw)?);
            }
            match file {
                Some(file) => {
                    conn.prepare_cached(
                        "INSERT INTO blobs (hash, size, data, file, file_offset) \
                         VALUES (?1, ?2, X'', ?3, ?4)",
                    )?
                    .execute((
                        &msg.hash[..],
                        msg.raw.len() as i64,
                        file.name(),
                        file.offset() as i64,
                    ))?;
                    tx.file_added(file);
                }
                None => {
                    conn.prepare_cached(
                        "INSERT INTO blobs (hash, size, data) VALUES (?1, ?2, ?3)",
                    )?
                    .execute((
                        &msg.hash[..],
                        msg.raw.len() as i64,
                        &msg.raw,
                    ))?;
                }
            }
            let id = conn.last_insert_rowid();
            if let Some(summary) = &msg.summary {
                insert_meta(conn, id, summary, &msg.raw)?;
            }
            id
        }
    };
    conn.prepare_cached("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?1")?
        .execute([id])?;
    Ok(BlobId(id))
}

fn insert_meta(conn: &Connection, blob: i64, s: &MessageSummary, raw: &[u8]) -> Result<()> {
    // A plain-text body is its own search text; keeping a second copy would
    // double what every such delivery writes.
    let body = raw.get(s.header_size as usize..).unwrap_or_default();
    let body_text = (s.body_text.as_bytes() != body).then_some(s.body_text.as_str());
    conn.prepare_cached(
        "INSERT INTO message_meta (blob_id, header_size, body_lines, sent_date, subject, base_subject, \
           from_addr, from_name, to_addr, to_name, cc_addr, message_id, in_reply_to, references_ids, \
           envelope, bodystructure, body_text) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?
    .execute(rusqlite::params![
        blob,
        s.header_size as i64,
        s.body_lines as i64,
        s.sent_date,
        s.subject,
        s.base_subject,
        s.from_addr,
        s.from_name,
        s.to_addr,
        s.to_name,
        s.cc_addr,
        s.message_id,
        s.in_reply_to,
        s.references_ids.join(" "),
        json(&s.envelope)?,
        json(&s.body)?,
        body_text,
    ])?;
    Ok(())
}

/// JSON for the cached structures; a failure here is a bug, not input.
fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Internal(e.to_string()))
}

/// Drops one reference; the blob goes when nothing refers to it, and its
/// file once that commits.
pub(crate) fn release_blob(tx: &Tx<'_>, blob: i64) -> Result<()> {
    let conn = tx.conn();
    conn.prepare_cached("UPDATE blobs SET refcount = refcount - 1 WHERE id = ?1")?
        .execute([blob])?;
    let gone: Option<(Option<String>, Option<i64>, i64)> = conn
        .prepare_cached(
            "DELETE FROM blobs WHERE id = ?1 AND refcount <= 0 RETURNING file, file_offset, size",
        )?
        .query_row([blob], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if let Some((Some(file), offset, size)) = gone {
        tx.file_dropped(file, offset.unwrap_or(0).max(0) as u64, size.max(0) as u64);
    }
    Ok(())
}

pub(crate) struct Target {
    pub(crate) id: MailboxId,
    pub(crate) uidvalidity: UidValidity,
    uidnext: u32,
    modseq: u64,
}

pub(crate) fn target(conn: &Connection, account: AccountId, name: &str) -> Result<Target> {
    let (id, noselect) = mailbox_id(conn, account, name)?
        .ok_or_else(|| StoreError::NotFound(Subject::Mailbox(name.to_string())))?;
    if noselect {
        return Err(StoreError::NotFound(Subject::Mailbox(name.to_string())));
    }
    target_by_id(conn, id)
}

/// The mailbox row's counters an append needs, read once.
pub(crate) fn target_by_id(conn: &Connection, id: MailboxId) -> Result<Target> {
    Ok(conn
        .prepare_cached("SELECT uidvalidity, uidnext, highestmodseq FROM mailboxes WHERE id = ?1")?
        .query_row([id.0], |r| {
            Ok(Target {
                id,
                uidvalidity: UidValidity(r.get(0)?),
                uidnext: r.get(1)?,
                modseq: r.get::<_, i64>(2)? as u64,
            })
        })?)
}

pub(crate) fn check_quota(
    conn: &Connection,
    account: AccountId,
    adding: u64,
    messages: i64,
) -> Result<()> {
    let (used, quota, used_msgs, quota_msgs): (i64, Option<i64>, i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT used_bytes, quota_bytes, used_messages, quota_messages FROM accounts WHERE id = ?1",
        )?
        .query_row([account.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(Subject::Account(account.to_string())))?;
    let over_bytes = quota.is_some_and(|q| used as u64 + adding > q as u64);
    let over_msgs = quota_msgs.is_some_and(|q| used_msgs + messages > q);
    if over_bytes || over_msgs {
        return Err(StoreError::OverQuota);
    }
    Ok(())
}

/// Records the zone an entry's INTERNALDATE is reported in (UTC unless set).
pub(crate) fn set_zone(conn: &Connection, mailbox: MailboxId, uid: Uid, zone: i32) -> Result<()> {
    if zone != 0 {
        conn.prepare_cached(
            "UPDATE mailbox_messages SET internal_zone = ?1 WHERE mailbox_id = ?2 AND uid = ?3",
        )?
        .execute((zone, mailbox.0, uid.0))?;
    }
    Ok(())
}

/// Adds an entry for `blob` (already referenced) to a mailbox.
pub(crate) fn add_entry(
    tx: &Tx<'_>,
    account: AccountId,
    t: &Target,
    blob: BlobId,
    size: u64,
    flags: &Flags,
    internal_date: i64,
) -> Result<(Uid, ModSeq)> {
    let conn = tx.conn();
    if t.uidnext == u32::MAX {
        return Err(StoreError::Refused(
            "the mailbox has run out of UIDs".into(),
        ));
    }
    let uid = Uid(t.uidnext);
    let modseq = ModSeq(t.modseq + 1);
    conn.prepare_cached(
        "INSERT INTO mailbox_messages (mailbox_id, uid, blob_id, modseq, flags, keywords, internal_date, size, sent_date) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT sent_date FROM message_meta WHERE blob_id = ?3))",
    )?
    .execute((
        t.id.0,
        uid.0,
        blob.0,
        modseq.0 as i64,
        flags.system,
        flags.keywords_text(),
        internal_date,
        size as i64,
    ))?;
    conn.prepare_cached(
        "UPDATE mailboxes SET uidnext = ?1, highestmodseq = ?2, message_count = message_count + 1, \
           unseen_count = unseen_count + ?3, deleted_count = deleted_count + ?4, \
           size_bytes = size_bytes + ?5 WHERE id = ?6",
    )?
    .execute((
        uid.0 + 1,
        modseq.0 as i64,
        i64::from(!flags.has(Flags::SEEN)),
        i64::from(flags.has(Flags::DELETED)),
        size as i64,
        t.id.0,
    ))?;
    remember_keywords(conn, t.id, flags)?;
    touch_account(tx, account, size as i64, 1)?;
    tx.log(
        Some(account),
        ChangeKind::MessageAdded {
            mailbox: t.id,
            uid,
            modseq,
        },
    )?;
    Ok((uid, modseq))
}

fn remember_keywords(conn: &Connection, mailbox: MailboxId, flags: &Flags) -> Result<()> {
    for k in &flags.keywords {
        conn.prepare_cached(
            "INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, keyword) VALUES (?1, ?2)",
        )?
        .execute((mailbox.0, k))?;
    }
    Ok(())
}

/// Removes entries (already chosen) from a mailbox: records them as expunged
/// with a new MODSEQ each, releases blobs, fixes counters.
pub(crate) fn remove_entries(
    tx: &Tx<'_>,
    account: AccountId,
    mailbox: MailboxId,
    uids: &[Uid],
    record: bool,
) -> Result<()> {
    let conn = tx.conn();
    let mut modseq: i64 = conn
        .prepare_cached("SELECT highestmodseq FROM mailboxes WHERE id = ?1")?
        .query_row([mailbox.0], |r| r.get(0))?;
    let (mut n, mut bytes, mut unseen, mut deleted) = (0i64, 0i64, 0i64, 0i64);
    for uid in uids {
        let row: Option<(i64, i64, i64)> = conn
            .prepare_cached(
                "DELETE FROM mailbox_messages WHERE mailbox_id = ?1 AND uid = ?2 RETURNING blob_id, flags, size",
            )?
            .query_row((mailbox.0, uid.0), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((blob, flags, size)) = row else {
            continue;
        };
        modseq += 1;
        n += 1;
        bytes += size;
        unseen += i64::from(flags & i64::from(Flags::SEEN) == 0);
        deleted += i64::from(flags & i64::from(Flags::DELETED) != 0);
        release_blob(tx, blob)?;
        if record {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO expunged (mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)",
            )?
            .execute((mailbox.0, uid.0, modseq))?;
            tx.log(
                Some(account),
                ChangeKind::MessageExpunged {
                    mailbox,
                    uid: *uid,
                    modseq: ModSeq(modseq as u64),
                },
            )?;
        }
    }
    conn.prepare_cached(
        "UPDATE mailboxes SET highestmodseq = ?1, message_count = message_count - ?2, \
           size_bytes = size_bytes - ?3, unseen_count = unseen_count - ?4, deleted_count = deleted_count - ?5 \
         WHERE id = ?6",
    )?
    .execute((modseq, n, bytes, unseen, deleted, mailbox.0))?;
    touch_account(tx, account, -bytes, -n)?;
    Ok(())
}

fn all_uids(conn: &Connection, mailbox: MailboxId) -> Result<Vec<Uid>> {
    let mut stmt =
        conn.prepare_cached("SELECT uid FROM mailbox_messages WHERE mailbox_id = ?1 ORDER BY uid")?;
    let rows = stmt.query_map([mailbox.0], |r| Ok(Uid(r.get(0)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Empties a mailbox that is being deleted.
pub(crate) fn remove_all_in_tx(tx: &Tx<'_>, account: AccountId, mailbox: MailboxId) -> Result<()> {
    let uids = all_uids(tx.conn(), mailbox)?;
    remove_entries(tx, account, mailbox, &uids, false)?;
    tx.conn()
        .execute("DELETE FROM expunged WHERE mailbox_id = ?1", [mailbox.0])?;
    Ok(())
}

/// RENAME INBOX: every message moves to `to` with new UIDs; INBOX stays.
pub(crate) fn move_all_in_tx(
    tx: &Tx<'_>,
    account: AccountId,
    from: MailboxId,
    to: MailboxId,
) -> Result<()> {
    let conn = tx.conn();
    let rows: Vec<(i64, i64, String, i64, i64)> = conn
        .prepare(
            "SELECT e.blob_id, e.flags, e.keywords, e.internal_date, b.size FROM mailbox_messages e \
             JOIN blobs b ON b.id = e.blob_id WHERE e.mailbox_id = ?1 ORDER BY e.uid",
        )?
        .query_map([from.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (blob, flags, keywords, date, size) in rows {
        conn.prepare_cached("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?1")?
            .execute([blob])?;
        let t = target_by_id(conn, to)?;
        add_entry(
            tx,
            account,
            &t,
            BlobId(blob),
            size as u64,
            &Flags::from_stored(flags, &keywords),
            date,
        )?;
    }
    let uids = all_uids(conn, from)?;
    remove_entries(tx, account, from, &uids, true)
}

/// Before an account is deleted: drop its references to shared blobs.
pub(crate) fn release_account_blobs(tx: &Tx<'_>, account: AccountId) -> Result<()> {
    let conn = tx.conn();
    let blobs: Vec<i64> = conn
        .prepare(
            "SELECT e.blob_id FROM mailbox_messages e JOIN mailboxes m ON m.id = e.mailbox_id \
             WHERE m.account_id = ?1",
        )?
        .query_map([account.0], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    conn.execute(
        "DELETE FROM mailbox_messages WHERE mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = ?1)",
        [account.0],
    )?;
    for b in blobs {
        release_blob(tx, b)?;
    }
    Ok(())
}

pub(crate) fn owned_mailbox(
    conn: &Connection,
    account: AccountId,
    mailbox: MailboxId,
) -> Result<()> {
    let ok: bool = conn
        .prepare_cached("SELECT EXISTS(SELECT 1 FROM mailboxes WHERE id = ?1 AND account_id = ?2)")?
        .query_row((mailbox.0, account.0), |r| r.get(0))?;
    if ok {
        Ok(())
    } else {
        Err(StoreError::NotFound(Subject::Mailbox(mailbox.to_string())))
    }
}

impl Store {
    /// Appends a message; returns once it is durable. `internal_date` defaults
    /// to now. Over quota is `OverQuota`; a missing mailbox is `NotFound`.
    pub async fn append(
        &self,
        account: AccountId,
        mailbox: &str,
        raw: Vec<u8>,
        flags: Flags,
        internal_date: Option<i64>,
    ) -> Result<(UidValidity, Uid)> {
        let name = normalize_name(mailbox)?;
        let blobs = self.inner.blobs.clone();
        self.prepare_and_write(
            move || PreparedMessage::new_spilled(raw, &blobs),
            move |tx, msg| {
                let conn = tx.conn();
                let t = target(conn, account, &name)?;
                let size = msg.raw.len() as u64;
                check_quota(conn, account, size, 1)?;
                let blob = store_blob(tx, &msg)?;
                let (uid, _) = add_entry(
                    tx,
                    account,
                    &t,
                    blob,
                    size,
                    &flags,
                    internal_date.unwrap_or(tx.now),
                )?;
                Ok((t.uidvalidity, uid))
            },
        )
        .await
    }

    /// Appends several messages in one transaction (MULTIAPPEND, RFC 3502):
    /// either all are stored, in order, or none is.
    pub async fn append_many(
        &self,
        account: AccountId,
        mailbox: &str,
        messages: Vec<NewMessage>,
    ) -> Result<(UidValidity, Vec<Uid>)> {
        let name = normalize_name(mailbox)?;
        let blobs = self.inner.blobs.clone();
        self.prepare_and_write(
            move || {
                messages
                    .into_iter()
                    .map(|m| {
                        let date = m.internal_date.map(|d| (d, m.zone_minutes));
                        Ok((PreparedMessage::new_spilled(m.raw, &blobs)?, m.flags, date))
                    })
                    .collect::<Result<Vec<_>>>()
            },
            move |tx, prepared| {
                let conn = tx.conn();
                let t = target(conn, account, &name)?;
                let total: u64 = prepared.iter().map(|(m, _, _)| m.size()).sum();
                check_quota(conn, account, total, prepared.len() as i64)?;
                let mut uids = Vec::with_capacity(prepared.len());
                for (msg, flags, date) in prepared {
                    // Each entry moves UIDNEXT and MODSEQ on: read them afresh.
                    let t = target(conn, account, &name)?;
                    let blob = store_blob(tx, &msg)?;
                    let (at, zone) = date.unwrap_or((tx.now, 0));
                    let (uid, _) = add_entry(tx, account, &t, blob, msg.size(), &flags, at)?;
                    set_zone(conn, t.id, uid, zone)?;
                    uids.push(uid);
                }
                Ok((t.uidvalidity, uids))
            },
        )
        .await
    }

    /// The zones (minutes east of UTC) that INTERNALDATE is reported in for
    /// `uids` of a mailbox, for those appended with a zone other than UTC
    /// (RFC 3501 2.3.3); a UID not listed is reported in UTC.
    pub async fn internal_zones(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: Vec<Uid>,
    ) -> Result<Vec<(Uid, i32)>> {
        let (Some(first), Some(last)) = (uids.iter().min(), uids.iter().max()) else {
            return Ok(Vec::new());
        };
        let (first, last) = (first.0, last.0);
        self.read(move |c| {
            let zones: Vec<(Uid, i32)> = c
                .prepare_cached(
                    "SELECT e.uid, e.internal_zone FROM mailbox_messages e \
                     JOIN mailboxes m ON m.id = e.mailbox_id \
                     WHERE e.mailbox_id = ?1 AND m.account_id = ?2 AND e.uid BETWEEN ?3 AND ?4 \
                     AND e.internal_zone != 0",
                )?
                .query_map((mailbox.0, account.0, first, last), |r| {
                    Ok((Uid(r.get(0)?), r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut uids = uids;
            uids.sort_unstable();
            Ok(zones
                .into_iter()
                .filter(|(u, _)| uids.binary_search(u).is_ok())
                .collect())
        })
        .await
    }

    pub async fn mailbox_status(&self, account: AccountId, name: &str) -> Result<MailboxStatus> {
        let name = normalize_name(name)?;
        self.read(move |c| status_by_name(c, account, name)).await
    }

    /// What changed in a mailbox after MODSEQ `since`: the entries added or
    /// re-flagged, the UIDs expunged, and the mailbox's HIGHESTMODSEQ, read
    /// in one snapshot. A session catches up with this instead of reading
    /// every entry again.
    pub async fn changes_since(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        since: ModSeq,
    ) -> Result<(Vec<Entry>, Vec<Uid>, ModSeq)> {
        self.read(move |c| {
            let tx = c.unchecked_transaction()?;
            owned_mailbox(&tx, account, mailbox)?;
            let changes = changes_since(&tx, mailbox, since)?;
            tx.commit()?;
            Ok(changes)
        })
        .await
    }

    /// The UIDs expunged from a mailbox after MODSEQ `since`, ascending
    /// (what QRESYNC reports as VANISHED (EARLIER), RFC 7162 3.2.5).
    pub async fn expunged_since(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        since: ModSeq,
    ) -> Result<Vec<Uid>> {
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            let since = i64::try_from(since.0).unwrap_or(i64::MAX);
            let mut stmt = c.prepare_cached(
                "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
            )?;
            let uids = stmt
                .query_map((mailbox.0, since), |r| Ok(Uid(r.get(0)?)))?
                .collect::<rusqlite::Result<Vec<Uid>>>()?;
            Ok(uids)
        })
        .await
    }

    /// The raw bytes of one message.
    pub async fn read_message(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uid: Uid,
    ) -> Result<Vec<u8>> {
        let blobs = self.inner.blobs.clone();
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            let blob: Option<i64> = c
                .prepare_cached(
                    "SELECT blob_id FROM mailbox_messages WHERE mailbox_id = ?1 AND uid = ?2",
                )?
                .query_row((mailbox.0, uid.0), |r| r.get(0))
                .optional()?;
            match blob {
                Some(b) => blob_bytes(c, &blobs, b)?,
                None => None,
            }
            .ok_or(StoreError::NotFound(Subject::Message(uid.0)))
        })
        .await
    }

    /// STORE: changes flags on `uids`, each changed message getting a new
    /// MODSEQ. With `unchanged_since` (RFC 7162 3.1.3), messages modified after
    /// it are left alone and returned in the second list.
    pub async fn set_flags(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: Vec<Uid>,
        op: FlagOp,
        flags: Flags,
        unchanged_since: Option<ModSeq>,
    ) -> Result<(Vec<(Uid, ModSeq, Flags)>, Vec<Uid>)> {
        self.write(move |tx| {
            let conn = tx.conn();
            owned_mailbox(conn, account, mailbox)?;
            let mut modseq: i64 = conn
                .prepare_cached("SELECT highestmodseq FROM mailboxes WHERE id = ?1")?
                .query_row([mailbox.0], |r| r.get(0))?;
            let (mut changed, mut modified) = (Vec::new(), Vec::new());
            let (mut d_unseen, mut d_deleted) = (0i64, 0i64);
            for uid in uids {
                let row: Option<(i64, String, i64)> = conn
                    .prepare_cached(
                        "SELECT flags, keywords, modseq FROM mailbox_messages WHERE mailbox_id = ?1 AND uid = ?2",
                    )?
                    .query_row((mailbox.0, uid.0), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()?;
                let Some((sys, kw, current)) = row else { continue };
                if unchanged_since.is_some_and(|u| current as u64 > u.0) {
                    modified.push(uid);
                    continue;
                }
                let old = Flags::from_stored(sys, &kw);
                let mut new = old.clone();
                match op {
                    FlagOp::Replace => new = flags.clone(),
                    FlagOp::Add => {
                        new.system |= flags.system;
                        for k in &flags.keywords {
                            new.add_keyword(k)?;
                        }
                    }
                    FlagOp::Remove => {
                        new.system &= !flags.system;
                        new.keywords.retain(|k| !flags.keywords.contains(k));
                    }
                }
                if new == old {
                    continue;
                }
                modseq += 1;
                conn.prepare_cached(
                    "UPDATE mailbox_messages SET flags = ?1, keywords = ?2, modseq = ?3 WHERE mailbox_id = ?4 AND uid = ?5",
                )?
                .execute((new.system, new.keywords_text(), modseq, mailbox.0, uid.0))?;
                d_unseen += i64::from(old.has(Flags::SEEN)) - i64::from(new.has(Flags::SEEN));
                d_deleted += i64::from(new.has(Flags::DELETED)) - i64::from(old.has(Flags::DELETED));
                remember_keywords(conn, mailbox, &new)?;
                tx.log(Some(account), ChangeKind::FlagsChanged { mailbox, uid, modseq: ModSeq(modseq as u64) })?;
                changed.push((uid, ModSeq(modseq as u64), new));
            }
            conn.prepare_cached(
                "UPDATE mailboxes SET highestmodseq = ?1, unseen_count = unseen_count + ?2, \
                   deleted_count = deleted_count + ?3 WHERE id = ?4",
            )?
            .execute((modseq, d_unseen, d_deleted, mailbox.0))?;
            Ok((changed, modified))
        })
        .await
    }

    /// EXPUNGE (or UID EXPUNGE with `only`): removes the \Deleted messages and
    /// returns their UIDs.
    pub async fn expunge(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        only: Option<Vec<Uid>>,
    ) -> Result<Vec<Uid>> {
        self.write(move |tx| {
            let conn = tx.conn();
            owned_mailbox(conn, account, mailbox)?;
            let mut stmt = conn.prepare_cached(
                "SELECT uid FROM mailbox_messages WHERE mailbox_id = ?1 AND (flags & ?2) != 0 ORDER BY uid",
            )?;
            let mut uids: Vec<Uid> = stmt
                .query_map((mailbox.0, Flags::DELETED), |r| Ok(Uid(r.get(0)?)))?
                .collect::<rusqlite::Result<_>>()?;
            if let Some(only) = only {
                let mut only = only;
                only.sort_unstable();
                uids.retain(|u| only.binary_search(u).is_ok());
            }
            remove_entries(tx, account, mailbox, &uids, true)?;
            Ok(uids)
        })
        .await
    }
}
