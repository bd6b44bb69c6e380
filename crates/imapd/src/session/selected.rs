//! The selected mailbox as this session sees it: the sequence-number map and
//! the flags last reported, brought up to date from the store at the points
//! RFC 3501 5.2 and 7.4.1 allow.

use imap_proto::{Data, FetchValue, Response, SeqBound, SeqNum, SequenceSet};
use store::{Entry, Flags, MailboxId, ModSeq, Uid, UidValidity};

use crate::handler::flags::to_wire;

#[derive(Debug, Clone)]
pub(crate) struct Msg {
    pub uid: Uid,
    pub modseq: store::ModSeq,
    pub flags: Flags,
    pub internal_date: i64,
    pub size: u64,
    /// Gone from the store, but its EXPUNGE has not been sent yet: it keeps
    /// its sequence number until then.
    pub expunged: bool,
    /// This session is the one that sees it as `\Recent` (RFC 3501 2.3.2).
    pub recent: bool,
}

pub(crate) struct Selected {
    pub id: MailboxId,
    pub name: String,
    pub read_only: bool,
    pub uidvalidity: UidValidity,
    /// In UID order; index + 1 is the sequence number.
    pub msgs: Vec<Msg>,
    /// Keywords announced in FLAGS.
    pub keywords: Vec<String>,
    /// The store may hold changes this view has not taken in.
    pub dirty: bool,
    /// Every change up to this MODSEQ has been taken in.
    pub modseq: ModSeq,
    /// Unsolicited FETCH responses carry MODSEQ (RFC 7162 3.1.4).
    pub condstore: bool,
    /// Expunges are announced as VANISHED (RFC 7162 3.2.10).
    pub qresync: bool,
    /// The UIDs of the last `SEARCH RETURN (SAVE)`, what `$` names (RFC 5182).
    pub saved: Vec<Uid>,
}

/// Message lists of recently selected large mailboxes, shared by the
/// sessions of a process: SELECT catches up from the cached MODSEQ with the
/// store's change records instead of reading every entry again.
#[derive(Default)]
pub(crate) struct Snapshots {
    inner: std::sync::Mutex<Vec<Snapshot>>,
}

struct Snapshot {
    id: MailboxId,
    uidvalidity: UidValidity,
    modseq: ModSeq,
    msgs: std::sync::Arc<Vec<Msg>>,
}

/// Smaller mailboxes are cheap to read whole.
const SNAPSHOT_MIN_MESSAGES: usize = 5_000;
const SNAPSHOTS_KEPT: usize = 16;

impl Snapshots {
    pub fn get(
        &self,
        id: MailboxId,
        uidvalidity: UidValidity,
    ) -> Option<(ModSeq, std::sync::Arc<Vec<Msg>>)> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .iter()
            .find(|s| s.id == id && s.uidvalidity == uidvalidity)
            .map(|s| (s.modseq, s.msgs.clone()))
    }

    /// Keeps the view of a selected mailbox for the next SELECT of it.
    pub fn put(&self, sel: &Selected) {
        if sel.msgs.len() < SNAPSHOT_MIN_MESSAGES {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(pos) = inner.iter().position(|s| s.id == sel.id) {
            if inner[pos].uidvalidity == sel.uidvalidity && inner[pos].modseq >= sel.modseq {
                return;
            }
            inner.remove(pos);
        }
        if inner.len() >= SNAPSHOTS_KEPT {
            inner.remove(0);
        }
        let msgs: Vec<Msg> = sel
            .msgs
            .iter()
            .filter(|m| !m.expunged)
            .map(|m| Msg {
                recent: false,
                ..m.clone()
            })
            .collect();
        inner.push(Snapshot {
            id: sel.id,
            uidvalidity: sel.uidvalidity,
            modseq: sel.modseq,
            msgs: std::sync::Arc::new(msgs),
        });
    }
}

/// Which messages are `\Recent` to some session already (RFC 3501 2.3.2:
/// one session sees a new message as recent): per mailbox, the first UID no
/// session has claimed yet. Kept by the process; after a restart every
/// message counts as new to the first session that selects its mailbox.
#[derive(Default)]
pub(crate) struct RecentClaims {
    inner: std::sync::Mutex<std::collections::HashMap<MailboxId, u32>>,
}

