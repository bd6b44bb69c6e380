//! Bounds the parser enforces, and the session state that changes the grammar.

/// What the parser accepts. `Limits::default()` suits an IMAP4rev1 server with
/// LITERAL+ advertised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest command line (excluding literals), CRLF included.
    pub max_line: usize,
    /// Largest literal (e.g. the APPEND size limit).
    pub max_literal: u32,
    /// Largest non-synchronising literal `{n+}`: `u32::MAX` with LITERAL+, 4096 when only
    /// LITERAL- is advertised (RFC 7888 4), 0 when neither is.
    pub max_non_sync_literal: u32,
    /// Largest whole command, lines and literals together.
    pub max_command: usize,
    /// Deepest nesting of parentheses (and of SEARCH `NOT`/`OR`).
    pub max_depth: usize,
    /// Mailbox names are UTF-8 on the wire (IMAP4rev2 or UTF8=ACCEPT enabled) instead of
    /// modified UTF-7.
    pub utf8: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_literal: 64 * 1024 * 1024,
            max_non_sync_literal: u32::MAX,
            max_command: 256 * 1024 * 1024,
            max_depth: 64,
            utf8: false,
        }
    }
}
