//! STORE and UID STORE (RFC 3501 6.4.6), with UNCHANGEDSINCE answered by
//! MODIFIED (RFC 7162 3.1.3). Every change bumps the message's MODSEQ in the store.

use imap_proto::{Code, Data, FetchValue, Flag, SeqNum, SequenceSet, StoreMode, StoreModifier};
use store::{FlagOp, ModSeq, Uid};

use super::account;
use super::flags::from_wire;
use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::selected::Selected;

pub(crate) async fn store(
    s: &mut Session,
    uid: bool,
    set: &SequenceSet,
    mode: StoreMode,
    silent: bool,
    flags: &[Flag],
    modifiers: &[StoreModifier],
) -> Outcome {
    let account = account(s)?;
    let wanted = from_wire(flags)?;
    let unchanged_since = modifiers.iter().find_map(|m| match m {
        StoreModifier::UnchangedSince(v) => Some(ModSeq(v.0)),
        #[allow(unreachable_patterns)]
        _ => None,
    });
    if unchanged_since.is_some() {
        s.enable_condstore();
    }
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected_mut() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    if sel.read_only {
        return Err(Reply::no("The mailbox is read-only").code(Code::Cannot));
    }
    let indices = sel.resolve(set, uid).map_err(Reply::bad)?;
    let uids: Vec<Uid> = indices
        .iter()
        .filter(|&&i| !sel.msgs[i].expunged)
        .map(|&i| sel.msgs[i].uid)
        .collect();
    let op = match mode {
        StoreMode::Replace => FlagOp::Replace,
        StoreMode::Add => FlagOp::Add,
        StoreMode::Remove => FlagOp::Remove,
    };
    let (changed, modified) = store
        .set_flags(account, sel.id, uids.clone(), op, wanted, unchanged_since)
        .await?;
    let mut announce = Vec::new();
    let mut changed_uids: Vec<Uid> = changed.iter().map(|(u, _, _)| *u).collect();
    changed_uids.sort_unstable();
    for (u, modseq, f) in changed {
        if sel.note_keywords(&f) {
            announce = sel.flags_responses();
        }
        if let Some(i) = sel.index_of(u) {
            sel.msgs[i].flags = f;
            sel.msgs[i].modseq = modseq;
        }
    }
    let mut responses = Vec::new();
    // With CONDSTORE, even a silent STORE reports the new MODSEQ of each
    // message it changed (RFC 7162 3.1.3).
    if !silent || sel.condstore {
        let mut modified = modified.clone();
        modified.sort_unstable();
        for u in &uids {
            if modified.binary_search(u).is_ok() {
                continue;
            }
            if silent && changed_uids.binary_search(u).is_err() {
                continue;
            }
            if let Some(i) = sel.index_of(*u) {
                let mut items = Vec::new();
                if !silent {
                    items.push(FetchValue::Flags(Selected::wire_flags(&sel.msgs[i])));
                }
                if uid {
                    items.push(FetchValue::Uid(imap_proto::Uid(u.0)));
                }
                if sel.condstore {
                    items.push(FetchValue::ModSeq(imap_proto::ModSeq(sel.msgs[i].modseq.0)));
                }
                responses.push(Data::Fetch {
                    seq: SeqNum(i as u32 + 1),
                    items,
                });
            }
        }
    }
    let modified_set = if modified.is_empty() {
        None
    } else if uid {
        Some(SequenceSet::from_values(modified.iter().map(|u| u.0)))
    } else {
        Some(SequenceSet::from_values(
            modified
                .iter()
                .filter_map(|u| sel.index_of(*u).map(|i| i as u32 + 1)),
        ))
    };
    for r in announce {
        s.send(r);
    }
    for r in responses {
        s.send(r);
    }
    let reply = Reply::ok(if uid {
        "UID STORE completed"
    } else {
        "STORE completed"
    });
    Ok(match modified_set {
        Some(set) => reply.code(Code::Modified(set)),
        None => reply,
    })
}
