//! What the admin UI and its API keep: browser sessions and API tokens (only
//! SHA-256 hashes of their secrets), and the counts the dashboard shows.

use rusqlite::{OptionalExtension, Row};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Store;
use crate::account::Account;
use crate::error::{Result, StoreError, Subject};
use crate::types::{AccountId, EmailAddress, now};

/// API tokens record their last use at most this often, so reads stay reads.
const LAST_USED_GRANULARITY: i64 = 300;

/// A live browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub account: Account,
    /// Every state-changing request must carry it (a form field or header).
    pub csrf_token: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub account: EmailAddress,
    pub name: String,
    pub created_at: i64,
    pub last_used: Option<i64>,
}

/// Totals for the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ServerCounts {
    pub domains: u64,
    pub accounts: u64,
    pub aliases: u64,
    pub messages: u64,
    pub message_bytes: u64,
    pub lists: u64,
    pub contacts: u64,
    pub scripts: u64,
    /// Queued messages with at least one recipient still to deliver.
    pub queued_messages: u64,
    pub queued_recipients: u64,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

const SESSION_ACCOUNT_COLUMNS: &str = "a.id, a.address, a.is_admin, a.quota_bytes, a.quota_messages, \
     a.used_bytes, a.used_messages, a.created_at";

fn account_at(r: &Row<'_>, at: usize) -> rusqlite::Result<Account> {
    Ok(Account {
        id: AccountId(r.get(at)?),
        address: EmailAddress::stored(r.get(at + 1)?),
        is_admin: r.get(at + 2)?,
        quota_bytes: r.get::<_, Option<i64>>(at + 3)?.map(|v| v as u64),
        quota_messages: r.get::<_, Option<i64>>(at + 4)?.map(|v| v as u64),
        used_bytes: r.get::<_, i64>(at + 5)? as u64,
        used_messages: r.get::<_, i64>(at + 6)? as u64,
        created_at: r.get(at + 7)?,
    })
}

fn validate_token_name(name: &str) -> Result<()> {
    if name.trim().is_empty() || name.len() > 100 || name.chars().any(|c| c.is_control()) {
        return Err(StoreError::invalid(
            "token name",
            "must be 1 to 100 characters without control characters",
        ));
    }
    Ok(())
}

impl Store {
    // Browser sessions ------------------------------------------------------

    /// Records a session for `token` (kept only as a hash) lasting `ttl_secs`;
    /// expired sessions are swept in the same transaction.
    pub async fn create_web_session(
        &self,
        account: AccountId,
        token: &str,
        csrf_token: &str,
        ttl_secs: i64,
    ) -> Result<i64> {
        let (hash, csrf) = (token_hash(token), csrf_token.to_string());
        self.write(move |tx| {
            let expires_at = tx.now + ttl_secs;
            tx.conn()
                .execute("DELETE FROM web_sessions WHERE expires_at <= ?1", [tx.now])?;
            tx.conn().execute(
                "INSERT INTO web_sessions (token_hash, account_id, csrf_token, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (&hash, account.0, &csrf, tx.now, expires_at),
            )?;
            Ok(expires_at)
        })
        .await
    }

