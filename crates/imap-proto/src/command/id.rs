//! ID (RFC 2971).

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_nstring, write_string};

/// `ID SP ("(" string SP nstring *(SP string SP nstring) ")" / NIL)`
pub(crate) fn parse(r: &mut Reader<'_>) -> Result<CommandBody, Box<ParseError>> {
    r.sp()?;
    if r.peek() != Some(b'(') {
        let nil = r.atom()?;
        if !nil.eq_ignore_ascii_case("NIL") {
            return r.err("Expected ID parameter list or NIL");
        }
        return Ok(CommandBody::Id { params: None });
    }
    let params = r.paren_list(true, |r| {
        let key = r.string_utf8()?;
        r.sp()?;
        let value = match r.nstring()? {
            Some(v) => Some(String::from_utf8(v).or_else(|_| r.err("Invalid UTF-8"))?),
            None => None,
        };
        Ok((key, value))
    })?;
    Ok(CommandBody::Id {
        params: Some(params),
    })
}

/// `(key value ...)` or NIL, shared with the `* ID` response.
pub(crate) fn write_params(
    out: &mut Vec<u8>,
    params: &Option<Vec<(String, Option<String>)>>,
    opts: &EncodeOptions,
) {
    match params {
        None => out.extend_from_slice(b"NIL"),
        Some(p) => {
            out.push(b'(');
            crate::response::encode::write_spaced(out, p, |out, (k, v)| {
                write_string(out, k.as_bytes(), opts);
                out.push(b' ');
                write_nstring(out, v.as_deref().map(str::as_bytes), opts);
            });
            out.push(b')');
        }
    }
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    if let CommandBody::Id { params } = body {
        out.extend_from_slice(b"ID ");
        write_params(out, params, opts);
    }
}
