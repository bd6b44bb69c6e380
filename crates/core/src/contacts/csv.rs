//! CSV (RFC 4180) as exported by Outlook, Google Contacts, Thunderbird and
//! spreadsheets: a header row names the columns, which are recognised by name
//! whatever their order, so one parser serves every exporter's layout.

use std::borrow::Cow;
use std::ops::Range;

use super::{
    ContactRecord, ImportError, ParsedContacts, addresses_in, clean_name, decode_bom,
    dedup_in_order, normalize_email, shown, windows_1252,
};

pub fn parse_csv(data: &[u8]) -> ParsedContacts {
    let data = decode_bom(data);
    let mut out = ParsedContacts::default();
    let mut reader = match excel_separator_hint(&data) {
        Some((delimiter, len)) => Reader {
            data: &data,
            pos: len,
            line: 2,
            delimiter,
        },
        None => Reader {
            data: &data,
            pos: 0,
            line: 1,
            delimiter: detect_delimiter(&data),
        },
    };
    let mut row = Row::default();
    let header_line = loop {
        match reader.read(&mut row) {
            None => return out,
            Some(Err(line)) => {
                out.errors.push(unterminated(line));
                return out;
            }
            Some(Ok(_)) if row.is_blank() => {}
            Some(Ok(line)) => break line,
        }
    };
    let columns = Columns::from_header(&row);
    if columns.emails.is_empty() {
        let holds_address = (0..row.len()).any(|i| normalize_email(&row.text(i)).is_some());
        let message = if holds_address {
            "the first row must be a header naming the columns (such as Name,Email), \
             but it holds an email address; nothing imported"
        } else {
            "the header row has no email column (such as \"Email\" or \"E-mail Address\"); \
             nothing imported"
        };
        out.errors.push(ImportError {
            line: header_line,
            message: message.to_owned(),
        });
        return out;
    }
    let width = row.len();
    while let Some(next) = reader.read(&mut row) {
        let line = match next {
            Ok(line) => line,
            Err(line) => {
                out.errors.push(unterminated(line));
                break;
            }
        };
        if row.is_blank() {
            continue;
        }
        if row.len() != width {
            out.errors.push(ImportError {
                line,
                message: format!(
                    "row has {} fields but the header has {width}; row ignored",
                    row.len()
                ),
            });
            continue;
        }
        columns.read_contact(&row, line, &mut out);
    }
    out
}

fn unterminated(line: usize) -> ImportError {
    ImportError {
        line,
        message: "quoted field starting here is never closed; the rest of the file is ignored"
            .to_owned(),
    }
}

/// Excel writes and honours a first line `sep=;` naming the separator; it
/// comes before the header. Returns the separator and the hint's length.
fn excel_separator_hint(data: &[u8]) -> Option<(u8, usize)> {
    if !data.get(..4)?.eq_ignore_ascii_case(b"sep=") {
        return None;
    }
    let delimiter = *data
        .get(4)
        .filter(|&&b| matches!(b, b',' | b';' | b'\t' | b'|'))?;
    let len = match data.get(5..7) {
        Some(b"\r\n") => 7,
        _ => match data.get(5) {
            Some(b'\r' | b'\n') | None => 6,
            Some(_) => return None,
        },
    };
    Some((delimiter, len.min(data.len())))
}

/// The separator used in the header line: Excel in many European locales
/// writes `;` because `,` is their decimal separator; some tools write tabs.
/// On a tie the comma wins, being the standard.
fn detect_delimiter(data: &[u8]) -> u8 {
    const CANDIDATES: [u8; 3] = [b',', b';', b'\t'];
    let mut counts = [0usize; 3];
    let mut quoted = false;
    let mut seen_text = false;
    for &b in data {
        match b {
            b'"' => quoted = !quoted,
            b'\r' | b'\n' if !quoted && seen_text => break,
            _ if quoted => {}
            _ => {
                if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                    counts[i] += 1;
                }
            }
        }
        seen_text |= !b.is_ascii_whitespace();
    }
    let mut best = 0;
    for i in 1..CANDIDATES.len() {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    CANDIDATES[best]
}