    /// The session `token` names, with its account, unless it expired.
    pub async fn web_session(&self, token: &str) -> Result<Option<WebSession>> {
        let hash = token_hash(token);
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT s.csrf_token, s.expires_at, {SESSION_ACCOUNT_COLUMNS} FROM web_sessions s \
                 JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ?1 AND s.expires_at > ?2"
            ))?
            .query_row((&hash, now()), |r| {
                Ok(WebSession {
                    csrf_token: r.get(0)?,
                    expires_at: r.get(1)?,
                    account: account_at(r, 2)?,
                })
            })
            .optional()?)
        })
        .await
    }

    /// Logs a session out; an unknown token is not an error.
    pub async fn delete_web_session(&self, token: &str) -> Result<()> {
        let hash = token_hash(token);
        self.write(move |tx| {
            tx.conn()
                .execute("DELETE FROM web_sessions WHERE token_hash = ?1", [&hash])?;
            Ok(())
        })
        .await
    }

    /// Ends every session of an account (after a password change), but `keep`.
    pub async fn delete_web_sessions_of(
        &self,
        account: AccountId,
        keep: Option<&str>,
    ) -> Result<u64> {
        let keep = keep.map(token_hash);
        self.write(move |tx| {
            Ok(tx.conn().execute(
                "DELETE FROM web_sessions WHERE account_id = ?1 AND (?2 IS NULL OR token_hash != ?2)",
                (account.0, keep),
            )? as u64)
        })
        .await
    }

    // API tokens ------------------------------------------------------------

    /// Records a bearer token acting as `account` (kept only as a hash).
    pub async fn create_api_token(
        &self,
        account: AccountId,
        name: &str,
        token: &str,
    ) -> Result<ApiToken> {
        validate_token_name(name)?;
        let (name, hash) = (name.trim().to_string(), token_hash(token));
        self.write(move |tx| {
            let conn = tx.conn();
            let address: String = conn
                .query_row(
                    "SELECT address FROM accounts WHERE id = ?1",
                    [account.0],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| StoreError::NotFound(Subject::Account(account.to_string())))?;
            conn.execute(
                "INSERT INTO api_tokens (token_hash, account_id, name, created_at) VALUES (?1, ?2, ?3, ?4)",
                (&hash, account.0, &name, tx.now),
            )?;
            Ok(ApiToken {
                id: conn.last_insert_rowid(),
                account: EmailAddress::stored(address),
                name,
                created_at: tx.now,
                last_used: None,
            })
        })
        .await
    }

    /// Tokens, all or one account's, newest first.
    pub async fn api_tokens(&self, account: Option<AccountId>) -> Result<Vec<ApiToken>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT t.id, a.address, t.name, t.created_at, t.last_used FROM api_tokens t \
                 JOIN accounts a ON a.id = t.account_id WHERE ?1 IS NULL OR t.account_id = ?1 \
                 ORDER BY t.id DESC",
            )?;
            let rows = stmt.query_map([account.map(|a| a.0)], |r| {
                Ok(ApiToken {
                    id: r.get(0)?,
                    account: EmailAddress::stored(r.get(1)?),
                    name: r.get(2)?,
                    created_at: r.get(3)?,
                    last_used: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    pub async fn delete_api_token(&self, id: i64) -> Result<()> {
        self.write(move |tx| {
            let n = tx
                .conn()
                .execute("DELETE FROM api_tokens WHERE id = ?1", [id])?;
            if n == 0 {
                return Err(StoreError::NotFound(Subject::ApiToken(id)));
            }
            Ok(())
        })
        .await
    }

    /// The account a bearer token acts as; None for an unknown token.
    pub async fn api_token_account(&self, token: &str) -> Result<Option<Account>> {
        let hash = token_hash(token);
        let found = self
            .read(move |c| {
                Ok(c.prepare_cached(&format!(
                    "SELECT t.id, t.last_used, {SESSION_ACCOUNT_COLUMNS} FROM api_tokens t \
                     JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = ?1"
                ))?
                .query_row([&hash], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        account_at(r, 2)?,
                    ))
                })
                .optional()?)
            })
            .await?;
        let Some((id, last_used, account)) = found else {
            return Ok(None);
        };
        if last_used.is_none_or(|t| now() - t >= LAST_USED_GRANULARITY) {
            self.write(move |tx| {
                tx.conn().execute(
                    "UPDATE api_tokens SET last_used = ?1 WHERE id = ?2",
                    (tx.now, id),
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(Some(account))
    }

    // Dashboard -------------------------------------------------------------

    pub async fn server_counts(&self) -> Result<ServerCounts> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM accounts), \
                   (SELECT COUNT(*) FROM aliases), \
                   (SELECT COALESCE(SUM(used_messages), 0) FROM accounts), \
                   (SELECT COALESCE(SUM(used_bytes), 0) FROM accounts), \
                   (SELECT COUNT(*) FROM lists), (SELECT COUNT(*) FROM contacts), \
                   (SELECT COUNT(*) FROM sieve_scripts), \
                   (SELECT COUNT(DISTINCT queue_id) FROM queue_recipients WHERE status = 'pending'), \
                   (SELECT COUNT(*) FROM queue_recipients WHERE status = 'pending')",
                [],
                |r| {
                    let n = |i: usize| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                    Ok(ServerCounts {
                        domains: n(0)?,
                        accounts: n(1)?,
                        aliases: n(2)?,
                        messages: n(3)?,
                        message_bytes: n(4)?,
                        lists: n(5)?,
                        contacts: n(6)?,
                        scripts: n(7)?,
                        queued_messages: n(8)?,
                        queued_recipients: n(9)?,
                    })
                },
            )?)
        })
        .await
    }
}
