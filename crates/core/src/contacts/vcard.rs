//! vCard 2.1, 3.0 (RFC 2426) and 4.0 (RFC 6350).
//!
//! Works on bytes rather than text: folding may split a UTF-8 sequence, and
//! vCard 2.1 values may be quoted-printable or in a declared charset, so each
//! value is decoded only once it has been unfolded and its parameters are known.
//! Only FN, N, ORG, EMAIL and NOTE are decoded; everything else (photos,
//! phones, addresses) is skipped without copying.

use std::borrow::Cow;

use super::{
    ContactRecord, ImportError, ParsedContacts, addresses_in, clean_name, decode_bom,
    dedup_in_order, shown, windows_1252,
};

pub fn parse_vcard(data: &[u8]) -> ParsedContacts {
    let data = decode_bom(data);
    let mut parser = Parser::default();
    for_each_content_line(&data, |line, text| parser.content_line(line, text));
    parser.finish()
}

/// Physical lines, numbered from 1, ending at LF, CRLF or a lone CR (old Mac
/// exports), so that the numbers match what a text editor shows.
struct PhysicalLines<'a> {
    data: &'a [u8],
    pos: usize,
    line: usize,
}

impl<'a> Iterator for PhysicalLines<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.pos..).filter(|r| !r.is_empty())?;
        let (text, consumed) = match rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            Some(i) => {
                let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
                (&rest[..i], i + 1 + usize::from(crlf))
            }
            None => (rest, rest.len()),
        };
        self.pos += consumed;
        self.line += 1;
        Some((self.line, text))
    }
}

/// Calls `f` with each unfolded content line and the physical line it starts on.
///
/// RFC 6350 3.2: a line starting with a space or tab continues the previous
/// one. vCard 2.1 quoted-printable values also continue after a trailing `=`
/// (a soft line break), and those continuation lines are not indented.
fn for_each_content_line(data: &[u8], mut f: impl FnMut(usize, &[u8])) {
    let mut lines = PhysicalLines {
        data,
        pos: 0,
        line: 0,
    }
    .peekable();
    // Reused across lines: most lines are not folded and are passed borrowed.
    let mut buf: Vec<u8> = Vec::new();
    while let Some((line, first)) = lines.next() {
        let mut joined = false;
        // Whether the value is quoted-printable, decided at the colon that ends
        // the parameters. Remembered, and the search resumed where it stopped,
        // so that a line folded many times is not rescanned for every fold.
        let mut quoted_printable: Option<bool> = None;
        let mut scanned = 0;
        while let Some(&(_, next)) = lines.peek() {
            let current = if joined { &buf[..] } else { first };
            let ends_in_equals = current.last() == Some(&b'=');
            if ends_in_equals && quoted_printable.is_none() {
                let unscanned = current.get(scanned..).unwrap_or_default();
                match unscanned.iter().position(|&b| b == b':') {
                    Some(i) => {
                        let head = &current[..scanned + i];
                        quoted_printable = Some(
                            head.windows(16)
                                .any(|w| w.eq_ignore_ascii_case(b"QUOTED-PRINTABLE")),
                        );
                    }
                    None => scanned = current.len(),
                }
            }
            let soft_break =
                ends_in_equals && quoted_printable == Some(true) && !is_card_boundary(next);
            let folded = matches!(next.first(), Some(b' ' | b'\t'));
            if !soft_break && !folded {
                break;
            }
            if !joined {
                buf.clear();
                buf.extend_from_slice(first);
                joined = true;
            }
            if soft_break {
                buf.pop();
                buf.extend_from_slice(next);
            } else {
                buf.extend_from_slice(&next[1..]);
            }
            lines.next();
        }
        f(line, if joined { &buf } else { first });
    }
}

/// A corrupt quoted-printable value must not swallow the end of its card.
fn is_card_boundary(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    t.eq_ignore_ascii_case(b"END:VCARD") || t.eq_ignore_ascii_case(b"BEGIN:VCARD")
}

#[derive(Default)]
struct Parser {
    out: ParsedContacts,
    card: Option<Card>,
    /// Inside a run of text outside any card, which is reported once.
    in_junk: bool,
}

impl Parser {
    fn content_line(&mut self, line: usize, text: &[u8]) {
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            if let Some(card) = &mut self.card {
                card.in_base64 = false;
            }
            return;
        }
        if trimmed.eq_ignore_ascii_case(b"BEGIN:VCARD") {
            if let Some(open) = self.card.take() {
                self.error(
                    open.line,
                    "vCard has no END:VCARD before the next BEGIN:VCARD; card ignored",
                );
            }
            self.card = Some(Card::new(line));
            self.in_junk = false;
            return;
        }
        if trimmed.eq_ignore_ascii_case(b"END:VCARD") {
            match self.card.take() {
                Some(card) => card.finish(&mut self.out),
                None => self.error(line, "END:VCARD without BEGIN:VCARD"),
            }
            self.in_junk = false;
            return;
        }
        match &mut self.card {
            Some(card) => card.property(line, text, &mut self.out.errors),
            None if !self.in_junk => {
                self.error(
                    line,
                    "text outside a vCard; ignored up to the next BEGIN:VCARD",
                );
                self.in_junk = true;
            }
            None => {}
        }
    }

    fn error(&mut self, line: usize, message: &str) {
        self.out.errors.push(ImportError {
            line,
            message: message.to_owned(),
        });
    }

    fn finish(mut self) -> ParsedContacts {
        if let Some(open) = self.card.take() {
            // Most likely a truncated file; half a card may lack its emails.
            self.error(open.line, "vCard has no END:VCARD; card ignored");
        }
        self.out
    }
}

