//! Header value helpers: unfolding, RFC 2047 decoding, MIME parameters,
//! dates, message ids, the RFC 5256 base subject, and the lenient
//! transfer/charset decoding used for body text.

use std::borrow::Cow;

use mail_parser::HeaderValue;
use mail_parser::decoders::charsets::map::charset_decoder;
use mail_parser::parsers::MessageStream;

pub(crate) fn lossy(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// Position of the first `needle` in `hay`, eight bytes at a time.
pub(crate) fn find_byte(hay: &[u8], needle: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let pattern = LO * u64::from(needle);
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        if let Ok(word) = <[u8; 8]>::try_from(chunk) {
            let x = u64::from_le_bytes(word) ^ pattern;
            if x.wrapping_sub(LO) & !x & HI != 0 {
                return chunk.iter().position(|&b| b == needle).map(|p| base + p);
            }
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == needle)
        .map(|p| base + p)
}

pub(crate) fn is_wsp(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

pub(crate) fn trim_wsp_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| !is_wsp(c)).map_or(0, |p| p + 1);
    &b[..end]
}

fn trim_wsp(b: &[u8]) -> &[u8] {
    let b = trim_wsp_end(b);
    let start = b.iter().position(|&c| !is_wsp(c)).unwrap_or(b.len());
    &b[start..]
}

/// A raw header value unfolded (line breaks removed, NULs dropped), trimmed,
/// as UTF-8 (invalid bytes replaced).
pub(crate) fn unfold(value: &[u8]) -> String {
    let value = trim_wsp(value);
    if value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)) {
        let kept: Vec<u8> = value
            .iter()
            .copied()
            .filter(|&b| !matches!(b, b'\r' | b'\n' | 0))
            .collect();
        lossy(&kept)
    } else {
        lossy(value)
    }
}

/// A raw header value unfolded and RFC 2047 decoded. Works on the bytes so
/// that raw 8-bit text inside an encoded-word reaches its charset decoder.
pub(crate) fn decode_words(value: &[u8]) -> String {
    let value = trim_wsp(value);
    if !value.windows(2).any(|w| w == b"=?") {
        return unfold(value);
    }
    let mut buf: Vec<u8> = value
        .iter()
        .copied()
        .filter(|&b| !matches!(b, b'\r' | b'\n' | 0))
        .collect();
    buf.push(b'\n');
    match MessageStream::new(&buf).parse_unstructured() {
        HeaderValue::Text(t) => t.trim().to_owned(),
        _ => String::new(),
    }
}

/// `Date:` value to Unix seconds.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let buf = format!("{}\n", s.replace('\n', " "));
    match MessageStream::new(buf.as_bytes()).parse_date() {
        HeaderValue::DateTime(mut dt) => {
            // RFC 5322 allows a leap second.
            if dt.second == 60 {
                dt.second = 59;
            }
            dt.is_valid().then(|| dt.to_timestamp())
        }
        _ => None,
    }
}

/// Every `<id>` in a header value, inner whitespace removed.
pub(crate) fn msg_ids(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        let after = &rest[lt + 1..];
        let Some(gt) = after.find('>') else { break };
        if let Some(next_lt) = after[..gt].rfind('<') {
            rest = &after[next_lt..]; // "<a <b@c>": the id is the last "<"
            continue;
        }
        let inner: String = after[..gt].chars().filter(|c| !c.is_whitespace()).collect();
        if !inner.is_empty() {
            out.push(format!("<{inner}>"));
        }
        rest = &after[gt + 1..];
    }
    out
}

/// Lines in a body: line feeds, plus an unterminated last line.
pub(crate) fn count_lines(b: &[u8]) -> u64 {
    // Byte-sized counters over 255-byte chunks let the loop vectorise.
    let lf: u64 = b
        .chunks(255)
        .map(|c| u64::from(c.iter().fold(0u8, |n, &x| n + u8::from(x == b'\n'))))
        .sum();
    lf + u64::from(b.last().is_some_and(|&c| c != b'\n'))
}

