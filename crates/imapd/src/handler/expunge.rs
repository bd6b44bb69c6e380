//! EXPUNGE and UID EXPUNGE (RFC 3501 6.4.3, RFC 4315 2.1).

use imap_proto::{Code, SequenceSet};
use store::Uid;

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

pub(crate) async fn expunge(s: &mut Session, only: Option<SequenceSet>) -> Outcome {
    let account = account(s)?;
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected_mut() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    if sel.read_only {
        return Err(Reply::no("The mailbox is read-only").code(Code::Cannot));
    }
    let only = match &only {
        Some(set) => {
            let indices = sel.resolve(set, true).map_err(Reply::bad)?;
            Some(
                indices
                    .iter()
                    .map(|&i| sel.msgs[i].uid)
                    .collect::<Vec<Uid>>(),
            )
        }
        None => None,
    };
    let gone = store.expunge(account, sel.id, only).await?;
    sel.mark_expunged(&gone);
    // RFC 5267 4.3.4: REMOVEFROM before the EXPUNGEs it numbers.
    let mut data = s.contexts.expunging(sel);
    data.extend(sel.take_expunged());
    for d in data {
        s.send(d);
    }
    if s.qresync {
        // VANISHED carries no MODSEQ: the tagged OK gives the one the client
        // has now caught up to (RFC 7162 3.2.10), once every update is sent.
        s.updates(true).await;
        if let Some(sel) = s.state.selected() {
            let highest = imap_proto::ModSeq(sel.modseq.0);
            return Ok(Reply::ok("EXPUNGE completed").code(Code::HighestModSeq(highest)));
        }
    }
    Ok(Reply::ok("EXPUNGE completed"))
}
