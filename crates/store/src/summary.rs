//! Per-message summary computed once at delivery: what IMAP needs often
//! (ENVELOPE, BODYSTRUCTURE with exact byte offsets, and the header values
//! used by SEARCH/SORT/THREAD).
//!
//! The MIME structure is found on the raw bytes (so every offset is exact and
//! every value is the raw one IMAP wants); `mail-parser` is used for what it
//! does well: RFC 2047 decoding, charsets and dates. `summarize` never panics:
//! nesting is capped at [`MAX_DEPTH`] and the part count at [`MAX_PARTS`].
//!
//! Invariants of the produced [`BodyStructure`] tree, relied on by the IMAP
//! formatter:
//! - `parts` is non-empty exactly when `media_type` is `multipart`
//!   (ASCII case-insensitive); a multipart without a usable boundary becomes
//!   `text/plain`, and one where no delimiter is found gets one empty
//!   `text/plain` child.
//! - `message` is `Some` exactly when the type is `message/rfc822` or
//!   `message/global`; such a part that cannot be parsed in place (encoded
//!   with base64/quoted-printable, or nested too deep) is reported as
//!   `application/octet-stream` (an encoded one's text still goes into
//!   `body_text`).
//! - `part_offset + part_header_size + part_body_size <= raw.len()`, and
//!   children lie inside their parent's body.
//! - Envelope addresses that are not group markers always have `mailbox`
//!   and `host` set (`MISSING_MAILBOX` / `MISSING_DOMAIN` fill-ins, as
//!   Dovecot does), so they are never mistaken for group markers.

mod address;
mod mime;
mod subject;
mod text;

pub use subject::base_subject;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

/// Nesting (multipart or message/rfc822 levels) beyond which parts are opaque.
/// 50 keeps the stored JSON of the structure within serde_json's default
/// recursion limit (128) when it is read back.
pub const MAX_DEPTH: usize = 50;
/// Envelope address lists are cut after this many entries (a huge list
/// would otherwise cost time and, copied into sender/reply-to, storage).
pub const MAX_ADDRESSES: usize = 2_000;
/// Parts beyond this many in one message are left out of the structure.
pub const MAX_PARTS: usize = 5_000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageSummary {
    /// Bytes of the top-level header including the blank line (or the whole
    /// message when there is no blank line).
    pub header_size: u64,
    /// Lines in the top-level body.
    pub body_lines: u64,
    /// `Date:` as Unix seconds (UTC); None if absent or unparsable.
    pub sent_date: Option<i64>,
    /// Decoded (RFC 2047) subject.
    pub subject: Option<String>,
    /// RFC 5256 base subject (case kept).
    pub base_subject: Option<String>,
    /// First From mailbox as `local@domain`, lower-cased.
    pub from_addr: Option<String>,
    /// RFC 5957 DISPLAYFROM: decoded display name, else the address.
    pub from_name: Option<String>,
    pub to_addr: Option<String>,
    pub to_name: Option<String>,
    pub cc_addr: Option<String>,
    /// First `<id>` of Message-ID (else its trimmed value).
    pub message_id: Option<String>,
    /// First `<id>` of In-Reply-To.
    pub in_reply_to: Option<String>,
    /// Every `<id>` of References, in order.
    pub references_ids: Vec<String>,
    pub envelope: Envelope,
    pub body: BodyStructure,
    /// Decoded text of all text/plain and text/html parts (HTML crudely
    /// stripped), joined with "\n".
    pub body_text: String,
}

/// RFC 3501 ENVELOPE; raw (undecoded, unfolded) header values, None = NIL.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub date: Option<String>,
    pub subject: Option<String>,
    pub from: Vec<Address>,
    /// Defaults to `from` when absent or empty.
    pub sender: Vec<Address>,
    /// Defaults to `from` when absent or empty.
    pub reply_to: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub in_reply_to: Option<String>,
    pub message_id: Option<String>,
}

