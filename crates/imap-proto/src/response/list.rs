//! LIST and LSUB responses (RFC 3501 7.2.2, RFC 5258, RFC 6154).

use crate::mailbox::MailboxName;

/// `* LIST (attrs) "delim" name [(extended items)]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListData {
    pub attrs: Vec<MailboxAttr>,
    /// Hierarchy delimiter; `None` is NIL (flat namespace).
    pub delimiter: Option<char>,
    pub mailbox: MailboxName,
    /// `CHILDINFO ("SUBSCRIBED")` (RFC 5258 3.5); empty for none.
    pub child_info: Vec<String>,
    /// `OLDNAME (name)` (RFC 9051 7.3.1) for a renamed mailbox.
    pub old_name: Option<MailboxName>,
}

impl ListData {
    pub fn new(attrs: Vec<MailboxAttr>, delimiter: Option<char>, mailbox: MailboxName) -> Self {
        ListData {
            attrs,
            delimiter,
            mailbox,
            child_info: Vec::new(),
            old_name: None,
        }
    }
}

/// Mailbox attributes (RFC 3501, RFC 5258, RFC 6154 special-use).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MailboxAttr {
    NoInferiors,
    NoSelect,
    Marked,
    Unmarked,
    NonExistent,
    Subscribed,
    Remote,
    HasChildren,
    HasNoChildren,
    All,
    Archive,
    Drafts,
    Flagged,
    Junk,
    Sent,
    Trash,
    Important,
    /// Any other `\Name`, without the backslash.
    Other(String),
}

impl MailboxAttr {
    pub fn name(&self) -> &str {
        match self {
            MailboxAttr::NoInferiors => "\\Noinferiors",
            MailboxAttr::NoSelect => "\\Noselect",
            MailboxAttr::Marked => "\\Marked",
            MailboxAttr::Unmarked => "\\Unmarked",
            MailboxAttr::NonExistent => "\\NonExistent",
            MailboxAttr::Subscribed => "\\Subscribed",
            MailboxAttr::Remote => "\\Remote",
            MailboxAttr::HasChildren => "\\HasChildren",
            MailboxAttr::HasNoChildren => "\\HasNoChildren",
            MailboxAttr::All => "\\All",
            MailboxAttr::Archive => "\\Archive",
            MailboxAttr::Drafts => "\\Drafts",
            MailboxAttr::Flagged => "\\Flagged",
            MailboxAttr::Junk => "\\Junk",
            MailboxAttr::Sent => "\\Sent",
            MailboxAttr::Trash => "\\Trash",
            MailboxAttr::Important => "\\Important",
            MailboxAttr::Other(s) => s,
        }
    }

    /// Reads `\Name` (case-insensitive); `None` without the backslash.
    pub fn parse(s: &str) -> Option<MailboxAttr> {
        let name = s.strip_prefix('\\')?;
        if name.is_empty() || !name.bytes().all(crate::lexer::is_atom_char) {
            return None;
        }
        let known = [
            MailboxAttr::NoInferiors,
            MailboxAttr::NoSelect,
            MailboxAttr::Marked,
            MailboxAttr::Unmarked,
            MailboxAttr::NonExistent,
            MailboxAttr::Subscribed,
            MailboxAttr::Remote,
            MailboxAttr::HasChildren,
            MailboxAttr::HasNoChildren,
            MailboxAttr::All,
            MailboxAttr::Archive,
            MailboxAttr::Drafts,
            MailboxAttr::Flagged,
            MailboxAttr::Junk,
            MailboxAttr::Sent,
            MailboxAttr::Trash,
            MailboxAttr::Important,
        ];
        Some(
            known
                .into_iter()
                .find(|a| a.name().eq_ignore_ascii_case(s))
                .unwrap_or_else(|| MailboxAttr::Other(s.to_string())),
        )
    }
}

use super::EncodeOptions;
use super::encode::{write_delimiter, write_mailbox, write_spaced, write_string};

impl ListData {
    /// `(attrs) delim name [(extended items)]`, after `LIST `/`LSUB `.
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        out.push(b'(');
        write_spaced(out, &self.attrs, |out, a| {
            out.extend_from_slice(a.name().as_bytes())
        });
        out.extend_from_slice(b") ");
        write_delimiter(out, self.delimiter);
        out.push(b' ');
        write_mailbox(out, &self.mailbox, opts);
        if self.child_info.is_empty() && self.old_name.is_none() {
            return;
        }
        out.extend_from_slice(b" (");
        let mut first = true;
        if !self.child_info.is_empty() {
            out.extend_from_slice(b"\"CHILDINFO\" (");
            write_spaced(out, &self.child_info, |out, c| {
                write_string(out, c.as_bytes(), opts)
            });
            out.push(b')');
            first = false;
        }
        if let Some(old) = &self.old_name {
            if !first {
                out.push(b' ');
            }
            out.extend_from_slice(b"\"OLDNAME\" (");
            write_mailbox(out, old, opts);
            out.push(b')');
        }
        out.push(b')');
    }
}