/// The parts of a card being read that an address book keeps.
struct Card {
    line: usize,
    formatted_name: Option<String>,
    structured_name: Option<String>,
    org: Option<String>,
    emails: Vec<String>,
    note: String,
    bad_email: bool,
    /// After a vCard 2.1 base64 property, whose continuation lines some
    /// writers (old phones) do not indent.
    in_base64: bool,
}

impl Card {
    fn new(line: usize) -> Card {
        Card {
            line,
            formatted_name: None,
            structured_name: None,
            org: None,
            emails: Vec::new(),
            note: String::new(),
            bad_email: false,
            in_base64: false,
        }
    }

    fn property(&mut self, line: usize, text: &[u8], errors: &mut Vec<ImportError>) {
        let Some(prop) = Property::split(text) else {
            // Base64 has no colon, so a colon-less line here is the photo going on.
            if !self.in_base64 {
                errors.push(ImportError {
                    line,
                    message: format!(
                        "malformed vCard line {}",
                        shown(&String::from_utf8_lossy(text))
                    ),
                });
            }
            return;
        };
        let params = Params::parse(prop.params);
        self.in_base64 = params.encoding == Encoding::Base64;
        let name = prop.name;
        if name.eq_ignore_ascii_case(b"EMAIL") {
            let value = unescape(&params.decode(prop.value));
            let value = value.trim();
            if value.is_empty() {
                // Some clients write an empty EMAIL for a blank form field.
                return;
            }
            match addresses_in(value) {
                Some(found) => self.emails.extend(found),
                None => {
                    self.bad_email = true;
                    errors.push(ImportError {
                        line,
                        message: format!("EMAIL {} is not an email address", shown(value)),
                    });
                }
            }
        } else if name.eq_ignore_ascii_case(b"FN") {
            // vCard 4 allows one FN per language; the first is the main one.
            if self.formatted_name.is_none() {
                let v = clean_name(&unescape(&params.decode(prop.value)));
                self.formatted_name = Some(v).filter(|v| !v.is_empty());
            }
        } else if name.eq_ignore_ascii_case(b"N") {
            if self.structured_name.is_none() {
                let v = params.decode(prop.value);
                let parts = split_unescaped(&v, ';');
                let family = parts.first().map(|p| unescape(p)).unwrap_or_default();
                let given = parts.get(1).map(|p| unescape(p)).unwrap_or_default();
                let v = clean_name(&format!("{given} {family}"));
                self.structured_name = Some(v).filter(|v| !v.is_empty());
            }
        } else if name.eq_ignore_ascii_case(b"ORG") {
            if self.org.is_none() {
                let v = params.decode(prop.value);
                let v = split_unescaped(&v, ';')
                    .first()
                    .map(|p| clean_name(&unescape(p)));
                self.org = v.filter(|v| !v.is_empty());
            }
        } else if name.eq_ignore_ascii_case(b"NOTE") {
            let mut v = unescape(&params.decode(prop.value));
            // Quoted-printable notes carry Windows line breaks (=0D=0A); CSV
            // notes get '\n' too, so stored notes look the same either way.
            if v.contains('\r') {
                v = v.replace("\r\n", "\n");
            }
            let v = v.trim();
            if !v.is_empty() {
                if !self.note.is_empty() {
                    self.note.push('\n');
                }
                self.note.push_str(v);
            }
        }
    }

    fn finish(mut self, out: &mut ParsedContacts) {
        // FN is mandatory from vCard 3 on, but older and sloppier writers
        // leave it out; ORG names company cards that have no person's name.
        let name = self
            .formatted_name
            .or(self.structured_name)
            .or(self.org)
            .unwrap_or_default();
        dedup_in_order(&mut self.emails);
        if self.emails.is_empty() {
            let why = if self.bad_email {
                "no valid email address"
            } else {
                "no email address"
            };
            let message = if name.is_empty() {
                format!("vCard has {why}")
            } else {
                format!("vCard {} has {why}", shown(&name))
            };
            out.skipped.push(ImportError {
                line: self.line,
                message,
            });
            return;
        }
        out.contacts.push(ContactRecord {
            name,
            emails: self.emails,
            note: self.note,
            line: self.line,
        });
    }
}

/// `[group.]NAME[;params]:value`, borrowed from the content line.
struct Property<'a> {
    /// Without the group: `item1.EMAIL` (Apple, Google) is an EMAIL.
    name: &'a [u8],
    params: &'a [u8],
    value: &'a [u8],
}

