//! CONVERT, UID CONVERT and CONVERSIONS (RFC 5259). CONVERT reads like FETCH but never
//! sets \Seen (6); each message gets one CONVERTED response tagged with the command's
//! tag (8.1), UID first when present.

use imap_proto::{Code, ConvertItem, ConvertParams, ConvertValue, Data, SeqNum, SequenceSet, Tag};
use store::Uid;

use super::account;
use crate::fetch::convert;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

pub(crate) async fn convert(
    s: &mut Session,
    tag: &Tag,
    uid: bool,
    set: &SequenceSet,
    params: ConvertParams,
    items: Vec<ConvertItem>,
) -> Outcome {
    let account = account(s)?;
    if !convert::target_recognised(&params) {
        return Err(Reply::no("Unrecognised target media type").code(Code::Cannot));
    }
    let want_uid = uid || items.contains(&ConvertItem::Uid);
    let items: Vec<ConvertItem> = items
        .into_iter()
        .filter(|i| *i != ConvertItem::Uid)
        .collect();
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let indices = sel.resolve(set, uid).map_err(Reply::bad)?;
    let mailbox = sel.id;
    let targets: Vec<(u32, Uid)> = indices
        .into_iter()
        .filter(|&i| !sel.msgs[i].expunged)
        .map(|i| (i as u32 + 1, sel.msgs[i].uid))
        .collect();
    let (mut attempted, mut failed) = (0usize, 0usize);
    for (seq, msg_uid) in targets {
        let mut values = Vec::with_capacity(items.len() + 1);
        if want_uid {
            values.push(ConvertValue::Uid(imap_proto::Uid(msg_uid.0)));
        }
        if !items.is_empty() {
            let meta = store
                .message_meta(account, mailbox, vec![msg_uid])
                .await
                .map_err(tempfail)?;
            let Some(meta) = meta.into_iter().next() else {
                continue;
            };
            let raw = match store.read_message(account, mailbox, msg_uid).await {
                Ok(r) => r,
                // Expunged by another session meanwhile: its EXPUNGE comes later.
                Err(store::StoreError::NotFound(_)) => continue,
                Err(e) => return Err(tempfail(e)),
            };
            for item in &items {
                let v = value(item, &raw, &meta.body, &params);
                attempted += 1;
                failed += usize::from(v.is_error());
                values.push(v);
            }
        }
        s.send(Data::Converted {
            seq: SeqNum(seq),
            tag: tag.clone(),
            items: values,
        });
        s.flush_if_large().await;
    }
    // RFC 5259 9: OK if at least one conversion succeeded; NO (allowed) if all failed.
    if attempted > 0 && failed == attempted {
        return Err(Reply::no("All conversions failed"));
    }
    if failed > 0 {
        return Ok(Reply::ok("Some conversions failed"));
    }
    Ok(Reply::ok(if uid {
        "UID CONVERT COMPLETED"
    } else {
        "CONVERT COMPLETED"
    }))
}

/// RFC 5259 9: a conversion that fails for want of a resource is `NO [TEMPFAIL]`.
fn tempfail(e: store::StoreError) -> Reply {
    tracing::warn!(error = %e, "CONVERT could not read a message");
    Reply::no("Conversion failed temporarily").code(Code::Other("TEMPFAIL".into(), None))
}

fn value(
    item: &ConvertItem,
    raw: &[u8],
    root: &store::summary::BodyStructure,
    params: &ConvertParams,
) -> ConvertValue {
    match item {
        ConvertItem::Binary { part, partial } => {
            let data = convert::convert(raw, root, part, params).map(|c| match partial {
                Some(p) => {
                    crate::fetch::section::partial(&c.data, p.origin, Some(p.length)).to_vec()
                }
                None => c.data,
            });
            ConvertValue::Binary {
                part: part.clone(),
                origin: partial.map(|p| p.origin),
                data,
            }
        }
        ConvertItem::BinarySize { part } => ConvertValue::BinarySize {
            part: part.clone(),
            size: convert::convert(raw, root, part, params).map(|c| c.data.len() as u64),
        },
        ConvertItem::BodyPartStructure { part } => ConvertValue::BodyPartStructure {
            part: part.clone(),
            structure: convert::convert(raw, root, part, params).map(|c| c.structure()),
        },
        ConvertItem::AvailableConversions { part } => ConvertValue::AvailableConversions {
            part: part.clone(),
            types: convert::available(raw, root, part, params),
        },
        ConvertItem::Header { part } => ConvertValue::Header {
            part: part.clone(),
            mime: false,
            data: convert::convert_header(raw, root, part, false, params),
        },
        ConvertItem::Mime { part } => ConvertValue::Header {
            part: part.clone(),
            mime: true,
            data: convert::convert_header(raw, root, part, true, params),
        },
        // UID was taken out before; any item a newer parser adds is refused.
        _ => ConvertValue::AvailableConversions {
            part: Vec::new(),
            types: Err(imap_proto::ConvertError {
                text: "Unsupported CONVERT item".into(),
                code: imap_proto::ConvertErrorCode::TempFail(None),
            }),
        },
    }
}

/// CONVERSIONS (RFC 5259 5.1): one CONVERSION response per matching pair.
pub(crate) fn conversions(s: &mut Session, from: &str, to: &str) -> Outcome {
    for (from, to, params) in convert::conversions(from, to) {
        s.send(Data::Conversion { from, to, params });
    }
    Ok(Reply::ok("CONVERSIONS completed"))
}