impl RecentClaims {
    /// Claims the UIDs below `upto` not claimed yet; returns the first of them.
    pub fn claim(&self, id: MailboxId, upto: u32) -> u32 {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let first = inner.entry(id).or_insert(0);
        let start = *first;
        *first = start.max(upto);
        start
    }

    /// The first UID not claimed yet.
    pub fn first_unclaimed(&self, id: MailboxId) -> u32 {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.get(&id).copied().unwrap_or(0)
    }
}

fn msg(e: Entry) -> Msg {
    Msg {
        uid: e.uid,
        modseq: e.modseq,
        flags: e.flags,
        internal_date: e.internal_date,
        size: e.size,
        expunged: false,
        recent: false,
    }
}

impl Selected {
    pub fn new(
        id: MailboxId,
        name: String,
        read_only: bool,
        uidvalidity: UidValidity,
        modseq: ModSeq,
        entries: Vec<Entry>,
        keywords: Vec<String>,
    ) -> Selected {
        Selected {
            id,
            name,
            read_only,
            uidvalidity,
            msgs: entries.into_iter().map(msg).collect(),
            keywords,
            dirty: false,
            modseq,
            condstore: false,
            qresync: false,
            saved: Vec::new(),
        }
    }

    /// A view from a cached message list taken at `modseq`; `apply` then
    /// brings it up to date.
    pub fn from_snapshot(
        id: MailboxId,
        name: String,
        read_only: bool,
        uidvalidity: UidValidity,
        modseq: ModSeq,
        msgs: Vec<Msg>,
        keywords: Vec<String>,
    ) -> Selected {
        Selected {
            id,
            name,
            read_only,
            uidvalidity,
            msgs,
            keywords,
            dirty: false,
            modseq,
            condstore: false,
            qresync: false,
            saved: Vec::new(),
        }
    }

    /// Marks the messages from UID `from` on as recent; returns how many
    /// messages are recent now.
    pub fn mark_recent(&mut self, from: u32) -> u32 {
        let start = self.msgs.partition_point(|m| m.uid.0 < from);
        for m in &mut self.msgs[start..] {
            m.recent = true;
        }
        self.recent_count()
    }

    pub fn recent_count(&self) -> u32 {
        self.msgs.iter().filter(|m| m.recent && !m.expunged).count() as u32
    }

    /// What the FLAGS of a message are on the wire, `\Recent` included.
    pub fn wire_flags(m: &Msg) -> Vec<imap_proto::Flag> {
        let mut f = to_wire(&m.flags);
        if m.recent {
            f.push(imap_proto::Flag::Recent);
        }
        f
    }

    pub fn exists(&self) -> u32 {
        self.msgs.len() as u32
    }

    pub fn index_of(&self, uid: Uid) -> Option<usize> {
        self.msgs.binary_search_by_key(&uid, |m| m.uid).ok()
    }

    fn max_uid(&self) -> u32 {
        self.msgs.last().map_or(0, |m| m.uid.0)
    }

    /// Indices of the messages a set names, in ascending order. Sequence
    /// numbers beyond the mailbox (other than through `*`) are an error
    /// (RFC 3501 9 `seq-number`); UIDs that do not exist are ignored.
    pub fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<usize>, String> {
        let mut out = Vec::new();
        if *set == SequenceSet::Saved {
            // `$` names the same messages in FETCH and UID FETCH (RFC 5182 2.1).
            out.extend(self.saved.iter().filter_map(|u| self.index_of(*u)));
            out.sort_unstable();
            out.dedup();
            return Ok(out);
        }
        if uid {
            for (a, b) in set.resolve(self.max_uid()) {
                let start = self.msgs.partition_point(|m| m.uid.0 < a);
                let end = self.msgs.partition_point(|m| m.uid.0 <= b);
                out.extend(start..end);
            }
            return Ok(out);
        }
        let n = self.exists();
        if let SequenceSet::Ranges(ranges) = set {
            for r in ranges {
                // `n:*` is valid whatever n is (RFC 9051 6.4.5); a number
                // alone must name a message.
                let open = r.start == SeqBound::Largest || r.end == SeqBound::Largest;
                for bound in [r.start, r.end] {
                    if let SeqBound::Value(v) = bound
                        && (v == 0 || (v > n && !open))
                    {
                        return Err("Invalid message sequence number".into());
                    }
                }
            }
        }
        for (a, b) in set.resolve(n) {
            if a == 0 {
                continue;
            }
            out.extend((a as usize - 1)..(b as usize).min(n as usize));
        }
        Ok(out)
    }

