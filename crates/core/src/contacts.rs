//! Reading contacts from vCard (RFC 6350, RFC 2426) and CSV (RFC 4180) files for
//! address-book import. Pure: bytes in, records and line-numbered problems out.

mod csv;
mod vcard;

pub use csv::parse_csv;
pub use vcard::parse_vcard;

/// One contact read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    pub name: String,
    pub emails: Vec<String>,
    pub note: String,
    /// 1-based line where the record starts.
    pub line: usize,
}

/// A problem with one line or record of the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactFormat {
    VCard,
    Csv,
}

/// By the file's extension, else by its content.
pub fn detect_format(file_name: Option<&str>, data: &[u8]) -> Option<ContactFormat> {
    if let Some(ext) = file_name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
    {
        match ext.as_str() {
            "vcf" | "vcard" => return Some(ContactFormat::VCard),
            "csv" => return Some(ContactFormat::Csv),
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(&data[..data.len().min(4096)]);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.len() >= 11 && text[..11].eq_ignore_ascii_case("BEGIN:VCARD") {
        return Some(ContactFormat::VCard);
    }
    // A CSV header is printable text with a separator on its first line.
    let first = text.lines().next().unwrap_or("");
    if !first.is_empty()
        && (first.contains(',') || first.contains(';'))
        && !first.chars().any(|c| c.is_control() && c != '\t')
    {
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

/// Trims, strips `mailto:` and `<>`, checks the `local@domain` shape and lower-cases.
/// None when the value is not an address.
pub fn normalize_email(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(s);
    let s = match s.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &s[7..],
        _ => s,
    };
    let s = s.trim();
    if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let (local, domain) = s.rsplit_once('@')?;
    if local.is_empty()
        || local.len() > 64
        || local.contains(['<', '>', '(', ')', ',', ';', '"', '[', ']', '\\'])
    {
        return None;
    }
    let domain_ok = !domain.is_empty()
        && (domain.contains('.') || domain.eq_ignore_ascii_case("localhost"))
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if !domain_ok {
        return None;
    }
    Some(s.to_lowercase())
}

/// Adds an email to a record's list unless it is already there.
fn push_email(emails: &mut Vec<String>, email: String) {
    if !emails.contains(&email) {
        emails.push(email);
    }
}

/// Input as text: invalid UTF-8 replaced, a byte order mark dropped.
fn text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    String::from_utf8_lossy(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_normalise() {
        assert_eq!(
            normalize_email(" <Mailto:Bob@Example.ORG> ").as_deref(),
            Some("bob@example.org")
        );
        assert_eq!(
            normalize_email("a@localhost").as_deref(),
            Some("a@localhost")
        );
        for bad in [
            "",
            "bob",
            "bob@",
            "@x.org",
            "a b@x.org",
            "a@x",
            "a@-x.org",
            "a@x..org",
            "a\0@x.org",
        ] {
            assert_eq!(normalize_email(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn formats_detected() {
        assert_eq!(
            detect_format(Some("a.VCF"), b""),
            Some(ContactFormat::VCard)
        );
        assert_eq!(detect_format(Some("a.csv"), b""), Some(ContactFormat::Csv));
        assert_eq!(
            detect_format(None, b"\xef\xbb\xbf\r\nbegin:vcard\r\n"),
            Some(ContactFormat::VCard)
        );
        assert_eq!(
            detect_format(Some("x.txt"), b"Name,Email\n"),
            Some(ContactFormat::Csv)
        );
        assert_eq!(detect_format(None, &[0, 159, 146, 150]), None);
        assert_eq!(detect_format(None, b""), None);
    }
}
