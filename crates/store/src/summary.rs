//! (interim) message summary types; replaced by the full implementation.
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    pub header_size: u64,
    pub body_lines: u64,
    pub sent_date: Option<i64>,
    pub subject: Option<String>,
    pub base_subject: Option<String>,
    pub from_addr: Option<String>,
    pub from_name: Option<String>,
    pub to_addr: Option<String>,
    pub to_name: Option<String>,
    pub cc_addr: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references_ids: Vec<String>,
    pub envelope: Envelope,
    pub body: BodyStructure,
    pub body_text: String,
}
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {}
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BodyStructure {}
pub fn summarize(raw: &[u8]) -> MessageSummary {
    MessageSummary {
        header_size: raw.len() as u64,
        ..Default::default()
    }
}
