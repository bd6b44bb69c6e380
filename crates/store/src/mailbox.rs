//! Mailboxes (hierarchy, SPECIAL-USE, UIDVALIDITY) and subscriptions.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::Store;
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::types::{AccountId, MailboxId, ModSeq, UidValidity};
use crate::writer::Tx;

/// The hierarchy delimiter.
pub const DELIMITER: char = '/';

/// Mailboxes every account starts with (RFC 6154 attributes).
pub const SPECIAL_MAILBOXES: [(&str, Option<&str>); 6] = [
    ("INBOX", None),
    ("Drafts", Some("\\Drafts")),
    ("Sent", Some("\\Sent")),
    ("Trash", Some("\\Trash")),
    ("Junk", Some("\\Junk")),
    ("Archive", Some("\\Archive")),
];

const SPECIAL_USE_ATTRIBUTES: [&str; 7] = [
    "\\All",
    "\\Archive",
    "\\Drafts",
    "\\Flagged",
    "\\Junk",
    "\\Sent",
    "\\Trash",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MailboxInfo {
    pub id: MailboxId,
    pub name: String,
    pub special_use: Option<String>,
    pub noselect: bool,
    pub subscribed: bool,
    pub has_children: bool,
    pub uidvalidity: UidValidity,
    pub uidnext: u32,
    pub highestmodseq: ModSeq,
    pub messages: u64,
    pub unseen: u64,
    pub deleted: u64,
    pub size: u64,
}

/// Validates and normalises a mailbox name: INBOX (and its children) in upper
/// case, no empty levels, no wildcards or controls (RFC 3501 5.1).
pub fn normalize_name(name: &str) -> Result<String> {
    let bad = |reason: &str| StoreError::invalid("mailbox name", format!("{name:?}: {reason}"));
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > 1000 {
        return Err(bad("longer than 1000 octets"));
    }
    if name.chars().any(|c| c.is_control() || c == '%' || c == '*') {
        return Err(bad("control characters and wildcards are not allowed"));
    }
    let mut levels: Vec<&str> = name.split(DELIMITER).collect();
    if levels.iter().any(|l| l.is_empty()) {
        return Err(bad("empty hierarchy level"));
    }
    if levels[0].eq_ignore_ascii_case("INBOX") {
        levels[0] = "INBOX";
    }
    Ok(levels.join("/"))
}

fn parent_name(name: &str) -> Option<&str> {
    name.rsplit_once(DELIMITER).map(|(p, _)| p)
}

pub(crate) fn mailbox_id(
    conn: &Connection,
    account: AccountId,
    name: &str,
) -> Result<Option<(MailboxId, bool)>> {
    Ok(conn
        .prepare_cached("SELECT id, noselect FROM mailboxes WHERE account_id = ?1 AND name = ?2")?
        .query_row((account.0, name), |r| Ok((MailboxId(r.get(0)?), r.get(1)?)))
        .optional()?)
}

/// UIDVALIDITY values only grow across the whole installation (seeded from the
/// clock), so a mailbox deleted and created again never reuses one (RFC 3501 2.3.1.1).
fn next_uidvalidity(tx: &Tx<'_>) -> Result<UidValidity> {
    let stored: i64 = tx
        .conn()
        .query_row(
            "SELECT value FROM meta WHERE key = 'next_uidvalidity'",
            [],
            |r| r.get::<_, String>(0),
        )
        .optional()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let v = stored.max(tx.now).clamp(1, i64::from(u32::MAX));
    tx.conn().execute(
        "INSERT INTO meta (key, value) VALUES ('next_uidvalidity', ?1) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(v + 1).to_string()],
    )?;
    Ok(UidValidity(v as u32))
}

/// Creates `name` and any missing parents (RFC 3501 6.3.3). Creating an existing
/// \Noselect parent makes it selectable again.
pub(crate) fn create_in_tx(
    tx: &Tx<'_>,
    account: AccountId,
    name: &str,
    special_use: Option<&str>,
) -> Result<MailboxId> {
    let name = normalize_name(name)?;
    if let Some(su) = special_use
        && !SPECIAL_USE_ATTRIBUTES
            .iter()
            .any(|a| a.eq_ignore_ascii_case(su))
    {
        return Err(StoreError::invalid("special-use attribute", su.to_string()));
    }
    let conn = tx.conn();
    match mailbox_id(conn, account, &name)? {
        Some((id, true)) => {
            // A \Noselect mailbox was deleted (its messages went without
            // EXPUNGE), so this is a new mailbox with an old name: a client's
            // cached UIDs must not survive (RFC 3501 2.3.1.1).
            let uidvalidity = next_uidvalidity(tx)?;
            conn.execute(
                "UPDATE mailboxes SET noselect = 0, special_use = ?1, uidvalidity = ?2 WHERE id = ?3",
                (special_use, uidvalidity.0, id.0),
            )?;
            tx.log(
                Some(account),
                ChangeKind::MailboxCreated { mailbox: id, name },
            )?;
            return Ok(id);
        }
        Some((_, false)) => return Err(StoreError::AlreadyExists(Subject::Mailbox(name))),
        None => {}
    }
    let parent = match parent_name(&name) {
        Some(p) => Some(match mailbox_id(conn, account, p)? {
            Some((id, _)) => id,
            None => create_in_tx(tx, account, p, None)?,
        }),
        None => None,
    };
    let uidvalidity = next_uidvalidity(tx)?;
    conn.execute(
        "INSERT INTO mailboxes (account_id, name, parent_id, special_use, uidvalidity, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        (
            account.0,
            &name,
            parent.map(|p| p.0),
            special_use,
            uidvalidity.0,
            tx.now,
        ),
    )?;
    let id = MailboxId(conn.last_insert_rowid());
    tx.log(
        Some(account),
        ChangeKind::MailboxCreated { mailbox: id, name },
    )?;
    Ok(id)
}

