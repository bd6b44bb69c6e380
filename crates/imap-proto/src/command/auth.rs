//! LOGIN, AUTHENTICATE (RFC 3501 6.2, RFC 4959 SASL-IR) and the SASL response lines.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::CommandBody;
use crate::Parsed;
use crate::error::{ParseError, ParseErrorKind};
use crate::ids::Password;
use crate::lexer::Reader;
use crate::limits::Limits;
use crate::response::encode::write_astring;
use crate::response::{Code, EncodeOptions};

type R<T> = Result<T, Box<ParseError>>;

/// A client's line during an AUTHENTICATE exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaslResponse {
    /// Base64-decoded response data.
    Data(Vec<u8>),
    /// `*`: the client cancels the exchange (answer `BAD`).
    Cancel,
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')
}

fn decode_base64(text: &[u8]) -> R<Vec<u8>> {
    STANDARD.decode(text).map_err(|_| {
        Box::new(
            ParseError::new(ParseErrorKind::Syntax, "Invalid base64").with_code(Code::ClientBug),
        )
    })
}

/// Parses one SASL response line (`base64 CRLF` or `* CRLF`; an empty line is an empty
/// response).
// The error is returned once per refused command, so its size costs nothing; the
// plain `ParseError` keeps the session's code simple.
#[allow(clippy::result_large_err)]
pub fn parse_sasl_response(
    buf: &[u8],
    limits: &Limits,
) -> Result<Parsed<SaslResponse>, ParseError> {
    let Some((line, len)) = crate::lexer::frame_line(buf, limits).map_err(|e| *e)? else {
        return Ok(Parsed::Incomplete);
    };
    let result = if line == b"*" {
        Ok(SaslResponse::Cancel)
    } else if line.iter().all(|&b| is_base64_char(b)) {
        decode_base64(line).map(SaslResponse::Data)
    } else {
        Err(Box::new(
            ParseError::new(ParseErrorKind::Syntax, "Invalid base64").with_code(Code::ClientBug),
        ))
    };
    match result {
        Ok(resp) => Ok(Parsed::Done(resp, len)),
        Err(mut e) => {
            e.skip.bytes = len as u64;
            Err(*e)
        }
    }
}

/// `AUTHENTICATE SP auth-type [SP (base64 / "=")]`
pub(crate) fn parse_authenticate(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    let mechanism = r
        .take_while(
            |b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
            "mechanism",
        )?
        .to_ascii_uppercase();
    let mut initial_response = None;
    if r.eat(b' ') {
        let text = r.take_while(is_base64_char, "initial response")?;
        initial_response = Some(if text == "=" {
            Vec::new()
        } else {
            decode_base64(text.as_bytes())?
        });
    }
    Ok(CommandBody::Authenticate {
        mechanism,
        initial_response,
    })
}

/// `LOGIN SP userid SP password`
pub(crate) fn parse_login(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    let username = r.astring_utf8()?;
    r.sp()?;
    let password = Password::new(r.astring_utf8()?);
    Ok(CommandBody::Login { username, password })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    match body {
        CommandBody::Authenticate {
            mechanism,
            initial_response,
        } => {
            out.extend_from_slice(b"AUTHENTICATE ");
            out.extend_from_slice(mechanism.as_bytes());
            if let Some(ir) = initial_response {
                out.push(b' ');
                if ir.is_empty() {
                    out.push(b'=');
                } else {
                    out.extend_from_slice(STANDARD.encode(ir).as_bytes());
                }
            }
        }
        CommandBody::Login { username, password } => {
            out.extend_from_slice(b"LOGIN ");
            write_astring(out, username.as_bytes(), opts);
            out.push(b' ');
            write_astring(out, password.expose().as_bytes(), opts);
        }
        _ => {}
    }
}
