//! The commands of RFC 5804 2, parsed from what a client sends.

pub mod auth;
pub mod script;

use std::fmt;

use crate::Parsed;
use crate::error::{ParseError, ParseErrorKind, Skip};
use crate::lexer::{self, Lexed, Token};
use crate::limits::Limits;

/// A script name (RFC 5804 1.6): UTF-8 without control characters (Cc), line
/// separator or paragraph separator. One that exists is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScriptName(String);

/// Why bytes are not a script name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScriptNameError {
    #[error("script names must not be empty")]
    Empty,
    #[error("script names must be UTF-8")]
    NotUtf8,
    #[error("script names must not contain control characters or line separators")]
    Control,
    #[error("script names are at most 512 octets")]
    TooLong,
}

/// Longest name accepted; RFC 5804 1.6 asks servers to allow at least 128.
pub const MAX_NAME: usize = 512;

impl ScriptName {
    pub fn parse(bytes: &[u8]) -> Result<ScriptName, ScriptNameError> {
        if bytes.is_empty() {
            return Err(ScriptNameError::Empty);
        }
        if bytes.len() > MAX_NAME {
            return Err(ScriptNameError::TooLong);
        }
        let s = std::str::from_utf8(bytes).map_err(|_| ScriptNameError::NotUtf8)?;
        if s.chars()
            .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{2029}')
        {
            return Err(ScriptNameError::Control);
        }
        Ok(ScriptName(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ScriptName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A command as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// RFC 5804 2.1. `initial_response` is base64 text (SASL-IR).
    Authenticate {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// RFC 5804 2.2.
    StartTls,
    /// RFC 5804 2.3.
    Logout,
    /// RFC 5804 2.4.
    Capability,
    /// RFC 5804 2.5.
    HaveSpace { name: ScriptName, size: u32 },
    /// RFC 5804 2.6.
    PutScript { name: ScriptName, script: Vec<u8> },
    /// RFC 5804 2.7.
    ListScripts,
    /// RFC 5804 2.8; `None` (the empty name) deactivates.
    SetActive { name: Option<ScriptName> },
    /// RFC 5804 2.9.
    GetScript { name: ScriptName },
    /// RFC 5804 2.10.
    DeleteScript { name: ScriptName },
    /// RFC 5804 2.11.1.
    RenameScript { from: ScriptName, to: ScriptName },
    /// RFC 5804 2.12.
    CheckScript { script: Vec<u8> },
    /// RFC 5804 2.13; the tag is echoed in a `TAG` response code.
    Noop { tag: Option<Vec<u8>> },
    /// RFC 5804 2.14.1.
    Unauthenticate,
}

impl Command {
    /// The command's name as RFC 5804 spells it.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Authenticate { .. } => "AUTHENTICATE",
            Command::StartTls => "STARTTLS",
            Command::Logout => "LOGOUT",
            Command::Capability => "CAPABILITY",
            Command::HaveSpace { .. } => "HAVESPACE",
            Command::PutScript { .. } => "PUTSCRIPT",
            Command::ListScripts => "LISTSCRIPTS",
            Command::SetActive { .. } => "SETACTIVE",
            Command::GetScript { .. } => "GETSCRIPT",
            Command::DeleteScript { .. } => "DELETESCRIPT",
            Command::RenameScript { .. } => "RENAMESCRIPT",
            Command::CheckScript { .. } => "CHECKSCRIPT",
            Command::Noop { .. } => "NOOP",
            Command::Unauthenticate => "UNAUTHENTICATE",
        }
    }

    /// Encodes the command as a client would send it (literals `{n+}`).
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.name().as_bytes());
        let arg = |bytes: &[u8], out: &mut Vec<u8>| {
            out.push(b' ');
            crate::response::encode_string_c2s(out, bytes);
        };
        match self {
            Command::Authenticate {
                mechanism,
                initial_response,
            } => {
                arg(mechanism.as_bytes(), out);
                if let Some(ir) = initial_response {
                    arg(ir.as_bytes(), out);
                }
            }
            Command::HaveSpace { name, size } => {
                arg(name.as_str().as_bytes(), out);
                out.extend_from_slice(format!(" {size}").as_bytes());
            }
            Command::PutScript { name, script } => {
                arg(name.as_str().as_bytes(), out);
                arg(script, out);
            }
            Command::SetActive { name } => arg(
                name.as_ref().map_or(&b""[..], |n| n.as_str().as_bytes()),
                out,
            ),
            Command::GetScript { name } | Command::DeleteScript { name } => {
                arg(name.as_str().as_bytes(), out)
            }
            Command::RenameScript { from, to } => {
                arg(from.as_str().as_bytes(), out);
                arg(to.as_str().as_bytes(), out);
            }
            Command::CheckScript { script } => arg(script, out),
            Command::Noop { tag: Some(tag) } => arg(tag, out),
            Command::StartTls
            | Command::Logout
            | Command::Capability
            | Command::ListScripts
            | Command::Noop { tag: None }
            | Command::Unauthenticate => {}
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// The arguments of one command, consumed in order.
pub(crate) struct Args {
    tokens: std::vec::IntoIter<Token>,
    /// The whole command's length: what to skip when it is refused.
    len: usize,
}

impl Args {
    pub(crate) fn error(&self, kind: ParseErrorKind, message: impl Into<String>) -> ParseError {
        ParseError::new(
            kind,
            message,
            Skip {
                bytes: self.len as u64,
                then_line: false,
            },
        )
    }

    pub(crate) fn string(&mut self, what: &str) -> Result<Vec<u8>, ParseError> {
        match self.tokens.next() {
            Some(Token::Str(s)) => Ok(s),
            Some(Token::Atom(_)) => Err(self.error(
                ParseErrorKind::Syntax,
                format!("{what} must be a quoted string or a literal"),
            )),
            None => Err(self.error(ParseErrorKind::Syntax, format!("missing {what}"))),
        }
    }

    pub(crate) fn optional_string(&mut self, what: &str) -> Result<Option<Vec<u8>>, ParseError> {
        if self.tokens.as_slice().is_empty() {
            return Ok(None);
        }
        self.string(what).map(Some)
    }

    pub(crate) fn name(&mut self) -> Result<ScriptName, ParseError> {
        let bytes = self.string("script name")?;
        ScriptName::parse(&bytes).map_err(|e| self.error(ParseErrorKind::BadName, e.to_string()))
    }

    /// RFC 5804 4: `number = 1*DIGIT` below 4294967296.
    pub(crate) fn number(&mut self, what: &str) -> Result<u32, ParseError> {
        match self.tokens.next() {
            Some(Token::Atom(a)) if !a.is_empty() && a.iter().all(u8::is_ascii_digit) => {
                std::str::from_utf8(&a)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| {
                        self.error(ParseErrorKind::Syntax, format!("{what} is too large"))
                    })
            }
            _ => Err(self.error(ParseErrorKind::Syntax, format!("{what} must be a number"))),
        }
    }

    pub(crate) fn end(&mut self) -> Result<(), ParseError> {
        if self.tokens.as_slice().is_empty() {
            Ok(())
        } else {
            Err(self.error(ParseErrorKind::Syntax, "too many arguments"))
        }
    }
}

/// Parses the command at the start of `buf`.
pub fn parse_command(buf: &[u8], limits: &Limits) -> Result<Parsed<Command>, ParseError> {
    let (tokens, len) = match lexer::tokens(buf, limits)? {
        Lexed::Done(tokens, len) => (tokens, len),
        Lexed::Incomplete => return Ok(Parsed::Incomplete),
        Lexed::NeedLiteral { missing, sync } => {
            return Ok(Parsed::NeedLiteral {
                size: missing,
                sync,
            });
        }
    };
    let mut args = Args {
        tokens: tokens.into_iter(),
        len,
    };
    let name = match args.tokens.next() {
        Some(Token::Atom(name)) => name.to_ascii_uppercase(),
        Some(Token::Str(_)) => {
            return Err(args.error(ParseErrorKind::Syntax, "expected a command name"));
        }
        None => return Err(args.error(ParseErrorKind::Syntax, "empty command")),
    };
    let command = match &name[..] {
        b"AUTHENTICATE" => auth::authenticate(&mut args)?,
        b"STARTTLS" => Command::StartTls,
        b"LOGOUT" => Command::Logout,
        b"CAPABILITY" => Command::Capability,
        b"UNAUTHENTICATE" => Command::Unauthenticate,
        b"NOOP" => Command::Noop {
            tag: args.optional_string("tag")?,
        },
        b"HAVESPACE" => script::havespace(&mut args)?,
        b"PUTSCRIPT" => script::putscript(&mut args)?,
        b"LISTSCRIPTS" => Command::ListScripts,
        b"SETACTIVE" => script::setactive(&mut args)?,
        b"GETSCRIPT" => Command::GetScript { name: args.name()? },
        b"DELETESCRIPT" => Command::DeleteScript { name: args.name()? },
        b"RENAMESCRIPT" => script::renamescript(&mut args)?,
        b"CHECKSCRIPT" => Command::CheckScript {
            script: args.string("script")?,
        },
        _ => {
            return Err(args.error(ParseErrorKind::UnknownCommand, "unknown command"));
        }
    };
    args.end()?;
    Ok(Parsed::Done(command, len))
}

#[cfg(test)]
mod tests;