    /// Takes in what changed in the store since `self.modseq`: entries added
    /// or re-flagged and UIDs expunged. Flag changes become FETCH responses
    /// and new messages one EXISTS; messages gone become EXPUNGE responses
    /// only when `allow_expunge`, else they stay as placeholders.
    pub fn apply(
        &mut self,
        changed: Vec<Entry>,
        expunged: &[Uid],
        highest: ModSeq,
        allow_expunge: bool,
    ) -> Vec<Response> {
        let mut out: Vec<Response> = Vec::new();
        self.mark_expunged(expunged);
        let max = self.msgs.last().map(|m| m.uid);
        let mut flag_changes: Vec<usize> = Vec::new();
        let mut added = Vec::new();
        let mut new_keywords = false;
        for e in changed {
            new_keywords |= self.note_keywords(&e.flags);
            if let Some(i) = self.index_of(e.uid) {
                let m = &mut self.msgs[i];
                m.modseq = m.modseq.max(e.modseq);
                if !m.expunged && m.flags != e.flags {
                    m.flags = e.flags;
                    flag_changes.push(i);
                }
            } else if max.is_none_or(|max| e.uid > max) {
                added.push(msg(e));
            }
        }
        if new_keywords {
            out.extend(self.flags_responses());
        }
        flag_changes.sort_unstable();
        flag_changes.dedup();
        for i in flag_changes {
            let m = &self.msgs[i];
            let mut items = vec![
                FetchValue::Flags(Selected::wire_flags(m)),
                FetchValue::Uid(imap_proto::Uid(m.uid.0)),
            ];
            if self.condstore {
                items.push(FetchValue::ModSeq(imap_proto::ModSeq(m.modseq.0)));
            }
            out.push(
                Data::Fetch {
                    seq: SeqNum(i as u32 + 1),
                    items,
                }
                .into(),
            );
        }
        if allow_expunge {
            out.extend(self.take_expunged().into_iter().map(Response::from));
        }
        if !added.is_empty() {
            added.sort_by_key(|m| m.uid);
            self.msgs.extend(added);
            out.push(Data::Exists(self.exists()).into());
        }
        self.modseq = self.modseq.max(highest);
        out
    }

    /// Removes the placeholders of expunged messages, highest sequence number
    /// first so that each EXPUNGE names the number the client still has; with
    /// QRESYNC, one VANISHED names their UIDs instead (RFC 7162 3.2.10).
    pub fn take_expunged(&mut self) -> Vec<Data> {
        let mut out = Vec::new();
        if !self.msgs.iter().any(|m| m.expunged) {
            return out;
        }
        if self.qresync {
            let gone = self.msgs.iter().filter(|m| m.expunged).map(|m| m.uid.0);
            let uids = SequenceSet::from_values(gone);
            self.msgs.retain(|m| !m.expunged);
            out.push(Data::Vanished {
                earlier: false,
                uids,
            });
            return out;
        }
        // Highest first, each number is still the original index + 1.
        for i in (0..self.msgs.len()).rev() {
            if self.msgs[i].expunged {
                out.push(Data::Expunge(SeqNum(i as u32 + 1)));
            }
        }
        self.msgs.retain(|m| !m.expunged);
        out
    }

    /// Adds keywords not yet announced; true when there were any, so the
    /// caller sends FLAGS again (RFC 3501 7.2.6).
    pub fn note_keywords(&mut self, flags: &Flags) -> bool {
        let mut new = false;
        for k in &flags.keywords {
            if !self.keywords.contains(k) {
                self.keywords.push(k.clone());
                new = true;
            }
        }
        if new {
            self.keywords.sort();
        }
        new
    }

    /// FLAGS and PERMANENTFLAGS for the keywords known now.
    pub fn flags_responses(&self) -> Vec<Response> {
        use crate::handler::flags::mailbox_flags;
        let mut out: Vec<Response> = vec![Data::Flags(mailbox_flags(&self.keywords, false)).into()];
        let permanent = if self.read_only {
            Vec::new()
        } else {
            mailbox_flags(&self.keywords, true)
        };
        out.push(
            imap_proto::StatusResponse::untagged(
                imap_proto::Status::Ok,
                Some(imap_proto::Code::PermanentFlags(permanent)),
                "Flags permitted",
            )
            .into(),
        );
        out
    }

