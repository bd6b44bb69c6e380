//! COMPRESS (RFC 4978).

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;

/// `COMPRESS SP algorithm`; the name is uppercased.
pub(crate) fn parse(r: &mut Reader<'_>) -> Result<CommandBody, Box<ParseError>> {
    r.sp()?;
    let mechanism = r.atom()?.to_ascii_uppercase();
    Ok(CommandBody::Compress { mechanism })
}

pub(crate) fn encode(body: &CommandBody, out: &mut Vec<u8>) {
    if let CommandBody::Compress { mechanism } = body {
        out.extend_from_slice(b"COMPRESS ");
        out.extend_from_slice(mechanism.as_bytes());
    }
}
