//! A large mailbox's entries, kept compactly in one row (`mailbox_listing`)
//! as of a MODSEQ. Reading a mailbox then costs one row plus the changes
//! after that MODSEQ (entries added or re-flagged, UIDs expunged) instead of
//! one row per message. The mailbox's message count, which every write keeps,
//! checks the result; when it disagrees the entries are read one by one.

use rusqlite::{Connection, OptionalExtension};

use crate::Store;
use crate::error::Result;
use crate::message::{Entry, owned_mailbox};
use crate::types::{AccountId, BlobId, Flags, MailboxId, ModSeq, Uid};

/// Mailboxes smaller than this are read row by row (cheap enough).
const MIN_MESSAGES: u64 = 5_000;

/// What a read found: the entries, and whether the stored listing should be
/// written again (missing, or far behind).
pub(crate) struct Read {
    pub(crate) entries: Vec<Entry>,
    modseq: ModSeq,
    stale: bool,
}

/// The columns [`entry_row`] reads, in its order.
pub(crate) const COLUMNS: &str = "uid, modseq, flags, keywords, internal_date, size, blob_id";

pub(crate) fn entry_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    Ok(Entry {
        uid: Uid(r.get(0)?),
        modseq: ModSeq(r.get::<_, i64>(1)? as u64),
        flags: Flags::from_stored(r.get(2)?, r.get_ref(3)?.as_str()?),
        internal_date: r.get(4)?,
        size: r.get::<_, i64>(5)? as u64,
        blob: BlobId(r.get(6)?),
    })
}

