//! IDLE (RFC 2177): the `DONE` line that ends it.

use crate::Parsed;
use crate::error::{ParseError, ParseErrorKind};
use crate::limits::Limits;
use crate::response::Code;

/// Parses the line that ends IDLE. `Done((), n)` for `DONE` (any case); anything else
/// is an error (answer `BAD` and end the IDLE).
// The error is returned once per refused command, so its size costs nothing; the
// plain `ParseError` keeps the session's code simple.
#[allow(clippy::result_large_err)]
pub fn parse_idle_done(buf: &[u8], limits: &Limits) -> Result<Parsed<()>, ParseError> {
    let Some((line, len)) = crate::lexer::frame_line(buf, limits).map_err(|e| *e)? else {
        return Ok(Parsed::Incomplete);
    };
    if line.eq_ignore_ascii_case(b"DONE") {
        return Ok(Parsed::Done((), len));
    }
    let mut e = ParseError::new(ParseErrorKind::Syntax, "Expected DONE").with_code(Code::ClientBug);
    e.skip.bytes = len as u64;
    Err(e)
}
