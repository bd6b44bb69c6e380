//! Local delivery as the MDA decides it: the message filed into the chosen
//! mailboxes (created on `fileinto :create`), Sieve's vacation and duplicate
//! tracking, and redirects, vacation replies and notifications queued, all in
//! one transaction that is durable when `deliver` returns.

use rusqlite::OptionalExtension;

use crate::Store;
use crate::error::{Result, StoreError};
use crate::mailbox::{create_in_tx, mailbox_id, normalize_name};
use crate::message::{PreparedMessage, add_entry, check_quota, store_blob, target_by_id};
use crate::queue::{OutboundMessage, enqueue_in};
use crate::types::{AccountId, Flags, MailboxId, QueueId, Uid};

/// Where one copy of a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub account: AccountId,
    /// The mailbox by name; INBOX when nothing else applies.
    pub mailbox: String,
    /// RFC 5490 `:create`: make the mailbox if it does not exist. Without it a
    /// missing mailbox means INBOX (RFC 5228 4.1: the implicit keep).
    pub create: bool,
    /// RFC 9042 `:mailboxid`: used when that mailbox still exists.
    pub mailbox_id: Option<MailboxId>,
    /// RFC 8579 `:specialuse`: the mailbox with this attribute, if any.
    pub special_use: Option<String>,
    pub flags: Flags,
    /// Index into `Delivery::messages`.
    pub message: usize,
}

/// RFC 5230 4.2: a vacation response was sent to `sender` for `handle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacationMark {
    pub account: AccountId,
    pub handle: String,
    pub sender: String,
    pub expires_at: i64,
}

/// RFC 7352: a value the `duplicate` test has seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateMark {
    pub account: AccountId,
    pub handle: String,
    pub value: String,
    pub expires_at: i64,
}

/// Everything one incoming message causes, for one or more local accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The message and any versions of it Sieve made (editheader).
    pub messages: Vec<Vec<u8>>,
    pub filings: Vec<Filing>,
    pub outbound: Vec<OutboundMessage>,
    pub vacations: Vec<VacationMark>,
    pub duplicates: Vec<DuplicateMark>,
    pub internal_date: Option<i64>,
}

/// Where each filing ended up and what was queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub filed: Vec<(AccountId, MailboxId, Uid)>,
    pub queued: Vec<QueueId>,
}

/// The mailbox a filing goes to, creating it if asked.
fn resolve_mailbox(tx: &crate::writer::Tx<'_>, f: &Filing) -> Result<MailboxId> {
    let conn = tx.conn();
    if let Some(id) = f.mailbox_id {
        let owned: Option<bool> = conn
            .prepare_cached("SELECT noselect FROM mailboxes WHERE id = ?1 AND account_id = ?2")?
            .query_row((id.0, f.account.0), |r| r.get(0))
            .optional()?;
        if owned == Some(false) {
            return Ok(id);
        }
    }
    if let Some(su) = &f.special_use {
        let id: Option<i64> = conn
            .prepare_cached(
                "SELECT id FROM mailboxes WHERE account_id = ?1 AND noselect = 0 \
                 AND special_use = ?2 COLLATE NOCASE ORDER BY id LIMIT 1",
            )?
            .query_row((f.account.0, su), |r| r.get(0))
            .optional()?;
        if let Some(id) = id {
            return Ok(MailboxId(id));
        }
    }
    let inbox = || -> Result<MailboxId> {
        match mailbox_id(conn, f.account, "INBOX")? {
            Some((id, false)) => Ok(id),
            _ => create_in_tx(tx, f.account, "INBOX", None),
        }
    };
    let name = match normalize_name(&f.mailbox) {
        Ok(n) => n,
        // A name no mailbox can have: the implicit keep.
        Err(_) => return inbox(),
    };
    match mailbox_id(conn, f.account, &name)? {
        Some((id, false)) => Ok(id),
        Some((_, true)) | None if f.create => {
            let su = f.special_use.as_deref().filter(|_| name != "INBOX");
            match create_in_tx(tx, f.account, &name, su) {
                Ok(id) => Ok(id),
                // An attribute the store does not know: create it plain.
                Err(StoreError::Invalid { .. }) if su.is_some() => {
                    create_in_tx(tx, f.account, &name, None)
                }
                Err(e) => Err(e),
            }
        }
        _ => inbox(),
    }
}