/// A byte cursor over a structured header value.
pub(crate) struct Cursor<'a> {
    pub s: &'a [u8],
    pub i: usize,
}

impl<'a> Cursor<'a> {
    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    pub fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }

    pub fn take_while(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.i.min(self.s.len());
        let n = self.s[start..].iter().take_while(|&&b| keep(b)).count();
        self.i = start + n;
        &self.s[start..start + n]
    }

    /// Skips whitespace and (nested) comments.
    pub fn skip_cfws(&mut self) {
        while let Some(b) = self.peek() {
            if is_wsp(b) {
                self.i += 1;
            } else if b == b'(' {
                self.comment();
            } else {
                break;
            }
        }
    }

    /// At '(' : consumes a comment, returns its text.
    pub fn comment(&mut self) -> Vec<u8> {
        let mut depth = 0usize;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'(' => {
                    if depth > 0 {
                        out.push(b);
                    }
                    depth += 1;
                }
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                    out.push(b);
                }
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'\r' | b'\n' | 0 => {}
                _ => out.push(b),
            }
        }
        out
    }

    /// At '"' : consumes a quoted string, returns its unescaped text.
    pub fn quoted(&mut self) -> Vec<u8> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'\r' | b'\n' | 0 => {}
                _ => out.push(b),
            }
        }
        out
    }
}

/// A MIME value: `type/subtype; a=b` (subtype wanted) or `token; a=b`.
/// None when the type (or wanted subtype) is missing.
pub(crate) type MimeValue = (String, Option<String>, Vec<(String, String)>);

pub(crate) fn parse_mime_value(value: &[u8], want_subtype: bool) -> Option<MimeValue> {
    let stop = |b: u8| !(is_wsp(b) || matches!(b, b'/' | b';' | b'(' | b'"'));
    let mut c = Cursor { s: value, i: 0 };
    c.skip_cfws();
    let ty = c.take_while(stop);
    if ty.is_empty() {
        return None;
    }
    let subtype = if want_subtype {
        c.skip_cfws();
        if !c.eat(b'/') {
            return None;
        }
        c.skip_cfws();
        let st = c.take_while(stop);
        if st.is_empty() {
            return None;
        }
        Some(lossy(st))
    } else {
        None
    };
    let mut params = Vec::new();
    loop {
        c.skip_cfws();
        match c.peek() {
            None => break,
            Some(b';') => c.i += 1,
            Some(b'"') => {
                c.quoted(); // junk
                continue;
            }
            Some(_) => {
                c.i += 1; // junk
                continue;
            }
        }
        c.skip_cfws();
        let name = c.take_while(|b| !(is_wsp(b) || matches!(b, b'=' | b';' | b'(' | b'"')));
        c.skip_cfws();
        if name.is_empty() || !c.eat(b'=') {
            continue;
        }
        c.skip_cfws();
        let val = if c.peek() == Some(b'"') {
            lossy(&c.quoted())
        } else {
            lossy(c.take_while(|b| !(is_wsp(b) || matches!(b, b';' | b'(' | b'"'))))
        };
        params.push((lossy(name), val));
    }
    Some((lossy(ty), subtype, params))
}

/// Content-Language: comma-separated tags.
pub(crate) fn parse_language(value: &[u8]) -> Vec<String> {
    let mut c = Cursor { s: value, i: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_cfws();
        let Some(b) = c.peek() else { break };
        if b == b',' {
            c.i += 1;
            continue;
        }
        let tag = c.take_while(|b| !(is_wsp(b) || matches!(b, b',' | b'(')));
        if tag.is_empty() {
            c.i += 1;
        } else {
            out.push(lossy(tag));
        }
    }
    out
}

/// Undoes a Content-Transfer-Encoding leniently (bad input never fails).
pub(crate) fn decode_transfer<'a>(body: &'a [u8], encoding: &str) -> Cow<'a, [u8]> {
    if encoding.eq_ignore_ascii_case("base64") {
        Cow::Owned(base64_lenient(body))
    } else if encoding.eq_ignore_ascii_case("quoted-printable") {
        Cow::Owned(qp_lenient(body))
    } else {
        Cow::Borrowed(body)
    }
}

