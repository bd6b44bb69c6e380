//! The MIME tree walked on the raw bytes: BODYSTRUCTURE with exact offsets,
//! and the decoded text of text/plain and text/html parts.

use super::{
    BodyStructure, Field, MAX_DEPTH, MAX_PARTS, envelope, field, header_len, parse_fields, text,
};

pub(crate) struct Walker<'a> {
    raw: &'a [u8],
    parts: usize,
    text: String,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn opt(value: Option<&[u8]>) -> Option<String> {
    value.map(text::unfold).filter(|s| !s.is_empty())
}

impl<'a> Walker<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        Walker {
            raw,
            parts: 0,
            text: String::new(),
        }
    }

    pub fn into_text(self) -> String {
        self.text
    }

    fn push_text(&mut self, text: &str) {
        if !text.is_empty() {
            if !self.text.is_empty() {
                self.text.push('\n');
            }
            self.text.push_str(text);
        }
    }

    /// Parses the entity (MIME header + body) at `raw[start..end]`.
    /// `digest` makes the default type message/rfc822 (multipart/digest
    /// children). Returns the structure and the entity's header fields.
    pub fn entity(
        &mut self,
        start: usize,
        end: usize,
        depth: usize,
        digest: bool,
    ) -> (BodyStructure, Vec<Field<'a>>) {
        let raw: &'a [u8] = self.raw;
        let end = end.min(raw.len());
        let start = start.min(end);
        self.parts += 1;
        let hlen = header_len(&raw[start..end]);
        let fields = parse_fields(&raw[start..start + hlen]);
        let body_start = start + hlen;
        let body = &raw[body_start..end];

        let ct = field(&fields, "content-type").and_then(|v| text::parse_mime_value(v, true));
        let (mut media_type, mut media_subtype, mut params) = match ct {
            Some((t, st, p)) => (t, st.unwrap_or_default(), p),
            None if digest => ("message".into(), "rfc822".into(), Vec::new()),
            None => ("text".into(), "plain".into(), Vec::new()),
        };
        let encoding = opt(field(&fields, "content-transfer-encoding"))
            .and_then(|e| e.split([' ', '\t', '(']).next().map(str::to_owned))
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| "7BIT".into());
        let disposition = field(&fields, "content-disposition")
            .and_then(|v| text::parse_mime_value(v, false))
            .map(|(d, _, p)| (d, p));
        let mut bs = BodyStructure {
            id: opt(field(&fields, "content-id")),
            description: opt(field(&fields, "content-description")),
            md5: opt(field(&fields, "content-md5")),
            disposition,
            language: field(&fields, "content-language")
                .map(text::parse_language)
                .unwrap_or_default(),
            location: opt(field(&fields, "content-location"))
                .map(|l| l.split_whitespace().collect::<String>()),
            size: body.len() as u64,
            part_offset: start as u64,
            part_header_size: hlen as u64,
            part_body_size: body.len() as u64,
            ..BodyStructure::default()
        };

        let too_deep = depth >= MAX_DEPTH || self.parts >= MAX_PARTS;
        let opaque = |t: &mut String, st: &mut String| {
            *t = "application".into();
            *st = "octet-stream".into();
        };
        if eq(&media_type, "multipart") {
            let boundary = params
                .iter()
                .find(|(k, _)| eq(k, "boundary"))
                .map(|(_, v)| v.clone())
                .filter(|b| !b.is_empty());
            match boundary {
                Some(_) if too_deep => opaque(&mut media_type, &mut media_subtype),
                Some(b) => {
                    let digest = eq(&media_subtype, "digest");
                    for (s, e) in split_multipart(raw, body_start, end, b.as_bytes()) {
                        if self.parts >= MAX_PARTS {
                            break;
                        }
                        bs.parts.push(self.entity(s, e, depth + 1, digest).0);
                    }
                    if bs.parts.is_empty() {
                        bs.parts.push(empty_text(end));
                    }
                }
                None => {
                    // RFC 2045 5.2: an invalid Content-Type means text/plain.
                    media_type = "text".into();
                    media_subtype = "plain".into();
                    params = vec![("charset".into(), "us-ascii".into())];
                }
            }
        } else if eq(&media_type, "message")
            && (eq(&media_subtype, "rfc822") || eq(&media_subtype, "global"))
        {
            let identity = ["7bit", "8bit", "binary"].iter().any(|e| eq(&encoding, e));
            if identity && !too_deep {
                let (inner, inner_fields) = self.entity(body_start, end, depth + 1, false);
                bs.message = Some(Box::new((envelope(&inner_fields), inner)));
                bs.lines = Some(text::count_lines(body));
            } else {
                opaque(&mut media_type, &mut media_subtype);
                if !too_deep {
                    // Not parseable in place, but its text is still searchable.
                    let decoded = text::decode_transfer(body, &encoding);
                    let mut inner = Walker::new(&decoded);
                    inner.parts = self.parts;
                    inner.entity(0, decoded.len(), depth + 1, false);
                    self.parts = inner.parts;
                    self.push_text(&inner.text);
                }
            }
        }

        if eq(&media_type, "text") {
            bs.lines = Some(text::count_lines(body));
            if !params.iter().any(|(k, _)| eq(k, "charset")) {
                params.push(("charset".into(), "us-ascii".into()));
            }
            if eq(&media_subtype, "plain") || eq(&media_subtype, "html") {
                let charset = params
                    .iter()
                    .find(|(k, _)| eq(k, "charset"))
                    .map(|(_, v)| v.as_str());
                let decoded = text::to_utf8(&text::decode_transfer(body, &encoding), charset);
                let decoded = if eq(&media_subtype, "html") {
                    text::html_to_text(&decoded)
                } else {
                    decoded
                };
                self.push_text(&decoded);
            }
        }
        bs.media_type = media_type;
        bs.media_subtype = media_subtype;
        bs.params = params;
        bs.encoding = encoding;
        (bs, fields)
    }
}

