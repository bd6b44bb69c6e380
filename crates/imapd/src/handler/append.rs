//! APPEND (RFC 3501 6.3.11) and MULTIAPPEND (RFC 3502), answering APPENDUID
//! (RFC 4315); over quota is `NO [OVERQUOTA]`, too large `NO [TOOBIG]`.

use imap_proto::{AppendContent, AppendMessage, Code, SequenceSet};

use super::account;
use super::flags::from_wire;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

pub(crate) async fn append(
    s: &mut Session,
    mailbox: &str,
    messages: Vec<AppendMessage>,
) -> Outcome {
    let account = account(s)?;
    let limit = s.append_limit();
    let store = s.shared.store.clone();
    // Check everything before storing anything, so a refused MULTIAPPEND
    // stores nothing that could be checked up front.
    let mut prepared = Vec::with_capacity(messages.len());
    for m in messages {
        let data = match m.content {
            AppendContent::Literal { data, .. } => data,
            _ => return Err(Reply::no("CATENATE is not supported").code(Code::Cannot)),
        };
        if data.len() as u64 > limit {
            return Err(Reply::no("Message too large").code(Code::TooBig));
        }
        let flags = from_wire(&m.flags)?;
        prepared.push((data, flags, m.date.map(|d| d.to_unix())));
    }
    let exists = store.mailbox(account, mailbox).await?;
    if exists.is_none_or(|m| m.noselect) {
        return Err(Reply::no("No such mailbox").code(Code::TryCreate));
    }
    let mut uids = Vec::new();
    let mut uidvalidity = None;
    if prepared.len() == 1 {
        for (data, flags, date) in prepared {
            let (v, uid) = store.append(account, mailbox, data, flags, date).await?;
            uidvalidity = Some(v);
            uids.push(uid.0);
        }
    } else if !prepared.is_empty() {
        // MULTIAPPEND stores all messages or none (RFC 3502 3).
        let messages = prepared
            .into_iter()
            .map(|(raw, flags, internal_date)| store::NewMessage {
                raw,
                flags,
                internal_date,
                zone_minutes: 0,
            })
            .collect();
        let (v, new) = store.append_many(account, mailbox, messages).await?;
        uidvalidity = Some(v);
        uids.extend(new.iter().map(|u| u.0));
    }
    if let Some(sel) = s.state.selected_mut()
        && Some(sel.uidvalidity) == uidvalidity
        && sel.name == mailbox
    {
        sel.dirty = true;
    }
    let Some(v) = uidvalidity else {
        return Ok(Reply::ok("APPEND completed"));
    };
    Ok(Reply::ok("APPEND completed").code(Code::AppendUid {
        uid_validity: imap_proto::UidValidity(v.0),
        uids: SequenceSet::from_values(uids),
    }))
}
