//! Search and sort contexts (RFC 5267 4.3): results a client asked to be kept
//! up to date with RETURN (UPDATE), and the sort values of the selected
//! mailbox. As messages arrive, change flags or are expunged (by this session
//! or any other, as the change feed reports), the session calls in here at the
//! points where it reports those changes, and sends ADDTO and REMOVEFROM.

use std::collections::HashSet;

use imap_proto::{ContextUpdate, Data, ESearch, SearchKey, SequenceSet, SortCriterion, Tag};
use store::{AccountId, ModSeq, Store, StoreError, Uid};

use super::selected::Selected;
use crate::handler::search::evaluate;
use crate::sort::{self, SortCache, Sorted};

/// Updating contexts one session may hold (RFC 5267 4.3.1 asks for at least one).
const MAX_UPDATING: usize = 16;

#[derive(Default)]
pub(crate) struct Contexts {
    /// The sort values of the selected mailbox (kept across re-selection).
    pub sort_cache: Option<SortCache>,
    updating: Vec<Updating>,
}

struct Updating {
    tag: Tag,
    uid: bool,
    key: SearchKey,
    /// `Some` for SORT: the result is kept in this order, positions count.
    order: Option<Vec<SortCriterion>>,
    /// The result as the client has it, in context order (mailbox order for
    /// SEARCH).
    result: Vec<Sorted>,
    /// Flag changes up to this MODSEQ and messages up to this UID are in.
    modseq: ModSeq,
    max_uid: Uid,
    /// The criteria depend on sequence numbers or `*`: every update
    /// evaluates every message again.
    whole: bool,
}

/// Whether a key's meaning moves as messages come and go.
fn volatile(key: &SearchKey) -> bool {
    let open = |set: &SequenceSet| match set {
        SequenceSet::Ranges(r) => r.iter().any(|r| {
            r.start == imap_proto::SeqBound::Largest || r.end == imap_proto::SeqBound::Largest
        }),
        SequenceSet::Saved => false,
    };
    match key {
        SearchKey::Sequence(_) => true,
        SearchKey::Uid(set) => open(set),
        SearchKey::Older(_) | SearchKey::Younger(_) => true,
        SearchKey::Not(k) => volatile(k),
        SearchKey::Or(a, b) => volatile(a) || volatile(b),
        SearchKey::And(keys) => keys.iter().any(volatile),
        _ => false,
    }
}

impl Contexts {
    pub fn tag_in_use(&self, tag: &str) -> bool {
        self.updating.iter().any(|u| u.tag.as_str() == tag)
    }

    /// Keeps a SEARCH result (`uids` in mailbox order) up to date; false when
    /// there are too many contexts already (the caller sends NOUPDATE).
    pub fn watch_search(
        &mut self,
        tag: &str,
        uid: bool,
        key: SearchKey,
        uids: Vec<Uid>,
        modseq: ModSeq,
        max_uid: Uid,
    ) -> bool {
        let result = uids
            .into_iter()
            .map(|uid| Sorted {
                values: Vec::new(),
                uid,
            })
            .collect();
        self.watch(tag, uid, key, None, result, modseq, max_uid)
    }

    /// Keeps a SORT result (in its order) up to date.
    #[allow(clippy::too_many_arguments)]
    pub fn watch_sort(
        &mut self,
        tag: &str,
        uid: bool,
        key: SearchKey,
        order: Vec<SortCriterion>,
        result: Vec<Sorted>,
        modseq: ModSeq,
        max_uid: Uid,
    ) -> bool {
        self.watch(tag, uid, key, Some(order), result, modseq, max_uid)
    }

    #[allow(clippy::too_many_arguments)]
    fn watch(
        &mut self,
        tag: &str,
        uid: bool,
        key: SearchKey,
        order: Option<Vec<SortCriterion>>,
        result: Vec<Sorted>,
        modseq: ModSeq,
        max_uid: Uid,
    ) -> bool {
        let Some(tag) = Tag::new(tag) else {
            return false;
        };
        if self.updating.len() >= MAX_UPDATING {
            return false;
        }
        self.updating.push(Updating {
            tag,
            uid,
            whole: volatile(&key),
            key,
            order,
            result,
            modseq,
            max_uid,
        });
        true
    }

    /// CANCELUPDATE (RFC 5267 4.3.5); the tags that named no context.
    pub fn cancel(&mut self, tags: &[String]) -> Vec<String> {
        let unknown = tags
            .iter()
            .filter(|t| !self.tag_in_use(t))
            .cloned()
            .collect();
        self.updating
            .retain(|u| !tags.iter().any(|t| t == u.tag.as_str()));
        unknown
    }

    /// The mailbox is no longer selected: updates cease (RFC 5267 4.3).
    pub fn end(&mut self) {
        self.updating.clear();
    }

    pub fn updating(&self) -> bool {
        !self.updating.is_empty()
    }