fn all_entries(c: &Connection, mailbox: MailboxId) -> Result<Vec<Entry>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM mailbox_messages WHERE mailbox_id = ?1 ORDER BY uid"
    ))?;
    let rows = stmt.query_map([mailbox.0], entry_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn read(c: &Connection, account: AccountId, mailbox: MailboxId) -> Result<Read> {
    let tx = c.unchecked_transaction()?;
    read_in(&tx, account, mailbox)
}

/// Like `read`, inside the caller's transaction.
pub(crate) fn read_in(tx: &Connection, account: AccountId, mailbox: MailboxId) -> Result<Read> {
    owned_mailbox(tx, account, mailbox)?;
    let (highest, count): (i64, i64) = tx
        .prepare_cached("SELECT highestmodseq, message_count FROM mailboxes WHERE id = ?1")?
        .query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let highest_modseq = ModSeq(highest as u64);
    if (count as u64) < MIN_MESSAGES {
        return Ok(Read {
            entries: all_entries(tx, mailbox)?,
            modseq: highest_modseq,
            stale: false,
        });
    }
    let stored: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT modseq, data FROM mailbox_listing WHERE mailbox_id = ?1")?
        .query_row([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some((since, data)) = stored
        && let Some(mut entries) = decode(&data)
    {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM mailbox_messages WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid"
        ))?;
        let changed = stmt
            .query_map((mailbox.0, since), entry_row)?
            .collect::<rusqlite::Result<Vec<Entry>>>()?;
        let gone: Vec<u32> = tx
            .prepare_cached(
                "SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid",
            )?
            .query_map((mailbox.0, since), |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let behind = changed.len() + gone.len();
        merge(&mut entries, changed, &gone);
        if entries.len() as i64 == count {
            let stale = behind > 2_000 || behind > entries.len() / 16;
            return Ok(Read {
                entries,
                modseq: highest_modseq,
                stale,
            });
        }
        tracing::warn!(
            mailbox = mailbox.0,
            "stored mailbox listing disagrees with the message count; reading every entry"
        );
    }
    Ok(Read {
        entries: all_entries(tx, mailbox)?,
        modseq: highest_modseq,
        stale: true,
    })
}

/// Applies changes (sorted by UID) and expunged UIDs to entries in UID order.
fn merge(entries: &mut Vec<Entry>, changed: Vec<Entry>, gone: &[u32]) {
    for e in changed {
        match entries.last() {
            Some(last) if last.uid >= e.uid => {
                match entries.binary_search_by_key(&e.uid, |x| x.uid) {
                    Ok(i) => entries[i] = e,
                    Err(i) => entries.insert(i, e),
                }
            }
            _ => entries.push(e),
        }
    }
    if !gone.is_empty() {
        entries.retain(|e| gone.binary_search(&e.uid.0).is_err());
    }
}

/// Varints, with UIDs, dates and blob ids as differences from the previous
/// entry: about 12 bytes per message.
fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 14 + 10);
    put(&mut out, entries.len() as u64);
    let (mut uid, mut date, mut blob) = (0u32, 0i64, 0i64);
    for e in entries {
        put(&mut out, u64::from(e.uid.0.wrapping_sub(uid)));
        put(&mut out, e.modseq.0);
        out.push(e.flags.system);
        put(&mut out, zigzag(e.internal_date.wrapping_sub(date)));
        put(&mut out, e.size);
        put(&mut out, zigzag(e.blob.0.wrapping_sub(blob)));
        let kw = e.flags.keywords.join(" ");
        put(&mut out, kw.len() as u64);
        out.extend_from_slice(kw.as_bytes());
        (uid, date, blob) = (e.uid.0, e.internal_date, e.blob.0);
    }
    out
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// The entries of an encoded listing; None when it is damaged.
fn decode(data: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader(data);
    let n = usize::try_from(r.var()?).ok()?;
    // Every entry takes at least 7 bytes.
    if n > data.len() / 7 {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    let (mut uid, mut date, mut blob) = (0u32, 0i64, 0i64);
    for _ in 0..n {
        uid = uid.checked_add(u32::try_from(r.var()?).ok()?)?;
        let modseq = ModSeq(r.var()?);
        let system = *r.take(1)?.first()?;
        date = date.wrapping_add(unzigzag(r.var()?));
        let size = r.var()?;
        blob = blob.wrapping_add(unzigzag(r.var()?));
        let len = usize::try_from(r.var()?).ok()?;
        let kw = std::str::from_utf8(r.take(len)?).ok()?;
        let mut flags = Flags::from_stored(0, kw);
        flags.system = system;
        out.push(Entry {
            uid: Uid(uid),
            modseq,
            flags,
            internal_date: date,
            size,
            blob: BlobId(blob),
        });
    }
    r.0.is_empty().then_some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }

    fn var(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

impl Store {
    /// Every message of a mailbox in UID order.
    pub async fn entries(&self, account: AccountId, mailbox: MailboxId) -> Result<Vec<Entry>> {
        let read = self.read(move |c| read(c, account, mailbox)).await?;
        Ok(self.keep_listing(mailbox, read))
    }

    /// The entries of `read`; when its stored listing is stale, a fresh one
    /// is written in the background, without the caller waiting for it.
    pub(crate) fn keep_listing(&self, mailbox: MailboxId, read: Read) -> Vec<Entry> {
        if read.stale {
            let data = encode(&read.entries);
            let modseq = read.modseq.0 as i64;
            let store = self.clone();
            tokio::spawn(async move {
                let r = store
                    .write(move |tx| {
                        tx.conn()
                            .prepare_cached(
                                "INSERT INTO mailbox_listing (mailbox_id, modseq, data) \
                                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM mailboxes WHERE id = ?1) \
                                 ON CONFLICT (mailbox_id) DO UPDATE SET modseq = excluded.modseq, \
                                 data = excluded.data WHERE excluded.modseq > mailbox_listing.modseq",
                            )?
                            .execute((mailbox.0, modseq, data))?;
                        Ok(())
                    })
                    .await;
                if let Err(e) = r {
                    tracing::debug!(error = %e, "storing a mailbox listing failed");
                }
            });
        }
        read.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(uid: u32, modseq: u64, kw: &[&str]) -> Entry {
        Entry {
            uid: Uid(uid),
            modseq: ModSeq(modseq),
            flags: Flags {
                system: (uid % 32) as u8,
                keywords: kw.iter().map(|k| k.to_string()).collect(),
            },
            internal_date: -5 + uid as i64,
            size: 100 + u64::from(uid),
            blob: BlobId(7 * i64::from(uid)),
        }
    }

    #[test]
    fn listings_round_trip_and_damage_is_refused() {
        let v = vec![
            e(1, 1, &[]),
            e(3, 9, &["$Forwarded", "work"]),
            e(70_000, 2, &[]),
        ];
        let data = encode(&v);
        assert_eq!(decode(&data), Some(v));
        for n in 0..data.len() {
            assert_eq!(decode(&data[..n]), None);
        }
        assert_eq!(
            decode(&[0xff, 0xff, 0xff, 0xff, 0x0f, 1, 1, 0, 0, 0, 0, 0]),
            None
        );
        assert_eq!(decode(&[0xff; 20]), None);
    }

    #[test]
    fn changes_merge_in_uid_order() {
        let mut v = vec![e(1, 1, &[]), e(3, 1, &[]), e(5, 1, &[])];
        merge(
            &mut v,
            vec![e(2, 4, &[]), e(3, 5, &["x"]), e(9, 6, &[])],
            &[1, 5],
        );
        let uids: Vec<u32> = v.iter().map(|x| x.uid.0).collect();
        assert_eq!(uids, vec![2, 3, 9]);
        assert_eq!(v[1].flags.keywords, vec!["x".to_string()]);
    }
}
