//! STATUS (RFC 3501 6.3.10, RFC 9051 6.3.11 with SIZE and DELETED, RFC 7162
//! HIGHESTMODSEQ).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusItem {
    Messages,
    Recent,
    UidNext,
    UidValidity,
    Unseen,
    Deleted,
    Size,
    HighestModSeq,
    AppendLimit,
}

impl StatusItem {
    pub fn name(&self) -> &'static str {
        match self {
            StatusItem::Messages => "MESSAGES",
            StatusItem::Recent => "RECENT",
            StatusItem::UidNext => "UIDNEXT",
            StatusItem::UidValidity => "UIDVALIDITY",
            StatusItem::Unseen => "UNSEEN",
            StatusItem::Deleted => "DELETED",
            StatusItem::Size => "SIZE",
            StatusItem::HighestModSeq => "HIGHESTMODSEQ",
            StatusItem::AppendLimit => "APPENDLIMIT",
        }
    }

    pub fn from_name(name: &str) -> Option<StatusItem> {
        [
            StatusItem::Messages,
            StatusItem::Recent,
            StatusItem::UidNext,
            StatusItem::UidValidity,
            StatusItem::Unseen,
            StatusItem::Deleted,
            StatusItem::Size,
            StatusItem::HighestModSeq,
            StatusItem::AppendLimit,
        ]
        .into_iter()
        .find(|i| i.name().eq_ignore_ascii_case(name))
    }
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::write_mailbox;

/// `"(" status-att *(SP status-att) ")"`, also used by LIST-STATUS.
pub(crate) fn parse_items(r: &mut Reader<'_>) -> Result<Vec<StatusItem>, Box<ParseError>> {
    r.paren_list(false, |r| {
        let name = r.keyword()?;
        StatusItem::from_name(&name).map_or_else(|| r.err("Unknown STATUS item"), Ok)
    })
}

/// `STATUS SP mailbox SP "(" status-att *(SP status-att) ")"`
pub(crate) fn parse(r: &mut Reader<'_>) -> Result<CommandBody, Box<ParseError>> {
    let mailbox = super::mailbox::parse_one(r)?;
    r.sp()?;
    let items = parse_items(r)?;
    Ok(CommandBody::Status { mailbox, items })
}

pub(crate) fn write_items(out: &mut Vec<u8>, items: &[StatusItem]) {
    out.push(b'(');
    crate::response::encode::write_spaced(out, items, |out, i| {
        out.extend_from_slice(i.name().as_bytes())
    });
    out.push(b')');
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    if let CommandBody::Status { mailbox, items } = body {
        out.extend_from_slice(b"STATUS ");
        write_mailbox(out, mailbox, opts);
        out.push(b' ');
        write_items(out, items);
    }
}