pub(crate) fn subscribe_in_tx(tx: &Tx<'_>, account: AccountId, name: &str, on: bool) -> Result<()> {
    let name = normalize_name(name)?;
    let n = if on {
        tx.conn().execute(
            "INSERT OR IGNORE INTO subscriptions (account_id, name) VALUES (?1, ?2)",
            (account.0, &name),
        )?
    } else {
        tx.conn().execute(
            "DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2",
            (account.0, &name),
        )?
    };
    if n > 0 {
        tx.log(Some(account), ChangeKind::SubscriptionChanged { name })?;
    }
    Ok(())
}

fn info_from_row(r: &Row<'_>) -> rusqlite::Result<MailboxInfo> {
    Ok(MailboxInfo {
        id: MailboxId(r.get(0)?),
        name: r.get(1)?,
        special_use: r.get(2)?,
        noselect: r.get(3)?,
        uidvalidity: UidValidity(r.get(4)?),
        uidnext: r.get(5)?,
        highestmodseq: ModSeq(r.get::<_, i64>(6)? as u64),
        messages: r.get::<_, i64>(7)? as u64,
        unseen: r.get::<_, i64>(8)? as u64,
        deleted: r.get::<_, i64>(9)? as u64,
        size: r.get::<_, i64>(10)? as u64,
        subscribed: r.get(11)?,
        has_children: r.get(12)?,
    })
}

const INFO_SELECT: &str = "SELECT m.id, m.name, m.special_use, m.noselect, m.uidvalidity, m.uidnext, \
    m.highestmodseq, m.message_count, m.unseen_count, m.deleted_count, m.size_bytes, \
    EXISTS(SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name), \
    EXISTS(SELECT 1 FROM mailboxes c WHERE c.parent_id = m.id) \
    FROM mailboxes m";

impl Store {
    pub async fn create_mailbox(
        &self,
        account: AccountId,
        name: &str,
        special_use: Option<&str>,
    ) -> Result<MailboxId> {
        let (name, special_use) = (name.to_string(), special_use.map(str::to_string));
        self.write(move |tx| create_in_tx(tx, account, &name, special_use.as_deref()))
            .await
    }

    /// Deletes a mailbox and its messages. INBOX cannot be deleted; a mailbox
    /// with children keeps its name as \Noselect (RFC 3501 6.3.4).
    pub async fn delete_mailbox(&self, account: AccountId, name: &str) -> Result<()> {
        let name = normalize_name(name)?;
        self.write(move |tx| {
            if name == "INBOX" {
                return Err(StoreError::Refused("INBOX cannot be deleted".into()));
            }
            let conn = tx.conn();
            let (id, noselect) = mailbox_id(conn, account, &name)?
                .ok_or_else(|| StoreError::NotFound(Subject::Mailbox(name.clone())))?;
            let has_children: bool = conn.query_row(
                "SELECT EXISTS(SELECT 1 FROM mailboxes WHERE parent_id = ?1)",
                [id.0],
                |r| r.get(0),
            )?;
            if has_children && noselect {
                return Err(StoreError::Refused(format!(
                    "{name} has children and holds no messages"
                )));
            }
            crate::message::remove_all_in_tx(tx, account, id)?;
            if has_children {
                conn.execute(
                    "UPDATE mailboxes SET noselect = 1, special_use = NULL WHERE id = ?1",
                    [id.0],
                )?;
            } else {
                conn.execute("DELETE FROM mailboxes WHERE id = ?1", [id.0])?;
            }
            tx.log(
                Some(account),
                ChangeKind::MailboxDeleted { mailbox: id, name },
            )?;
            Ok(())
        })
        .await
    }