/// One record's fields, kept as ranges into a single buffer that is reused
/// from row to row: Outlook exports have about 90 columns, of which a handful
/// are read, so the others are never turned into strings.
#[derive(Default)]
struct Row {
    text: Vec<u8>,
    fields: Vec<Range<usize>>,
    /// The physical line each field starts on, for messages about one field
    /// of a record that spans lines.
    lines: Vec<usize>,
}

impl Row {
    fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
        self.lines.clear();
    }

    fn len(&self) -> usize {
        self.fields.len()
    }

    fn bytes(&self, i: usize) -> &[u8] {
        self.fields
            .get(i)
            .and_then(|r| self.text.get(r.clone()))
            .unwrap_or_default()
    }

    /// A field's text. CSV declares no charset, and Outlook writes its CSV in
    /// the Windows code page, so a field that is not UTF-8 is read as
    /// Windows-1252 (per field, so one odd byte does not garble the file).
    fn text(&self, i: usize) -> Cow<'_, str> {
        let bytes = self.bytes(i);
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(windows_1252(bytes)),
        }
    }

    fn line(&self, i: usize) -> usize {
        self.lines.get(i).copied().unwrap_or_default()
    }

    /// An empty line, or a row of empty fields as spreadsheets write for
    /// rows that were cleared.
    fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| self.bytes(i).trim_ascii().is_empty())
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// The physical line at `pos`.
    line: usize,
    delimiter: u8,
}

