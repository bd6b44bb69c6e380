//! Who may see what: an admin sees everything; any other user only their own
//! account's data. Every page and API call that names a user, book, list or
//! script resolves it here, so editing an id in a URL reaches nothing else.
//! What is not yours is "not found", never "forbidden": it does not exist for you.

use store::{Account, EmailAddress, List, ListUri, ListVisibility};

use crate::app::AppState;
use crate::error::{AppError, AppResult};

pub fn require_admin(viewer: &Account) -> AppResult<()> {
    if viewer.is_admin {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The account `address` names, if `viewer` may manage its data.
pub async fn owner(app: &AppState, viewer: &Account, address: &str) -> AppResult<Account> {
    let address = EmailAddress::parse(address).map_err(|_| AppError::NotFound)?;
    if !viewer.is_admin && viewer.address != address {
        return Err(AppError::NotFound);
    }
    if viewer.address == address {
        return Ok(viewer.clone());
    }
    app.store.account(&address).await?.ok_or(AppError::NotFound)
}

/// The list `name` (a short NAME or the full `tag:` URI), if `viewer` may manage it:
/// an admin any list, a user the lists they own.
pub async fn list(app: &AppState, viewer: &Account, name: &str) -> AppResult<(ListUri, List)> {
    let uri = app
        .store
        .list_uri(name)
        .await
        .map_err(|_| AppError::NotFound)?;
    let which = if viewer.is_admin {
        ListVisibility::All
    } else {
        ListVisibility::OwnedBy(viewer.id)
    };
    let found = app
        .store
        .lists(which)
        .await?
        .into_iter()
        .find(|l| l.uri == uri.as_str())
        .ok_or(AppError::NotFound)?;
    Ok((uri, found))
}
