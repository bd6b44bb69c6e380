//! Bounds the parser enforces.

/// What the parser accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest line of a command outside its literals, line ending included.
    pub max_line: usize,
    /// Largest literal: a script may be as large as the per-script quota.
    pub max_literal: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 8 * 1024,
            max_literal: 1024 * 1024,
        }
    }
}