impl Reader<'_> {
    /// Reads the next record into `row`. Ok holds the line the record starts
    /// on; Err the line of a quoted field that runs to the end of the input.
    /// None at the end.
    ///
    /// Lenient where exporters are sloppy: a quote inside an unquoted field
    /// and text after a closing quote are kept as they are.
    fn read(&mut self, row: &mut Row) -> Option<Result<usize, usize>> {
        if self.pos >= self.data.len() {
            return None;
        }
        row.clear();
        let start_line = self.line;
        loop {
            let field_start = row.text.len();
            let field_line = self.line;
            if self.data.get(self.pos) == Some(&b'"') {
                self.pos += 1;
                if !self.quoted(row) {
                    return Some(Err(field_line));
                }
            }
            let rest = self.data.get(self.pos..).unwrap_or_default();
            let end = rest
                .iter()
                .position(|&b| b == self.delimiter || b == b'\n' || b == b'\r')
                .unwrap_or(rest.len());
            row.text.extend_from_slice(&rest[..end]);
            self.pos += end;
            row.fields.push(field_start..row.text.len());
            row.lines.push(field_line);
            match self.data.get(self.pos) {
                Some(&b) if b == self.delimiter => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if self.data.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    self.line += 1;
                    return Some(Ok(start_line));
                }
                Some(_) => {
                    // '\n', the only other byte the search above stops at.
                    self.pos += 1;
                    self.line += 1;
                    return Some(Ok(start_line));
                }
                None => return Some(Ok(start_line)),
            }
        }
    }

    /// A quoted field's content, after the opening quote, up to and past the
    /// closing one. False when the input ends first.
    fn quoted(&mut self, row: &mut Row) -> bool {
        loop {
            let rest = self.data.get(self.pos..).unwrap_or_default();
            let Some(i) = rest.iter().position(|&b| matches!(b, b'"' | b'\r' | b'\n')) else {
                self.pos = self.data.len();
                return false;
            };
            row.text.extend_from_slice(&rest[..i]);
            self.pos += i + 1;
            match rest[i] {
                b'"' if self.data.get(self.pos) == Some(&b'"') => {
                    row.text.push(b'"');
                    self.pos += 1;
                }
                b'"' => return true,
                // Line breaks inside a value become '\n', whatever the file uses.
                b'\r' => {
                    if self.data.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    row.text.push(b'\n');
                    self.line += 1;
                }
                _ => {
                    row.text.push(b'\n');
                    self.line += 1;
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    FullName,
    Given,
    Family,
    Org,
    Email,
    Note,
    Other,
}

/// What a header names, ignoring case, spaces and punctuation, so that
/// "E-mail 2 Address", "Email Address 2" and "email_2" all match.
fn role(header: &str) -> Role {
    let key: String = header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "name" | "fullname" | "displayname" | "formattedname" | "contactname" => Role::FullName,
        "firstname" | "givenname" | "first" => Role::Given,
        "lastname" | "familyname" | "surname" | "last" => Role::Family,
        "company" | "organization" | "organisation" | "organizationname" | "org" => Role::Org,
        "notes" | "note" => Role::Note,
        _ if is_email_key(&key) => Role::Email,
        _ => Role::Other,
    }
}

/// "email", "e-mail 2", "E-mail Address", "E-mail 1 - Value" (Google),
/// "Primary Email" (Thunderbird), "Work Email"; not "E-mail Type",
/// "E-mail Display Name" (Outlook) or "E-mail 1 - Label" (Google).
fn is_email_key(key: &str) -> bool {
    let digits = |c: char| c.is_ascii_digit();
    let k = key.trim_end_matches(digits);
    let k = ["addresses", "address", "value"]
        .iter()
        .find_map(|suffix| k.strip_suffix(suffix))
        .unwrap_or(k);
    let k = k.trim_end_matches(digits);
    k.ends_with("email") || k.ends_with("emails") || k == "mail"
}

/// Where a file keeps each part of a contact.
#[derive(Debug, Default)]
struct Columns {
    /// Full-name columns in header order; the first non-empty one is used.
    full_names: Vec<usize>,
    given: Option<usize>,
    family: Option<usize>,
    org: Option<usize>,
    /// With the header's text, to name the column in messages.
    emails: Vec<(usize, String)>,
    notes: Vec<usize>,
}

impl Columns {
    fn from_header(header: &Row) -> Columns {
        let mut c = Columns::default();
        for i in 0..header.len() {
            let title = header.text(i);
            match role(&title) {
                Role::FullName => c.full_names.push(i),
                Role::Given => {
                    c.given.get_or_insert(i);
                }
                Role::Family => {
                    c.family.get_or_insert(i);
                }
                Role::Org => {
                    c.org.get_or_insert(i);
                }
                Role::Email => c.emails.push((i, title.trim().to_owned())),
                Role::Note => c.notes.push(i),
                Role::Other => {}
            }
        }
        c
    }

    fn read_contact(&self, row: &Row, line: usize, out: &mut ParsedContacts) {
        let field = |i: Option<usize>| i.map(|i| row.text(i)).unwrap_or_default();
        let mut name = self
            .full_names
            .iter()
            .map(|&i| clean_name(&row.text(i)))
            .find(|n| !n.is_empty())
            .unwrap_or_default();
        if name.is_empty() {
            name = clean_name(&format!("{} {}", field(self.given), field(self.family)));
        }
        if name.is_empty() {
            name = clean_name(&field(self.org));
        }

        let mut emails = Vec::new();
        let mut bad_email = false;
        for (i, title) in &self.emails {
            let value = row.text(*i);
            // Google puts all addresses of one type in one cell: "a@x ::: b@y".
            for part in value.split(":::").map(str::trim).filter(|p| !p.is_empty()) {
                match addresses_in(part) {
                    Some(found) => emails.extend(found),
                    None => {
                        bad_email = true;
                        out.errors.push(ImportError {
                            line: row.line(*i),
                            message: format!(
                                "{} {} is not an email address",
                                shown(title),
                                shown(part)
                            ),
                        });
                    }
                }
            }
        }
        dedup_in_order(&mut emails);
        if emails.is_empty() {
            let why = if bad_email {
                "no valid email address"
            } else {
                "no email address"
            };
            let message = if name.is_empty() {
                format!("row has {why}")
            } else {
                format!("row {} has {why}", shown(&name))
            };
            out.skipped.push(ImportError { line, message });
            return;
        }

        let mut note = String::new();
        for &i in &self.notes {
            let text = row.text(i);
            let text = text.trim();
            if !text.is_empty() {
                if !note.is_empty() {
                    note.push('\n');
                }
                note.push_str(text);
            }
        }
        out.contacts.push(ContactRecord {
            name,
            emails,
            note,
            line,
        });
    }
}

#[cfg(test)]
mod tests;