/// RFC 3501 address. Group start: `mailbox` = group name, `host` = None;
/// group end: `mailbox` and `host` None.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub adl: Option<String>,
    pub mailbox: Option<String>,
    pub host: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BodyStructure {
    pub media_type: String,
    pub media_subtype: String,
    pub params: Vec<(String, String)>,
    pub id: Option<String>,
    pub description: Option<String>,
    /// Content-Transfer-Encoding as written; "7BIT" when absent.
    pub encoding: String,
    /// Octets of the part body as stored (encoded).
    pub size: u64,
    /// For text/* and message/rfc822 (message/global).
    pub lines: Option<u64>,
    pub md5: Option<String>,
    pub disposition: Option<(String, Vec<(String, String)>)>,
    pub language: Vec<String>,
    pub location: Option<String>,
    /// Multipart children.
    pub parts: Vec<BodyStructure>,
    /// The encapsulated message of message/rfc822 or message/global. Its
    /// `BodyStructure` is the root of that message: its `part_offset` is the
    /// start of the encapsulated header.
    pub message: Option<Box<(Envelope, BodyStructure)>>,
    /// Where this part's MIME header starts in the raw message.
    pub part_offset: u64,
    /// Size of this part's MIME header, blank line included.
    pub part_header_size: u64,
    /// Size of this part's body (follows the header).
    pub part_body_size: u64,
}

/// Computes the summary of one raw RFC 5322 message. Never panics.
pub fn summarize(raw: &[u8]) -> MessageSummary {
    let mut walker = mime::Walker::new(raw);
    let (body, fields) = walker.entity(0, raw.len(), 0, false);
    let header_size = body.part_header_size;
    let envelope = envelope(&fields);
    let get = |name: &str| field(&fields, name);

    let subject = get("subject").map(text::decode_words);
    let base_subject = subject.as_deref().map(|s| base_subject(s).0);
    let from = get("from").and_then(address::first);
    let to = get("to").and_then(address::first);
    let cc = get("cc").and_then(address::first);
    let message_id = get("message-id").and_then(|v| {
        let unfolded = text::unfold(v);
        text::msg_ids(&unfolded)
            .into_iter()
            .next()
            .or_else(|| Some(unfolded).filter(|s| !s.is_empty()))
    });
    let in_reply_to =
        get("in-reply-to").and_then(|v| text::msg_ids(&text::unfold(v)).into_iter().next());
    let references_ids = get("references")
        .map(|v| text::msg_ids(&text::unfold(v)))
        .unwrap_or_default();

    MessageSummary {
        header_size,
        body_lines: text::count_lines(raw.get(header_size as usize..).unwrap_or_default()),
        sent_date: get("date").and_then(|v| text::parse_date(&text::unfold(v))),
        subject,
        base_subject,
        from_addr: from.as_ref().and_then(|m| m.addr_lower()),
        from_name: from.as_ref().and_then(|m| m.display()),
        to_addr: to.as_ref().and_then(|m| m.addr_lower()),
        to_name: to.as_ref().and_then(|m| m.display()),
        cc_addr: cc.as_ref().and_then(|m| m.addr_lower()),
        message_id,
        in_reply_to,
        references_ids,
        envelope,
        body,
        body_text: walker.into_text(),
    }
}

/// A header block's fields as (name, value) with each value unfolded and its
/// RFC 2047 encoded-words decoded: what SEARCH HEADER/FROM/SUBJECT match.
pub fn decoded_fields(header: &[u8]) -> Vec<(String, String)> {
    parse_fields(header)
        .iter()
        .map(|f| (text::lossy(f.name), text::decode_words(f.value)))
        .collect()
}

