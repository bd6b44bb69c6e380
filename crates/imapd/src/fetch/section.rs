//! BODY[section]<partial> (RFC 3501 6.4.5): finds the bytes a section names
//! with the offsets the store's body structure recorded at delivery.

use store::summary::BodyStructure;

pub use imap_proto::{Section, SectionText};

/// A byte range of the raw message.
type Range = (usize, usize);

/// Where the node lies: header start, header end (= body start), body end.
struct Node<'a> {
    bs: &'a BodyStructure,
    /// The node is a message (the root, or a message/rfc822 body) rather than a part.
    message: bool,
}

fn is_message(bs: &BodyStructure) -> bool {
    bs.message.is_some()
}

fn header(bs: &BodyStructure) -> Range {
    let start = bs.part_offset as usize;
    (start, start + bs.part_header_size as usize)
}

fn body(bs: &BodyStructure) -> Range {
    let start = (bs.part_offset + bs.part_header_size) as usize;
    (start, start + bs.part_body_size as usize)
}

/// Walks the part numbers; None when they name no part.
fn locate<'a>(root: &'a BodyStructure, parts: &[u32]) -> Option<Node<'a>> {
    let mut node = Node {
        bs: root,
        message: true,
    };
    for &n in parts {
        let idx = (n as usize).checked_sub(1)?;
        // Part numbers inside a message/rfc822 part address the encapsulated message.
        let inner: &BodyStructure = match (&node.bs.message, node.message) {
            (Some(m), false) => &m.1,
            _ => node.bs,
        };
        let within_message = node.message || node.bs.message.is_some();
        if !inner.parts.is_empty() {
            node = Node {
                bs: inner.parts.get(idx)?,
                message: false,
            };
        } else if idx == 0 && within_message {
            // Part 1 of a message that is not multipart is its body.
            node = Node {
                bs: inner,
                message: false,
            };
        } else {
            return None;
        }
    }
    Some(node)
}

/// The bytes of `section` in `raw`, or None when the section names nothing
/// (answered with an empty string, as other servers do).
pub fn extract(raw: &[u8], root: &BodyStructure, section: &Section) -> Option<Vec<u8>> {
    let node = locate(root, &section.part)?;
    let slice = |(a, b): Range| {
        raw.get(a.min(raw.len())..b.min(raw.len()))
            .map(<[u8]>::to_vec)
    };
    // HEADER and TEXT apply to a message: the root or a message/rfc822 part.
    let message_root = || -> Option<&BodyStructure> {
        if section.part.is_empty() {
            Some(root)
        } else if is_message(node.bs) && !node.message {
            node.bs.message.as_ref().map(|m| &m.1)
        } else {
            None
        }
    };
    match &section.text {
        None if section.part.is_empty() => Some(raw.to_vec()),
        None => slice(body(node.bs)),
        Some(SectionText::Mime) => {
            if section.part.is_empty() {
                return None;
            }
            slice(header(node.bs))
        }
        Some(SectionText::Header) => slice(header(message_root()?)),
        Some(SectionText::Text) => slice(body(message_root()?)),
        Some(SectionText::HeaderFields(fields)) => {
            let h = slice(header(message_root()?))?;
            Some(filter_fields(&h, fields, false))
        }
        Some(SectionText::HeaderFieldsNot(fields)) => {
            let h = slice(header(message_root()?))?;
            Some(filter_fields(&h, fields, true))
        }
    }
}

