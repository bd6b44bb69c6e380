//! Each domain's DKIM signing key (RFC 6376), kept in the domains table.

use std::fmt;

use rusqlite::OptionalExtension;

use crate::Store;
use crate::account::domain_id;
use crate::error::{Result, StoreError, Subject};
use crate::types::DomainName;

/// A domain's signing key. `private_key` is base64 DER (PKCS#1 for RSA,
/// PKCS#8 for Ed25519); its Debug output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct DkimKey {
    pub selector: String,
    /// "rsa-sha256" or "ed25519-sha256".
    pub algorithm: String,
    pub private_key: String,
}

impl fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKey")
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"***")
            .finish()
    }
}

impl Store {
    /// Sets (or with None removes) a domain's DKIM key.
    pub async fn set_dkim_key(&self, domain: &str, key: Option<DkimKey>) -> Result<()> {
        let name = DomainName::parse(domain)?;
        self.write(move |tx| {
            let conn = tx.conn();
            let id = domain_id(conn, name.as_str())?
                .ok_or_else(|| StoreError::NotFound(Subject::Domain(name.as_str().to_string())))?;
            conn.execute(
                "UPDATE domains SET dkim_selector = ?1, dkim_algorithm = ?2, dkim_private_key = ?3 WHERE id = ?4",
                (
                    key.as_ref().map(|k| &k.selector),
                    key.as_ref().map(|k| &k.algorithm),
                    key.as_ref().map(|k| &k.private_key),
                    id.0,
                ),
            )?;
            Ok(())
        })
        .await
    }

    /// A domain's DKIM key; None when the domain has none or is not ours.
    pub async fn dkim_key(&self, domain: &str) -> Result<Option<DkimKey>> {
        let Ok(name) = DomainName::parse(domain) else {
            return Ok(None);
        };
        self.read(move |c| {
            let row: Option<(Option<String>, Option<String>, Option<String>)> = c
                .prepare_cached(
                    "SELECT dkim_selector, dkim_algorithm, dkim_private_key FROM domains WHERE name = ?1",
                )?
                .query_row([name.as_str()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            Ok(match row {
                Some((Some(selector), Some(algorithm), Some(private_key))) => Some(DkimKey {
                    selector,
                    algorithm,
                    private_key,
                }),
                _ => None,
            })
        })
        .await
    }
}
