//! Newtypes for the numbers and names IMAP must not mix up.

use std::fmt;

/// A command tag as the client sent it (`a001`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tag(String);

impl Tag {
    /// Builds a tag; `None` when it contains characters a tag may not (RFC 3501 9: `tag`).
    pub fn new(tag: impl Into<String>) -> Option<Tag> {
        let tag = tag.into();
        if !tag.is_empty() && tag.bytes().all(is_tag_char) {
            Some(Tag(tag))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `tag = 1*<any ASTRING-CHAR except "+">`
pub(crate) fn is_tag_char(b: u8) -> bool {
    crate::lexer::is_astring_char(b) && b != b'+'
}

macro_rules! number_newtype {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                $name(v)
            }
        }
    };
}

number_newtype!(
    /// A message's unique identifier within a mailbox (RFC 3501 2.3.1.1).
    Uid,
    u32
);
number_newtype!(
    /// A message sequence number (RFC 3501 2.3.1.2), 1-based.
    SeqNum,
    u32
);
number_newtype!(
    /// A mailbox's UIDVALIDITY.
    UidValidity,
    u32
);
number_newtype!(
    /// A modification sequence (RFC 7162), 63 bits.
    ModSeq,
    u64
);

/// A password as sent in LOGIN; its Debug output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(s: impl Into<String>) -> Password {
        Password(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}
