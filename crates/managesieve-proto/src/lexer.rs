//! Splits one command into atoms and strings (RFC 5804 4): lines bounded by
//! `Limits::max_line`, quoted strings, and `{n}` / `{n+}` literals bounded by
//! `Limits::max_literal`. Stateless: it starts again from the buffer's first byte.

use crate::error::{ParseError, ParseErrorKind, Skip};
use crate::limits::Limits;

/// More than any command takes (PUTSCRIPT, RENAMESCRIPT, HAVESPACE and
/// AUTHENTICATE have three tokens at most).
const MAX_TOKENS: usize = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A command name or a number.
    Atom(Vec<u8>),
    /// A quoted string (unescaped) or a literal's bytes.
    Str(Vec<u8>),
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Lexed {
    /// The tokens and the bytes the command used, line ending included.
    Done(Vec<Token>, usize),
    Incomplete,
    /// The buffer ends inside a literal; `missing` of its bytes are still to come.
    NeedLiteral {
        missing: u32,
        sync: bool,
    },
}

fn find_lf(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .iter()
        .position(|&b| b == b'\n')
        .map(|p| from + p)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// `{n}` or `{n+}` closing a line: the size (saturated) and whether `+` was there.
fn trailing_literal(line: &[u8]) -> Option<(u64, bool)> {
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    let spec = &inner[open + 1..];
    let (digits, non_sync) = match spec.strip_suffix(b"+") {
        Some(d) => (d, true),
        None => (spec, false),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let size = digits.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((size, !non_sync))
}

/// What to drop after an error in the line starting at `pos`: through the end
/// of the command, literals included, so that no literal byte is ever read as a
/// command.
pub(crate) fn skip_command(buf: &[u8], pos: usize) -> Skip {
    let mut pos = pos as u64;
    loop {
        let Some(at) = usize::try_from(pos).ok().filter(|&p| p <= buf.len()) else {
            return Skip {
                bytes: pos,
                then_line: true,
            };
        };
        let Some(end) = find_lf(buf, at) else {
            return Skip {
                bytes: pos,
                then_line: true,
            };
        };
        match trailing_literal(strip_cr(&buf[at..end])) {
            Some((size, _)) => pos = (end as u64 + 1).saturating_add(size),
            None => {
                return Skip {
                    bytes: end as u64 + 1,
                    then_line: false,
                };
            }
        }
    }
}

fn syntax(buf: &[u8], line_start: usize, message: &str) -> ParseError {
    ParseError::new(
        ParseErrorKind::Syntax,
        message,
        skip_command(buf, line_start),
    )
}

/// Reads the tokens of the command at the start of `buf`.
pub(crate) fn tokens(buf: &[u8], limits: &Limits) -> Result<Lexed, ParseError> {
    let mut tokens = Vec::new();
    let mut pos = 0;
    loop {
        let Some(lf) = find_lf(buf, pos) else {
            if buf.len() - pos > limits.max_line {
                return Err(ParseError::new(
                    ParseErrorKind::LineTooLong,
                    format!("line longer than {} octets", limits.max_line),
                    Skip {
                        bytes: pos as u64,
                        then_line: true,
                    },
                ));
            }
            return Ok(Lexed::Incomplete);
        };
        if lf + 1 - pos > limits.max_line {
            return Err(ParseError::new(
                ParseErrorKind::LineTooLong,
                format!("line longer than {} octets", limits.max_line),
                skip_command(buf, pos),
            ));
        }
        let line = strip_cr(&buf[pos..lf]);
        let mut i = 0;
        loop {
            while line.get(i).is_some_and(|&b| b == b' ' || b == b'\t') {
                i += 1;
            }
            let Some(&b) = line.get(i) else {
                return Ok(Lexed::Done(tokens, lf + 1));
            };
            if tokens.len() >= MAX_TOKENS {
                return Err(syntax(buf, pos, "too many arguments"));
            }
            match b {
                b'"' => {
                    let (s, used) = quoted(&line[i + 1..]).map_err(|m| syntax(buf, pos, m))?;
                    tokens.push(Token::Str(s));
                    i += 1 + used;
                }
                b'{' => {
                    // The literal header must be all that is left of the line.
                    let rest = &line[i..];
                    let Some((size, sync)) = trailing_literal(rest)
                        .filter(|_| rest.iter().rposition(|&b| b == b'{') == Some(0))
                    else {
                        return Err(syntax(buf, pos, "malformed literal"));
                    };
                    let start = lf + 1;
                    let size = match u32::try_from(size) {
                        Ok(s) if s <= limits.max_literal => s,
                        _ => {
                            return Err(ParseError::new(
                                ParseErrorKind::LiteralTooLarge,
                                format!("literal larger than {} octets", limits.max_literal),
                                Skip {
                                    bytes: (start as u64).saturating_add(size),
                                    then_line: true,
                                },
                            ));
                        }
                    };
                    let end = start + size as usize;
                    if buf.len() < end {
                        let missing = u32::try_from(end - buf.len()).unwrap_or(u32::MAX);
                        return Ok(Lexed::NeedLiteral { missing, sync });
                    }
                    tokens.push(Token::Str(buf[start..end].to_vec()));
                    pos = end;
                    break;
                }
                0 => return Err(syntax(buf, pos, "NUL in a command")),
                _ => {
                    let start = i;
                    while line
                        .get(i)
                        .is_some_and(|&b| !matches!(b, b' ' | b'\t' | b'"' | b'{' | 0))
                    {
                        i += 1;
                    }
                    tokens.push(Token::Atom(line[start..i].to_vec()));
                }
            }
        }
    }
}

/// RFC 5804 4: a quoted string after its opening quote; `\` escapes only `"`
/// and `\`. Returns the unescaped bytes and how many bytes were used.
fn quoted(s: &[u8]) -> Result<(Vec<u8>, usize), &'static str> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        match s.get(i) {
            None => return Err("unterminated quoted string"),
            Some(b'"') => return Ok((out, i + 1)),
            Some(b'\\') => match s.get(i + 1) {
                Some(&c @ (b'"' | b'\\')) => {
                    out.push(c);
                    i += 2;
                }
                _ => return Err("invalid escape in a quoted string"),
            },
            Some(0 | b'\r') => return Err("control character in a quoted string"),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &[u8]) -> Result<Lexed, ParseError> {
        tokens(s, &Limits::default())
    }

    fn atom(s: &str) -> Token {
        Token::Atom(s.as_bytes().to_vec())
    }

    fn string(s: &str) -> Token {
        Token::Str(s.as_bytes().to_vec())
    }

    #[test]
    fn atoms_quoted_and_literals() {
        let input = b"PUTSCRIPT \"a \\\"b\\\\\" {4+}\r\nkeep\r\n";
        assert_eq!(
            lex(input).unwrap(),
            Lexed::Done(
                vec![atom("PUTSCRIPT"), string("a \"b\\"), string("keep")],
                input.len()
            )
        );
        assert_eq!(
            lex(b"HAVESPACE {1}\r\nx 100\n").unwrap(),
            Lexed::Done(vec![atom("HAVESPACE"), string("x"), atom("100")], 21)
        );
    }

    #[test]
    fn waits_for_lines_and_literals() {
        assert_eq!(lex(b"LOGOUT").unwrap(), Lexed::Incomplete);
        assert_eq!(
            lex(b"PUTSCRIPT \"a\" {10+}\r\n").unwrap(),
            Lexed::NeedLiteral {
                missing: 10,
                sync: false
            }
        );
        assert_eq!(
            lex(b"PUTSCRIPT \"a\" {10}\r\nkeep").unwrap(),
            Lexed::NeedLiteral {
                missing: 6,
                sync: true
            }
        );
        assert_eq!(
            lex(b"PUTSCRIPT \"a\" {4}\r\nkeep").unwrap(),
            Lexed::Incomplete
        );
    }

    #[test]
    fn refused_literal_is_skipped_whole() {
        let e = lex(b"PUTSCRIPT \"a\" {4294967296+}\r\n").unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
        assert_eq!(
            e.skip,
            Skip {
                bytes: 29 + 4294967296,
                then_line: true
            }
        );
        let e = lex(b"PUTSCRIPT \"a\" {99999999999999999999999}\r\n").unwrap_err();
        assert_eq!(e.skip.bytes, u64::MAX);
    }

    #[test]
    fn syntax_error_skips_following_literals() {
        let input = b"PUTSCRIPT \"a\x01 {3+}\r\nabc\r\nNOOP\r\n";
        let e = lex(input).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax);
        let mut skip = e.skip;
        let n = skip.consume(input);
        assert!(skip.is_done() || n == input.len());
        // quoted allows \x01 (it is checked as a name later); the error here is
        // the unterminated quote, and the literal after it is skipped.
        assert_eq!(&input[n..], b"NOOP\r\n");
    }

    #[test]
    fn long_lines_are_refused_early() {
        let limits = Limits {
            max_line: 10,
            max_literal: 10,
        };
        let e = tokens(b"NOOP xxxxxxxxxxxxxxxxxxxxx", &limits).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::LineTooLong);
        assert_eq!(
            e.skip,
            Skip {
                bytes: 0,
                then_line: true
            }
        );
    }
}