fn base64_lenient(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &b in s {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = ((acc << 6) | u32::from(v)) & 0xffff;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn qp_lenient(s: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let run = find_byte(&s[i..], b'=').unwrap_or(s.len() - i);
        out.extend_from_slice(&s[i..i + run]);
        i += run;
        if i >= s.len() {
            break;
        }
        // soft line break: "=" [WSP] CRLF / LF
        let mut j = i + 1;
        while matches!(s.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        match (s.get(j), s.get(j + 1)) {
            (None, _) => i = j, // soft break whose line end is the delimiter's
            (Some(b'\n'), _) => i = j + 1,
            (Some(b'\r'), Some(b'\n')) => i = j + 2,
            _ => match (
                s.get(i + 1).and_then(|&b| hex(b)),
                s.get(i + 2).and_then(|&b| hex(b)),
            ) {
                (Some(h), Some(l)) => {
                    out.push((h << 4) | l);
                    i += 3;
                }
                _ => {
                    out.push(b'=');
                    i += 1;
                }
            },
        }
    }
    out
}

/// Bytes in a charset to UTF-8 (unknown charsets are taken as UTF-8).
pub(crate) fn to_utf8(bytes: &[u8], charset: Option<&str>) -> String {
    // Unlabelled or "us-ascii" 8-bit text is most often UTF-8 in practice.
    let ascii = |c: &str| {
        ["us-ascii", "ascii", "utf-8", "utf8"]
            .iter()
            .any(|a| c.eq_ignore_ascii_case(a))
    };
    match charset
        .filter(|c| !c.is_empty() && !ascii(c))
        .and_then(|c| charset_decoder(c.as_bytes()))
    {
        Some(decode) => decode(bytes),
        None => lossy(bytes),
    }
}

/// Crude HTML to text: tags dropped (script/style content too), a few
/// entities decoded, whitespace runs collapsed.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&str> = None;
    while !rest.is_empty() {
        if let Some(end) = skip_until {
            match find_ci(rest, end) {
                Some(p) => rest = &rest[p..],
                None => break,
            }
            skip_until = None;
        }
        let lt = rest.find('<').unwrap_or(rest.len());
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        if rest.is_empty() {
            break;
        }
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |p| &rest[p + 3..]);
            continue;
        }
        let gt = rest.find('>').map_or(rest.len(), |p| p + 1);
        let tag = &rest[..gt];
        for name in ["script", "style"] {
            if tag.len() > name.len()
                && tag.as_bytes()[1..=name.len()].eq_ignore_ascii_case(name.as_bytes())
            {
                skip_until = Some(if name == "script" {
                    "</script"
                } else {
                    "</style"
                });
            }
        }
        if !out.ends_with([' ', '\n']) && !out.is_empty() {
            out.push(' ');
        }
        rest = &rest[gt..];
    }
    out.trim().to_owned()
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let n = needle.as_bytes();
    hay.as_bytes()
        .windows(n.len())
        .position(|w| w.eq_ignore_ascii_case(n))
}

fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_ws(out, &rest[..amp]);
        rest = &rest[amp..];
        let semi = rest.bytes().take(10).position(|b| b == b';');
        let decoded = semi.and_then(|p| {
            let ent = &rest[1..p];
            let ch = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, p + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    push_ws(out, rest);
}

/// Appends `text` with each run of ASCII whitespace made one space (none
/// at the start of `out` or after a space).
fn push_ws(out: &mut String, text: &str) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let ws = b[i..]
            .iter()
            .position(u8::is_ascii_whitespace)
            .map_or(b.len(), |p| i + p);
        out.push_str(&text[i..ws]);
        if ws == b.len() {
            break;
        }
        if !out.is_empty() && !out.ends_with([' ', '\n']) {
            out.push(' ');
        }
        i = b[ws..]
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .map_or(b.len(), |p| ws + p);
    }
}
