//! Domains, accounts (argon2id passwords, admin role, quota) and aliases.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::changes::ChangeKind;
use crate::error::{Result, StoreError, Subject};
use crate::mailbox::{self, SPECIAL_MAILBOXES};
use crate::types::{AccountId, DomainId, DomainName, EmailAddress};
use crate::writer::Tx;
use crate::{Store, blocking};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Domain {
    pub id: DomainId,
    pub name: String,
    pub created_at: i64,
    pub accounts: u64,
    pub aliases: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: AccountId,
    pub address: EmailAddress,
    pub is_admin: bool,
    pub quota_bytes: Option<u64>,
    pub quota_messages: Option<u64>,
    pub used_bytes: u64,
    pub used_messages: u64,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alias {
    pub address: EmailAddress,
    pub target: EmailAddress,
    pub created_at: i64,
}

const ACCOUNT_COLUMNS: &str =
    "id, address, is_admin, quota_bytes, quota_messages, used_bytes, used_messages, created_at";

fn account_from_row(r: &Row<'_>) -> rusqlite::Result<Account> {
    let address: String = r.get(1)?;
    Ok(Account {
        id: AccountId(r.get(0)?),
        // Stored addresses were parsed on the way in.
        address: EmailAddress::stored(address),
        is_admin: r.get(2)?,
        quota_bytes: r.get::<_, Option<i64>>(3)?.map(|v| v as u64),
        quota_messages: r.get::<_, Option<i64>>(4)?.map(|v| v as u64),
        used_bytes: r.get::<_, i64>(5)? as u64,
        used_messages: r.get::<_, i64>(6)? as u64,
        created_at: r.get(7)?,
    })
}

fn hash_password(password: &str) -> Result<String> {
    if password.is_empty() {
        return Err(StoreError::invalid("password", "empty"));
    }
    if password.len() > 1024 {
        return Err(StoreError::invalid("password", "longer than 1024 octets"));
    }
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::PasswordHash(e.to_string()))
}

/// Verifying against this when the account does not exist keeps the time of a
/// failed login the same whether or not the address is known.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$tQ4ltoasq4nrhqmxNNjnQZTt5e8WAD3UXIPygFg/hmI";

fn password_matches(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

pub(crate) fn domain_id(conn: &Connection, domain: &str) -> Result<Option<DomainId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM domains WHERE name = ?1")?
        .query_row([domain], |r| r.get(0))
        .optional()?
        .map(DomainId))
}

pub(crate) fn account_id(conn: &Connection, address: &EmailAddress) -> Result<AccountId> {
    conn.prepare_cached("SELECT id FROM accounts WHERE address = ?1")?
        .query_row([address.as_str()], |r| r.get(0))
        .optional()?
        .map(AccountId)
        .ok_or_else(|| StoreError::NotFound(Subject::Account(address.to_string())))
}

fn address_taken(conn: &Connection, address: &EmailAddress) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM accounts WHERE address = ?1) \
             OR EXISTS(SELECT 1 FROM aliases WHERE address = ?1)",
        )?
        .query_row([address.as_str()], |r| r.get(0))?)
}

impl Store {
    // Domains -------------------------------------------------------------

    pub async fn create_domain(&self, name: &str) -> Result<Domain> {
        let name = DomainName::parse(name)?;
        self.write(move |tx| {
            if domain_id(tx.conn(), name.as_str())?.is_some() {
                return Err(StoreError::AlreadyExists(Subject::Domain(name.to_string())));
            }
            tx.conn().execute(
                "INSERT INTO domains (name, created_at) VALUES (?1, ?2)",
                (name.as_str(), tx.now),
            )?;
            Ok(Domain {
                id: DomainId(tx.conn().last_insert_rowid()),
                name: name.to_string(),
                created_at: tx.now,
                accounts: 0,
                aliases: 0,
            })
        })
        .await
    }

