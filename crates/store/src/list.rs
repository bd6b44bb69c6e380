//! External lists named by `tag:` URIs (RFC 6134 2.5): owned by the server
//! or by one user, with members looked up by one indexed query.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::Store;
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::types::{AccountId, EmailAddress, ListId, ListUri, normalize_member};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct List {
    pub id: ListId,
    pub uri: String,
    pub name: String,
    /// None: a server list, visible to every user's scripts.
    pub owner: Option<EmailAddress>,
    pub members: u64,
}

/// Which lists to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListVisibility {
    All,
    /// Server lists and the account's own: what its Sieve scripts may use.
    VisibleTo(AccountId),
    OwnedBy(AccountId),
}

fn validate_member(v: &str) -> Result<()> {
    if v.trim().is_empty() || v.len() > 1000 || v.chars().any(|c| c.is_control()) {
        return Err(StoreError::invalid("list member", format!("{v:?}")));
    }
    Ok(())
}

/// The list's id if it exists and `viewer` may see it (None viewer: the admin).
fn visible_list(conn: &Connection, viewer: Option<AccountId>, uri: &str) -> Result<ListId> {
    conn.prepare_cached(
        "SELECT id FROM lists WHERE uri = ?1 AND (?2 IS NULL OR owner_account_id IS NULL OR owner_account_id = ?2)",
    )?
    .query_row((uri, viewer.map(|v| v.0)), |r| r.get(0))
    .optional()?
    .map(ListId)
    .ok_or_else(|| StoreError::NotFound(Subject::List(uri.to_string())))
}

impl Store {
    /// `tag:HOSTNAME,DATE:`, fixed when the installation's database was made.
    pub async fn list_prefix(&self) -> Result<String> {
        Ok(self
            .meta("list_tag_prefix")
            .await?
            .unwrap_or_else(|| "tag:localhost,2026-01-01:".into()))
    }

