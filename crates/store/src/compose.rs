//! Messages built from pieces of stored ones (CATENATE, RFC 4469) and byte ranges
//! of stored messages (URLFETCH, RFC 4467): the bytes are copied inside the store,
//! never through a client.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension};

use crate::Store;
use crate::blobfile::{BlobDir, blob_range};
use crate::error::{Result, StoreError, Subject};
use crate::mailbox::normalize_name;
use crate::message::{NewMessage, owned_mailbox};
use crate::types::{AccountId, Flags, MailboxId, Uid, UidValidity};

/// One piece of a composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes the client sent.
    Text(Vec<u8>),
    /// `len` bytes (to the end when None) from `start` of a stored message of
    /// `account`; a range past the end is cut short.
    Stored {
        account: AccountId,
        mailbox: MailboxId,
        uid: Uid,
        start: u64,
        len: Option<u64>,
    },
}

/// A message to append, as pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposedMessage {
    pub pieces: Vec<Piece>,
    pub flags: Flags,
    pub internal_date: Option<i64>,
}

/// The blob of a stored message and its size; NotFound when it is gone.
fn entry_blob(
    c: &Connection,
    account: AccountId,
    mailbox: MailboxId,
    uid: Uid,
) -> Result<(i64, u64)> {
    owned_mailbox(c, account, mailbox)?;
    let row: Option<(i64, i64)> = c
        .prepare_cached(
            "SELECT blob_id, size FROM mailbox_messages WHERE mailbox_id = ?1 AND uid = ?2",
        )?
        .query_row((mailbox.0, uid.0), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (blob, size) = row.ok_or(StoreError::NotFound(Subject::Message(uid.0)))?;
    Ok((blob, size.max(0) as u64))
}

/// The one place that reads message bytes for composing and ranges: `len` bytes
/// of blob `blob` from byte `start`.
fn read_blob_span(
    c: &Connection,
    blobs: &BlobDir,
    blob: i64,
    start: u64,
    len: u64,
) -> Result<Vec<u8>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    blob_range(c, blobs, blob, start, len)?
        .ok_or_else(|| StoreError::Internal(format!("blob {blob} is missing")))
}

fn clamp(size: u64, start: u64, len: Option<u64>) -> (u64, u64) {
    let s = start.min(size);
    let e = len.map_or(size, |l| s.saturating_add(l).min(size));
    (s, e)
}

/// Joins the pieces; refuses with `TooLarge` before reading when the result
/// would exceed `max_size`. Each blob is read once, whatever number of pieces use it.
fn assemble(c: &Connection, blobs: &BlobDir, pieces: Vec<Piece>, max_size: u64) -> Result<Vec<u8>> {
    enum Planned {
        Text(Vec<u8>),
        Span(i64, u64, u64),
    }
    let mut plan = Vec::with_capacity(pieces.len());
    let mut spans: HashMap<i64, (u64, u64)> = HashMap::new();
    let mut total = 0u64;
    for p in pieces {
        let planned = match p {
            Piece::Text(t) => {
                total = total.saturating_add(t.len() as u64);
                Planned::Text(t)
            }
            Piece::Stored {
                account,
                mailbox,
                uid,
                start,
                len,
            } => {
                let (blob, size) = entry_blob(c, account, mailbox, uid)?;
                let (s, e) = clamp(size, start, len);
                total = total.saturating_add(e - s);
                let span = spans.entry(blob).or_insert((s, e));
                span.0 = span.0.min(s);
                span.1 = span.1.max(e);
                Planned::Span(blob, s, e)
            }
        };
        if total > max_size {
            return Err(StoreError::TooLarge);
        }
        plan.push(planned);
    }
    let mut data: HashMap<i64, (u64, Vec<u8>)> = HashMap::with_capacity(spans.len());
    for (blob, (s, e)) in spans {
        data.insert(blob, (s, read_blob_span(c, blobs, blob, s, e - s)?));
    }
    let mut out = Vec::with_capacity(total as usize);
    for p in plan {
        match p {
            Planned::Text(t) => out.extend_from_slice(&t),
            Planned::Span(blob, s, e) => {
                let (base, bytes) = data
                    .get(&blob)
                    .ok_or_else(|| StoreError::Internal("span not read".into()))?;
                let (a, b) = ((s - base) as usize, (e - base) as usize);
                out.extend_from_slice(bytes.get(a..b).unwrap_or_default());
            }
        }
    }
    Ok(out)
}

