//! What FETCH and SEARCH read besides flags: the summary cached per blob at
//! delivery (ENVELOPE, BODYSTRUCTURE) and the header block and decoded text
//! SEARCH matches against.

use rusqlite::{Connection, OptionalExtension};

use crate::Store;
use crate::blobfile::blob_range;
use crate::error::{Result, StoreError};
use crate::message::owned_mailbox;
use crate::summary::{BodyStructure, Envelope};
use crate::types::{AccountId, MailboxId, Uid};

/// The cached summary of one message.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageMeta {
    pub uid: Uid,
    /// Bytes of the top-level header, blank line included.
    pub header_size: u64,
    pub body_lines: u64,
    pub envelope: Envelope,
    pub body: BodyStructure,
}

/// What SEARCH needs of one message beyond its entry: each part only when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchFields {
    pub uid: Uid,
    /// `Date:` as Unix seconds (SENTBEFORE/SENTON/SENTSINCE).
    pub sent_date: Option<i64>,
    /// The raw top-level header block.
    pub header: Option<Vec<u8>>,
    /// Decoded text of the text parts (BODY/TEXT).
    pub text: Option<String>,
}

/// sent_date, header, text.
type SearchRow = (
    Option<i64>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    bool,
    i64,
    bool,
);

fn parse<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Internal(format!("cached summary: {e}")))
}

impl Store {
    /// The cached summaries of `uids` (those that exist), in the order asked.
    pub async fn message_meta(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: Vec<Uid>,
    ) -> Result<Vec<MessageMeta>> {
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            let mut stmt = c.prepare_cached(
                "SELECT m.header_size, m.body_lines, m.envelope, m.bodystructure \
                 FROM mailbox_messages e JOIN message_meta m ON m.blob_id = e.blob_id \
                 WHERE e.mailbox_id = ?1 AND e.uid = ?2",
            )?;
            let mut out = Vec::with_capacity(uids.len());
            for uid in uids {
                let row: Option<(i64, i64, String, String)> = stmt
                    .query_row((mailbox.0, uid.0), |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()?;
                if let Some((header_size, body_lines, env, body)) = row {
                    out.push(MessageMeta {
                        uid,
                        header_size: header_size as u64,
                        body_lines: body_lines as u64,
                        envelope: parse(&env)?,
                        body: parse(&body)?,
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    /// The fields SEARCH evaluates for `uids` (those that exist), in the
    /// order asked; the header and text only when `header` / `text`.
    pub async fn search_fields(
        &self,
        account: AccountId,
        mailbox: MailboxId,
        uids: Vec<Uid>,
        header: bool,
        text: bool,
    ) -> Result<Vec<SearchFields>> {
        let blobs = self.inner.blobs.clone();
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            // substr() on a BLOB counts bytes; a NULL body_text means the raw
            // body is its own text (see message::insert_meta). A body kept in a
            // segment file is read from there.
            let mut stmt = c.prepare_cached(
                "SELECT m.sent_date, \
                   CASE WHEN ?3 AND b.file IS NULL THEN substr(b.data, 1, m.header_size) END, \
                   CASE WHEN ?4 THEN COALESCE(CAST(m.body_text AS BLOB), \
                     CASE WHEN b.file IS NULL THEN substr(b.data, m.header_size + 1) END) END, \
                   b.id, b.file IS NOT NULL, m.header_size, m.body_text IS NOT NULL \
                 FROM mailbox_messages e JOIN message_meta m ON m.blob_id = e.blob_id \
                 JOIN blobs b ON b.id = e.blob_id WHERE e.mailbox_id = ?1 AND e.uid = ?2",
            )?;
            let mut out = Vec::with_capacity(uids.len());
            for uid in uids {
                let row: Option<SearchRow> = stmt
                    .query_row((mailbox.0, uid.0, header, text), |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                        ))
                    })
                    .optional()?;
                if let Some((sent_date, mut head, mut body, blob, in_file, header_size, has_text)) =
                    row
                {
                    if in_file {
                        let header_size = header_size.max(0) as u64;
                        if header {
                            head = blob_range(c, &blobs, blob, 0, header_size)?;
                        }
                        if text && !has_text {
                            body = blob_range(c, &blobs, blob, header_size, u64::MAX)?;
                        }
                    }
                    out.push(SearchFields {
                        uid,
                        sent_date,
                        header: head,
                        text: body.map(|t| String::from_utf8_lossy(&t).into_owned()),
                    });
                }
            }
            Ok(out)
        })
        .await
    }

    /// Keywords ever used in a mailbox, for FLAGS (RFC 3501 7.2.6).
    pub async fn mailbox_keywords(
        &self,
        account: AccountId,
        mailbox: MailboxId,
    ) -> Result<Vec<String>> {
        self.read(move |c| {
            owned_mailbox(c, account, mailbox)?;
            keywords(c, mailbox)
        })
        .await
    }
}

/// The keywords ever used in a mailbox, sorted.
pub(crate) fn keywords(c: &Connection, mailbox: MailboxId) -> Result<Vec<String>> {
    let mut stmt = c.prepare_cached(
        "SELECT keyword FROM mailbox_keywords WHERE mailbox_id = ?1 ORDER BY keyword",
    )?;
    let rows = stmt.query_map([mailbox.0], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