/// The empty text/plain part given to a multipart with no delimiter.
fn empty_text(at: usize) -> BodyStructure {
    BodyStructure {
        media_type: "text".into(),
        media_subtype: "plain".into(),
        params: vec![("charset".into(), "us-ascii".into())],
        encoding: "7BIT".into(),
        lines: Some(0),
        part_offset: at as u64,
        ..BodyStructure::default()
    }
}

/// The (start, end) ranges of the body parts of a multipart body
/// `raw[start..end]` with `boundary`. A part ends before the line break that
/// precedes the next delimiter; an unterminated last part runs to `end`.
fn split_multipart(raw: &[u8], start: usize, end: usize, boundary: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut open: Option<usize> = None; // start of the current part
    let mut pos = start;
    while pos < end {
        let rest = &raw[pos..end];
        let nl = text::find_byte(rest, b'\n');
        let next = nl.map_or(end, |n| pos + n + 1);
        let line = &rest[..nl.unwrap_or(rest.len())];
        let kind = line
            .strip_prefix(b"--")
            .and_then(|l| l.strip_prefix(boundary))
            .and_then(|tail| {
                if tail.starts_with(b"--") {
                    Some(true)
                } else if tail.iter().all(|&b| matches!(b, b' ' | b'\t' | b'\r')) {
                    Some(false)
                } else {
                    None
                }
            });
        if let Some(close) = kind {
            if let Some(s) = open.take() {
                let mut e = pos;
                if e > s && raw[e - 1] == b'\n' {
                    e -= 1;
                    if e > s && raw[e - 1] == b'\r' {
                        e -= 1;
                    }
                }
                ranges.push((s, e));
            }
            if close {
                return ranges;
            }
            open = Some(next);
            if ranges.len() >= MAX_PARTS {
                return ranges;
            }
        }
        pos = next;
    }
    if let Some(s) = open {
        ranges.push((s.min(end), end));
    }
    ranges
}
