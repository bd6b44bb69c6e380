//! AUTHENTICATE (RFC 5804 2.1) and the client's answers to SASL challenges.

use super::{Args, Command};
use crate::Parsed;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::{self, Lexed, Token};
use crate::limits::Limits;

pub(crate) fn authenticate(args: &mut Args) -> Result<Command, ParseError> {
    let mechanism = args.string("SASL mechanism")?;
    let mechanism = String::from_utf8(mechanism)
        .map_err(|_| args.error(ParseErrorKind::Syntax, "SASL mechanism must be ASCII"))?;
    let initial_response =
        match args.optional_string("initial response")? {
            Some(ir) => Some(String::from_utf8(ir).map_err(|_| {
                args.error(ParseErrorKind::Syntax, "initial response must be base64")
            })?),
            None => None,
        };
    Ok(Command::Authenticate {
        mechanism,
        initial_response,
    })
}

/// RFC 5804 2.1: a client's answer to a challenge is one string on a line,
/// base64 text or `"*"` to cancel. Returns the string's text.
pub fn parse_sasl_response(buf: &[u8], limits: &Limits) -> Result<Parsed<String>, ParseError> {
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
    // Some clients send the base64 text unquoted; accept it as the string.
    let text = match args.tokens.next() {
        Some(Token::Str(s) | Token::Atom(s)) => s,
        None => Vec::new(),
    };
    args.end()?;
    let text = String::from_utf8(text)
        .map_err(|_| args.error(ParseErrorKind::Syntax, "SASL response must be base64"))?;
    Ok(Parsed::Done(text, len))
}