    /// REMOVEFROM for results among the expunged placeholders of `sel`, sent
    /// before their EXPUNGE while the numbers still hold (RFC 5267 4.3.4).
    pub fn expunging(&mut self, sel: &Selected) -> Vec<Data> {
        let mut out = Vec::new();
        for u in &mut self.updating {
            let gone = |s: &Sorted| sel.index_of(s.uid).is_none_or(|i| sel.msgs[i].expunged);
            if !u.result.iter().any(gone) {
                continue;
            }
            let id = |uid: Uid| -> Option<u32> {
                if u.uid {
                    Some(uid.0)
                } else {
                    sel.index_of(uid).map(|i| i as u32 + 1)
                }
            };
            let mut updates = Vec::new();
            if u.order.is_none() {
                let ids: Vec<u32> = u
                    .result
                    .iter()
                    .filter(|s| gone(s))
                    .filter_map(|s| id(s.uid))
                    .collect();
                if !ids.is_empty() {
                    updates.push(ContextUpdate::RemoveFrom(0, SequenceSet::from_values(ids)));
                }
                u.result.retain(|s| !gone(s));
            } else {
                // Highest position first, so that each position still holds.
                for pos in (0..u.result.len()).rev() {
                    if gone(&u.result[pos]) {
                        let s = u.result.remove(pos);
                        if let Some(n) = id(s.uid) {
                            updates.push(ContextUpdate::RemoveFrom(
                                pos as u32 + 1,
                                SequenceSet::single(n),
                            ));
                        }
                    }
                }
            }
            if !updates.is_empty() {
                out.push(update(&u.tag, u.uid, updates));
            }
        }
        out
    }

    /// ADDTO and REMOVEFROM for messages that arrived or whose flags changed
    /// since the last call; sent after EXISTS (RFC 5267 4.3.3).
    pub async fn refresh(
        &mut self,
        store: &Store,
        account: AccountId,
        sel: &Selected,
    ) -> Result<Vec<Data>, StoreError> {
        let mut out = Vec::new();
        if self.updating.is_empty() {
            return Ok(out);
        }
        let max_uid = sel.msgs.last().map_or(Uid(0), |m| m.uid);
        let Contexts {
            sort_cache,
            updating,
        } = self;
        for u in updating.iter_mut() {
            let candidates: Vec<usize> = (0..sel.msgs.len())
                .filter(|&i| {
                    let m = &sel.msgs[i];
                    !m.expunged && (u.whole || m.modseq > u.modseq || m.uid > u.max_uid)
                })
                .collect();
            let seen = candidates
                .iter()
                .map(|&i| sel.msgs[i].modseq)
                .max()
                .unwrap_or(ModSeq(0));
            u.modseq = u.modseq.max(sel.modseq).max(seen);
            u.max_uid = u.max_uid.max(max_uid);
            if candidates.is_empty() {
                continue;
            }
            let matched = evaluate(store, account, sel, &u.key, &candidates).await?;
            let matched_uids: HashSet<Uid> = matched.iter().map(|&i| sel.msgs[i].uid).collect();
            let have: HashSet<Uid> = u.result.iter().map(|s| s.uid).collect();
            let id = |uid: Uid| -> Option<u32> {
                if u.uid {
                    Some(uid.0)
                } else {
                    sel.index_of(uid).map(|i| i as u32 + 1)
                }
            };
            let removed: HashSet<Uid> = candidates
                .iter()
                .map(|&i| sel.msgs[i].uid)
                .filter(|uid| have.contains(uid) && !matched_uids.contains(uid))
                .collect();
            let added: Vec<usize> = matched
                .iter()
                .copied()
                .filter(|&i| !have.contains(&sel.msgs[i].uid))
                .collect();
            match &u.order {
                None => {
                    if !removed.is_empty() {
                        let ids = u
                            .result
                            .iter()
                            .filter(|s| removed.contains(&s.uid))
                            .filter_map(|s| id(s.uid));
                        let set = SequenceSet::from_values(ids);
                        out.push(update(
                            &u.tag,
                            u.uid,
                            vec![ContextUpdate::RemoveFrom(0, set)],
                        ));
                        u.result.retain(|s| !removed.contains(&s.uid));
                    }
                    if !added.is_empty() {
                        let ids = added.iter().map(|&i| sel.msgs[i].uid).filter_map(id);
                        let set = SequenceSet::from_values(ids);
                        out.push(update(&u.tag, u.uid, vec![ContextUpdate::AddTo(0, set)]));
                        u.result.extend(added.iter().map(|&i| Sorted {
                            values: Vec::new(),
                            uid: sel.msgs[i].uid,
                        }));
                        u.result.sort_by_key(|s| s.uid);
                    }
                }
                Some(order) => {
                    let mut updates = Vec::new();
                    for pos in (0..u.result.len()).rev() {
                        if removed.contains(&u.result[pos].uid) {
                            let s = u.result.remove(pos);
                            if let Some(n) = id(s.uid) {
                                updates.push(ContextUpdate::RemoveFrom(
                                    pos as u32 + 1,
                                    SequenceSet::single(n),
                                ));
                            }
                        }
                    }
                    if !updates.is_empty() {
                        out.push(update(&u.tag, u.uid, std::mem::take(&mut updates)));
                    }
                    if !added.is_empty() {
                        sort::load(sort_cache, store, account, sel, sort::columns(order)).await?;
                        let mut new: Vec<Sorted> = added
                            .iter()
                            .map(|&i| {
                                let m = &sel.msgs[i];
                                let row = sort_cache.as_ref().and_then(|c| c.row(m.uid));
                                sort::sorted(order, m, row)
                            })
                            .collect();
                        new.sort_by(|a, b| sort::compare(order, a, b));
                        for s in new {
                            let pos = u
                                .result
                                .partition_point(|x| sort::compare(order, x, &s).is_lt());
                            if let Some(n) = id(s.uid) {
                                updates.push(ContextUpdate::AddTo(
                                    pos as u32 + 1,
                                    SequenceSet::single(n),
                                ));
                            }
                            u.result.insert(pos, s);
                        }
                        out.push(update(&u.tag, u.uid, updates));
                    }
                }
            }
        }
        Ok(out)
    }
}

fn update(tag: &Tag, uid: bool, updates: Vec<ContextUpdate>) -> Data {
    Data::ESearch(ESearch {
        tag: Some(tag.clone()),
        uid,
        updates,
        ..Default::default()
    })
}
