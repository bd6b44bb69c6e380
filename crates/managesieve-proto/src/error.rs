//! Parse errors, with what the session needs to answer them and resynchronise.

/// What went wrong, coarse enough for the session to choose a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The command does not follow the grammar.
    Syntax,
    /// The command name is not one this parser knows.
    UnknownCommand,
    /// A line is longer than `Limits::max_line`.
    LineTooLong,
    /// A literal is larger than `Limits::max_literal`.
    LiteralTooLarge,
    /// A script name is not UTF-8 or holds characters RFC 5804 1.6 forbids.
    BadName,
}

/// How much input to drop after an error before parsing the next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip {
    /// Bytes to drop counting from the start of the buffer that gave the error;
    /// may exceed what is buffered (a refused literal still arriving).
    pub bytes: u64,
    /// After those bytes, also drop everything through the next LF.
    pub then_line: bool,
}

impl Skip {
    /// Drops what this skip covers from the front of `buf` and says how many
    /// bytes were dropped; call again with new input until [`Skip::is_done`].
    pub fn consume(&mut self, buf: &[u8]) -> usize {
        let n = usize::try_from(self.bytes.min(buf.len() as u64)).unwrap_or(buf.len());
        self.bytes -= n as u64;
        if self.bytes > 0 || !self.then_line {
            return n;
        }
        match buf[n..].iter().position(|&b| b == b'\n') {
            Some(p) => {
                self.then_line = false;
                n + p + 1
            }
            None => buf.len(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.bytes == 0 && !self.then_line
    }
}

/// A command the parser refused. ManageSieve has no `BAD`: the session answers
/// `NO` with [`ParseError::message`] (RFC 5804 1.3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    /// Human-readable text for the response.
    pub message: String,
    /// Input to drop before the next command.
    pub skip: Skip,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, message: impl Into<String>, skip: Skip) -> Self {
        ParseError {
            kind,
            message: message.into(),
            skip,
        }
    }
}