impl Store {
    /// CATENATE: appends messages built from pieces, all or none (as
    /// [`Store::append_many`]). A piece naming a message that is gone is
    /// `NotFound(Message)`; a message over `max_size` bytes is `TooLarge`.
    pub async fn append_composed(
        &self,
        account: AccountId,
        mailbox: &str,
        messages: Vec<ComposedMessage>,
        max_size: u64,
    ) -> Result<(UidValidity, Vec<Uid>)> {
        let name = normalize_name(mailbox)?;
        let blobs = self.inner.blobs.clone();
        let built = self
            .read(move |c| {
                // One snapshot: every piece is read as of the same moment.
                let tx = c.unchecked_transaction()?;
                let mut out = Vec::with_capacity(messages.len());
                for m in messages {
                    let raw = assemble(&tx, &blobs, m.pieces, max_size)?;
                    if raw.is_empty() {
                        return Err(StoreError::Refused("the message would be empty".into()));
                    }
                    out.push(NewMessage {
                        raw,
                        flags: m.flags,
                        internal_date: m.internal_date,
                        zone_minutes: 0,
                    });
                }
                tx.commit()?;
                Ok(out)
            })
            .await?;
        self.append_many(account, &name, built).await
    }

    /// `len` bytes (to the end when None) of a stored message from byte `start`,
    /// cut short at its end.
    pub async fn read_message_range(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uid: Uid,
        start: u64,
        len: Option<u64>,
    ) -> Result<Vec<u8>> {
        let blobs = self.inner.blobs.clone();
        self.read(move |c| {
            let (blob, size) = entry_blob(c, account, mailbox, uid)?;
            let (s, e) = clamp(size, start, len);
            read_blob_span(c, &blobs, blob, s, e - s)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::EmailAddress;

    async fn setup() -> (tempfile::TempDir, Store, AccountId, MailboxId) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let a = EmailAddress::parse("a@example.org").unwrap();
        let account = store.create_account(&a, "pw", false).await.unwrap().id;
        let inbox = store.mailbox(account, "INBOX").await.unwrap().unwrap().id;
        (dir, store, account, inbox)
    }

    fn stored(account: AccountId, mailbox: MailboxId, start: u64, len: Option<u64>) -> Piece {
        Piece::Stored {
            account,
            mailbox,
            uid: Uid(1),
            start,
            len,
        }
    }

    #[tokio::test]
    async fn pieces_are_joined_in_order_and_cut_at_the_end() {
        let (_dir, store, account, inbox) = setup().await;
        store
            .append(
                account,
                "INBOX",
                b"S: x\r\n\r\n0123456789".to_vec(),
                Flags::default(),
                None,
            )
            .await
            .unwrap();
        let msg = ComposedMessage {
            pieces: vec![
                Piece::Text(b"H: y\r\n\r\n".to_vec()),
                stored(account, inbox, 8, Some(4)),
                stored(account, inbox, 10, Some(4)),
                stored(account, inbox, 16, None),
                stored(account, inbox, 100, Some(5)),
            ],
            flags: Flags::default(),
            internal_date: None,
        };
        let (_, uids) = store
            .append_composed(account, "Drafts", vec![msg], 1000)
            .await
            .unwrap();
        let drafts = store.mailbox(account, "Drafts").await.unwrap().unwrap().id;
        let raw = store.read_message(account, drafts, uids[0]).await.unwrap();
        assert_eq!(raw, b"H: y\r\n\r\n0123234589");
        assert_eq!(
            store
                .read_message_range(account, inbox, Uid(1), 9, Some(3))
                .await
                .unwrap(),
            b"123"
        );
    }

    #[tokio::test]
    async fn limits_and_missing_messages_store_nothing() {
        let (_dir, store, account, inbox) = setup().await;
        store
            .append(
                account,
                "INBOX",
                b"S: x\r\n\r\nbody".to_vec(),
                Flags::default(),
                None,
            )
            .await
            .unwrap();
        let many = ComposedMessage {
            pieces: (0..1000).map(|_| stored(account, inbox, 0, None)).collect(),
            flags: Flags::default(),
            internal_date: None,
        };
        let err = store
            .append_composed(account, "INBOX", vec![many], 5000)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::TooLarge), "{err:?}");
        let gone = ComposedMessage {
            pieces: vec![Piece::Stored {
                account,
                mailbox: inbox,
                uid: Uid(7),
                start: 0,
                len: None,
            }],
            flags: Flags::default(),
            internal_date: None,
        };
        let err = store
            .append_composed(account, "INBOX", vec![gone], 5000)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(Subject::Message(7))),
            "{err:?}"
        );
        // Another account's mailbox is not found either.
        let b = EmailAddress::parse("b@example.org").unwrap();
        let other = store.create_account(&b, "pw", false).await.unwrap().id;
        let err = store
            .read_message_range(other, inbox, Uid(1), 0, None)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
        assert_eq!(
            store
                .mailbox_status(account, "INBOX")
                .await
                .unwrap()
                .messages,
            1
        );
    }
}
