//! CREATE (with RFC 6154 USE), DELETE, RENAME, SUBSCRIBE and UNSUBSCRIBE.

use imap_proto::{Code, MailboxAttr};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

pub(crate) async fn create(s: &mut Session, name: &str, special_use: &[MailboxAttr]) -> Outcome {
    let account = account(s)?;
    if name.eq_ignore_ascii_case("INBOX") {
        return Err(Reply::no("INBOX already exists").code(Code::AlreadyExists));
    }
    // RFC 3501 6.3.3: a trailing delimiter only says more names will follow.
    let name = name.strip_suffix('/').unwrap_or(name);
    let use_attr = match special_use {
        [] => None,
        [one] => Some(one.name().to_string()),
        _ => {
            return Err(Reply::no("Only one special use per mailbox")
                .code(Code::Other("USEATTR".into(), None)));
        }
    };
    s.shared
        .store
        .create_mailbox(account, name, use_attr.as_deref())
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid {
                what: "special-use attribute",
                ..
            } => Reply::no("Unsupported special use").code(Code::Other("USEATTR".into(), None)),
            e => Reply::from(e),
        })?;
    Ok(Reply::ok("CREATE completed"))
}

pub(crate) async fn delete(s: &mut Session, name: &str) -> Outcome {
    let account = account(s)?;
    if s.state.selected().is_some_and(|m| m.name == name) {
        super::select::deselect(s);
    }
    s.shared.store.delete_mailbox(account, name).await?;
    Ok(Reply::ok("DELETE completed"))
}

pub(crate) async fn rename(s: &mut Session, from: &str, to: &str) -> Outcome {
    let account = account(s)?;
    s.shared.store.rename_mailbox(account, from, to).await?;
    if let Some(sel) = s.state.selected_mut()
        && sel.name == from
    {
        sel.name = to.to_string();
    }
    Ok(Reply::ok("RENAME completed"))
}

pub(crate) async fn subscribe(s: &mut Session, name: &str, on: bool) -> Outcome {
    let account = account(s)?;
    if on && s.shared.store.mailbox(account, name).await?.is_none() {
        return Err(Reply::no("No such mailbox").code(Code::Nonexistent));
    }
    s.shared.store.set_subscribed(account, name, on).await?;
    Ok(Reply::ok(if on {
        "SUBSCRIBE completed"
    } else {
        "UNSUBSCRIBE completed"
    }))
}