    /// Accepts a full `tag:` URI with this installation's prefix, or a short NAME.
    pub async fn list_uri(&self, s: &str) -> Result<ListUri> {
        let prefix = self.list_prefix().await?;
        // get(): a short name may put a multi-byte character across byte 4.
        if s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("tag:")) {
            let uri = ListUri::parse(s)?;
            if uri.prefix() != prefix {
                return Err(StoreError::invalid(
                    "list URI",
                    format!("{s:?}: lists of this server are named {prefix}NAME"),
                ));
            }
            Ok(uri)
        } else {
            ListUri::from_prefix(&prefix, s)
        }
    }

    pub async fn create_list(&self, uri: &ListUri, owner: Option<AccountId>) -> Result<List> {
        let uri = uri.clone();
        self.write(move |tx| {
            let conn = tx.conn();
            let exists: bool = conn.query_row("SELECT EXISTS(SELECT 1 FROM lists WHERE uri = ?1)", [uri.as_str()], |r| r.get(0))?;
            if exists {
                return Err(StoreError::AlreadyExists(Subject::List(uri.to_string())));
            }
            let owner_address: Option<String> = match owner {
                Some(o) => Some(
                    conn.query_row("SELECT address FROM accounts WHERE id = ?1", [o.0], |r| r.get(0))
                        .optional()?
                        .ok_or_else(|| StoreError::NotFound(Subject::Account(o.to_string())))?,
                ),
                None => None,
            };
            conn.execute(
                "INSERT INTO lists (uri, name, owner_account_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                (uri.as_str(), uri.name(), owner.map(|o| o.0), tx.now),
            )?;
            // Before logging: the change_log insert moves last_insert_rowid.
            let id = ListId(conn.last_insert_rowid());
            tx.log(owner, ChangeKind::ListChanged)?;
            Ok(List {
                id,
                uri: uri.to_string(),
                name: uri.name().to_string(),
                owner: owner_address.map(EmailAddress::stored),
                members: 0,
            })
        })
        .await
    }

    pub async fn delete_list(&self, uri: &ListUri) -> Result<()> {
        let uri = uri.clone();
        self.write(move |tx| {
            let owner: Option<Option<i64>> = tx
                .conn()
                .query_row(
                    "DELETE FROM lists WHERE uri = ?1 RETURNING owner_account_id",
                    [uri.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let owner =
                owner.ok_or_else(|| StoreError::NotFound(Subject::List(uri.to_string())))?;
            tx.log(owner.map(AccountId), ChangeKind::ListChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn lists(&self, which: ListVisibility) -> Result<Vec<List>> {
        let (visible, owned) = match which {
            ListVisibility::All => (None, None),
            ListVisibility::VisibleTo(a) => (Some(a.0), None),
            ListVisibility::OwnedBy(a) => (None, Some(a.0)),
        };
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT l.id, l.uri, l.name, a.address, (SELECT COUNT(*) FROM list_members m WHERE m.list_id = l.id) \
                 FROM lists l LEFT JOIN accounts a ON a.id = l.owner_account_id \
                 WHERE (?1 IS NULL OR l.owner_account_id IS NULL OR l.owner_account_id = ?1) \
                   AND (?2 IS NULL OR l.owner_account_id = ?2) ORDER BY l.name",
            )?;
            let rows = stmt.query_map((visible, owned), |r| {
                Ok(List {
                    id: ListId(r.get(0)?),
                    uri: r.get(1)?,
                    name: r.get(2)?,
                    owner: r.get::<_, Option<String>>(3)?.map(EmailAddress::stored),
                    members: r.get::<_, i64>(4)? as u64,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Adds members; returns how many were new (repeats are not an error).
    pub async fn add_list_members(&self, uri: &ListUri, values: Vec<String>) -> Result<u64> {
        for v in &values {
            validate_member(v)?;
        }
        let uri = uri.clone();
        self.write(move |tx| {
            let conn = tx.conn();
            let (id, owner): (i64, Option<i64>) = conn
                .query_row("SELECT id, owner_account_id FROM lists WHERE uri = ?1", [uri.as_str()], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?
                .ok_or_else(|| StoreError::NotFound(Subject::List(uri.to_string())))?;
            let mut added = 0;
            for v in &values {
                added += conn
                    .prepare_cached("INSERT OR IGNORE INTO list_members (list_id, value_norm, value) VALUES (?1, ?2, ?3)")?
                    .execute((id, normalize_member(v), v.trim()))? as u64;
            }
            tx.log(owner.map(AccountId), ChangeKind::ListChanged)?;
            Ok(added)
        })
        .await
    }

    /// Removes members; a value that is not a member fails the whole call.
    pub async fn remove_list_members(&self, uri: &ListUri, values: Vec<String>) -> Result<()> {
        let uri = uri.clone();
        self.write(move |tx| {
            let conn = tx.conn();
            let (id, owner): (i64, Option<i64>) = conn
                .query_row(
                    "SELECT id, owner_account_id FROM lists WHERE uri = ?1",
                    [uri.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(Subject::List(uri.to_string())))?;
            for v in &values {
                let n = conn
                    .prepare_cached(
                        "DELETE FROM list_members WHERE list_id = ?1 AND value_norm = ?2",
                    )?
                    .execute((id, normalize_member(v)))?;
                if n == 0 {
                    return Err(StoreError::NotFound(Subject::ListMember(v.clone())));
                }
            }
            tx.log(owner.map(AccountId), ChangeKind::ListChanged)?;
            Ok(())
        })
        .await
    }

    /// Members as entered, in order of their normalised value.
    pub async fn list_members(
        &self,
        viewer: Option<AccountId>,
        uri: &ListUri,
    ) -> Result<Vec<String>> {
        let uri = uri.clone();
        self.read(move |c| {
            let id = visible_list(c, viewer, uri.as_str())?;
            let mut stmt = c.prepare_cached(
                "SELECT value FROM list_members WHERE list_id = ?1 ORDER BY value_norm",
            )?;
            let rows = stmt.query_map([id.0], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// RFC 6134 `valid_ext_list` for `tag:` lists: exists and visible to `viewer`.
    pub async fn list_exists(&self, viewer: AccountId, uri: &str) -> Result<bool> {
        let uri = uri.to_string();
        self.read(move |c| match visible_list(c, Some(viewer), &uri) {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        })
        .await
    }

    /// Is `value` a member of the list `uri`, as seen by `viewer`'s scripts?
    /// A list that does not exist or belongs to someone else is `NotFound`.
    pub async fn list_contains(&self, viewer: AccountId, uri: &str, value: &str) -> Result<bool> {
        let (uri, norm) = (uri.to_string(), normalize_member(value));
        self.read(move |c| {
            let row: Option<bool> = c
                .prepare_cached(
                    "SELECT EXISTS(SELECT 1 FROM list_members m WHERE m.list_id = l.id AND m.value_norm = ?3) \
                     FROM lists l WHERE l.uri = ?1 AND (l.owner_account_id IS NULL OR l.owner_account_id = ?2)",
                )?
                .query_row((&uri, viewer.0, &norm), |r| r.get(0))
                .optional()?;
            row.ok_or(StoreError::NotFound(Subject::List(uri)))
        })
        .await
    }
}