impl<'a> Property<'a> {
    /// None when the line is not a property at all.
    fn split(text: &'a [u8]) -> Option<Property<'a>> {
        let name_end = text.iter().position(|&b| b == b':' || b == b';')?;
        let full_name = &text[..name_end];
        // Names are ASCII tokens; anything else means a stray line of text.
        if !full_name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return None;
        }
        let name = match full_name.iter().rposition(|&b| b == b'.') {
            Some(dot) => &full_name[dot + 1..],
            None => full_name,
        };
        if name.is_empty() {
            return None;
        }
        let rest = &text[name_end + 1..];
        let (params, value) = if text[name_end] == b':' {
            (&rest[..0], rest)
        } else {
            // Quoted parameter values (vCard 4) may contain ':'; an unbalanced
            // quote falls back to the first colon.
            let colon =
                colon_outside_quotes(rest).or_else(|| rest.iter().position(|&b| b == b':'))?;
            (&rest[..colon], &rest[colon + 1..])
        };
        Some(Property {
            name,
            params,
            value,
        })
    }
}

fn colon_outside_quotes(s: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in s.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Encoding {
    #[default]
    Plain,
    QuotedPrintable,
    Base64,
}

/// The parameters that change how a value's bytes are read; TYPE, PREF and
/// the rest do not matter to an address book.
#[derive(Debug, Default)]
struct Params {
    encoding: Encoding,
    /// CHARSET names a single-byte Windows or ISO-8859 charset (vCard 2.1).
    latin1: bool,
}

impl Params {
    fn parse(raw: &[u8]) -> Params {
        let mut params = Params::default();
        if raw.is_empty() {
            return params;
        }
        let mut quoted = false;
        let mut start = 0;
        for (i, &b) in raw.iter().enumerate() {
            match b {
                b'"' => quoted = !quoted,
                b';' if !quoted => {
                    params.apply(&raw[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        params.apply(&raw[start..]);
        params
    }

    fn apply(&mut self, param: &[u8]) {
        // vCard 2.1 allows bare values: `EMAIL;INTERNET;PREF:`, `NOTE;QUOTED-PRINTABLE:`.
        let (key, value) = match param.iter().position(|&b| b == b'=') {
            Some(eq) => (&param[..eq], &param[eq + 1..]),
            None => (&param[..0], param),
        };
        let value = value.trim_ascii();
        let value = value
            .strip_prefix(b"\"")
            .and_then(|v| v.strip_suffix(b"\""))
            .unwrap_or(value);
        let key = key.trim_ascii();
        if key.is_empty() || key.eq_ignore_ascii_case(b"ENCODING") {
            if value.eq_ignore_ascii_case(b"QUOTED-PRINTABLE") {
                self.encoding = Encoding::QuotedPrintable;
            } else if value.eq_ignore_ascii_case(b"BASE64")
                || (!key.is_empty() && value.eq_ignore_ascii_case(b"B"))
            {
                self.encoding = Encoding::Base64;
            }
        } else if key.eq_ignore_ascii_case(b"CHARSET") {
            let v = value.to_ascii_lowercase();
            self.latin1 = v.starts_with(b"iso-8859")
                || v.starts_with(b"windows-125")
                || v.starts_with(b"cp125")
                || v == b"latin1"
                || v == b"us-ascii";
        }
    }

    /// A value's text: transfer encoding undone, then the charset applied.
    fn decode<'v>(&self, value: &'v [u8]) -> Cow<'v, str> {
        let bytes: Cow<'v, [u8]> = match self.encoding {
            Encoding::Plain => Cow::Borrowed(value),
            Encoding::QuotedPrintable => Cow::Owned(quoted_printable(value)),
            Encoding::Base64 => Cow::Owned(base64(value)),
        };
        if self.latin1 {
            return Cow::Owned(windows_1252(&bytes));
        }
        match bytes {
            Cow::Borrowed(b) => String::from_utf8_lossy(b),
            Cow::Owned(b) => Cow::Owned(
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }
}

fn quoted_printable(v: &[u8]) -> Vec<u8> {
    let hex = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'=' {
            let pair = v
                .get(i + 1)
                .copied()
                .and_then(hex)
                .zip(v.get(i + 2).copied().and_then(hex));
            if let Some((high, low)) = pair {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
            if i + 1 == v.len() {
                // A soft break on the last line of the file.
                break;
            }
        }
        out.push(v[i]);
        i += 1;
    }
    out
}

/// Lenient base64: whitespace, padding and junk are skipped, URL-safe
/// characters accepted, since only text properties are decoded here.
fn base64(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() / 4 * 3 + 3);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in v {
        let digit = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => continue,
        };
        acc = (acc << 6 | u32::from(digit)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    out
}

/// RFC 6350 3.4 escapes. An unknown escape keeps its backslash, because
/// writers that do not escape at all put Windows paths and the like in notes.
fn unescape(v: &str) -> String {
    if !v.contains('\\') {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(e @ ('\\' | ',' | ';' | ':')) => out.push(e),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a structured value (N, ORG) at separators not escaped by a backslash;
/// the parts are still escaped.
fn split_unescaped(v: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in v.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(&v[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&v[start..]);
    parts
}

#[cfg(test)]
mod tests;
