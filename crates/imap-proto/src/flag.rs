//! Message flags (RFC 3501 2.3.2): system flags, keywords, and `\*` for PERMANENTFLAGS.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// `\Recent`: only ever sent by the server (RFC 3501); gone in IMAP4rev2.
    Recent,
    /// A keyword such as `$Forwarded` or `NonJunk` (an atom without a backslash).
    Keyword(String),
    /// `\Something` not defined by the RFCs, kept as sent without the backslash.
    Extension(String),
    /// `\*` in PERMANENTFLAGS: clients may create new keywords.
    Wildcard,
}

impl Flag {
    /// Reads a flag from its wire form (`\Seen`, `$Junk`). System flags are
    /// case-insensitive; keywords keep their spelling.
    pub fn parse(s: &str) -> Option<Flag> {
        if s.is_empty() {
            return None;
        }
        if let Some(name) = s.strip_prefix('\\') {
            let flag = match name.to_ascii_lowercase().as_str() {
                "seen" => Flag::Seen,
                "answered" => Flag::Answered,
                "flagged" => Flag::Flagged,
                "deleted" => Flag::Deleted,
                "draft" => Flag::Draft,
                "recent" => Flag::Recent,
                "*" => Flag::Wildcard,
                "" => return None,
                _ => {
                    if !name.bytes().all(crate::lexer::is_atom_char) {
                        return None;
                    }
                    Flag::Extension(name.to_string())
                }
            };
            return Some(flag);
        }
        if s.bytes().all(crate::lexer::is_atom_char) {
            Some(Flag::Keyword(s.to_string()))
        } else {
            None
        }
    }

    /// A keyword flag; `None` when `s` is not an atom.
    pub fn keyword(s: &str) -> Option<Flag> {
        if !s.is_empty() && !s.starts_with('\\') && s.bytes().all(crate::lexer::is_atom_char) {
            Some(Flag::Keyword(s.to_string()))
        } else {
            None
        }
    }

    pub fn is_system(&self) -> bool {
        !matches!(self, Flag::Keyword(_))
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Seen => f.write_str("\\Seen"),
            Flag::Answered => f.write_str("\\Answered"),
            Flag::Flagged => f.write_str("\\Flagged"),
            Flag::Deleted => f.write_str("\\Deleted"),
            Flag::Draft => f.write_str("\\Draft"),
            Flag::Recent => f.write_str("\\Recent"),
            Flag::Keyword(k) => f.write_str(k),
            Flag::Extension(e) => write!(f, "\\{e}"),
            Flag::Wildcard => f.write_str("\\*"),
        }
    }
}
