//! vCard 2.1, 3.0 and 4.0 (RFC 2426, RFC 6350): unfolding, groups, parameters,
//! escapes, several EMAIL per card; line numbers refer to the physical input.

use super::{ContactRecord, ImportError, ParsedContacts, normalize_email, push_email, text};

/// A logical (unfolded) content line and the physical line it starts on.
struct Logical {
    line: usize,
    text: String,
}

/// RFC 6350 3.2: a line starting with a space or tab continues the previous one.
/// vCard 2.1 quoted-printable values continue after a trailing '='.
fn unfold(input: &str) -> Vec<Logical> {
    let mut out: Vec<Logical> = Vec::new();
    let mut qp_continues = false;
    for (i, raw) in input.split('\n').enumerate() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match out.last_mut() {
            Some(last) if raw.starts_with([' ', '\t']) => last.text.push_str(&raw[1..]),
            Some(last) if qp_continues => {
                last.text.pop();
                last.text.push_str(raw);
            }
            _ => out.push(Logical {
                line: i + 1,
                text: raw.to_string(),
            }),
        }
        qp_continues = out.last().is_some_and(|l| {
            l.text.ends_with('=') && l.text.to_ascii_uppercase().contains("QUOTED-PRINTABLE")
        });
    }
    out
}

/// RFC 6350 3.4: backslash escapes in values.
fn unescape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') | Some('N') => out.push('\n'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn decode_quoted_printable(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = v.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `group.NAME;PARAMS:value` into the upper-cased name, the raw
/// parameters and the value; None when there is no colon.
fn split_property(line: &str) -> Option<(String, &str, &str)> {
    // The first colon outside a quoted parameter value ends the name part.
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let (name, params) = head.split_once(';').unwrap_or((head, ""));
    let name = name.rsplit('.').next().unwrap_or(name);
    Some((name.trim().to_ascii_uppercase(), params, value))
}

struct Card {
    line: usize,
    full_name: Option<String>,
    structured_name: Option<String>,
    emails: Vec<String>,
    note: String,
}

impl Card {
    fn new(line: usize) -> Self {
        Card {
            line,
            full_name: None,
            structured_name: None,
            emails: Vec::new(),
            note: String::new(),
        }
    }

