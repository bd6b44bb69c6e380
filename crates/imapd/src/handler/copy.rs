//! COPY, MOVE (RFC 6851) and their UID forms, answering COPYUID (RFC 4315).
//! Flags and keywords travel with the messages.

use imap_proto::{Code, SequenceSet, Status, StatusResponse};
use store::Uid;

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

pub(crate) async fn copy(
    s: &mut Session,
    uid: bool,
    set: &SequenceSet,
    to: &str,
    moving: bool,
) -> Outcome {
    let account = account(s)?;
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected_mut() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    if moving && sel.read_only {
        return Err(Reply::no("The mailbox is read-only").code(Code::Cannot));
    }
    let indices = sel.resolve(set, uid).map_err(Reply::bad)?;
    let uids: Vec<Uid> = indices
        .iter()
        .filter(|&&i| !sel.msgs[i].expunged)
        .map(|&i| sel.msgs[i].uid)
        .collect();
    let verb = match (uid, moving) {
        (false, false) => "COPY",
        (true, false) => "UID COPY",
        (false, true) => "MOVE",
        (true, true) => "UID MOVE",
    };
    if uids.is_empty() {
        return Ok(Reply::ok(format!("{verb} completed: no messages")));
    }
    let from = sel.id;
    let result = if moving {
        store.move_messages(account, from, uids, to).await
    } else {
        store.copy_messages(account, from, uids, to).await
    };
    let copied = result.map_err(|e| match e {
        store::StoreError::NotFound(store::Subject::Mailbox(_)) => {
            Reply::no("No such mailbox").code(Code::TryCreate)
        }
        e => Reply::from(e),
    })?;
    let code = Code::CopyUid {
        uid_validity: imap_proto::UidValidity(copied.uidvalidity.0),
        source: SequenceSet::from_values(copied.pairs.iter().map(|p| p.0.0)),
        dest: SequenceSet::from_values(copied.pairs.iter().map(|p| p.1.0)),
    };
    if copied.mailbox == from {
        sel.dirty = true;
    }
    if !moving {
        return Ok(Reply::ok(format!("{verb} completed")).code(code));
    }
    // RFC 6851 4.3: COPYUID in an untagged OK, then the EXPUNGEs.
    let moved: Vec<Uid> = copied.pairs.iter().map(|p| p.0).collect();
    sel.mark_expunged(&moved);
    // RFC 5267 4.3.4: REMOVEFROM before the EXPUNGEs it numbers.
    let removals = s.contexts.expunging(sel);
    let expunges = sel.take_expunged();
    s.send(StatusResponse::untagged(Status::Ok, Some(code), "Moved"));
    for d in removals {
        s.send(d);
    }
    for d in expunges {
        s.send(d);
    }
    Ok(Reply::ok(format!("{verb} completed")))
}
