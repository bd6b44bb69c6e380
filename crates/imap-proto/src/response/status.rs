//! STATUS responses (RFC 3501 7.2.4, RFC 9051 7.3.2).

use crate::ids::{ModSeq, Uid, UidValidity};

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusValue {
    Messages(u32),
    Recent(u32),
    UidNext(Uid),
    UidValidity(UidValidity),
    Unseen(u32),
    Deleted(u32),
    Size(u64),
    HighestModSeq(ModSeq),
    AppendLimit(Option<u64>),
}

impl StatusValue {
    /// `NAME value`
    pub fn encode(&self, out: &mut Vec<u8>) {
        let s = match self {
            StatusValue::Messages(n) => format!("MESSAGES {n}"),
            StatusValue::Recent(n) => format!("RECENT {n}"),
            StatusValue::UidNext(n) => format!("UIDNEXT {n}"),
            StatusValue::UidValidity(n) => format!("UIDVALIDITY {n}"),
            StatusValue::Unseen(n) => format!("UNSEEN {n}"),
            StatusValue::Deleted(n) => format!("DELETED {n}"),
            StatusValue::Size(n) => format!("SIZE {n}"),
            StatusValue::HighestModSeq(n) => format!("HIGHESTMODSEQ {n}"),
            StatusValue::AppendLimit(Some(n)) => format!("APPENDLIMIT {n}"),
            StatusValue::AppendLimit(None) => "APPENDLIMIT NIL".to_string(),
        };
        out.extend_from_slice(s.as_bytes());
    }
}
