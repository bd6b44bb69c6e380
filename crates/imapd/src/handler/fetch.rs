//! FETCH and UID FETCH (RFC 3501 6.4.5): flags and sizes from the session's
//! view, ENVELOPE/BODYSTRUCTURE from the cached summary, sections from the
//! raw message. A non-PEEK body fetch sets \Seen (RFC 3501 6.4.5).

use std::collections::HashMap;

use imap_proto::{Data, DateTime, FetchItem, FetchModifier, FetchValue, SeqNum, SequenceSet};
use store::{FlagOp, Flags, MessageMeta, Uid};

use super::account;
use crate::fetch::{binary, section, structure};
use crate::reply::{Outcome, Reply};
use crate::session::Session;

/// Messages fetched per store round trip.
const CHUNK: usize = 256;

fn sets_seen(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::BodySection { peek: false, .. }
            | FetchItem::Binary { peek: false, .. }
            | FetchItem::Rfc822
            | FetchItem::Rfc822Text
    )
}

fn needs_raw(item: &FetchItem) -> bool {
    matches!(
        item,
        FetchItem::BodySection { .. }
            | FetchItem::Binary { .. }
            | FetchItem::BinarySize { .. }
            | FetchItem::Rfc822
            | FetchItem::Rfc822Header
            | FetchItem::Rfc822Text
    )
}

fn needs_meta(item: &FetchItem) -> bool {
    needs_raw(item)
        || matches!(
            item,
            FetchItem::Envelope | FetchItem::BodyStructure | FetchItem::Body
        )
}

