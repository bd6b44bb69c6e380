//! SEARCH and ESEARCH responses (RFC 3501 7.2.5, RFC 4731, RFC 9051 7.3.4).

use crate::ids::{ModSeq, Tag};
use crate::sequence::SequenceSet;

/// `* ESEARCH (TAG "a1") UID MIN 2 MAX 9 COUNT 3 ALL 2,5:6,9`
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ESearch {
    pub tag: Option<Tag>,
    pub uid: bool,
    pub min: Option<u32>,
    pub max: Option<u32>,
    pub count: Option<u32>,
    pub all: Option<SequenceSet>,
    pub mod_seq: Option<ModSeq>,
    /// `PARTIAL (low:high set)` (RFC 5267 4.4); `None` as the set is `NIL`.
    pub partial: Option<(u32, u32, Option<SequenceSet>)>,
    /// ADDTO and REMOVEFROM items, in the order the client applies them (RFC 5267 4.3).
    pub updates: Vec<ContextUpdate>,
}

/// One ADDTO or REMOVEFROM item: a context position (0 for SEARCH) and the
/// numbers, in the requested order (RFC 5267 4.3.3, 4.3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextUpdate {
    AddTo(u32, SequenceSet),
    RemoveFrom(u32, SequenceSet),
}

impl ESearch {
    /// `ESEARCH [(TAG "t")] [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]`,
    /// after `* `.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut s = String::from("ESEARCH");
        if let Some(tag) = &self.tag {
            // Tags never hold `"` or `\`, so quoting needs no escapes.
            s.push_str(&format!(" (TAG \"{tag}\")"));
        }
        if self.uid {
            s.push_str(" UID");
        }
        if let Some(n) = self.min {
            s.push_str(&format!(" MIN {n}"));
        }
        if let Some(n) = self.max {
            s.push_str(&format!(" MAX {n}"));
        }
        if let Some(n) = self.count {
            s.push_str(&format!(" COUNT {n}"));
        }
        if let Some(set) = &self.all {
            s.push_str(&format!(" ALL {set}"));
        }
        if let Some((low, high, set)) = &self.partial {
            match set {
                Some(set) => s.push_str(&format!(" PARTIAL ({low}:{high} {set})")),
                None => s.push_str(&format!(" PARTIAL ({low}:{high} NIL)")),
            }
        }
        for u in &self.updates {
            match u {
                ContextUpdate::AddTo(pos, set) => s.push_str(&format!(" ADDTO ({pos} {set})")),
                ContextUpdate::RemoveFrom(pos, set) => {
                    s.push_str(&format!(" REMOVEFROM ({pos} {set})"))
                }
            }
        }
        if let Some(m) = self.mod_seq {
            s.push_str(&format!(" MODSEQ {m}"));
        }
        out.extend_from_slice(s.as_bytes());
    }
}
