//! SEARCH and UID SEARCH (RFC 3501 6.4.4) with CHARSET UTF-8 / US-ASCII,
//! ESEARCH return options (RFC 4731), the saved result `$` (RFC 5182) and
//! MODSEQ (RFC 7162 3.1.5).

use imap_proto::{Code, Data, ESearch, SearchKey, SearchReturn, SequenceSet, Tag};
use store::{ModSeq, SearchFields, Uid};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::search::{Candidate, Context, matches, needs};
use crate::session::Session;

pub(crate) async fn search(
    s: &mut Session,
    tag: &Tag,
    uid: bool,
    charset: Option<&str>,
    mut criteria: Vec<SearchKey>,
    returns: Option<Vec<SearchReturn>>,
) -> Outcome {
    let account = account(s)?;
    let save = returns
        .as_ref()
        .is_some_and(|r| r.contains(&SearchReturn::Save));
    if let Some(sel) = s.state.selected_mut() {
        // `$` in the criteria is the result saved before this command.
        let saved = SequenceSet::from_values(sel.saved.iter().map(|u| u.0));
        criteria
            .iter_mut()
            .for_each(|k| substitute_saved(k, &saved));
        // A SAVE that fails leaves `$` empty (RFC 5182 2.1).
        if save {
            sel.saved.clear();
        }
    }
    let by_modseq = criteria.iter().any(uses_modseq);
    if by_modseq {
        s.enable_condstore();
    }
    if let Some(cs) = charset
        && !cs.eq_ignore_ascii_case("UTF-8")
        && !cs.eq_ignore_ascii_case("US-ASCII")
    {
        return Err(Reply::no("Unsupported charset")
            .code(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])));
    }
    let store = s.shared.store.clone();
    let Some(sel) = s.state.selected() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let need = needs(&criteria);
    let live: Vec<usize> = (0..sel.msgs.len())
        .filter(|&i| !sel.msgs[i].expunged)
        .collect();
    let fields: Vec<Option<SearchFields>> = if need.header || need.text || need.sent_date {
        let uids: Vec<Uid> = live.iter().map(|&i| sel.msgs[i].uid).collect();
        let found = store
            .search_fields(account, sel.id, uids, need.header, need.text)
            .await?;
        let mut it = found.into_iter().peekable();
        live.iter()
            .map(|&i| {
                if it.peek().is_some_and(|f| f.uid == sel.msgs[i].uid) {
                    it.next()
                } else {
                    None
                }
            })
            .collect()
    } else {
        vec![None; live.len()]
    };
    let ctx = Context {
        max_seq: sel.exists(),
        max_uid: sel.msgs.last().map_or(0, |m| m.uid.0),
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
    };
    let all = SearchKey::And(criteria);
    let mut ids = Vec::new();
    let mut uids = Vec::new();
    let mut highest = ModSeq(0);
    for (&i, f) in live.iter().zip(fields.iter()) {
        let m = &sel.msgs[i];
        let c = Candidate::new(i as u32 + 1, m, f.as_ref());
        if matches(&all, &c, &ctx) {
            ids.push(if uid { m.uid.0 } else { i as u32 + 1 });
            uids.push(m.uid);
            highest = highest.max(m.modseq);
        }
    }
    // RFC 7162 3.1.5: the highest MODSEQ of what matched, when MODSEQ was a key.
    let mod_seq = (by_modseq && !ids.is_empty()).then_some(imap_proto::ModSeq(highest.0));
    match returns {
        None => s.send(Data::Search { ids, mod_seq }),
        Some(ret) => {
            let all = ret.is_empty() || ret.contains(&SearchReturn::All);
            let want = |r: SearchReturn| ret.contains(&r);
            let (min, max) = (want(SearchReturn::Min), want(SearchReturn::Max));
            if save {
                // With only MIN and/or MAX, only those are saved (RFC 5182 2.1).
                let saved = if (min || max) && !all && !want(SearchReturn::Count) {
                    let mut v = Vec::new();
                    if min && let Some(u) = uids.first() {
                        v.push(*u);
                    }
                    if max && let Some(u) = uids.last() {
                        v.push(*u);
                    }
                    v.dedup();
                    v
                } else {
                    uids
                };
                if let Some(sel) = s.state.selected_mut() {
                    sel.saved = saved;
                }
            }
            // SAVE alone gets no ESEARCH response (RFC 5182 2.1).
            if !(save && ret.iter().all(|r| *r == SearchReturn::Save)) {
                s.send(Data::ESearch(ESearch {
                    tag: Some(tag.clone()),
                    uid,
                    min: if min { ids.first().copied() } else { None },
                    max: if max { ids.last().copied() } else { None },
                    count: want(SearchReturn::Count).then_some(ids.len() as u32),
                    all: (all && !ids.is_empty()).then(|| SequenceSet::from_values(ids)),
                    mod_seq,
                }));
            }
        }
    }
    Ok(Reply::ok(if uid {
        "UID SEARCH completed"
    } else {
        "SEARCH completed"
    }))
}

/// Replaces `$` (as a sequence set or after UID) with the saved UIDs.
fn substitute_saved(key: &mut SearchKey, saved: &SequenceSet) {
    match key {
        SearchKey::Sequence(SequenceSet::Saved) | SearchKey::Uid(SequenceSet::Saved) => {
            *key = SearchKey::Uid(saved.clone());
        }
        SearchKey::Not(k) => substitute_saved(k, saved),
        SearchKey::Or(a, b) => {
            substitute_saved(a, saved);
            substitute_saved(b, saved);
        }
        SearchKey::And(keys) => keys.iter_mut().for_each(|k| substitute_saved(k, saved)),
        _ => {}
    }
}

fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq { .. } => true,
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}
