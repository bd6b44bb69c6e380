//! CSV with a header row (RFC 4180), as address books export it: Outlook,
//! Google and Thunderbird column names, quoted fields across lines, ',' or ';'.

use super::{ContactRecord, ImportError, ParsedContacts, normalize_email, push_email, text};

/// One record: its fields and the physical line it starts on.
struct Record {
    line: usize,
    fields: Vec<String>,
}

/// RFC 4180 records; quoted fields may hold separators, doubled quotes and newlines.
fn records(input: &str, sep: char) -> (Vec<Record>, Vec<ImportError>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut fields = vec![String::new()];
    let mut line = 1;
    let mut start = 1;
    let mut quoted = false;
    let mut after_quote = false;
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    push(&mut fields, '"');
                }
                '"' => {
                    quoted = false;
                    after_quote = true;
                }
                '\n' => {
                    line += 1;
                    push(&mut fields, '\n');
                }
                _ => push(&mut fields, c),
            }
            continue;
        }
        match c {
            '"' if fields.last().is_some_and(|f| f.trim().is_empty()) && !after_quote => {
                if let Some(f) = fields.last_mut() {
                    f.clear();
                }
                quoted = true;
            }
            c if c == sep => {
                fields.push(String::new());
                after_quote = false;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    out.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                fields = vec![String::new()];
                line += 1;
                start = line;
                after_quote = false;
            }
            _ => push(&mut fields, c),
        }
    }
    if quoted {
        errors.push(ImportError {
            line: start,
            message: "a quoted field is not closed".into(),
        });
    } else if !(fields.len() == 1 && fields[0].trim().is_empty()) {
        out.push(Record {
            line: start,
            fields,
        });
    }
    (out, errors)
}

fn push(fields: &mut [String], c: char) {
    if let Some(f) = fields.last_mut() {
        f.push(c);
    }
}

/// What each column means.
#[derive(Default)]
struct Columns {
    name: Option<usize>,
    first: Option<usize>,
    last: Option<usize>,
    emails: Vec<usize>,
    note: Option<usize>,
}

fn columns(header: &[String]) -> Columns {
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().to_ascii_lowercase().replace(['-', '_'], " ");
        let h = h.split_whitespace().collect::<Vec<_>>().join(" ");
        match h.as_str() {
            "name" | "full name" | "display name" | "fn" => c.name = c.name.or(Some(i)),
            "first name" | "given name" => c.first = c.first.or(Some(i)),
            "last name" | "family name" | "surname" => c.last = c.last.or(Some(i)),
            "notes" | "note" => c.note = c.note.or(Some(i)),
            // Outlook's "E-mail Type" and "E-mail Display Name", Google's
            // "E-mail 1 - Type" describe an address; they are not one.
            _ if (h.contains("e mail") || h.contains("email"))
                && !(h.ends_with("type") || h.contains("display name") || h.contains("label")) =>
            {
                c.emails.push(i);
            }
            _ => {}
        }
    }
    c
}

