//! SEARCH and UID SEARCH (RFC 3501 6.4.4) with CHARSET UTF-8 / US-ASCII,
//! ESEARCH return options (RFC 4731), the saved result `$` (RFC 5182),
//! MODSEQ (RFC 7162 3.1.5) and the CONTEXT=SEARCH options PARTIAL and UPDATE
//! (RFC 5267 4).

use imap_proto::{Code, Data, ESearch, SearchKey, SearchReturn, SequenceSet, Tag};
use store::{AccountId, ModSeq, SearchFields, Store, StoreError, Uid};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::search::{Candidate, Context, matches, needs};
use crate::session::Session;
use crate::session::selected::Selected;

/// The indices (into `sel.msgs`, ascending) of the `candidates` that `key`
/// matches; expunged placeholders never match.
pub(crate) async fn evaluate(
    store: &Store,
    account: AccountId,
    sel: &Selected,
    key: &SearchKey,
    candidates: &[usize],
) -> Result<Vec<usize>, StoreError> {
    let need = needs(std::slice::from_ref(key));
    let live: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&i| sel.msgs.get(i).is_some_and(|m| !m.expunged))
        .collect();
    // `ALL` (what SORT and THREAD are mostly given): nothing to evaluate.
    if matches!(key, SearchKey::And(keys) if keys.iter().all(|k| *k == SearchKey::All)) {
        return Ok(live);
    }
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
    Ok(live
        .iter()
        .zip(fields.iter())
        .filter(|&(&i, f)| {
            matches(
                key,
                &Candidate::new(i as u32 + 1, &sel.msgs[i], f.as_ref()),
                &ctx,
            )
        })
        .map(|(&i, _)| i)
        .collect())
}

/// The charsets SEARCH, SORT and THREAD take.
pub(crate) fn check_charset(charset: Option<&str>) -> Result<(), Reply> {
    match charset {
        Some(cs) if !cs.eq_ignore_ascii_case("UTF-8") && !cs.eq_ignore_ascii_case("US-ASCII") => {
            Err(Reply::no("Unsupported charset")
                .code(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])))
        }
        _ => Ok(()),
    }
}

/// `PARTIAL low:high` of a result (RFC 5267 4.4): the values at those
/// positions, counted from 1, in the result's order.
pub(crate) fn partial(ids: &[u32], low: u32, high: u32) -> (u32, u32, Option<SequenceSet>) {
    let from = (low as usize).saturating_sub(1).min(ids.len());
    let to = (high as usize).min(ids.len());
    let window = &ids[from..to.max(from)];
    let set = (!window.is_empty()).then(|| SequenceSet::from_ordered(window.iter().copied()));
    (low, high, set)
}

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
    check_charset(charset)?;
    let store = s.shared.store.clone();
    let update = returns
        .as_ref()
        .is_some_and(|r| r.contains(&SearchReturn::Update));
    if update && s.contexts.tag_in_use(tag.as_str()) {
        return Err(Reply::bad("Tag reuse"));
    }
    let Some(sel) = s.state.selected() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let all = SearchKey::And(criteria);
    let every: Vec<usize> = (0..sel.msgs.len()).collect();
    let matched = evaluate(&store, account, sel, &all, &every).await?;
    let mut ids = Vec::new();
    let mut uids = Vec::new();
    let mut highest = ModSeq(0);
    let mut modseqs = Vec::new();
    for &i in &matched {
        let m = &sel.msgs[i];
        ids.push(if uid { m.uid.0 } else { i as u32 + 1 });
        uids.push(m.uid);
        highest = highest.max(m.modseq);
        modseqs.push(m.modseq);
    }
    if update {
        let sel_modseq = sel.modseq;
        let max_uid = sel.msgs.last().map_or(Uid(0), |m| m.uid);
        if !s
            .contexts
            .watch_search(tag.as_str(), uid, all, uids.clone(), sel_modseq, max_uid)
        {
            // RFC 5267 4.3.1: the search itself still completes.
            s.send(imap_proto::StatusResponse::untagged(
                imap_proto::Status::No,
                Some(Code::Other("NOUPDATE".into(), Some(format!("\"{tag}\"")))),
                "Too many contexts",
            ));
        }
    }
    // RFC 7162 3.1.5: the highest MODSEQ of what matched, when MODSEQ was a key.
    let mod_seq = (by_modseq && !ids.is_empty()).then_some(imap_proto::ModSeq(highest.0));
    // IMAP4rev2 has no SEARCH response: ESEARCH answers (RFC 9051 6.4.4).
    let returns = if s.rev2 {
        returns.or_else(|| Some(Vec::new()))
    } else {
        returns
    };
    match returns {
        None => s.send(Data::Search { ids, mod_seq }),
        Some(ret) => {
            // An empty list means ALL (RFC 4731 3.1); so does one holding only
            // CONTEXT (RFC 5267 4.2 adds nothing to return).
            let all =
                ret.iter().all(|r| *r == SearchReturn::Context) || ret.contains(&SearchReturn::All);
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
            // RFC 7162 3.1.5: MODSEQ is the highest of the messages returned;
            // with only MIN and/or MAX, of those.
            let mod_seq = if (min || max) && !all && !want(SearchReturn::Count) {
                let ends = [
                    modseqs.first().filter(|_| min),
                    modseqs.last().filter(|_| max),
                ];
                mod_seq.and(
                    ends.into_iter()
                        .flatten()
                        .max()
                        .map(|m| imap_proto::ModSeq(m.0)),
                )
            } else {
                mod_seq
            };
            let window = ret.iter().find_map(|r| match r {
                SearchReturn::Partial { low, high } => Some(partial(&ids, *low, *high)),
                _ => None,
            });
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
                    partial: window,
                    updates: Vec::new(),
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
pub(crate) fn substitute_saved(key: &mut SearchKey, saved: &SequenceSet) {
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

pub(crate) fn uses_modseq(key: &SearchKey) -> bool {
    match key {
        SearchKey::ModSeq { .. } => true,
        SearchKey::Not(k) => uses_modseq(k),
        SearchKey::Or(a, b) => uses_modseq(a) || uses_modseq(b),
        SearchKey::And(keys) => keys.iter().any(uses_modseq),
        _ => false,
    }
}
