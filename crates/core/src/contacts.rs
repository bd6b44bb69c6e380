//! Reading contacts from vCard (RFC 6350, RFC 2426, vCard 2.1) and CSV
//! (RFC 4180) files for address-book import ("is the sender someone I know?").
//!
//! Pure: bytes in, records and line-numbered problems out. One bad card or row
//! never stops the import of the others, and no input makes these functions
//! panic, because the file comes from a user and the import must be able to
//! report every problem at once.

mod csv;
mod vcard;

pub use csv::parse_csv;
pub use vcard::parse_vcard;

use std::borrow::Cow;
use std::collections::HashSet;

/// One contact read from a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactRecord {
    pub name: String,
    /// Normalised (see [`normalize_email`]), without duplicates, in file order.
    pub emails: Vec<String>,
    pub note: String,
    /// 1-based line where the record starts.
    pub line: usize,
}

impl From<ContactRecord> for store::NewContact {
    fn from(c: ContactRecord) -> Self {
        store::NewContact {
            name: c.name,
            emails: c.emails,
            note: c.note,
        }
    }
}

/// A problem with one line or record of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// 1-based physical line of the input.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedContacts {
    pub contacts: Vec<ContactRecord>,
    /// Well-formed records with no usable email.
    pub skipped: Vec<ImportError>,
    /// Malformed records or values.
    pub errors: Vec<ImportError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactFormat {
    VCard,
    Csv,
}

/// By the file name's extension (`.vcf`, `.vcard`, `.csv`), else by content:
/// `BEGIN:VCARD` first means vCard, a first line of text with a separator
/// means CSV. None when it looks like neither.
pub fn detect_format(file_name: Option<&str>, data: &[u8]) -> Option<ContactFormat> {
    if let Some((_, ext)) = file_name.and_then(|n| n.rsplit_once('.')) {
        if ext.eq_ignore_ascii_case("vcf") || ext.eq_ignore_ascii_case("vcard") {
            return Some(ContactFormat::VCard);
        }
        if ext.eq_ignore_ascii_case("csv") {
            return Some(ContactFormat::Csv);
        }
    }
    // The start is enough to decide, and a huge upload must not be decoded twice.
    let head = decode_bom(&data[..data.len().min(4096)]);
    let head = String::from_utf8_lossy(&head);
    let head = head.trim_start();
    if head
        .get(..11)
        .is_some_and(|p| p.eq_ignore_ascii_case("BEGIN:VCARD"))
    {
        return Some(ContactFormat::VCard);
    }
    let first = head.split(['\r', '\n']).next().unwrap_or_default();
    // Binary files have control characters early; a CSV header has a separator.
    if first.contains([',', ';', '\t']) && !first.chars().any(|c| c.is_control() && c != '\t') {
        return Some(ContactFormat::Csv);
    }
    None
}

pub fn parse(format: ContactFormat, data: &[u8]) -> ParsedContacts {
    match format {
        ContactFormat::VCard => parse_vcard(data),
        ContactFormat::Csv => parse_csv(data),
    }
}

/// Trims, strips `mailto:` and surrounding `<>`, checks the `local@domain`
/// shape and lower-cases. None when the value is not an address.
///
/// Lower-casing the local part is wrong in theory (RFC 5321 lets it be case
/// sensitive) but right for "do I know this sender?", where `Bob@x.org` and
/// `bob@x.org` are the same person.
pub fn normalize_email(s: &str) -> Option<String> {
    let mut s = s.trim();
    // Seen in the wild: "<a@b>", "mailto:a@b", "<mailto:a@b>", "mailto:<a@b>".
    for _ in 0..2 {
        if let Some(inner) = s.strip_prefix('<').and_then(|r| r.strip_suffix('>')) {
            s = inner.trim();
        }
        if let Some(rest) = s
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("mailto:"))
            .and_then(|_| s.get(7..))
        {
            s = rest.trim();
        }
    }
    // Lower-casing can shrink a character to a third of its bytes at most
    // (the Kelvin sign), so anything longer cannot become a valid address.
    if s.len() > 3 * 254 {
        return None;
    }
    // Checked after lower-casing, which can also lengthen some characters.
    let s = s.to_lowercase();
    // U+FFFD stands for bytes that were not text: the address is corrupt.
    if s.is_empty()
        || s.len() > 254
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\u{fffd}')
    {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    if !local_part_ok(local) || !domain_ok(domain) {
        return None;
    }
    Some(s)
}

fn local_part_ok(local: &str) -> bool {
    if local.is_empty() || local.len() > 64 {
        return false;
    }
    // RFC 5321 quoted local parts may hold almost anything, '@' included.
    if local.len() >= 2 && local.starts_with('"') && local.ends_with('"') {
        return true;
    }
    // These only appear in a local part when quoted; unquoted they mean the
    // field holds a list, a display name or other text rather than one address.
    !local.contains(['@', '<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"'])
}

