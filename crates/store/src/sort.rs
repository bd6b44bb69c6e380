//! What SORT and THREAD order by (RFC 5256, RFC 5957): the values computed at
//! delivery, read for a whole mailbox in one pass.

use crate::Store;
use crate::error::Result;
use crate::message::owned_mailbox;
use crate::types::{AccountId, MailboxId, Uid};

/// Which values [`Store::sort_rows`] reads; the others come back as `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SortColumns {
    pub date: bool,
    pub subject: bool,
    /// The first From, To and Cc addresses' mailbox parts.
    pub addresses: bool,
    /// DISPLAYFROM and DISPLAYTO.
    pub display: bool,
    /// Message-ID, In-Reply-To and References.
    pub threading: bool,
}

impl SortColumns {
    pub fn union(self, o: SortColumns) -> SortColumns {
        SortColumns {
            date: self.date || o.date,
            subject: self.subject || o.subject,
            addresses: self.addresses || o.addresses,
            display: self.display || o.display,
            threading: self.threading || o.threading,
        }
    }

    /// Whether every value `o` asks for is among these.
    pub fn covers(self, o: SortColumns) -> bool {
        self.union(o) == self
    }
}

/// One message's sort and thread values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortRow {
    pub uid: Uid,
    /// `Date:` as Unix seconds (UTC); None when absent or unparsable.
    pub sent_date: Option<i64>,
    /// The decoded Subject.
    pub subject: Option<String>,
    /// The mailbox part of the first address of From, To and Cc (a group's name
    /// when the list starts with a group), as in the ENVELOPE.
    pub from_mailbox: Option<String>,
    pub to_mailbox: Option<String>,
    pub cc_mailbox: Option<String>,
    /// RFC 5957: the decoded display name of the first From / To mailbox, else
    /// its address; a group's name when the list starts with a group.
    pub display_from: Option<String>,
    pub display_to: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    /// Every message id of References, in order.
    pub references: Vec<String>,
}

type Row = (
    u32,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

impl Store {
    /// The sort values of every message of `mailbox` from UID `from` on, in UID
    /// order; only the `columns` asked for are read.
    pub async fn sort_rows(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        from: Uid,
        columns: SortColumns,
    ) -> Result<Vec<SortRow>> {
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            let only_date = SortColumns {
                date: columns.date,
                ..SortColumns::default()
            } == columns;
            if only_date {
                // The entries alone: SORT (DATE) of a large mailbox reads no
                // message rows.
                let mut stmt = c.prepare_cached(
                    "SELECT uid, CASE WHEN ?3 THEN sent_date END FROM mailbox_messages \
                     WHERE mailbox_id = ?1 AND uid >= ?2 ORDER BY uid",
                )?;
                let rows = stmt.query_map((mailbox.0, from.0, columns.date), |r| {
                    Ok(SortRow {
                        uid: Uid(r.get(0)?),
                        sent_date: r.get(1)?,
                        subject: None,
                        from_mailbox: None,
                        to_mailbox: None,
                        cc_mailbox: None,
                        display_from: None,
                        display_to: None,
                        message_id: None,
                        in_reply_to: None,
                        references: Vec::new(),
                    })
                })?;
                return Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?);
            }
            let mut stmt = c.prepare_cached(
                "SELECT e.uid, \
                   CASE WHEN ?3 THEN e.sent_date END, \
                   CASE WHEN ?4 THEN m.subject END, \
                   CASE WHEN ?5 THEN json_extract(m.envelope, '$.from[0].mailbox') END, \
                   CASE WHEN ?5 THEN json_extract(m.envelope, '$.to[0].mailbox') END, \
                   CASE WHEN ?5 THEN json_extract(m.envelope, '$.cc[0].mailbox') END, \
                   CASE WHEN ?6 THEN COALESCE(CASE \
                     WHEN json_extract(m.envelope, '$.from[0].host') IS NULL \
                     THEN json_extract(m.envelope, '$.from[0].mailbox') END, m.from_name) END, \
                   CASE WHEN ?6 THEN COALESCE(CASE \
                     WHEN json_extract(m.envelope, '$.to[0].host') IS NULL \
                     THEN json_extract(m.envelope, '$.to[0].mailbox') END, m.to_name) END, \
                   CASE WHEN ?7 THEN m.message_id END, \
                   CASE WHEN ?7 THEN m.in_reply_to END, \
                   CASE WHEN ?7 THEN m.references_ids END \
                 FROM mailbox_messages e JOIN message_meta m ON m.blob_id = e.blob_id \
                 WHERE e.mailbox_id = ?1 AND e.uid >= ?2 ORDER BY e.uid",
            )?;
            let rows = stmt.query_map(
                rusqlite::params![
                    mailbox.0,
                    from.0,
                    columns.date,
                    columns.subject,
                    columns.addresses,
                    columns.display,
                    columns.threading
                ],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                        r.get(7)?,
                        r.get(8)?,
                        r.get(9)?,
                        r.get(10)?,
                    ))
                },
            )?;
            let mut out = Vec::new();
            for row in rows {
                let (uid, date, subject, from, to, cc, dfrom, dto, id, irt, refs): Row = row?;
                out.push(SortRow {
                    uid: Uid(uid),
                    sent_date: date,
                    subject,
                    from_mailbox: from,
                    to_mailbox: to,
                    cc_mailbox: cc,
                    display_from: dfrom,
                    display_to: dto,
                    message_id: id,
                    in_reply_to: irt,
                    references: refs
                        .map(|r| r.split_whitespace().map(str::to_string).collect())
                        .unwrap_or_default(),
                });
            }
            Ok(out)
        })
        .await
    }
}
