//! COPY and MOVE (RFC 3501 6.4.7, RFC 6851): entries are duplicated with their
//! flags, keywords and internal date onto the same blobs, in one transaction,
//! with the UID pairs UIDPLUS reports as COPYUID (RFC 4315 3).

use serde::Serialize;

use crate::Store;
use crate::error::Result;
use crate::mailbox::normalize_name;
use crate::message::{add_entry, check_quota, owned_mailbox, remove_entries, target, target_by_id};
use crate::types::{AccountId, BlobId, Flags, MailboxId, Uid, UidValidity};
use crate::writer::Tx;

/// What a COPY or MOVE did: the destination's UIDVALIDITY and, for every
/// source message that still existed, its UID and the new one, in source order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Copied {
    pub uidvalidity: UidValidity,
    pub mailbox: MailboxId,
    pub pairs: Vec<(Uid, Uid)>,
}

fn copy_in_tx(
    tx: &Tx<'_>,
    account: AccountId,
    from: MailboxId,
    uids: &[Uid],
    to: &str,
) -> Result<Copied> {
    let conn = tx.conn();
    owned_mailbox(conn, account, from)?;
    let dest = target(conn, account, to)?;
    let mut rows = Vec::with_capacity(uids.len());
    for uid in uids {
        let row: Option<(i64, i64, String, i64, i64, i32)> = rusqlite::OptionalExtension::optional(
            conn.prepare_cached(
                "SELECT e.blob_id, e.flags, e.keywords, e.internal_date, b.size, e.internal_zone \
                 FROM mailbox_messages e \
                 JOIN blobs b ON b.id = e.blob_id WHERE e.mailbox_id = ?1 AND e.uid = ?2",
            )?
            .query_row((from.0, uid.0), |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            }),
        )?;
        if let Some(row) = row {
            rows.push((*uid, row));
        }
    }
    let bytes: i64 = rows.iter().map(|(_, r)| r.4).sum();
    check_quota(conn, account, bytes as u64, rows.len() as i64)?;
    let mut pairs = Vec::with_capacity(rows.len());
    for (uid, (blob, flags, keywords, date, size, zone)) in rows {
        conn.prepare_cached("UPDATE blobs SET refcount = refcount + 1 WHERE id = ?1")?
            .execute([blob])?;
        let t = target_by_id(conn, dest.id)?;
        let (new, _) = add_entry(
            tx,
            account,
            &t,
            BlobId(blob),
            size as u64,
            &Flags::from_stored(flags, &keywords),
            date,
        )?;
        // COPY keeps the INTERNALDATE, in the zone it was given in.
        crate::message::set_zone(conn, t.id, new, zone)?;
        pairs.push((uid, new));
    }
    Ok(Copied {
        uidvalidity: dest.uidvalidity,
        mailbox: dest.id,
        pairs,
    })
}

impl Store {
    /// COPY: duplicates `uids` of `from` into the mailbox named `to`. UIDs
    /// that no longer exist are skipped; over quota changes nothing.
    pub async fn copy_messages(
        &self,
        account: AccountId,
        from: MailboxId,
        uids: Vec<Uid>,
        to: &str,
    ) -> Result<Copied> {
        let to = normalize_name(to)?;
        self.write(move |tx| copy_in_tx(tx, account, from, &uids, &to))
            .await
    }

    /// MOVE: COPY then expunge the originals, atomically (RFC 6851 3.3).
    pub async fn move_messages(
        &self,
        account: AccountId,
        from: MailboxId,
        uids: Vec<Uid>,
        to: &str,
    ) -> Result<Copied> {
        let to = normalize_name(to)?;
        self.write(move |tx| {
            let copied = copy_in_tx(tx, account, from, &uids, &to)?;
            let moved: Vec<Uid> = copied.pairs.iter().map(|(u, _)| *u).collect();
            remove_entries(tx, account, from, &moved, true)?;
            Ok(copied)
        })
        .await
    }
}
