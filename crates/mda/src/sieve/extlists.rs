//! External lists for Sieve (RFC 6134): `:list` lookups, `valid_ext_list` and
//! `redirect :list`, answered by indexed store queries for the recipient.

use store::{AccountId, EmailAddress, Store, StoreError};
use zest_core::sieve::ExtListName;

use super::EvalError;

/// A list name the script gave, parsed, or why it cannot be used (a runtime
/// error in the script: RFC 6134 2.2 "permanently unable to query the list").
fn parse(name: &str) -> Result<ExtListName, EvalError> {
    ExtListName::parse(name).map_err(|e| EvalError::Script(e.to_string()))
}

/// Store failures are temporary (RFC 6134 3); a list that does not exist or
/// is not the user's is the script's error.
fn lookup_error(name: &str, e: StoreError) -> EvalError {
    match e {
        StoreError::NotFound(_) => {
            EvalError::Script(format!("external list {name:?} does not exist"))
        }
        e => EvalError::Temporary(format!("external list {name:?}: {e}")),
    }
}

/// RFC 6134 2.2: is any of `values` (trimmed) in any of `lists`? Returns the
/// value that matched, for `${0}`.
pub(crate) async fn contains(
    store: &Store,
    account: AccountId,
    lists: &[String],
    values: &[String],
) -> Result<Option<String>, EvalError> {
    let parsed = lists
        .iter()
        .map(|l| parse(l).map(|p| (l, p)))
        .collect::<Result<Vec<_>, _>>()?;
    for (name, list) in &parsed {
        for value in values {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            let found = match list {
                ExtListName::AddressBook(book) => {
                    store.addrbook_contains(account, book, value).await
                }
                ExtListName::Tag(uri) => store.list_contains(account, uri.as_str(), value).await,
            }
            .map_err(|e| lookup_error(name, e))?;
            if found {
                return Ok(Some(value.to_string()));
            }
        }
    }
    Ok(None)
}

/// RFC 6134 2.7: every name is valid, supported and usable by this user.
pub(crate) async fn valid(
    store: &Store,
    account: AccountId,
    lists: &[String],
) -> Result<bool, EvalError> {
    for name in lists {
        let Ok(list) = ExtListName::parse(name) else {
            return Ok(false);
        };
        let exists = match &list {
            ExtListName::AddressBook(book) => {
                match store.addrbook_contains(account, book, "").await {
                    Ok(_) => true,
                    Err(StoreError::NotFound(_)) => false,
                    Err(e) => return Err(EvalError::Temporary(e.to_string())),
                }
            }
            ExtListName::Tag(uri) => store
                .list_exists(account, uri.as_str())
                .await
                .map_err(|e| EvalError::Temporary(e.to_string()))?,
        };
        if !exists {
            return Ok(false);
        }
    }
    Ok(true)
}

/// RFC 6134 2.3: the addresses of `redirect :list`. Members that are not
/// addresses are skipped; more than `max` addresses is an error (RFC 6134 3:
/// limits against mailbombs).
pub(crate) async fn members(
    store: &Store,
    account: AccountId,
    name: &str,
    max: usize,
) -> Result<Vec<EmailAddress>, EvalError> {
    let list = parse(name)?;
    let raw: Vec<String> = match &list {
        ExtListName::AddressBook(book) => {
            let limit = u32::try_from(max.saturating_add(1)).unwrap_or(u32::MAX);
            store
                .contacts(account, book, None, limit, 0)
                .await
                .map_err(|e| lookup_error(name, e))?
                .into_iter()
                .flat_map(|c| c.emails)
                .collect()
        }
        ExtListName::Tag(uri) => store
            .list_members(Some(account), uri)
            .await
            .map_err(|e| lookup_error(name, e))?,
    };
    let mut out: Vec<EmailAddress> = Vec::new();
    for m in raw {
        // A pattern ("sz*@example.com") is not an address to send to (RFC 6134 2.3).
        let pattern = m.contains(['*', '?']);
        match EmailAddress::parse(&m) {
            Ok(a) if !pattern && !out.contains(&a) => out.push(a),
            Ok(_) if !pattern => {}
            _ => tracing::warn!(list = %name, "skipping a list member that is not an address"),
        }
    }
    if out.len() > max {
        return Err(EvalError::Script(format!(
            "redirect :list {name:?} has more than {max} recipients"
        )));
    }
    Ok(out)
}
