//! The bounded, incremental lexer: framing of a command (its lines and literals, checked
//! against the limits before any literal byte is read) and the token reader the command
//! parsers use on a framed command.

use crate::error::{ParseError, ParseErrorKind, Skip};
use crate::ids::Tag;
use crate::limits::Limits;
use crate::response::Code;

/// `ATOM-CHAR`: any CHAR except atom-specials (RFC 3501 9). This is the strict form the
/// encoder uses; the reader also accepts 8-bit bytes (checked as UTF-8 later).
pub(crate) fn is_atom_char(b: u8) -> bool {
    !matches!(b, 0..=0x1f | 0x7f.. | b'(' | b')' | b'{' | b' ' | b'%' | b'*' | b'"' | b'\\' | b']')
}

/// `ASTRING-CHAR = ATOM-CHAR / resp-specials`
pub(crate) fn is_astring_char(b: u8) -> bool {
    is_atom_char(b) || b == b']'
}

fn is_atom_char_lenient(b: u8) -> bool {
    b >= 0x80 || is_atom_char(b)
}

/// Where a complete command ends.
pub(crate) enum Frame {
    Complete(usize),
    Incomplete,
    NeedLiteral { size: u32, sync: bool },
}

/// A literal header at the end of a line: `{n}`, `{n+}`, `~{n}`, `~{n+}`.
pub(crate) struct LiteralHeader {
    pub size: u64,
    pub non_sync: bool,
}