    /// Deletes an empty domain; one that still has users or aliases is refused
    /// so that nothing is lost by accident.
    pub async fn delete_domain(&self, name: &str) -> Result<()> {
        let name = DomainName::parse(name)?;
        self.write(move |tx| {
            let id = domain_id(tx.conn(), name.as_str())?
                .ok_or_else(|| StoreError::NotFound(Subject::Domain(name.to_string())))?;
            let (users, aliases): (i64, i64) = tx.conn().query_row(
                "SELECT (SELECT COUNT(*) FROM accounts WHERE domain_id = ?1), \
                        (SELECT COUNT(*) FROM aliases WHERE domain_id = ?1)",
                [id.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if users + aliases > 0 {
                return Err(StoreError::Refused(format!(
                    "domain {name} still has {users} user(s) and {aliases} alias(es); delete them first"
                )));
            }
            tx.conn().execute("DELETE FROM domains WHERE id = ?1", [id.0])?;
            Ok(())
        })
        .await
    }

    pub async fn list_domains(&self) -> Result<Vec<Domain>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT d.id, d.name, d.created_at, \
                   (SELECT COUNT(*) FROM accounts a WHERE a.domain_id = d.id), \
                   (SELECT COUNT(*) FROM aliases l WHERE l.domain_id = d.id) \
                 FROM domains d ORDER BY d.name",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Domain {
                    id: DomainId(r.get(0)?),
                    name: r.get(1)?,
                    created_at: r.get(2)?,
                    accounts: r.get::<_, i64>(3)? as u64,
                    aliases: r.get::<_, i64>(4)? as u64,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Is this a domain we receive mail for?
    pub async fn is_local_domain(&self, name: &str) -> Result<bool> {
        let Ok(name) = DomainName::parse(name) else {
            return Ok(false);
        };
        self.read(move |c| Ok(domain_id(c, name.as_str())?.is_some()))
            .await
    }

    // Accounts ------------------------------------------------------------

    /// Creates an account with its standard mailboxes (SPECIAL-USE) and its
    /// `default` address book.
    pub async fn create_account(
        &self,
        address: &EmailAddress,
        password: &str,
        is_admin: bool,
    ) -> Result<Account> {
        let pw = password.to_string();
        let hash = blocking(move || hash_password(&pw)).await?;
        let address = address.clone();
        self.write(move |tx| {
            let conn = tx.conn();
            let domain = domain_id(conn, address.domain())?
                .ok_or_else(|| StoreError::UnknownDomain(address.domain().to_string()))?;
            if address_taken(conn, &address)? {
                return Err(StoreError::AlreadyExists(Subject::Address(address.to_string())));
            }
            conn.execute(
                "INSERT INTO accounts (address, domain_id, password_hash, is_admin, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                (address.as_str(), domain.0, &hash, is_admin, tx.now),
            )?;
            let id = AccountId(conn.last_insert_rowid());
            for (name, special) in SPECIAL_MAILBOXES {
                mailbox::create_in_tx(tx, id, name, special)?;
                mailbox::subscribe_in_tx(tx, id, name, true)?;
            }
            conn.execute(
                "INSERT INTO addressbooks (account_id, name, created_at) VALUES (?1, 'default', ?2)",
                (id.0, tx.now),
            )?;
            tx.log(Some(id), ChangeKind::AccountChanged)?;
            Ok(Account {
                id,
                address,
                is_admin,
                quota_bytes: None,
                quota_messages: None,
                used_bytes: 0,
                used_messages: 0,
                created_at: tx.now,
            })
        })
        .await
    }

    /// Deletes an account and everything it owns: mailboxes, messages (blobs
    /// no longer referenced), aliases, books, lists it owns, scripts.
    pub async fn delete_account(&self, address: &EmailAddress) -> Result<()> {
        let address = address.clone();
        self.write(move |tx| {
            let id = account_id(tx.conn(), &address)?;
            crate::message::release_account_blobs(tx, id)?;
            tx.conn()
                .execute("DELETE FROM accounts WHERE id = ?1", [id.0])?;
            tx.log(Some(id), ChangeKind::AccountChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn set_password(&self, address: &EmailAddress, password: &str) -> Result<()> {
        let pw = password.to_string();
        let hash = blocking(move || hash_password(&pw)).await?;
        let address = address.clone();
        self.write(move |tx| {
            let id = account_id(tx.conn(), &address)?;
            tx.conn().execute(
                "UPDATE accounts SET password_hash = ?1 WHERE id = ?2",
                (&hash, id.0),
            )?;
            tx.log(Some(id), ChangeKind::AccountChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn set_admin(&self, address: &EmailAddress, is_admin: bool) -> Result<()> {
        let address = address.clone();
        self.write(move |tx| {
            let id = account_id(tx.conn(), &address)?;
            tx.conn().execute(
                "UPDATE accounts SET is_admin = ?1 WHERE id = ?2",
                (is_admin, id.0),
            )?;
            tx.log(Some(id), ChangeKind::AccountChanged)?;
            Ok(())
        })
        .await
    }

    /// Sets the storage quota (None: no limit).
    pub async fn set_quota(
        &self,
        address: &EmailAddress,
        bytes: Option<u64>,
        messages: Option<u64>,
    ) -> Result<()> {
        let address = address.clone();
        self.write(move |tx| {
            let id = account_id(tx.conn(), &address)?;
            tx.conn().execute(
                "UPDATE accounts SET quota_bytes = ?1, quota_messages = ?2 WHERE id = ?3",
                (bytes.map(|b| b as i64), messages.map(|m| m as i64), id.0),
            )?;
            tx.log(Some(id), ChangeKind::AccountChanged)?;
            Ok(())
        })
        .await
    }

    pub async fn account(&self, address: &EmailAddress) -> Result<Option<Account>> {
        let address = address.clone();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE address = ?1"
            ))?
            .query_row([address.as_str()], account_from_row)
            .optional()?)
        })
        .await
    }

    pub async fn account_by_id(&self, id: AccountId) -> Result<Option<Account>> {
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
            ))?
            .query_row([id.0], account_from_row)
            .optional()?)
        })
        .await
    }

