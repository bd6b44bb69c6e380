//! Parse errors, with what the session needs to answer them and resynchronise.

use crate::ids::Tag;
use crate::response::{Code, Status, StatusResponse};

/// What went wrong, coarse enough for the session to choose a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// The command does not follow the grammar.
    Syntax,
    /// The command name is not one this parser knows.
    UnknownCommand,
    /// A line is longer than `Limits::max_line`.
    LineTooLong,
    /// A literal is larger than the limits allow.
    LiteralTooLarge,
    /// The whole command is larger than `Limits::max_command`.
    CommandTooLarge,
    /// Parentheses (or SEARCH `NOT`/`OR`) nest deeper than `Limits::max_depth`.
    TooDeep,
    /// A line ends in a bare LF, or holds a NUL.
    BadLineEnding,
    /// A mailbox name is not valid UTF-8 / modified UTF-7.
    BadMailboxName,
    /// A SEARCH string is not valid in its charset.
    BadCharset,
}

/// How much input to drop after an error before parsing the next command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skip {
    /// Bytes to drop counting from the start of the buffer that gave the error; may
    /// exceed what is buffered (a refused non-synchronising literal still arriving).
    pub bytes: u64,
    /// After those bytes, also drop everything through the next LF.
    pub then_line: bool,
}

impl Skip {
    /// Drops what this skip covers from the front of `buf` and says how many bytes were
    /// dropped; call again with new input until [`Skip::is_done`].
    pub fn consume(&mut self, buf: &[u8]) -> usize {
        let n = (self.bytes.min(buf.len() as u64)) as usize;
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

/// A command the parser refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// The command's tag when it could be read.
    pub tag: Option<Tag>,
    pub kind: ParseErrorKind,
    /// The response code to send, if any (`TOOBIG`, `BADCHARSET`, `CLIENTBUG`, ...).
    pub code: Option<Code>,
    /// Human-readable text for the response.
    pub message: String,
    /// Input to drop before the next command.
    pub skip: Skip,
}

impl ParseError {
    pub(crate) fn new(kind: ParseErrorKind, message: impl Into<String>) -> ParseError {
        ParseError {
            tag: None,
            kind,
            code: None,
            message: message.into(),
            skip: Skip {
                bytes: 0,
                then_line: false,
            },
        }
    }

    pub(crate) fn syntax(message: impl Into<String>) -> ParseError {
        ParseError::new(ParseErrorKind::Syntax, message)
    }

    pub(crate) fn with_code(mut self, code: Code) -> ParseError {
        self.code = Some(code);
        self
    }

    /// The response the session should send: tagged when the tag was read, `NO` for a
    /// refused synchronising literal (the client has not sent it) and for a mailbox
    /// name that is not valid modified UTF-7 (code `CANNOT`), `BAD` otherwise.
    pub fn response(&self) -> StatusResponse {
        let no = match self.kind {
            ParseErrorKind::LiteralTooLarge => !self.skip.then_line,
            ParseErrorKind::BadMailboxName => self.code == Some(Code::Cannot),
            _ => false,
        };
        let status = if no { Status::No } else { Status::Bad };
        StatusResponse {
            tag: self.tag.clone(),
            status,
            code: self.code.clone(),
            text: self.message.clone(),
        }
    }
}