/// Recognises a literal header at the end of `line` (CRLF already removed).
pub(crate) fn literal_header_at_end(line: &[u8]) -> Option<LiteralHeader> {
    let mut end = line.len();
    if end < 3 || line[end - 1] != b'}' {
        return None;
    }
    end -= 1;
    let non_sync = line[end - 1] == b'+';
    if non_sync {
        end -= 1;
    }
    let digits_end = end;
    while end > 0 && line[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end == digits_end || end == 0 || line[end - 1] != b'{' {
        return None;
    }
    let digits = &line[end..digits_end];
    // A number too long for u64 is simply "too large".
    let size = if digits.len() > 19 {
        u64::MAX
    } else {
        digits
            .iter()
            .fold(0u64, |acc, d| acc * 10 + (d - b'0') as u64)
    };
    Some(LiteralHeader { size, non_sync })
}

/// Reads the tag at the start of `buf`, if one is there.
pub(crate) fn leading_tag(buf: &[u8]) -> Option<Tag> {
    let end = buf
        .iter()
        .position(|&b| !crate::ids::is_tag_char(b))
        .unwrap_or(buf.len());
    if end == 0 || buf.get(end) != Some(&b' ') {
        return None;
    }
    Tag::new(std::str::from_utf8(&buf[..end]).ok()?)
}

fn frame_error(buf: &[u8], kind: ParseErrorKind, msg: &str, skip: Skip) -> Box<ParseError> {
    let code = match kind {
        ParseErrorKind::LineTooLong
        | ParseErrorKind::LiteralTooLarge
        | ParseErrorKind::CommandTooLarge => Code::TooBig,
        _ => Code::ClientBug,
    };
    let mut e = ParseError::new(kind, msg).with_code(code);
    e.tag = leading_tag(buf);
    e.skip = skip;
    Box::new(e)
}

/// Finds the end of the command at the front of `buf`: lines end in CRLF; a line ending
/// in a literal header continues after the literal's bytes. Checks every limit before
/// waiting for more input.
pub(crate) fn frame(buf: &[u8], limits: &Limits) -> Result<Frame, Box<ParseError>> {
    let mut pos = 0usize;
    loop {
        let window_end = buf.len().min(pos.saturating_add(limits.max_line));
        let Some(lf) = buf[pos..window_end].iter().position(|&b| b == b'\n') else {
            if window_end - pos >= limits.max_line {
                return Err(frame_error(
                    buf,
                    ParseErrorKind::LineTooLong,
                    "Command line too long",
                    Skip {
                        bytes: buf.len() as u64,
                        then_line: true,
                    },
                ));
            }
            if buf[pos..].contains(&0) {
                return Err(frame_error(
                    buf,
                    ParseErrorKind::BadLineEnding,
                    "NUL in command line",
                    Skip {
                        bytes: buf.len() as u64,
                        then_line: true,
                    },
                ));
            }
            return Ok(Frame::Incomplete);
        };
        let lf = pos + lf;
        let skip_line = Skip {
            bytes: (lf + 1) as u64,
            then_line: false,
        };
        if lf == pos || buf[lf - 1] != b'\r' {
            return Err(frame_error(
                buf,
                ParseErrorKind::BadLineEnding,
                "Line must end in CRLF",
                skip_line,
            ));
        }
        let line = &buf[pos..lf - 1];
        if line.contains(&0) {
            return Err(frame_error(
                buf,
                ParseErrorKind::BadLineEnding,
                "NUL in command line",
                skip_line,
            ));
        }
        if line.contains(&b'\r') {
            return Err(frame_error(
                buf,
                ParseErrorKind::BadLineEnding,
                "Bare CR in command line",
                skip_line,
            ));
        }
        let Some(header) = literal_header_at_end(line) else {
            return Ok(Frame::Complete(lf + 1));
        };
        let start = lf + 1;
        let too_large = header.size > limits.max_literal as u64
            || (header.non_sync && header.size > limits.max_non_sync_literal as u64);
        let too_long = (start as u64).saturating_add(header.size) > limits.max_command as u64;
        if too_large || too_long {
            // RFC 7888 4: a refused non-synchronising literal is still coming and must
            // be read and thrown away; a synchronising one is never sent.
            let skip = if header.non_sync {
                Skip {
                    bytes: (start as u64).saturating_add(header.size),
                    then_line: true,
                }
            } else {
                skip_line
            };
            let (kind, msg) = if too_large {
                (ParseErrorKind::LiteralTooLarge, "Literal too large")
            } else {
                (ParseErrorKind::CommandTooLarge, "Command too large")
            };
            return Err(frame_error(buf, kind, msg, skip));
        }
        let size = header.size as u32;
        if buf.len() == start {
            return Ok(Frame::NeedLiteral {
                size,
                sync: !header.non_sync,
            });
        }
        let end = start + size as usize;
        if buf.len() < end {
            return Ok(Frame::Incomplete);
        }
        pos = end;
    }
}

/// Frames a single line (no literals): for continuation lines such as `DONE` and SASL
/// responses. Returns the line without CRLF and its length with CRLF.
pub(crate) fn frame_line<'a>(
    buf: &'a [u8],
    limits: &Limits,
) -> Result<Option<(&'a [u8], usize)>, Box<ParseError>> {
    let window_end = buf.len().min(limits.max_line);
    let Some(lf) = buf[..window_end].iter().position(|&b| b == b'\n') else {
        if window_end >= limits.max_line {
            return Err(frame_error(
                &[],
                ParseErrorKind::LineTooLong,
                "Line too long",
                Skip {
                    bytes: buf.len() as u64,
                    then_line: true,
                },
            ));
        }
        return Ok(None);
    };
    let skip = Skip {
        bytes: (lf + 1) as u64,
        then_line: false,
    };
    if lf == 0 || buf[lf - 1] != b'\r' {
        return Err(frame_error(
            &[],
            ParseErrorKind::BadLineEnding,
            "Line must end in CRLF",
            skip,
        ));
    }
    let line = &buf[..lf - 1];
    if line.contains(&0) || line.contains(&b'\r') {
        return Err(frame_error(
            &[],
            ParseErrorKind::BadLineEnding,
            "Control character in line",
            skip,
        ));
    }
    Ok(Some((line, lf + 1)))
}

type R<T> = Result<T, Box<ParseError>>;