/// The addresses of every `name` field (From, To, Cc, ...) in a header block
/// as SEARCH matches them (RFC 3501 6.4.4): `display-name <local@domain>`
/// with the name decoded, comments and folding gone; group names on their own.
pub fn search_addresses(header: &[u8], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in parse_fields(header) {
        if !f.name.eq_ignore_ascii_case(name.as_bytes()) {
            continue;
        }
        for item in address::parse(f.value) {
            match item {
                address::AddrItem::GroupStart(g) => out.push(g),
                address::AddrItem::GroupEnd => {}
                address::AddrItem::Mailbox(m) => {
                    let spec = match (&m.mailbox, &m.host) {
                        (Some(l), Some(h)) => format!("{l}@{h}"),
                        (Some(l), None) => l.clone(),
                        _ => String::new(),
                    };
                    let name = m.name.as_deref().map(text::decode_words);
                    out.push(match name.filter(|n| !n.trim().is_empty()) {
                        Some(n) => format!("{n} <{spec}>"),
                        None => spec,
                    });
                }
            }
        }
    }
    out
}

/// One header field: its name and raw value (folding line breaks included,
/// final line break excluded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Size of the header at the start of `raw`, blank line included; the whole
/// of `raw` when there is no blank line.
pub(crate) fn header_len(raw: &[u8]) -> usize {
    let mut pos = 0;
    while pos < raw.len() {
        let Some(nl) = text::find_byte(&raw[pos..], b'\n') else {
            return raw.len();
        };
        let line = &raw[pos..pos + nl];
        if line.is_empty() || line == b"\r" {
            return pos + nl + 1;
        }
        pos += nl + 1;
    }
    raw.len()
}

/// Splits a header block into fields. Lines that are neither a field nor a
/// continuation are skipped.
pub(crate) fn parse_fields(header: &[u8]) -> Vec<Field<'_>> {
    let mut fields: Vec<Field<'_>> = Vec::new();
    // Where the value of the field still open for continuation lines starts.
    let mut open: Option<usize> = None;
    let mut pos = 0;
    while pos < header.len() {
        let rest = &header[pos..];
        let nl = text::find_byte(rest, b'\n').unwrap_or(rest.len());
        let mut line_end = nl;
        if line_end > 0 && rest[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let line = &rest[..line_end];
        if line.is_empty() {
            break; // the blank line ending the header
        }
        if matches!(line[0], b' ' | b'\t') {
            if let (Some(start), Some(last)) = (open, fields.last_mut()) {
                last.value = &header[start..pos + line_end];
            }
        } else {
            open = None;
            if let Some(colon) = line.iter().position(|&b| b == b':') {
                let name = text::trim_wsp_end(&line[..colon]);
                if !name.is_empty() && !name.iter().any(|b| matches!(b, b' ' | b'\t')) {
                    fields.push(Field {
                        name,
                        value: &line[colon + 1..],
                    });
                    open = Some(pos + colon + 1);
                }
            }
        }
        pos += nl + 1;
    }
    fields
}

/// Raw value of the first field called `name` (ASCII case-insensitive).
pub(crate) fn field<'a>(fields: &[Field<'a>], name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .map(|f| f.value)
}

/// Builds the RFC 3501 envelope from a header's fields.
pub(crate) fn envelope(fields: &[Field<'_>]) -> Envelope {
    let raw = |name: &str| {
        field(fields, name)
            .map(text::unfold)
            .filter(|s| !s.is_empty())
    };
    let addrs = |name: &str| {
        field(fields, name)
            .map(|v| address::to_imap(address::parse(v)))
            .unwrap_or_default()
    };
    let from = addrs("from");
    let or_from = |list: Vec<Address>| if list.is_empty() { from.clone() } else { list };
    Envelope {
        date: raw("date"),
        subject: field(fields, "subject").map(text::unfold),
        sender: or_from(addrs("sender")),
        reply_to: or_from(addrs("reply-to")),
        to: addrs("to"),
        cc: addrs("cc"),
        bcc: addrs("bcc"),
        in_reply_to: raw("in-reply-to"),
        message_id: raw("message-id"),
        from,
    }
}