    /// Renames a mailbox and its children, keeping their UIDVALIDITY. Renaming
    /// INBOX moves its messages to a new mailbox and leaves INBOX empty
    /// (RFC 3501 6.3.5).
    pub async fn rename_mailbox(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        let from = normalize_name(from)?;
        let to = normalize_name(to)?;
        self.write(move |tx| {
            let conn = tx.conn();
            let (id, _) = mailbox_id(conn, account, &from)?
                .ok_or_else(|| StoreError::NotFound(Subject::Mailbox(from.clone())))?;
            if mailbox_id(conn, account, &to)?.is_some() {
                return Err(StoreError::AlreadyExists(Subject::Mailbox(to)));
            }
            if to.starts_with(&format!("{from}/")) {
                return Err(StoreError::Refused("a mailbox cannot be moved into itself".into()));
            }
            if from == "INBOX" {
                let new = create_in_tx(tx, account, &to, None)?;
                crate::message::move_all_in_tx(tx, account, id, new)?;
                return Ok(());
            }
            let new_parent = match parent_name(&to) {
                Some(p) => Some(match mailbox_id(conn, account, p)? {
                    Some((pid, _)) => pid,
                    None => create_in_tx(tx, account, p, None)?,
                }),
                None => None,
            };
            let mut stmt = conn.prepare(
                "SELECT id, name FROM mailboxes WHERE account_id = ?1 AND (name = ?2 OR substr(name, 1, ?3) = ?4)",
            )?;
            let prefix = format!("{from}/");
            // SQLite's substr() counts characters, not bytes.
            let prefix_chars = prefix.chars().count() as i64;
            let moved: Vec<(i64, String)> = stmt
                .query_map((account.0, &from, prefix_chars, &prefix), |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect::<rusqlite::Result<_>>()?;
            for (mid, old) in moved {
                let new_name = format!("{to}{}", &old[from.len()..]);
                conn.execute("UPDATE mailboxes SET name = ?1 WHERE id = ?2", (&new_name, mid))?;
                tx.log(
                    Some(account),
                    ChangeKind::MailboxRenamed {
                        mailbox: MailboxId(mid),
                        old_name: old,
                        name: new_name,
                    },
                )?;
            }
            conn.execute(
                "UPDATE mailboxes SET parent_id = ?1 WHERE id = ?2",
                (new_parent.map(|p| p.0), id.0),
            )?;
            Ok(())
        })
        .await
    }

    pub async fn list_mailboxes(&self, account: AccountId) -> Result<Vec<MailboxInfo>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "{INFO_SELECT} WHERE m.account_id = ?1 ORDER BY m.name"
            ))?;
            let rows = stmt.query_map([account.0], info_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn mailbox(&self, account: AccountId, name: &str) -> Result<Option<MailboxInfo>> {
        let name = normalize_name(name)?;
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "{INFO_SELECT} WHERE m.account_id = ?1 AND m.name = ?2"
            ))?
            .query_row((account.0, &name), info_from_row)
            .optional()?)
        })
        .await
    }

    pub async fn set_subscribed(&self, account: AccountId, name: &str, on: bool) -> Result<()> {
        let name = name.to_string();
        self.write(move |tx| subscribe_in_tx(tx, account, &name, on))
            .await
    }

    pub async fn subscriptions(&self, account: AccountId) -> Result<Vec<String>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT name FROM subscriptions WHERE account_id = ?1 ORDER BY name",
            )?;
            let rows = stmt.query_map([account.0], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalize_name("inbox").unwrap(), "INBOX");
        assert_eq!(normalize_name("Inbox/Sub").unwrap(), "INBOX/Sub");
        assert_eq!(normalize_name("Inboxes").unwrap(), "Inboxes");
        for bad in ["", "a//b", "/a", "a/", "a%", "a*b", "a\0b", "a\nb"] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
    }
}
