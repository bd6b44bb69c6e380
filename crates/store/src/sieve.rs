//! Sieve scripts per user, at most one active. Compiling is the MDA's and
//! ManageSieve's business; the store keeps bytes.

use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::Store;
use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::types::{AccountId, ScriptId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Script {
    pub id: ScriptId,
    pub name: String,
    pub content: Vec<u8>,
    pub active: bool,
    pub last_error: Option<String>,
    pub updated_at: i64,
}

/// RFC 5804 1.6: names are UTF-8 without controls (Cc), line or paragraph separators.
pub fn validate_script_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(StoreError::invalid(
            "script name",
            "must be 1 to 512 octets",
        ));
    }
    if name
        .chars()
        .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
    {
        return Err(StoreError::invalid(
            "script name",
            format!("{name:?} has control characters"),
        ));
    }
    Ok(())
}

const COLUMNS: &str = "id, name, content, active, last_error, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Script> {
    Ok(Script {
        id: ScriptId(r.get(0)?),
        name: r.get(1)?,
        content: r.get(2)?,
        active: r.get(3)?,
        last_error: r.get(4)?,
        updated_at: r.get(5)?,
    })
}

fn script_id(conn: &Connection, account: AccountId, name: &str) -> Result<Option<(i64, bool)>> {
    Ok(conn
        .prepare_cached("SELECT id, active FROM sieve_scripts WHERE account_id = ?1 AND name = ?2")?
        .query_row((account.0, name), |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

impl Store {
    /// Creates or replaces a script; replacing keeps it active if it was.
    pub async fn put_script(&self, account: AccountId, name: &str, content: Vec<u8>) -> Result<()> {
        validate_script_name(name)?;
        let name = name.to_string();
        self.write(move |tx| {
            tx.conn().execute(
                "INSERT INTO sieve_scripts (account_id, name, content, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4) \
                 ON CONFLICT (account_id, name) DO UPDATE SET content = excluded.content, \
                   updated_at = excluded.updated_at, last_error = NULL, last_error_at = NULL",
                (account.0, &name, &content, tx.now),
            )?;
            tx.log(Some(account), ChangeKind::ScriptChanged { name })?;
            Ok(())
        })
        .await
    }

    pub async fn script(&self, account: AccountId, name: &str) -> Result<Script> {
        let name = name.to_string();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sieve_scripts WHERE account_id = ?1 AND name = ?2"
            ))?
            .query_row((account.0, &name), from_row)
            .optional()?
            .ok_or(StoreError::NotFound(Subject::Script(name)))
        })
        .await
    }

    pub async fn scripts(&self, account: AccountId) -> Result<Vec<Script>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sieve_scripts WHERE account_id = ?1 ORDER BY name"
            ))?;
            let rows = stmt.query_map([account.0], from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn active_script(&self, account: AccountId) -> Result<Option<Script>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM sieve_scripts WHERE account_id = ?1 AND active = 1"
            ))?
            .query_row([account.0], from_row)
            .optional()?)
        })
        .await
    }

    /// Makes `name` the active script; None deactivates all (RFC 5804 SETACTIVE "").
    pub async fn activate_script(&self, account: AccountId, name: Option<&str>) -> Result<()> {
        let name = name.map(str::to_string);
        self.write(move |tx| {
            let conn = tx.conn();
            let id = match &name {
                Some(n) => Some(
                    script_id(conn, account, n)?
                        .ok_or_else(|| StoreError::NotFound(Subject::Script(n.clone())))?
                        .0,
                ),
                None => None,
            };
            conn.execute(
                "UPDATE sieve_scripts SET active = 0 WHERE account_id = ?1 AND active = 1",
                [account.0],
            )?;
            if let Some(id) = id {
                conn.execute("UPDATE sieve_scripts SET active = 1 WHERE id = ?1", [id])?;
            }
            tx.log(
                Some(account),
                ChangeKind::ScriptChanged {
                    name: name.unwrap_or_default(),
                },
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes a script; the active one is refused (RFC 5804 2.10).
    pub async fn delete_script(&self, account: AccountId, name: &str) -> Result<()> {
        let name = name.to_string();
        self.write(move |tx| {
            let (id, active) = script_id(tx.conn(), account, &name)?
                .ok_or_else(|| StoreError::NotFound(Subject::Script(name.clone())))?;
            if active {
                return Err(StoreError::Refused(format!(
                    "script {name} is active; deactivate it first"
                )));
            }
            tx.conn()
                .execute("DELETE FROM sieve_scripts WHERE id = ?1", [id])?;
            tx.log(Some(account), ChangeKind::ScriptChanged { name })?;
            Ok(())
        })
        .await
    }

    pub async fn rename_script(&self, account: AccountId, from: &str, to: &str) -> Result<()> {
        validate_script_name(to)?;
        let (from, to) = (from.to_string(), to.to_string());
        self.write(move |tx| {
            let conn = tx.conn();
            let (id, _) = script_id(conn, account, &from)?
                .ok_or_else(|| StoreError::NotFound(Subject::Script(from.clone())))?;
            if script_id(conn, account, &to)?.is_some() {
                return Err(StoreError::AlreadyExists(Subject::Script(to)));
            }
            conn.execute(
                "UPDATE sieve_scripts SET name = ?1, updated_at = ?2 WHERE id = ?3",
                (&to, tx.now, id),
            )?;
            tx.log(Some(account), ChangeKind::ScriptChanged { name: to })?;
            Ok(())
        })
        .await
    }

    /// Records why running a script failed, where the user can see it.
    pub async fn record_script_error(
        &self,
        account: AccountId,
        name: &str,
        error: &str,
    ) -> Result<()> {
        let (name, error) = (name.to_string(), error.to_string());
        self.write(move |tx| {
            tx.conn().execute(
                "UPDATE sieve_scripts SET last_error = ?1, last_error_at = ?2 WHERE account_id = ?3 AND name = ?4",
                (&error, tx.now, account.0, &name),
            )?;
            Ok(())
        })
        .await
    }
}
