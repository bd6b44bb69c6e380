//! SORT and UID SORT (RFC 5256 3, RFC 5957), their RETURN options (ESORT and
//! CONTEXT=SORT, RFC 5267), THREAD and UID THREAD (RFC 5256 4) and
//! CANCELUPDATE (RFC 5267 4.3.5).

use imap_proto::{
    Code, Data, ESearch, SearchKey, SearchReturn, SequenceSet, SortCriterion, Tag, ThreadAlgorithm,
};
use store::{ModSeq, SortColumns, Uid};

use super::account;
use super::search::{check_charset, evaluate, partial, substitute_saved, uses_modseq};
use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::sort;
use crate::thread::{self, Item};

/// `$` in the criteria, MODSEQ's CONDSTORE side effect, and the charset.
fn prepare(s: &mut Session, charset: &str, search: Vec<SearchKey>) -> Result<SearchKey, Reply> {
    check_charset(Some(charset))?;
    let mut all = SearchKey::And(search);
    if let Some(sel) = s.state.selected() {
        let saved = SequenceSet::from_values(sel.saved.iter().map(|u| u.0));
        substitute_saved(&mut all, &saved);
    }
    if uses_modseq(&all) {
        s.enable_condstore();
    }
    Ok(all)
}

pub(crate) async fn sort(
    s: &mut Session,
    tag: &Tag,
    uid: bool,
    returns: Option<Vec<SearchReturn>>,
    criteria: Vec<SortCriterion>,
    charset: &str,
    search: Vec<SearchKey>,
) -> Outcome {
    let account = account(s)?;
    let all = prepare(s, charset, search)?;
    let by_modseq = uses_modseq(&all);
    let update = returns
        .as_ref()
        .is_some_and(|r| r.contains(&SearchReturn::Update));
    if update && s.contexts.tag_in_use(tag.as_str()) {
        return Err(Reply::bad("Tag reuse"));
    }
    let store = s.shared.store.clone();
    let Session {
        state, contexts, ..
    } = s;
    let Some(sel) = state.selected() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let every: Vec<usize> = (0..sel.msgs.len()).collect();
    let matched = evaluate(&store, account, sel, &all, &every).await?;
    let columns = sort::columns(&criteria);
    if columns != SortColumns::default() {
        sort::load(&mut contexts.sort_cache, &store, account, sel, columns).await?;
    }
    let cache = contexts.sort_cache.as_ref();
    let order = sort::sort(&criteria, sel, cache, &matched);
    let ids: Vec<u32> = order
        .iter()
        .map(|&i| if uid { sel.msgs[i].uid.0 } else { i as u32 + 1 })
        .collect();
    let highest = order
        .iter()
        .map(|&i| sel.msgs[i].modseq)
        .max()
        .unwrap_or(ModSeq(0));
    let mod_seq = (by_modseq && !ids.is_empty()).then_some(imap_proto::ModSeq(highest.0));
    let mut refused = false;
    if update {
        let result = order
            .iter()
            .map(|&i| {
                let m = &sel.msgs[i];
                sort::sorted(&criteria, m, cache.and_then(|c| c.row(m.uid)))
            })
            .collect();
        let max_uid = sel.msgs.last().map_or(Uid(0), |m| m.uid);
        refused = !contexts.watch_sort(
            tag.as_str(),
            uid,
            all,
            criteria,
            result,
            sel.modseq,
            max_uid,
        );
    }
    if refused {
        s.send(imap_proto::StatusResponse::untagged(
            imap_proto::Status::No,
            Some(Code::Other("NOUPDATE".into(), Some(format!("\"{tag}\"")))),
            "Too many contexts",
        ));
    }
    match returns {
        None => s.send(Data::Sort { ids, mod_seq }),
        Some(ret) => {
            let want = |r: SearchReturn| ret.contains(&r);
            // RFC 5267 3.1: MIN and MAX are the first and last in sort order,
            // ALL lists the result in that order.
            let all = ret.iter().all(|r| *r == SearchReturn::Context) || want(SearchReturn::All);
            let window = ret.iter().find_map(|r| match r {
                SearchReturn::Partial { low, high } => Some(partial(&ids, *low, *high)),
                _ => None,
            });
            if want(SearchReturn::Save)
                && let Some(sel) = s.state.selected_mut()
            {
                let mut saved: Vec<Uid> = order.iter().map(|&i| sel.msgs[i].uid).collect();
                saved.sort_unstable();
                sel.saved = saved;
            }
            s.send(Data::ESearch(ESearch {
                tag: Some(tag.clone()),
                uid,
                min: if want(SearchReturn::Min) {
                    ids.first().copied()
                } else {
                    None
                },
                max: if want(SearchReturn::Max) {
                    ids.last().copied()
                } else {
                    None
                },
                count: want(SearchReturn::Count).then_some(ids.len() as u32),
                all: (all && !ids.is_empty()).then(|| SequenceSet::from_ordered(ids)),
                mod_seq,
                partial: window,
                updates: Vec::new(),
            }));
        }
    }
    Ok(Reply::ok(if uid {
        "UID SORT completed"
    } else {
        "SORT completed"
    }))
}

pub(crate) async fn thread(
    s: &mut Session,
    uid: bool,
    algorithm: ThreadAlgorithm,
    charset: &str,
    search: Vec<SearchKey>,
) -> Outcome {
    let account = account(s)?;
    if let ThreadAlgorithm::Other(name) = &algorithm {
        return Err(Reply::no(format!("Unknown threading algorithm {name}")));
    }
    let all = prepare(s, charset, search)?;
    let store = s.shared.store.clone();
    let Session {
        state, contexts, ..
    } = s;
    let Some(sel) = state.selected() else {
        return Err(Reply::bad("Select a mailbox first"));
    };
    let every: Vec<usize> = (0..sel.msgs.len()).collect();
    let matched = evaluate(&store, account, sel, &all, &every).await?;
    let columns = SortColumns {
        date: true,
        subject: true,
        threading: algorithm == ThreadAlgorithm::References,
        ..SortColumns::default()
    };
    sort::load(&mut contexts.sort_cache, &store, account, sel, columns).await?;
    let cache = contexts.sort_cache.as_ref();
    let items: Vec<Item> = matched
        .iter()
        .map(|&i| {
            let m = &sel.msgs[i];
            let row = cache.and_then(|c| c.row(m.uid));
            Item {
                id: if uid { m.uid.0 } else { i as u32 + 1 },
                seq: i as u32 + 1,
                date: row.and_then(|r| r.sent_date).unwrap_or(m.internal_date),
                subject: row.and_then(|r| r.subject.clone()).unwrap_or_default(),
                message_id: row.and_then(|r| r.message_id.clone()),
                in_reply_to: row.and_then(|r| r.in_reply_to.clone()),
                references: row.map(|r| r.references.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let threads = match algorithm {
        ThreadAlgorithm::OrderedSubject => thread::ordered_subject(&items),
        _ => thread::references(&items),
    };
    s.send(Data::Thread(threads));
    Ok(Reply::ok(if uid {
        "UID THREAD completed"
    } else {
        "THREAD completed"
    }))
}

pub(crate) fn cancel_update(s: &mut Session, tags: &[String]) -> Outcome {
    let unknown = s.contexts.cancel(tags);
    if let Some(t) = unknown.first() {
        let shown: String = t.chars().take(40).collect();
        return Err(Reply::bad(format!("No updating context for {shown}")));
    }
    Ok(Reply::ok("CANCELUPDATE completed"))
}