    fn finish(self, out: &mut ParsedContacts) {
        let name = self
            .full_name
            .filter(|n| !n.is_empty())
            .or(self.structured_name)
            .unwrap_or_default();
        if self.emails.is_empty() {
            let who = if name.is_empty() {
                String::new()
            } else {
                format!(" ({name})")
            };
            out.skipped.push(ImportError {
                line: self.line,
                message: format!("card{who} has no email address"),
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

/// N = Family;Given;Additional;Prefixes;Suffixes → "Given Family".
fn structured_name(value: &str) -> String {
    let parts: Vec<String> = split_unescaped(value, ';')
        .into_iter()
        .map(|p| unescape(&p))
        .collect();
    let given = parts.get(1).map(String::as_str).unwrap_or("");
    let family = parts.first().map(String::as_str).unwrap_or("");
    [given, family]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

fn split_unescaped(v: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut escaped = false;
    for c in v.chars() {
        if escaped {
            if let Some(p) = parts.last_mut() {
                p.push('\\');
                p.push(c);
            }
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            parts.push(String::new());
        } else if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    parts
}

pub fn parse_vcard(data: &[u8]) -> ParsedContacts {
    let input = text(data);
    let mut out = ParsedContacts::default();
    let mut card: Option<Card> = None;
    for l in unfold(&input) {
        let line = l.text.trim_end();
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, params, value)) = split_property(line) else {
            out.errors.push(ImportError {
                line: l.line,
                message: "not a vCard property line (no ':')".into(),
            });
            continue;
        };
        match (name.as_str(), card.as_mut()) {
            ("BEGIN", _) if value.trim().eq_ignore_ascii_case("VCARD") => {
                if let Some(open) = card.take() {
                    out.errors.push(ImportError {
                        line: open.line,
                        message: "card has no END:VCARD".into(),
                    });
                }
                card = Some(Card::new(l.line));
            }
            ("END", Some(_)) if value.trim().eq_ignore_ascii_case("VCARD") => {
                if let Some(c) = card.take() {
                    c.finish(&mut out);
                }
            }
            (_, None) => out.errors.push(ImportError {
                line: l.line,
                message: "text outside BEGIN:VCARD ... END:VCARD".into(),
            }),
            ("FN", Some(c)) => c.full_name = Some(unescape(value).trim().to_string()),
            ("N", Some(c)) => c.structured_name = Some(structured_name(value)),
            ("NOTE", Some(c)) => c.note = unescape(value),
            ("EMAIL", Some(c)) => {
                let value = if params.to_ascii_uppercase().contains("QUOTED-PRINTABLE") {
                    decode_quoted_printable(value)
                } else {
                    unescape(value)
                };
                match normalize_email(&value) {
                    Some(e) => push_email(&mut c.emails, e),
                    None if value.trim().is_empty() => {}
                    None => out.errors.push(ImportError {
                        line: l.line,
                        message: format!("{:?} is not an email address", value.trim()),
                    }),
                }
            }
            _ => {}
        }
    }
    if let Some(open) = card {
        out.errors.push(ImportError {
            line: open.line,
            message: "card has no END:VCARD".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(p: &ParsedContacts) -> Vec<(&str, Vec<&str>, usize)> {
        p.contacts
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.emails.iter().map(String::as_str).collect(),
                    c.line,
                )
            })
            .collect()
    }

    #[test]
    fn apple_style_v3_with_groups_and_folding() {
        let v = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Appleseed;John;;;\r\nFN:John Appleseed\r\n\
                 item1.EMAIL;type=INTERNET;type=pref:John@Example.com\r\n\
                 EMAIL;type=INTERNET;type=HOME:john.a\r\n ppleseed@home.example\r\n\
                 NOTE:Met at\\, the conference\\nin Lisbon\r\nEND:VCARD\r\n";
        let p = parse_vcard(v.as_bytes());
        assert_eq!(
            names(&p),
            vec![(
                "John Appleseed",
                vec!["john@example.com", "john.appleseed@home.example"],
                1
            )]
        );
        assert_eq!(p.contacts[0].note, "Met at, the conference\nin Lisbon");
        assert!(p.errors.is_empty() && p.skipped.is_empty());
    }

    #[test]
    fn v4_and_v21_and_name_from_n() {
        let v = "\u{feff}BEGIN:VCARD\nVERSION:4.0\nN:Doe;Jane;;;\nEMAIL;TYPE=work;PREF=1:jane@corp.example\n\
                 EMAIL:JANE@corp.example\nEND:VCARD\n\
                 BEGIN:VCARD\nVERSION:2.1\nFN:Q P\nEMAIL;INTERNET;ENCODING=QUOTED-PRINTABLE:q=40p.ex=\nample\nEND:VCARD\n";
        let p = parse_vcard(v.as_bytes());
        assert_eq!(names(&p)[0], ("Jane Doe", vec!["jane@corp.example"], 1));
        assert_eq!(names(&p)[1], ("Q P", vec!["q@p.example"], 7), "{p:?}");
    }

    #[test]
    fn problems_are_reported_with_lines() {
        let v = "garbage before\nBEGIN:VCARD\nFN:No Mail\nEND:VCARD\nBEGIN:VCARD\nFN:Bad\n\
                 EMAIL:not-an-address\nEMAIL:good@example.org\nEND:VCARD\nBEGIN:VCARD\nFN:Open\nEMAIL:o@example.org\n";
        let p = parse_vcard(v.as_bytes());
        assert_eq!(names(&p), vec![("Bad", vec!["good@example.org"], 5)]);
        assert_eq!(
            p.skipped,
            vec![ImportError {
                line: 2,
                message: "card (No Mail) has no email address".into()
            }]
        );
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 7, 10]);
    }

    #[test]
    fn never_panics_on_truncations_and_garbage() {
        let v = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A\\\r\n B\r\nEMAIL;X=\"a:b\":a@b.example\r\nNOTE:\\\r\nEND:VCARD\r\n";
        for i in 0..=v.len() {
            let _ = parse_vcard(&v.as_bytes()[..i]);
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"BEGIN:VCARD\r\n;=:\\\" EMAIL@.a\xff"[(seed >> 33) as usize % 24]
                })
                .collect();
            let _ = parse_vcard(&bytes);
        }
        assert_eq!(parse_vcard(b""), ParsedContacts::default());
    }

    #[test]
    fn quoted_parameter_with_colon() {
        let p = parse_vcard(b"BEGIN:VCARD\nFN:X\nEMAIL;LABEL=\"a:b\":x@y.example\nEND:VCARD\n");
        assert_eq!(names(&p), vec![("X", vec!["x@y.example"], 1)]);
    }

    #[test]
    fn hundred_thousand_cards() {
        let mut s = String::new();
        for i in 0..100_000 {
            s.push_str(&format!(
                "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:C {i}\r\nEMAIL:c{i}@example.net\r\nEND:VCARD\r\n"
            ));
        }
        let p = parse_vcard(s.as_bytes());
        assert_eq!(p.contacts.len(), 100_000);
        assert_eq!(p.contacts[99_999].line, 99_999 * 5 + 1);
    }
}