    /// Marks UIDs this session itself removed.
    pub fn mark_expunged(&mut self, uids: &[Uid]) {
        for uid in uids {
            if let Some(i) = self.index_of(*uid) {
                self.msgs[i].expunged = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::{BlobId, ModSeq};

    fn entry(uid: u32, seen: bool) -> Entry {
        Entry {
            uid: Uid(uid),
            modseq: ModSeq(1),
            flags: Flags {
                system: if seen { Flags::SEEN } else { 0 },
                keywords: vec![],
            },
            internal_date: 0,
            size: 10,
            blob: BlobId(1),
        }
    }

    fn view(uids: &[u32]) -> Selected {
        Selected::new(
            MailboxId(1),
            "INBOX".into(),
            false,
            UidValidity(1),
            ModSeq(1),
            uids.iter().map(|u| entry(*u, false)).collect(),
            vec![],
        )
    }

    #[test]
    fn sets_resolve_to_indices() {
        let v = view(&[2, 4, 6, 8]);
        assert_eq!(v.resolve(&SequenceSet::range(2, 3), false), Ok(vec![1, 2]));
        assert!(v.resolve(&SequenceSet::single(5), false).is_err());
        let open = SequenceSet::Ranges(vec![imap_proto::SeqRange {
            start: SeqBound::Value(7),
            end: SeqBound::Largest,
        }]);
        assert_eq!(v.resolve(&open, false), Ok(vec![3]));
        assert_eq!(view(&[]).resolve(&open, false), Ok(vec![]));
        assert_eq!(v.resolve(&SequenceSet::range(3, 7), true), Ok(vec![1, 2]));
        assert_eq!(v.resolve(&SequenceSet::single(100), true), Ok(vec![]));
    }

    #[test]
    fn qresync_announces_vanished_uids() {
        let mut v = view(&[1, 2, 3, 4, 5]);
        v.qresync = true;
        v.mark_expunged(&[Uid(2), Uid(3), Uid(5)]);
        let d = v.take_expunged();
        assert_eq!(
            d,
            vec![Data::Vanished {
                earlier: false,
                uids: SequenceSet::from_values([2, 3, 5]),
            }]
        );
        assert_eq!(v.exists(), 2);
        assert!(v.take_expunged().is_empty());
    }

    #[test]
    fn expunge_numbers_stay_valid_highest_first() {
        let mut v = view(&[1, 2, 3, 4, 5]);
        v.mark_expunged(&[Uid(2), Uid(4)]);
        let d = v.take_expunged();
        assert_eq!(d, vec![Data::Expunge(SeqNum(4)), Data::Expunge(SeqNum(2))]);
        assert_eq!(
            v.msgs.iter().map(|m| m.uid.0).collect::<Vec<_>>(),
            [1, 3, 5]
        );
    }

    #[test]
    fn saved_result_resolves_in_both_forms() {
        let mut v = view(&[2, 4, 6, 8]);
        assert_eq!(v.resolve(&SequenceSet::Saved, false), Ok(vec![]));
        v.saved = vec![Uid(8), Uid(4), Uid(5)];
        assert_eq!(v.resolve(&SequenceSet::Saved, false), Ok(vec![1, 3]));
        assert_eq!(v.resolve(&SequenceSet::Saved, true), Ok(vec![1, 3]));
    }

    #[test]
    fn expunges_wait_for_an_allowed_point() {
        let mut v = view(&[1, 2, 3]);
        let d = v.apply(
            vec![entry(1, true), entry(4, false)],
            &[Uid(2)],
            ModSeq(5),
            false,
        );
        assert_eq!(d.len(), 2);
        assert_eq!(d[1], Response::Data(Data::Exists(4)));
        assert_eq!(v.exists(), 4);
        assert!(v.msgs[1].expunged);
        assert_eq!(v.modseq, ModSeq(5));
        let d = v.apply(vec![], &[], ModSeq(5), true);
        assert_eq!(d, vec![Response::Data(Data::Expunge(SeqNum(2)))]);
        assert_eq!(v.exists(), 3);
    }
}