/// The header lines (with their continuations) whose names are in `fields`
/// (or not in them), then the blank line.
pub fn filter_fields(header: &[u8], fields: &[String], not: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut keep = false;
    let mut pos = 0;
    while pos < header.len() {
        let end = header[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(header.len(), |i| pos + i + 1);
        let line = &header[pos..end];
        pos = end;
        if line == b"\r\n" || line == b"\n" {
            break;
        }
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if keep {
                out.extend_from_slice(line);
            }
            continue;
        }
        let name = line
            .iter()
            .position(|&b| b == b':')
            .map_or(&line[..0], |c| &line[..c]);
        let name = String::from_utf8_lossy(name);
        let name = name.trim_end();
        let listed = fields.iter().any(|f| f.eq_ignore_ascii_case(name));
        keep = !name.is_empty() && listed != not;
        if keep {
            out.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                out.extend_from_slice(b"\r\n");
            }
        }
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Where a section lies in the raw message, for sections that are one run of
/// bytes (all but HEADER.FIELDS and HEADER.FIELDS.NOT); None when it names nothing.
/// IMAP URLs name sections this way (RFC 5092 5).
pub fn range(root: &BodyStructure, section: &Section) -> Option<Range> {
    let node = locate(root, &section.part)?;
    let message_root = || -> Option<&BodyStructure> {
        if section.part.is_empty() {
            Some(root)
        } else if is_message(node.bs) && !node.message {
            node.bs.message.as_ref().map(|m| &m.1)
        } else {
            None
        }
    };
    match &section.text {
        None if section.part.is_empty() => {
            let (_, end) = body(root);
            Some((root.part_offset as usize, end))
        }
        None => Some(body(node.bs)),
        Some(SectionText::Mime) if !section.part.is_empty() => Some(header(node.bs)),
        Some(SectionText::Header) => Some(header(message_root()?)),
        Some(SectionText::Text) => Some(body(message_root()?)),
        _ => None,
    }
}

/// `<start.count>` applied to the section's bytes (RFC 3501 6.4.5).
pub fn partial(data: &[u8], start: u32, count: Option<u32>) -> &[u8] {
    let start = (start as usize).min(data.len());
    let end = match count {
        Some(c) => start.saturating_add(c as usize).min(data.len()),
        None => data.len(),
    };
    &data[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::summary::summarize;

    const NESTED: &[u8] = b"From: a@b.example\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n\
--x\r\nContent-Type: text/plain\r\n\r\nfirst\r\n\
--x\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: multipart/alternative; boundary=y\r\n\r\n\
--y\r\n\r\ninner one\r\n--y\r\nContent-Type: text/html\r\n\r\n<b>two</b>\r\n--y--\r\n\
\r\n--x--\r\n";

    fn get(raw: &[u8], parts: &[u32], text: Option<SectionText>) -> Option<String> {
        let s = summarize(raw);
        let section = Section {
            part: parts.to_vec(),
            text,
        };
        extract(raw, &s.body, &section).map(|v| String::from_utf8_lossy(&v).into_owned())
    }

    #[test]
    fn sections_of_a_nested_message() {
        use SectionText::*;
        let full: Option<SectionText> = None;
        assert_eq!(get(NESTED, &[1], full.clone()).as_deref(), Some("first"));
        assert_eq!(
            get(NESTED, &[1], Some(Mime)).as_deref(),
            Some("Content-Type: text/plain\r\n\r\n")
        );
        assert_eq!(
            get(NESTED, &[2], Some(Header))
                .as_deref()
                .map(|h| h.starts_with("Subject: inner")),
            Some(true)
        );
        assert_eq!(
            get(NESTED, &[2, 1], full.clone()).as_deref(),
            Some("inner one")
        );
        assert_eq!(
            get(NESTED, &[2, 2], full.clone()).as_deref(),
            Some("<b>two</b>")
        );
        assert_eq!(get(NESTED, &[3], full.clone()), None);
        assert_eq!(get(NESTED, &[1, 1], full.clone()), None);
        assert_eq!(get(NESTED, &[1], Some(Header)), None);
        assert_eq!(
            get(NESTED, &[], Some(HeaderFields(vec!["subject".into()]))).as_deref(),
            Some("Subject: outer\r\n\r\n")
        );
        assert_eq!(
            get(
                NESTED,
                &[],
                Some(HeaderFieldsNot(vec![
                    "subject".into(),
                    "content-type".into()
                ]))
            )
            .as_deref(),
            Some("From: a@b.example\r\n\r\n")
        );
    }

    #[test]
    fn part_one_of_a_plain_message_is_its_body() {
        let raw = b"Subject: s\r\n\r\nbody\r\n";
        assert_eq!(get(raw, &[1], None).as_deref(), Some("body\r\n"));
        assert_eq!(
            get(raw, &[], Some(SectionText::Text)).as_deref(),
            Some("body\r\n")
        );
        assert_eq!(
            get(raw, &[], Some(SectionText::Header)).as_deref(),
            Some("Subject: s\r\n\r\n")
        );
        assert_eq!(get(raw, &[2], None), None);
    }

    #[test]
    fn partials_clamp() {
        assert_eq!(partial(b"abcdef", 2, Some(3)), b"cde");
        assert_eq!(partial(b"abcdef", 4, Some(30)), b"ef");
        assert_eq!(partial(b"abcdef", 40, Some(3)), b"");
        assert_eq!(partial(b"abcdef", 1, None), b"bcdef");
    }
}
