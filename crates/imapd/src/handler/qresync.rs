//! CONDSTORE and QRESYNC (RFC 7162) where they extend SELECT/EXAMINE and
//! FETCH: the select parameters with HIGHESTMODSEQ, VANISHED (EARLIER) and
//! the FETCH of what changed since the client's MODSEQ; the CHANGEDSINCE and
//! VANISHED fetch modifiers.

use imap_proto::{
    Code, Data, FetchItem, FetchModifier, FetchValue, SelectParam, SeqNum, SequenceSet, Status,
    StatusResponse,
};
use store::{ModSeq, Uid};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::selected::Selected;

/// SELECT or EXAMINE with optional `(CONDSTORE)` / `(QRESYNC (...))`.
pub(crate) async fn select(
    s: &mut Session,
    name: &str,
    read_only: bool,
    params: Vec<SelectParam>,
) -> Outcome {
    let mut resync = None;
    let mut condstore = false;
    for p in params {
        match p {
            SelectParam::CondStore => condstore = true,
            SelectParam::QResync {
                uid_validity,
                mod_seq,
                known_uids,
                ..
            } => {
                // RFC 7162 3.2.5: QRESYNC must be enabled first.
                if !s.qresync {
                    return Err(Reply::bad("QRESYNC is not enabled").code(Code::ClientBug));
                }
                resync = Some((uid_validity.0, ModSeq(mod_seq.0), known_uids));
            }
            #[allow(unreachable_patterns)]
            _ => return Err(Reply::bad("Unknown SELECT parameter")),
        }
    }
    if (s.qresync || s.rev2) && s.state.selected().is_some() {
        // The boundary between the old mailbox's responses and the new one's
        // (RFC 7162 3.2.11, RFC 9051 6.3.2).
        s.send(StatusResponse::untagged(
            Status::Ok,
            Some(Code::Closed),
            "Previous mailbox closed",
        ));
    }
    if condstore {
        // SELECT itself reports HIGHESTMODSEQ.
        s.condstore = true;
    }
    let reply = super::select::select(s, name, read_only).await?;
    let account = account(s)?;
    let store = s.shared.store.clone();
    let (condstore, qresync) = (s.condstore, s.qresync);
    let Some(sel) = s.state.selected_mut() else {
        return Ok(reply);
    };
    sel.condstore = condstore;
    sel.qresync = qresync;
    // The entries read may be newer than the counters read before them.
    let highest = sel
        .msgs
        .iter()
        .map(|m| m.modseq)
        .max()
        .map_or(sel.modseq, |m| m.max(sel.modseq));
    sel.modseq = highest;
    let mut out: Vec<imap_proto::Response> = Vec::new();
    if condstore {
        out.push(highest_modseq(highest));
    }
    if let Some((uidvalidity, since, known)) = resync
        && uidvalidity == sel.uidvalidity.0
    {
        let gone = store.expunged_since(account, sel.id, since).await?;
        let known = known.map(|k| k.resolve(u32::MAX));
        let gone: Vec<u32> = gone
            .into_iter()
            .map(|u| u.0)
            .filter(|u| known.as_ref().is_none_or(|k| in_ranges(k, *u)))
            .collect();
        if !gone.is_empty() {
            out.push(
                Data::Vanished {
                    earlier: true,
                    uids: SequenceSet::from_values(gone),
                }
                .into(),
            );
        }
        for (i, m) in sel.msgs.iter().enumerate() {
            if m.modseq > since && !m.expunged {
                out.push(
                    Data::Fetch {
                        seq: SeqNum(i as u32 + 1),
                        items: vec![
                            FetchValue::Uid(imap_proto::Uid(m.uid.0)),
                            FetchValue::Flags(Selected::wire_flags(m)),
                            FetchValue::ModSeq(imap_proto::ModSeq(m.modseq.0)),
                        ],
                    }
                    .into(),
                );
            }
        }
    }
    for r in out {
        s.send(r);
    }
    Ok(reply)
}

/// The untagged `OK [HIGHESTMODSEQ n]`.
pub(crate) fn highest_modseq(modseq: ModSeq) -> imap_proto::Response {
    StatusResponse::untagged(
        Status::Ok,
        Some(Code::HighestModSeq(imap_proto::ModSeq(modseq.0))),
        "Highest",
    )
    .into()
}

/// Applies FETCH modifiers: CHANGEDSINCE (RFC 7162 3.1.4.1) adds MODSEQ to the
/// items and is returned so that only messages changed after it are fetched;
/// VANISHED (RFC 7162 3.2.6) first reports the UIDs of the set expunged
/// after it. Asking for MODSEQ, or for FLAGS once CONDSTORE is on, adds MODSEQ.
pub(crate) async fn fetch_modifiers(
    s: &mut Session,
    uid: bool,
    set: &SequenceSet,
    items: &mut Vec<FetchItem>,
    modifiers: &[FetchModifier],
) -> Result<Option<ModSeq>, Reply> {
    let mut changed_since = None;
    let mut vanished = false;
    for m in modifiers {
        match m {
            FetchModifier::ChangedSince(n) => changed_since = Some(ModSeq(n.0)),
            FetchModifier::Vanished => vanished = true,
            #[allow(unreachable_patterns)]
            _ => return Err(Reply::bad("Unknown FETCH modifier")),
        }
    }
    if vanished {
        if !uid {
            return Err(Reply::bad("VANISHED needs UID FETCH"));
        }
        if !s.qresync {
            return Err(Reply::bad("QRESYNC is not enabled").code(Code::ClientBug));
        }
        if changed_since.is_none() {
            return Err(Reply::bad("VANISHED needs CHANGEDSINCE"));
        }
    }
    if changed_since.is_some() || items.contains(&FetchItem::ModSeq) {
        s.enable_condstore();
    }
    let wants_modseq =
        changed_since.is_some() || (s.condstore && items.contains(&FetchItem::Flags));
    if wants_modseq && !items.contains(&FetchItem::ModSeq) {
        items.push(FetchItem::ModSeq);
    }
    if let (true, Some(since)) = (vanished, changed_since) {
        let account = account(s)?;
        let store = s.shared.store.clone();
        let Some(sel) = s.state.selected() else {
            return Err(Reply::bad("Select a mailbox first"));
        };
        let gone = store.expunged_since(account, sel.id, since).await?;
        let saved = &sel.saved;
        let ranges = set.resolve(u32::MAX);
        let named = |u: &Uid| match set {
            SequenceSet::Saved => saved.contains(u),
            _ => in_ranges(&ranges, u.0),
        };
        let gone: Vec<u32> = gone.iter().filter(|u| named(u)).map(|u| u.0).collect();
        if !gone.is_empty() {
            s.send(Data::Vanished {
                earlier: true,
                uids: SequenceSet::from_values(gone),
            });
        }
    }
    Ok(changed_since)
}

/// Whether `n` is in sorted, merged, inclusive ranges.
fn in_ranges(ranges: &[(u32, u32)], n: u32) -> bool {
    let i = ranges.partition_point(|&(_, end)| end < n);
    ranges.get(i).is_some_and(|&(start, _)| start <= n)
}

#[cfg(test)]
mod tests {
    use super::in_ranges;

    #[test]
    fn ranges_contain() {
        let r = [(1, 3), (7, 7), (10, 20)];
        for (n, want) in [
            (0, false),
            (1, true),
            (3, true),
            (4, false),
            (7, true),
            (8, false),
            (15, true),
            (21, false),
        ] {
            assert_eq!(in_ranges(&r, n), want, "{n}");
        }
        assert!(!in_ranges(&[], 1));
    }
}
