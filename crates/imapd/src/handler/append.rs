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
    // CATENATE messages (RFC 4469), by their place in `prepared`.
    let mut catenate = Vec::new();
    let mut zones = Vec::with_capacity(messages.len());
    for m in messages {
        let data = match m.content {
            // RFC 3516 4.4: binary parts of a literal8 are stored as base64.
            AppendContent::Literal { data, binary: true } => {
                crate::fetch::binary::encode_binary_parts(data)
            }
            AppendContent::Literal { data, .. } => data,
            AppendContent::Catenate(parts) => {
                catenate.push((prepared.len(), parts));
                Vec::new()
            }
            _ => return Err(Reply::no("Unsupported APPEND data").code(Code::Cannot)),
        };
        if data.len() as u64 > limit {
            return Err(Reply::no("Message too large").code(Code::TooBig));
        }
        let flags = from_wire(&m.flags)?;
        // The zone the date was given in is kept for FETCH INTERNALDATE.
        zones.push(m.date.map_or(0, |d| i32::from(d.offset_minutes)));
        prepared.push((data, flags, m.date.map(|d| d.to_unix())));
    }
    let exists = store.mailbox(account, mailbox).await?;
    if exists.is_none_or(|m| m.noselect) {
        return Err(Reply::no("No such mailbox").code(Code::TryCreate));
    }
    let mut uids = Vec::new();
    let mut uidvalidity = None;
    if !catenate.is_empty() {
        use super::catenate::Content;
        let mut parts = catenate.into_iter().peekable();
        let messages = prepared
            .into_iter()
            .enumerate()
            .map(|(i, (data, flags, date))| {
                let content = match parts.next_if(|(at, _)| *at == i) {
                    Some((_, p)) => Content::Parts(p),
                    None => Content::Bytes(data),
                };
                (content, flags, date)
            })
            .collect();
        let (v, new) = super::catenate::append(s, account, mailbox, messages, limit).await?;
        uidvalidity = Some(v);
        uids.extend(new.iter().map(|u| u.0));
    } else if prepared.len() == 1 && zones.iter().all(|z| *z == 0) {
        for (data, flags, date) in prepared {
            let (v, uid) = store.append(account, mailbox, data, flags, date).await?;
            uidvalidity = Some(v);
            uids.push(uid.0);
        }
    } else if !prepared.is_empty() {
        // MULTIAPPEND stores all messages or none (RFC 3502 3); a single
        // message with a zone takes this way too.
        let messages = prepared
            .into_iter()
            .zip(zones)
            .map(
                |((raw, flags, internal_date), zone_minutes)| store::NewMessage {
                    raw,
                    flags,
                    internal_date,
                    zone_minutes,
                },
            )
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