    /// Accounts, all or of one domain, by address.
    pub async fn list_accounts(&self, domain: Option<&str>) -> Result<Vec<Account>> {
        let domain = domain.map(DomainName::parse).transpose()?;
        self.read(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {ACCOUNT_COLUMNS} FROM accounts \
                 WHERE ?1 IS NULL OR domain_id = (SELECT id FROM domains WHERE name = ?1) \
                 ORDER BY address"
            ))?;
            let rows = stmt.query_map([domain.as_ref().map(|d| d.as_str())], account_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    /// Checks a password. Ok(None) for an unknown address or a wrong password
    /// alike (and in the same time); Err only when the store itself failed.
    pub async fn verify_password(&self, address: &str, password: &str) -> Result<Option<Account>> {
        let parsed = EmailAddress::parse(address).ok();
        let found = match parsed {
            Some(address) => {
                self.read(move |c| {
                    Ok(c.prepare_cached(&format!(
                        "SELECT {ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE address = ?1"
                    ))?
                    .query_row([address.as_str()], |r| {
                        Ok((account_from_row(r)?, r.get::<_, String>(8)?))
                    })
                    .optional()?)
                })
                .await?
            }
            None => None,
        };
        if let Some((account, hash)) = &found
            && self
                .inner
                .verified
                .check(account.address.as_str(), hash, password)
        {
            return Ok(Some(account.clone()));
        }
        let password = password.to_string();
        let store = self.clone();
        blocking(move || match found {
            Some((account, hash)) => {
                let ok = password_matches(&hash, &password);
                if ok {
                    store
                        .inner
                        .verified
                        .remember(account.address.as_str(), &hash, &password);
                }
                Ok(ok.then_some(account))
            }
            None => {
                password_matches(DUMMY_HASH, &password);
                Ok(None)
            }
        })
        .await
    }

    // Aliases -------------------------------------------------------------

    pub async fn create_alias(&self, alias: &EmailAddress, target: &EmailAddress) -> Result<Alias> {
        let (alias, target) = (alias.clone(), target.clone());
        self.write(move |tx| {
            let conn = tx.conn();
            let domain = domain_id(conn, alias.domain())?
                .ok_or_else(|| StoreError::UnknownDomain(alias.domain().to_string()))?;
            let account = account_id(conn, &target)?;
            if address_taken(conn, &alias)? {
                return Err(StoreError::AlreadyExists(Subject::Address(alias.to_string())));
            }
            conn.execute(
                "INSERT INTO aliases (address, domain_id, account_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                (alias.as_str(), domain.0, account.0, tx.now),
            )?;
            tx.log(Some(account), ChangeKind::AccountChanged)?;
            Ok(Alias {
                address: alias,
                target,
                created_at: tx.now,
            })
        })
        .await
    }

    pub async fn delete_alias(&self, alias: &EmailAddress) -> Result<()> {
        let alias = alias.clone();
        self.write(move |tx| {
            let account: Option<i64> = tx
                .conn()
                .query_row(
                    "DELETE FROM aliases WHERE address = ?1 RETURNING account_id",
                    [alias.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            let account =
                account.ok_or_else(|| StoreError::NotFound(Subject::Alias(alias.to_string())))?;
            tx.log(Some(AccountId(account)), ChangeKind::AccountChanged)?;
            Ok(())
        })
        .await
    }

    /// Aliases, all or those in one domain or pointing to one account.
    pub async fn list_aliases(
        &self,
        domain: Option<&str>,
        target: Option<&EmailAddress>,
    ) -> Result<Vec<Alias>> {
        let domain = domain.map(DomainName::parse).transpose()?;
        let target = target.cloned();
        self.read(move |c| {
            let mut stmt = c.prepare(
                "SELECT l.address, a.address, l.created_at FROM aliases l \
                 JOIN accounts a ON a.id = l.account_id \
                 WHERE (?1 IS NULL OR l.domain_id = (SELECT id FROM domains WHERE name = ?1)) \
                   AND (?2 IS NULL OR a.address = ?2) \
                 ORDER BY l.address",
            )?;
            let rows = stmt.query_map(
                (
                    domain.as_ref().map(|d| d.as_str()),
                    target.as_ref().map(|t| t.as_str()),
                ),
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)),
            )?;
            let mut out = Vec::new();
            for row in rows {
                let (alias, target, created_at) = row?;
                out.push(Alias {
                    address: EmailAddress::stored(alias),
                    target: EmailAddress::stored(target),
                    created_at,
                });
            }
            Ok(out)
        })
        .await
    }

    /// The account mail to `address` belongs to: an account's address, an
    /// alias, or either with an RFC 5233 `+detail` (returned too).
    pub async fn resolve_recipient(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<(AccountId, Option<String>)>> {
        let address = address.clone();
        self.read(move |c| {
            let lookup = |a: &EmailAddress| -> Result<Option<AccountId>> {
                Ok(c.prepare_cached(
                    "SELECT id FROM accounts WHERE address = ?1 \
                     UNION ALL SELECT account_id FROM aliases WHERE address = ?1 LIMIT 1",
                )?
                .query_row([a.as_str()], |r| r.get(0))
                .optional()?
                .map(AccountId))
            };
            if let Some(id) = lookup(&address)? {
                return Ok(Some((id, None)));
            }
            if let Some(base) = address.without_detail()
                && let Some(id) = lookup(&base)?
            {
                let detail = address
                    .local_part()
                    .split_once('+')
                    .map(|(_, d)| d.to_string());
                return Ok(Some((id, detail)));
            }
            Ok(None)
        })
        .await
    }

    /// The addresses an account may send as: its own and its aliases.
    pub async fn addresses_of(&self, account: AccountId) -> Result<Vec<EmailAddress>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT address FROM accounts WHERE id = ?1 \
                 UNION ALL SELECT address FROM aliases WHERE account_id = ?1",
            )?;
            let rows = stmt.query_map([account.0], |r| r.get::<_, String>(0))?;
            Ok(rows
                .map(|r| r.map(EmailAddress::stored))
                .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }
}

pub(crate) fn touch_account(tx: &Tx<'_>, id: AccountId, bytes: i64, messages: i64) -> Result<()> {
    tx.conn()
        .prepare_cached(
            "UPDATE accounts SET used_bytes = used_bytes + ?1, used_messages = used_messages + ?2 \
             WHERE id = ?3",
        )?
        .execute((bytes, messages, id.0))?;
    Ok(())
}
