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
        if let Some(m) = self.mod_seq {
            s.push_str(&format!(" MODSEQ {m}"));
        }
        out.extend_from_slice(s.as_bytes());
    }
}