pub(crate) async fn fetch(
    s: &mut Session,
    uid: bool,
    set: &SequenceSet,
    mut items: Vec<FetchItem>,
    modifiers: &[FetchModifier],
) -> Outcome {
    let account = account(s)?;
    let changed_since = super::qresync::fetch_modifiers(s, uid, set, &mut items, modifiers).await?;
    if uid && !items.contains(&FetchItem::Uid) {
        items.insert(0, FetchItem::Uid);
    }
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected_mut() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let indices = sel.resolve(set, uid).map_err(Reply::bad)?;
    let indices: Vec<usize> = indices
        .into_iter()
        .filter(|&i| !sel.msgs[i].expunged)
        .filter(|&i| changed_since.is_none_or(|c| sel.msgs[i].modseq.0 > c.0))
        .collect();
    let mut add_flags = false;
    if !sel.read_only && items.iter().any(sets_seen) {
        let unseen: Vec<Uid> = indices
            .iter()
            .map(|&i| &sel.msgs[i])
            .filter(|m| !m.flags.has(Flags::SEEN))
            .map(|m| m.uid)
            .collect();
        if !unseen.is_empty() {
            let seen = Flags {
                system: Flags::SEEN,
                keywords: Vec::new(),
            };
            let (changed, _) = store
                .set_flags(account, sel.id, unseen, FlagOp::Add, seen, None)
                .await?;
            for (u, modseq, flags) in changed {
                if let Some(i) = sel.index_of(u) {
                    sel.msgs[i].flags = flags;
                    sel.msgs[i].modseq = modseq;
                }
            }
            add_flags = !items.contains(&FetchItem::Flags);
        }
    }
    let add_modseq = add_flags && sel.condstore && !items.contains(&FetchItem::ModSeq);
    let mailbox = sel.id;
    let want_meta = items.iter().any(needs_meta);
    let want_raw = items.iter().any(needs_raw);
    let targets: Vec<(u32, crate::session::selected::Msg)> = indices
        .iter()
        .map(|&i| (i as u32 + 1, sel.msgs[i].clone()))
        .collect();
    for chunk in targets.chunks(CHUNK) {
        let uids: Vec<Uid> = chunk.iter().map(|(_, m)| m.uid).collect();
        let metas: HashMap<Uid, MessageMeta> = if want_meta {
            store
                .message_meta(account, mailbox, uids.clone())
                .await?
                .into_iter()
                .map(|m| (m.uid, m))
                .collect()
        } else {
            HashMap::new()
        };
        // INTERNALDATE goes out in the zone the message was appended with.
        let zones: HashMap<Uid, i32> = if items.contains(&FetchItem::InternalDate) {
            store
                .internal_zones(account, mailbox, uids.clone())
                .await?
                .into_iter()
                .collect()
        } else {
            HashMap::new()
        };
        for (seq, m) in chunk {
            let raw = if want_raw {
                match store.read_message(account, mailbox, m.uid).await {
                    Ok(r) => Some(r),
                    // Expunged by another session meanwhile: its EXPUNGE comes later.
                    Err(store::StoreError::NotFound(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            } else {
                None
            };
            let meta = metas.get(&m.uid);
            if want_meta && meta.is_none() {
                continue;
            }
            let mut values = Vec::with_capacity(items.len() + 1);
            for item in &items {
                values.push(value(item, m, meta, raw.as_deref())?);
            }
            if let Some(zone) = zones.get(&m.uid).and_then(|z| i16::try_from(*z).ok()) {
                for v in &mut values {
                    if let FetchValue::InternalDate(d) = v {
                        *d = DateTime::from_unix(m.internal_date, zone);
                    }
                }
            }
            if add_flags {
                values.push(FetchValue::Flags(
                    crate::session::selected::Selected::wire_flags(m),
                ));
            }
            if add_modseq {
                values.push(FetchValue::ModSeq(imap_proto::ModSeq(m.modseq.0)));
            }
            s.send(Data::Fetch {
                seq: SeqNum(*seq),
                items: values,
            });
        }
        s.flush_if_large().await;
    }
    Ok(Reply::ok(if uid {
        "UID FETCH completed"
    } else {
        "FETCH completed"
    }))
}

fn value(
    item: &FetchItem,
    m: &crate::session::selected::Msg,
    meta: Option<&MessageMeta>,
    raw: Option<&[u8]>,
) -> Result<FetchValue, Reply> {
    let raw_bytes = raw.unwrap_or_default();
    let header_size = meta
        .map_or(0, |mm| mm.header_size as usize)
        .min(raw_bytes.len());
    Ok(match item {
        FetchItem::Flags => FetchValue::Flags(crate::session::selected::Selected::wire_flags(m)),
        FetchItem::Uid => FetchValue::Uid(imap_proto::Uid(m.uid.0)),
        FetchItem::InternalDate => {
            FetchValue::InternalDate(DateTime::from_unix(m.internal_date, 0))
        }
        FetchItem::Rfc822Size => FetchValue::Rfc822Size(m.size),
        FetchItem::Envelope => {
            let mut out = Vec::new();
            if let Some(mm) = meta {
                structure::envelope(&mut out, &mm.envelope);
            }
            FetchValue::Raw {
                name: "ENVELOPE".into(),
                value: out,
            }
        }
        FetchItem::BodyStructure | FetchItem::Body => {
            let extended = matches!(item, FetchItem::BodyStructure);
            let mut out = Vec::new();
            if let Some(mm) = meta {
                structure::body(&mut out, &mm.body, extended);
            }
            FetchValue::Raw {
                name: if extended { "BODYSTRUCTURE" } else { "BODY" }.into(),
                value: out,
            }
        }
        FetchItem::Rfc822 => FetchValue::Rfc822(Some(raw_bytes.to_vec())),
        FetchItem::Rfc822Header => {
            FetchValue::Rfc822Header(Some(raw_bytes[..header_size].to_vec()))
        }
        FetchItem::Rfc822Text => FetchValue::Rfc822Text(Some(raw_bytes[header_size..].to_vec())),
        FetchItem::BodySection {
            section: sec,
            partial,
            ..
        } => {
            let data = meta
                .and_then(|mm| section::extract(raw_bytes, &mm.body, sec))
                .unwrap_or_default();
            let data = match partial {
                Some(p) => section::partial(&data, p.origin, Some(p.length)).to_vec(),
                None => data,
            };
            FetchValue::BodySection {
                section: sec.clone(),
                origin: partial.map(|p| p.origin),
                data: Some(data),
            }
        }
        FetchItem::ModSeq => FetchValue::ModSeq(imap_proto::ModSeq(m.modseq.0)),
        FetchItem::Binary { part, partial, .. } => {
            let data = binary_section(meta, raw_bytes, part)?;
            let data = match partial {
                Some(p) => section::partial(&data, p.origin, Some(p.length)).to_vec(),
                None => data,
            };
            FetchValue::Binary {
                part: part.clone(),
                origin: partial.map(|p| p.origin),
                data: Some(data),
            }
        }
        FetchItem::BinarySize { part } => FetchValue::BinarySize {
            part: part.clone(),
            size: binary_section(meta, raw_bytes, part)?.len() as u64,
        },
        _ => return Err(Reply::bad("Unsupported FETCH item")),
    })
}

/// BINARY[part] (RFC 3516 4.2): the decoded section; a part that does not exist is
/// empty, as BODY[part] is; an encoding that cannot be undone is `NO [UNKNOWN-CTE]`.
fn binary_section(meta: Option<&MessageMeta>, raw: &[u8], part: &[u32]) -> Result<Vec<u8>, Reply> {
    let Some(loc) = meta.and_then(|mm| binary::locate(raw, &mm.body, part)) else {
        return Ok(Vec::new());
    };
    binary::decode_section(&loc)
        .map_err(|e| Reply::no(e.to_string()).code(imap_proto::Code::UnknownCte))
}