pub fn parse_csv(data: &[u8]) -> ParsedContacts {
    let input = text(data);
    let first_line = input.lines().next().unwrap_or("");
    let sep = if first_line.matches(';').count() > first_line.matches(',').count() {
        ';'
    } else {
        ','
    };
    let (rows, errors) = records(&input, sep);
    let mut out = ParsedContacts {
        errors,
        ..ParsedContacts::default()
    };
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else {
        return out;
    };
    let cols = columns(&header.fields);
    if cols.emails.is_empty() {
        out.errors.insert(
            0,
            ImportError {
                line: header.line,
                message: "the header row has no email column".into(),
            },
        );
        return out;
    }
    let width = header.fields.len();
    for row in rows {
        if row.fields.len() != width {
            out.errors.push(ImportError {
                line: row.line,
                message: format!("{} fields where the header has {width}", row.fields.len()),
            });
            continue;
        }
        let get = |i: Option<usize>| {
            i.and_then(|i| row.fields.get(i))
                .map(|s| s.trim())
                .unwrap_or("")
        };
        let name = match get(cols.name) {
            "" => [get(cols.first), get(cols.last)]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            n => n.to_string(),
        };
        let mut emails = Vec::new();
        for &i in &cols.emails {
            // Google packs several addresses into one cell: "a@x ::: b@y".
            for value in get(Some(i))
                .split(":::")
                .map(str::trim)
                .filter(|v| !v.is_empty())
            {
                match normalize_email(value) {
                    Some(e) => push_email(&mut emails, e),
                    None => out.errors.push(ImportError {
                        line: row.line,
                        message: format!("{value:?} is not an email address"),
                    }),
                }
            }
        }
        if emails.is_empty() {
            if out.errors.last().is_none_or(|e| e.line != row.line) {
                out.skipped.push(ImportError {
                    line: row.line,
                    message: "row has no email address".into(),
                });
            }
            continue;
        }
        out.contacts.push(ContactRecord {
            name,
            emails,
            note: get(cols.note).to_string(),
            line: row.line,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(p: &ParsedContacts) -> Vec<(String, Vec<String>, usize)> {
        p.contacts
            .iter()
            .map(|c| (c.name.clone(), c.emails.clone(), c.line))
            .collect()
    }

    #[test]
    fn outlook_export_with_quotes_and_newlines() {
        let csv = "\u{feff}First Name,Last Name,E-mail Address,E-mail Type,E-mail 2 Address,Notes\r\n\
                   John,Doe,John@Example.com,SMTP,jd@home.example,\"Line one\r\nline two, with comma\"\r\n\
                   \"Jane \"\"JJ\"\"\",Roe,jane@example.com,SMTP,,\r\n";
        let p = parse_csv(csv.as_bytes());
        assert_eq!(
            summary(&p),
            vec![
                (
                    "John Doe".into(),
                    vec!["john@example.com".into(), "jd@home.example".into()],
                    2
                ),
                ("Jane \"JJ\" Roe".into(), vec!["jane@example.com".into()], 4),
            ]
        );
        assert_eq!(p.contacts[0].note, "Line one\r\nline two, with comma");
        assert!(p.errors.is_empty() && p.skipped.is_empty(), "{p:?}");
    }

    #[test]
    fn google_export_and_semicolons() {
        let csv = "Name,Given Name,E-mail 1 - Type,E-mail 1 - Value\nAnn,Ann,* Home,a@x.example ::: b@y.example\n";
        assert_eq!(
            summary(&parse_csv(csv.as_bytes())),
            vec![(
                "Ann".into(),
                vec!["a@x.example".into(), "b@y.example".into()],
                2
            )]
        );
        let p = parse_csv(b"Display Name;Primary Email\nBo;bo@z.example\n\n");
        assert_eq!(
            summary(&p),
            vec![("Bo".into(), vec!["bo@z.example".into()], 2)]
        );
    }

    #[test]
    fn problems_are_reported_with_lines() {
        let csv = "Name,Email\nA,a@x.example\nB\nC,not-an-address\nD,\n\"E,e@x.example\n";
        let p = parse_csv(csv.as_bytes());
        assert_eq!(
            summary(&p),
            vec![("A".into(), vec!["a@x.example".into()], 2)]
        );
        let errors: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(errors, vec![6, 3, 4]);
        assert_eq!(
            p.skipped.iter().map(|e| e.line).collect::<Vec<_>>(),
            vec![5]
        );
        let p = parse_csv(b"Name,Phone\nA,123\n");
        assert_eq!(
            p.errors,
            vec![ImportError {
                line: 1,
                message: "the header row has no email column".into()
            }]
        );
        assert!(p.contacts.is_empty());
    }

    #[test]
    fn never_panics_on_truncations_and_garbage() {
        let csv = "Name,Email\r\n\"a \"\"q\"\"\",a@b.example\r\n\"multi\nline\",c@d.example\r\n";
        for i in 0..=csv.len() {
            let _ = parse_csv(&csv.as_bytes()[..i]);
        }
        let mut seed = 3u64;
        for _ in 0..2000 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"Name,Email\r\n\";@.x\xff"[(seed >> 33) as usize % 18]
                })
                .collect();
            let _ = parse_csv(&bytes);
        }
        assert_eq!(parse_csv(b""), ParsedContacts::default());
    }
}