fn domain_ok(domain: &str) -> bool {
    if domain == "localhost" {
        return true;
    }
    domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                // Alphanumeric rather than ASCII so internationalised domains pass.
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// One address from a field that may also carry a display name, as in
/// `Bob <bob@x.org>`, which some exporters put in email columns.
fn address_in(value: &str) -> Option<String> {
    normalize_email(value).or_else(|| {
        let inner = value.trim().strip_suffix('>')?.rsplit_once('<')?.1;
        normalize_email(inner)
    })
}

/// The addresses in one email value: usually one, sometimes a list separated by
/// commas or semicolons. None when any part is not an address, so that a
/// typo is reported rather than half of the value silently kept.
fn addresses_in(value: &str) -> Option<Vec<String>> {
    if let Some(a) = address_in(value) {
        return Some(vec![a]);
    }
    if !value.contains([',', ';']) {
        return None;
    }
    let parts: Vec<&str> = value
        .split([',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 2 {
        return None;
    }
    parts.into_iter().map(address_in).collect()
}

/// A name on one line: exports carry stray newlines and runs of spaces (from
/// escaped `\n` or empty middle-name columns) that would look broken in a UI.
fn clean_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Drops repeated addresses, keeping the first of each.
fn dedup_in_order(emails: &mut Vec<String>) {
    // A linear scan is fastest for the usual one to three addresses; the set
    // keeps a hostile record with thousands of them from going quadratic.
    if emails.len() <= 8 {
        let mut i = 1;
        while i < emails.len() {
            if emails[..i].contains(&emails[i]) {
                emails.remove(i);
            } else {
                i += 1;
            }
        }
    } else {
        let mut seen = HashSet::with_capacity(emails.len());
        emails.retain(|e| seen.insert(e.clone()));
    }
}

/// The input with a byte order mark removed; UTF-16 (as written by some
/// Windows tools) becomes UTF-8 so the parsers only deal with one encoding.
/// Line breaks survive the conversion, so line numbers are unchanged.
fn decode_bom(data: &[u8]) -> Cow<'_, [u8]> {
    let utf16 = |rest: &[u8], big_endian: bool| -> Cow<'_, [u8]> {
        let units = rest.chunks_exact(2).map(|p| {
            let pair = [p[0], p[1]];
            if big_endian {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        let text: String = char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect();
        Cow::Owned(text.into_bytes())
    };
    if let Some(rest) = data.strip_prefix(b"\xef\xbb\xbf") {
        Cow::Borrowed(rest)
    } else if let Some(rest) = data.strip_prefix(b"\xff\xfe") {
        utf16(rest, false)
    } else if let Some(rest) = data.strip_prefix(b"\xfe\xff") {
        utf16(rest, true)
    } else {
        Cow::Borrowed(data)
    }
}

/// Windows-1252 bytes as text. Also used for ISO-8859-1, as browsers do:
/// files labelled Latin-1 are in practice written by Windows programs.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// A value for an error message: short, and quoted with control characters
/// escaped so that binary junk cannot garble the report.
fn shown(value: &str) -> String {
    const MAX: usize = 60;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &value[..cut]),
        None => format!("{value:?}"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    pub(crate) fn crlf(s: &str) -> Vec<u8> {
        s.replace('\n', "\r\n").into_bytes()
    }

    pub(crate) fn lines_of(errors: &[ImportError]) -> Vec<usize> {
        errors.iter().map(|e| e.line).collect()
    }

    /// Checks what must hold for any input: line numbers point into the
    /// input, and every kept address is normalised and unique in its record.
    pub(super) fn check_invariants(data: &[u8], parsed: &ParsedContacts) {
        let data = decode_bom(data);
        let mut lines = 1;
        let mut i = 0;
        while i < data.len() {
            if data[i] == b'\n' || data[i] == b'\r' {
                if data[i] == b'\r' && data.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                lines += 1;
            }
            i += 1;
        }
        let reported = parsed
            .contacts
            .iter()
            .map(|c| c.line)
            .chain(parsed.skipped.iter().chain(&parsed.errors).map(|e| e.line));
        for line in reported {
            assert!((1..=lines).contains(&line), "line {line} of {lines}");
        }
        for c in &parsed.contacts {
            assert!(!c.emails.is_empty());
            let mut seen = HashSet::new();
            for e in &c.emails {
                assert_eq!(normalize_email(e).as_deref(), Some(e.as_str()));
                assert!(seen.insert(e), "duplicate {e}");
            }
        }
    }

    #[test]
    fn emails_normalise() {
        for (input, want) in [
            (" <Mailto:Bob@Example.ORG> ", "bob@example.org"),
            ("mailto:<bob@example.org>", "bob@example.org"),
            ("MAILTO:bob@example.org", "bob@example.org"),
            ("a@localhost", "a@localhost"),
            ("a@LocalHost", "a@localhost"),
            (
                "first.last+tag@sub.example.co.uk",
                "first.last+tag@sub.example.co.uk",
            ),
            ("\"odd@local\"@example.org", "\"odd@local\"@example.org"),
            ("Jörg@Bücher.Example", "jörg@bücher.example"),
            ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
        ] {
            assert_eq!(normalize_email(input).as_deref(), Some(want), "{input:?}");
        }
        let long_ok = format!("{}@{}.org", "a".repeat(64), "b".repeat(63));
        assert!(normalize_email(&long_ok).is_some());
        let too_long = format!("a@{}.org", vec!["b".repeat(60); 5].join("."));
        assert!(too_long.len() > 254);
        for bad in [
            "",
            "   ",
            "bob",
            "bob@",
            "@x.org",
            "a b@x.org",
            "a@x",
            "a@-x.org",
            "a@x-.org",
            "a@x..org",
            "a@x.org.",
            "a@.x.org",
            "a\0@x.org",
            "a@x.org\u{7}",
            "a@b@x.org",
            "a,b@x.org",
            "Bob <bob@x.org>",
            "mailto:",
            "<>",
            "a@[1.2.3.4]",
            "a@x_y.org",
            "b\u{fffd}d@x.org",
            &format!("{}@x.org", "a".repeat(65)),
            &too_long,
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn addresses_in_fields() {
        assert_eq!(
            address_in("Bob Smith <Bob@X.org>").as_deref(),
            Some("bob@x.org")
        );
        assert_eq!(
            addresses_in("a@x.org, b@y.org;c@z.org"),
            Some(vec!["a@x.org".into(), "b@y.org".into(), "c@z.org".into()])
        );
        assert_eq!(addresses_in("a@x.org, nonsense"), None);
        assert_eq!(addresses_in("a@x.org,"), None);
        assert_eq!(addresses_in("nonsense"), None);
    }

    #[test]
    fn names_cleaned() {
        assert_eq!(clean_name("  Ann \n\t Lee  "), "Ann Lee");
        assert_eq!(clean_name(" \r\n"), "");
    }

    #[test]
    fn dedup_keeps_first_occurrences_in_order() {
        let mut v: Vec<String> = ["a", "b", "a", "c", "b"].map(String::from).to_vec();
        dedup_in_order(&mut v);
        assert_eq!(v, ["a", "b", "c"]);
        let mut big: Vec<String> = (0..100).map(|i| format!("{}", i % 7)).collect();
        dedup_in_order(&mut big);
        assert_eq!(big, ["0", "1", "2", "3", "4", "5", "6"]);
    }

    #[test]
    fn formats_detected() {
        use ContactFormat::*;
        assert_eq!(detect_format(Some("a.VCF"), b""), Some(VCard));
        assert_eq!(detect_format(Some("a.vcard"), b"x"), Some(VCard));
        assert_eq!(detect_format(Some("dir.d/a.Csv"), b""), Some(Csv));
        // The extension wins over the content.
        assert_eq!(detect_format(Some("a.csv"), b"BEGIN:VCARD\r\n"), Some(Csv));
        assert_eq!(
            detect_format(None, b"\xef\xbb\xbf\r\n  begin:vcard\r\n"),
            Some(VCard)
        );
        assert_eq!(
            detect_format(Some("export.txt"), b"BEGIN:VCARD\nVERSION:4.0\n"),
            Some(VCard)
        );
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("BEGIN:VCARD\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(detect_format(None, &utf16), Some(VCard));
        assert_eq!(detect_format(Some("x.txt"), b"Name,Email\n"), Some(Csv));
        assert_eq!(detect_format(None, b"Name;Email\r\n"), Some(Csv));
        assert_eq!(detect_format(None, b"Name\tEmail\n"), Some(Csv));
        assert_eq!(detect_format(None, &[0, 159, 146, 150, b',']), None);
        assert_eq!(detect_format(None, b"just some words\n"), None);
        assert_eq!(detect_format(None, b""), None);
        assert_eq!(detect_format(Some("noext"), b""), None);
    }

    #[test]
    fn boms_removed_and_utf16_decoded() {
        assert_eq!(&*decode_bom(b"\xef\xbb\xbfab"), b"ab");
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("é\n€".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(&*decode_bom(&le), "é\n€".as_bytes());
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain("é\n".encode_utf16().flat_map(u16::to_be_bytes))
            .chain([0xd8]) // a lone trailing byte must not panic
            .collect();
        assert_eq!(&*decode_bom(&be), "é\n".as_bytes());
        assert_eq!(&*decode_bom(b"plain"), b"plain");
    }

    #[test]
    fn windows_1252_decoded() {
        assert_eq!(windows_1252(b"J\xfcrgen \x80 \x93x\x94"), "Jürgen € “x”");
    }

    #[test]
    fn shown_values_are_short_and_escaped() {
        assert_eq!(shown("a\u{1b}b"), "\"a\\u{1b}b\"");
        let long = "é".repeat(100);
        assert_eq!(shown(&long).chars().count(), 60 + 3);
    }

    #[test]
    fn parse_dispatches_on_format() {
        let v = parse(
            ContactFormat::VCard,
            b"BEGIN:VCARD\nFN:A\nEMAIL:a@x.org\nEND:VCARD\n",
        );
        assert_eq!(v.contacts.len(), 1);
        let c = parse(ContactFormat::Csv, b"Name,Email\nA,a@x.org\n");
        assert_eq!(c.contacts.len(), 1);
    }
}