fn bad_mailbox(e: &crate::mailbox::MailboxNameError) -> Box<ParseError> {
    // Bytes that are not UTF-8 are a broken client (BAD); a well-formed string that is
    // not valid modified UTF-7 is a name the server cannot use (NO [CANNOT]).
    let code = match e {
        crate::mailbox::MailboxNameError::InvalidUtf7 => Code::Cannot,
        _ => Code::ClientBug,
    };
    Box::new(ParseError::new(ParseErrorKind::BadMailboxName, e.to_string()).with_code(code))
}

/// Reads tokens from one framed command. Every method fails with a syntax error rather
/// than reading past the end.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    depth: usize,
    limits: &'a Limits,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], limits: &'a Limits) -> Reader<'a> {
        Reader {
            buf,
            pos: 0,
            depth: 0,
            limits,
        }
    }

    /// The current position, to come back to with [`Reader::reset`].
    pub(crate) fn mark(&self) -> usize {
        self.pos
    }

    pub(crate) fn reset(&mut self, mark: usize) {
        self.pos = mark;
    }

    pub(crate) fn err<T>(&self, msg: &str) -> R<T> {
        Err(Box::new(ParseError::syntax(msg.to_string())))
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub(crate) fn peek_at(&self, off: usize) -> Option<u8> {
        self.buf.get(self.pos + off).copied()
    }

    /// True when only the final CRLF is left.
    pub(crate) fn at_end(&self) -> bool {
        &self.buf[self.pos.min(self.buf.len())..] == b"\r\n"
    }

    pub(crate) fn expect_byte(&mut self, b: u8, what: &str) -> R<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(&format!("Expected {what}"))
        }
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn sp(&mut self) -> R<()> {
        self.expect_byte(b' ', "space")
    }

    pub(crate) fn end(&mut self) -> R<()> {
        if self.at_end() {
            self.pos += 2;
            Ok(())
        } else {
            self.err("Unexpected characters at end of command")
        }
    }

    pub(crate) fn open(&mut self) -> R<()> {
        self.expect_byte(b'(', "(")?;
        self.enter()
    }

    pub(crate) fn close(&mut self) -> R<()> {
        self.expect_byte(b')', ")")?;
        self.leave();
        Ok(())
    }

    /// Counts one level of nesting (parentheses, SEARCH NOT/OR).
    pub(crate) fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Box::new(
                ParseError::new(ParseErrorKind::TooDeep, "Nesting too deep").with_code(Code::Limit),
            ));
        }
        Ok(())
    }

    pub(crate) fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// `1*ATOM-CHAR` (8-bit bytes allowed).
    pub(crate) fn atom(&mut self) -> R<&'a str> {
        self.take_while(is_atom_char_lenient, "atom")
    }

    /// A run of bytes satisfying `pred`, at least one, as UTF-8.
    pub(crate) fn take_while(&mut self, pred: impl Fn(u8) -> bool, what: &str) -> R<&'a str> {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        if self.pos == start {
            return self.err(&format!("Expected {what}"));
        }
        std::str::from_utf8(&self.buf[start..self.pos]).or_else(|_| self.err("Invalid UTF-8"))
    }

    /// An atom compared case-insensitively with the expected keywords; returns its
    /// uppercase form.
    pub(crate) fn keyword(&mut self) -> R<String> {
        Ok(self
            .take_while(
                |b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_',
                "keyword",
            )?
            .to_ascii_uppercase())
    }

    pub(crate) fn number(&mut self) -> R<u32> {
        let n = self.number64()?;
        u32::try_from(n).or_else(|_| self.err("Number too large"))
    }

    pub(crate) fn nz_number(&mut self) -> R<u32> {
        let n = self.number()?;
        if n == 0 {
            return self.err("Number must not be zero");
        }
        Ok(n)
    }

    pub(crate) fn number64(&mut self) -> R<u64> {
        let digits = self.take_while(|b| b.is_ascii_digit(), "number")?;
        if digits.len() > 19 {
            return self.err("Number too large");
        }
        digits
            .parse::<u64>()
            .or_else(|_| self.err("Number too large"))
    }

    /// `quoted`: the bytes between the quotes with `\"` and `\\` unescaped.
    pub(crate) fn quoted(&mut self) -> R<Vec<u8>> {
        self.expect_byte(b'"', "quoted string")?;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None | Some(b'\r') | Some(b'\n') => return self.err("Unterminated quoted string"),
                Some(b'"') => {
                    self.pos += 1;
                    // RFC 9051 / RFC 6855 3: with UTF-8 on, 8-bit quoted text
                    // must be UTF-8.
                    if self.limits.utf8 && !out.is_ascii() && std::str::from_utf8(&out).is_err() {
                        return self.err("Invalid UTF-8 in quoted string");
                    }
                    return Ok(out);
                }
                Some(b'\\') => {
                    match self.peek_at(1) {
                        Some(c @ (b'"' | b'\\')) => out.push(c),
                        _ => return self.err("Invalid escape in quoted string"),
                    }
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// A literal (`{n}`, `{n+}`, `~{n}`): its bytes and whether it was binary.
    pub(crate) fn literal(&mut self) -> R<(&'a [u8], bool)> {
        let binary = self.eat(b'~');
        self.expect_byte(b'{', "literal")?;
        let size = self.number()? as usize;
        self.eat(b'+');
        self.expect_byte(b'}', "}")?;
        self.expect_byte(b'\r', "CRLF after literal")?;
        self.expect_byte(b'\n', "CRLF after literal")?;
        let end = self.pos.checked_add(size).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return self.err("Truncated literal");
        };
        let data = &self.buf[self.pos..end];
        self.pos = end;
        if !binary && data.contains(&0) {
            return self.err("NUL in literal");
        }
        Ok((data, binary))
    }

    /// `string = quoted / literal`
    pub(crate) fn string(&mut self) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"') => self.quoted(),
            Some(b'{') => Ok(self.literal()?.0.to_vec()),
            _ => self.err("Expected string"),
        }
    }

    /// `astring = 1*ASTRING-CHAR / string`
    pub(crate) fn astring(&mut self) -> R<Vec<u8>> {
        match self.peek() {
            Some(b'"') | Some(b'{') => self.string(),
            _ => Ok(self
                .take_while(|b| is_atom_char_lenient(b) || b == b']', "string")?
                .as_bytes()
                .to_vec()),
        }
    }

    pub(crate) fn astring_utf8(&mut self) -> R<String> {
        String::from_utf8(self.astring()?).or_else(|_| self.err("Invalid UTF-8"))
    }

    pub(crate) fn string_utf8(&mut self) -> R<String> {
        String::from_utf8(self.string()?).or_else(|_| self.err("Invalid UTF-8"))
    }

    /// `nstring = string / NIL`
    pub(crate) fn nstring(&mut self) -> R<Option<Vec<u8>>> {
        if self.peek_nil() {
            self.pos += 3;
            return Ok(None);
        }
        self.string().map(Some)
    }

    fn peek_nil(&self) -> bool {
        self.buf.len() >= self.pos + 3
            && self.buf[self.pos..self.pos + 3].eq_ignore_ascii_case(b"NIL")
            && !self.peek_at(3).is_some_and(is_atom_char_lenient)
    }

    /// `mailbox`: an astring decoded per the session's UTF-8 mode.
    pub(crate) fn mailbox(&mut self) -> R<crate::mailbox::MailboxName> {
        let raw = self.astring()?;
        crate::mailbox::MailboxName::from_wire(&raw, self.limits.utf8).map_err(|e| bad_mailbox(&e))
    }

    /// `list-mailbox = 1*list-char / string` (patterns with `%` and `*`), decoded.
    pub(crate) fn list_mailbox(&mut self) -> R<String> {
        let raw = match self.peek() {
            Some(b'"') | Some(b'{') => self.string()?,
            _ => self
                .take_while(
                    |b| is_atom_char_lenient(b) || matches!(b, b'%' | b'*' | b']'),
                    "mailbox pattern",
                )?
                .as_bytes()
                .to_vec(),
        };
        match crate::mailbox::MailboxName::from_wire(&raw, self.limits.utf8) {
            Ok(m) => Ok(m.as_str().to_string()),
            // A pattern that is not modified UTF-7 matches no mailbox, but it is not an
            // error (the LIST simply returns nothing).
            Err(crate::mailbox::MailboxNameError::InvalidUtf7) => {
                Ok(String::from_utf8_lossy(&raw).into_owned())
            }
            Err(e) => Err(bad_mailbox(&e)),
        }
    }

    /// `sequence-set` (and `$`).
    pub(crate) fn sequence_set(&mut self) -> R<crate::sequence::SequenceSet> {
        use crate::sequence::{SeqRange, SequenceSet};
        if self.eat(b'$') {
            return Ok(SequenceSet::Saved);
        }
        let mut ranges = Vec::new();
        loop {
            let start = self.seq_bound()?;
            let end = if self.eat(b':') {
                self.seq_bound()?
            } else {
                start
            };
            ranges.push(SeqRange { start, end });
            if !self.eat(b',') {
                break;
            }
        }
        Ok(SequenceSet::Ranges(ranges))
    }

    fn seq_bound(&mut self) -> R<crate::sequence::SeqBound> {
        use crate::sequence::SeqBound;
        if self.eat(b'*') {
            Ok(SeqBound::Largest)
        } else {
            Ok(SeqBound::Value(self.nz_number()?))
        }
    }

    /// `flag-list = "(" [flag *(SP flag)] ")"`
    pub(crate) fn flag_list(&mut self) -> R<Vec<crate::flag::Flag>> {
        self.paren_list(true, |r| r.flag())
    }

    /// One flag: `\Seen`, `\Extension`, or a keyword atom. `\*` and `\Recent` are not
    /// something a client may set.
    pub(crate) fn flag(&mut self) -> R<crate::flag::Flag> {
        use crate::flag::Flag;
        let backslash = self.eat(b'\\');
        let name = self.atom()?;
        let flag = if backslash {
            Flag::parse(&format!("\\{name}"))
        } else {
            Flag::keyword(name)
        };
        match flag {
            Some(Flag::Recent) | Some(Flag::Wildcard) | None => self.err("Invalid flag"),
            Some(f) => Ok(f),
        }
    }

    /// `date`: `1-Feb-1994` or `"1-Feb-1994"`.
    pub(crate) fn date(&mut self) -> R<crate::datetime::Date> {
        let quoted = self.peek() == Some(b'"');
        let text = if quoted {
            String::from_utf8(self.quoted()?).unwrap_or_default()
        } else {
            self.atom()?.to_string()
        };
        crate::datetime::Date::parse(&text).map_or_else(|| self.err("Invalid date"), Ok)
    }

    /// `date-time` (always quoted).
    pub(crate) fn date_time(&mut self) -> R<crate::datetime::DateTime> {
        let text = String::from_utf8(self.quoted()?).unwrap_or_default();
        crate::datetime::DateTime::parse(&text).map_or_else(|| self.err("Invalid date-time"), Ok)
    }

    /// A parenthesised list of items read by `item`, separated by single spaces;
    /// `allow_empty` accepts `()`.
    pub(crate) fn paren_list<T>(
        &mut self,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> R<T>,
    ) -> R<Vec<T>> {
        self.open()?;
        let mut out = Vec::new();
        if self.eat(b')') {
            self.leave();
            if !allow_empty {
                return self.err("Empty list");
            }
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.peek() == Some(b')') {
                break;
            }
            self.sp()?;
        }
        self.close()?;
        Ok(out)
    }
}
