//! ENABLE (RFC 5161).

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;

/// `ENABLE 1*(SP capability)`; names are uppercased.
pub(crate) fn parse(r: &mut Reader<'_>) -> Result<CommandBody, Box<ParseError>> {
    let mut capabilities = Vec::new();
    while r.eat(b' ') {
        capabilities.push(r.atom()?.to_ascii_uppercase());
    }
    if capabilities.is_empty() {
        return r.err("ENABLE needs at least one capability");
    }
    Ok(CommandBody::Enable { capabilities })
}

pub(crate) fn encode(body: &CommandBody, out: &mut Vec<u8>) {
    if let CommandBody::Enable { capabilities } = body {
        out.extend_from_slice(b"ENABLE");
        for c in capabilities {
            out.push(b' ');
            out.extend_from_slice(c.as_bytes());
        }
    }
}