impl Store {
    /// Performs a delivery in one write transaction; returns once durable.
    /// Over quota for any account fails the whole delivery (`OverQuota`).
    pub async fn deliver(&self, delivery: Delivery) -> Result<Delivered> {
        for f in &delivery.filings {
            if f.message >= delivery.messages.len() {
                return Err(StoreError::Internal(format!(
                    "filing refers to message {} of {}",
                    f.message,
                    delivery.messages.len()
                )));
            }
        }
        let Delivery {
            messages,
            filings,
            outbound,
            vacations,
            duplicates,
            internal_date,
        } = delivery;
        let blobs = self.inner.blobs.clone();
        self.prepare_and_write(
            move || {
                // Only the versions something files are stored as blobs.
                let prepared: Vec<Option<PreparedMessage>> = messages
                    .into_iter()
                    .enumerate()
                    .map(|(i, raw)| {
                        filings
                            .iter()
                            .any(|f| f.message == i)
                            .then(|| PreparedMessage::new_spilled(raw, &blobs))
                            .transpose()
                    })
                    .collect::<Result<_>>()?;
                Ok((prepared, filings, outbound, vacations, duplicates))
            },
            move |tx, (prepared, filings, outbound, vacations, duplicates)| {
                let mut done = Delivered::default();
                for f in &filings {
                    let Some(Some(msg)) = prepared.get(f.message) else {
                        return Err(StoreError::Internal("message not prepared".into()));
                    };
                    let size = msg.size();
                    check_quota(tx.conn(), f.account, size, 1)?;
                    let mailbox = resolve_mailbox(tx, f)?;
                    let target = target_by_id(tx.conn(), mailbox)?;
                    let blob = store_blob(tx, msg)?;
                    let (uid, _) = add_entry(
                        tx,
                        f.account,
                        &target,
                        blob,
                        size,
                        &f.flags,
                        internal_date.unwrap_or(tx.now),
                    )?;
                    done.filed.push((f.account, mailbox, uid));
                }
                for v in &vacations {
                    tx.conn()
                        .prepare_cached(
                            "INSERT INTO vacation_responses (account_id, handle, sender, expires_at) \
                             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, handle, sender) \
                             DO UPDATE SET expires_at = excluded.expires_at",
                        )?
                        .execute((v.account.0, &v.handle, &v.sender, v.expires_at))?;
                }
                for d in &duplicates {
                    tx.conn()
                        .prepare_cached(
                            "INSERT INTO sieve_duplicates (account_id, handle, value, expires_at) \
                             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, handle, value) \
                             DO UPDATE SET expires_at = excluded.expires_at",
                        )?
                        .execute((d.account.0, &d.handle, &d.value, d.expires_at))?;
                }
                for m in &outbound {
                    done.queued.push(enqueue_in(tx, m)?);
                }
                Ok(done)
            },
        )
        .await
    }

    /// RFC 5230 4.2: was a vacation response for `handle` sent to `sender`
    /// within its period?
    pub async fn vacation_replied(
        &self,
        account: AccountId,
        handle: &str,
        sender: &str,
    ) -> Result<bool> {
        let (handle, sender) = (handle.to_string(), sender.to_lowercase());
        let now = crate::types::now();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM vacation_responses WHERE account_id = ?1 \
                 AND handle = ?2 AND sender = ?3 AND expires_at > ?4)",
            )?
            .query_row((account.0, &handle, &sender, now), |r| r.get(0))?)
        })
        .await
    }

    /// RFC 7352: has the `duplicate` test seen `value` under `handle`, unexpired?
    pub async fn duplicate_seen(
        &self,
        account: AccountId,
        handle: &str,
        value: &str,
    ) -> Result<bool> {
        let (handle, value) = (handle.to_string(), value.to_string());
        let now = crate::types::now();
        self.read(move |c| {
            Ok(c.prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM sieve_duplicates WHERE account_id = ?1 \
                 AND handle = ?2 AND value = ?3 AND expires_at > ?4)",
            )?
            .query_row((account.0, &handle, &value, now), |r| r.get(0))?)
        })
        .await
    }

    /// Does a selectable mailbox exist, by name, by id, or with a special use?
    pub async fn mailbox_exists(
        &self,
        account: AccountId,
        name: Option<&str>,
        id: Option<MailboxId>,
        special_use: Option<&str>,
    ) -> Result<bool> {
        let name = match name {
            Some(n) => match normalize_name(n) {
                Ok(n) => Some(n),
                Err(_) => return Ok(false),
            },
            None => None,
        };
        let special_use = special_use.map(str::to_string);
        self.read(move |c| {
            let found: Option<i64> = c
                .prepare_cached(
                    "SELECT id FROM mailboxes WHERE account_id = ?1 AND noselect = 0 \
                     AND (?2 IS NULL OR name = ?2) AND (?3 IS NULL OR id = ?3) \
                     AND (?4 IS NULL OR special_use = ?4 COLLATE NOCASE) LIMIT 1",
                )?
                .query_row((account.0, &name, id.map(|i| i.0), &special_use), |r| {
                    r.get(0)
                })
                .optional()?;
            Ok(found.is_some())
        })
        .await
    }
}
