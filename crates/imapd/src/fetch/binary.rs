//! BINARY[part] (RFC 3516): a section with its content-transfer-encoding removed,
//! and the re-encoding of binary parts of an APPENDed literal8 so that BODY[] and
//! BODYSTRUCTURE stay within what IMAP4rev1 can describe (RFC 3516 4.4, 6).

use store::summary::BodyStructure;

/// Why a section cannot be decoded: both are answered `NO [UNKNOWN-CTE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CteError {
    /// A content-transfer-encoding this server does not know (RFC 3516 4.3).
    Unknown(String),
    /// The data is not valid in its declared encoding.
    Malformed(&'static str),
}

impl std::fmt::Display for CteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CteError::Unknown(e) => write!(f, "Unknown content-transfer-encoding {e}"),
            CteError::Malformed(e) => write!(f, "Invalid {e} data in MIME part"),
        }
    }
}

/// The node `part` names: the body structure and the raw bytes of its body, or None
/// when no such part exists. An empty `part` is the whole message.
pub struct Located<'a> {
    pub bs: &'a BodyStructure,
    pub body: &'a [u8],
    /// The whole message (`[]`): header and body, never decoded.
    pub whole: bool,
}

/// Walks the part numbers as BODY[part] does (RFC 3501 6.4.5).
pub fn locate<'a>(raw: &'a [u8], root: &'a BodyStructure, part: &[u32]) -> Option<Located<'a>> {
    if part.is_empty() {
        return Some(Located {
            bs: root,
            body: raw,
            whole: true,
        });
    }
    let mut node = root;
    let mut is_message = true;
    for &n in part {
        let idx = (n as usize).checked_sub(1)?;
        let inner: &BodyStructure = match (&node.message, is_message) {
            (Some(m), false) => &m.1,
            _ => node,
        };
        let within_message = is_message || node.message.is_some();
        if !inner.parts.is_empty() {
            node = inner.parts.get(idx)?;
        } else if idx == 0 && within_message {
            node = inner;
        } else {
            return None;
        }
        is_message = false;
    }
    let start = (node.part_offset + node.part_header_size) as usize;
    let end = start.saturating_add(node.part_body_size as usize);
    let body = raw.get(start.min(raw.len())..end.min(raw.len()))?;
    Some(Located {
        bs: node,
        body,
        whole: false,
    })
}

/// The section's content with its transfer encoding removed. Multipart and message
/// bodies are never encoded (RFC 2045 6.4) and come back as stored.
pub fn decode_section(loc: &Located<'_>) -> Result<Vec<u8>, CteError> {
    if loc.whole {
        return Ok(loc.body.to_vec());
    }
    decode(loc.body, &loc.bs.encoding)
}

/// Removes the content-transfer-encoding `cte` from `body`.
pub fn decode(body: &[u8], cte: &str) -> Result<Vec<u8>, CteError> {
    match cte.trim().to_ascii_lowercase().as_str() {
        "" | "7bit" | "8bit" | "binary" => Ok(body.to_vec()),
        "base64" => decode_base64(body),
        "quoted-printable" => Ok(decode_qp(body)),
        other => Err(CteError::Unknown(other.chars().take(40).collect())),
    }
}

fn b64_value(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    })
}

/// Base64 (RFC 2045 6.8) with line breaks and other white space ignored; padding may
/// be missing, but anything else outside the alphabet, or data after the padding, is
/// malformed.
pub fn decode_base64(input: &[u8]) -> Result<Vec<u8>, CteError> {
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut n = 0u8;
    let mut padded = false;
    for &b in input {
        if b.is_ascii_whitespace() {
            continue;
        }
        if b == b'=' {
            padded = true;
            continue;
        }
        let Some(v) = b64_value(b) else {
            return Err(CteError::Malformed("base64"));
        };
        if padded {
            return Err(CteError::Malformed("base64"));
        }
        acc = (acc << 6) | v as u32;
        n += 1;
        if n == 4 {
            out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]);
            acc = 0;
            n = 0;
        }
    }
    match n {
        0 => {}
        2 => out.push((acc >> 4) as u8),
        3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
        _ => return Err(CteError::Malformed("base64")),
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Quoted-printable (RFC 2045 6.7): `=XX` escapes, soft line breaks (`=` then optional
/// white space at the end of a line), and trailing white space dropped as transport
/// padding. An `=` not followed by two hex digits is kept as it is (6.7 note 1).
pub fn decode_qp(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    for line in input.split_inclusive(|&b| b == b'\n') {
        let (content, eol): (&[u8], &[u8]) = if let Some(c) = line.strip_suffix(b"\r\n") {
            (c, b"\r\n")
        } else if let Some(c) = line.strip_suffix(b"\n") {
            (c, b"\r\n")
        } else {
            (line, b"")
        };
        let mut end = content.len();
        while end > 0 && matches!(content[end - 1], b' ' | b'\t') {
            end -= 1;
        }
        let content = &content[..end];
        let soft = content.last() == Some(&b'=');
        let content = if soft {
            &content[..content.len() - 1]
        } else {
            content
        };
        let mut j = 0;
        while j < content.len() {
            let b = content[j];
            if b == b'='
                && let (Some(h), Some(l)) = (
                    content.get(j + 1).copied().and_then(hex),
                    content.get(j + 2).copied().and_then(hex),
                )
            {
                out.push(h << 4 | l);
                j += 3;
                continue;
            }
            out.push(b);
            j += 1;
        }
        if !soft {
            out.extend_from_slice(eol);
        }
    }
    out
}

/// Base64 with CRLF every 76 characters (RFC 2045 6.8).
pub fn encode_base64(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(text.len() + text.len() / 38 + 2);
    for chunk in text.as_bytes().chunks(76) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Leaf parts sent as `binary`, or holding NUL, in a message APPENDed as literal8:
/// each is re-encoded as base64 with its Content-Transfer-Encoding header changed,
/// which RFC 3516 4.4 allows ("MUST NOT result in a loss of data") and section 6
/// requires of BODY[] and BODYSTRUCTURE. BINARY[part] still returns the bytes as sent.
pub fn encode_binary_parts(raw: Vec<u8>) -> Vec<u8> {
    let summary = store::summary::summarize(&raw);
    let mut leaves = Vec::new();
    collect_binary_leaves(&raw, &summary.body, &mut leaves);
    if leaves.is_empty() {
        return raw;
    }
    // Rewrite from the end so earlier offsets stay valid.
    leaves.sort_by_key(|l| std::cmp::Reverse(l.0));
    let mut out = raw;
    for (header_start, header_end, body_end) in leaves {
        if body_end > out.len() || header_end > body_end || header_start > header_end {
            continue;
        }
        let body = encode_base64(&out[header_end..body_end]);
        let header = set_cte(&out[header_start..header_end], "base64");
        let mut next = Vec::with_capacity(out.len() + body.len());
        next.extend_from_slice(&out[..header_start]);
        next.extend_from_slice(&header);
        next.extend_from_slice(&body);
        // The CRLF that ends the base64 belongs to the body; the delimiter's own CRLF
        // follows as before.
        let rest = &out[body_end..];
        if rest.starts_with(b"\r\n") && next.ends_with(b"\r\n") {
            next.truncate(next.len() - 2);
        }
        next.extend_from_slice(rest);
        out = next;
    }
    out
}

fn collect_binary_leaves(raw: &[u8], bs: &BodyStructure, out: &mut Vec<(usize, usize, usize)>) {
    for p in &bs.parts {
        collect_binary_leaves(raw, p, out);
    }
    if let Some(m) = &bs.message {
        collect_binary_leaves(raw, &m.1, out);
        return;
    }
    if !bs.parts.is_empty() {
        return;
    }
    let header_start = bs.part_offset as usize;
    let header_end = header_start + bs.part_header_size as usize;
    let body_end = header_end + bs.part_body_size as usize;
    let cte = bs.encoding.trim().to_ascii_lowercase();
    let body = raw.get(header_end.min(raw.len())..body_end.min(raw.len()));
    let has_nul = body.is_some_and(|b| b.contains(&0));
    if cte == "binary" || (has_nul && matches!(cte.as_str(), "" | "7bit" | "8bit")) {
        out.push((header_start, header_end, body_end));
    }
}

/// The header with every Content-Transfer-Encoding field replaced by one saying
/// `cte` (added before the blank line when there was none).
fn set_cte(header: &[u8], cte: &str) -> Vec<u8> {
    let field = format!("Content-Transfer-Encoding: {cte}\r\n");
    let mut out = Vec::with_capacity(header.len() + 40);
    let mut skipping = false;
    let mut added = false;
    let mut lines = header.split_inclusive(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let is_last_blank = (line == b"\r\n" || line == b"\n") && lines.peek().is_none();
        if matches!(line.first(), Some(b' ' | b'\t')) && skipping {
            continue;
        }
        skipping = false;
        if is_last_blank {
            if !added {
                out.extend_from_slice(field.as_bytes());
            }
            out.extend_from_slice(line);
            return out;
        }
        let is_cte = line.iter().position(|&b| b == b':').is_some_and(|c| {
            line[..c]
                .trim_ascii()
                .eq_ignore_ascii_case(b"content-transfer-encoding")
        });
        if is_cte {
            skipping = true;
            if !added {
                out.extend_from_slice(field.as_bytes());
                added = true;
            }
            continue;
        }
        out.extend_from_slice(line);
    }
    // A header without its blank line (a message with no body).
    if !added {
        if !out.is_empty() && !out.ends_with(b"\n") {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(field.as_bytes());
    }
    out
}

/// A part with the transfer encoding of every leaf inside it removed (RFC 5524 3:
/// BINARY of a message or multipart part), with its structure describing the
/// decoded data: the sizes and line counts change, the rest is as stored.
pub struct DecodedTree {
    pub data: Vec<u8>,
    pub structure: BodyStructure,
}

/// BINARY of the part `loc` names, decoded all the way down.
pub fn decode_tree(raw: &[u8], loc: &Located<'_>) -> Result<DecodedTree, CteError> {
    if loc.whole {
        let (data, structure) = decode_entity(raw, loc.bs, 0)?;
        return Ok(DecodedTree { data, structure });
    }
    let (data, structure) = decode_body(raw, loc.bs, 0)?;
    Ok(DecodedTree { data, structure })
}

/// Deeper than this the parts are refused rather than walked.
const MAX_TREE_DEPTH: usize = 64;

fn span(raw: &[u8], start: u64, len: u64) -> Result<(usize, usize), CteError> {
    let start = usize::try_from(start).map_err(|_| CteError::Malformed("MIME"))?;
    let len = usize::try_from(len).map_err(|_| CteError::Malformed("MIME"))?;
    let end = start.saturating_add(len);
    if end > raw.len() {
        return Err(CteError::Malformed("MIME"));
    }
    Ok((start, end))
}

/// Header and body of `node`, its leaves decoded and their headers saying `binary`.
fn decode_entity(
    raw: &[u8],
    node: &BodyStructure,
    depth: usize,
) -> Result<(Vec<u8>, BodyStructure), CteError> {
    let (start, end) = span(raw, node.part_offset, node.part_header_size)?;
    let header = &raw[start..end];
    let (body, bs) = decode_body(raw, node, depth)?;
    let leaf = node.parts.is_empty() && node.message.is_none();
    let encoded = matches!(
        node.encoding.trim().to_ascii_lowercase().as_str(),
        "base64" | "quoted-printable"
    );
    let mut out = if leaf && encoded {
        set_cte(header, "binary")
    } else {
        header.to_vec()
    };
    out.extend_from_slice(&body);
    Ok((out, bs))
}

/// The body of `node` decoded: a leaf's transfer encoding removed, a message's or
/// multipart's inner parts decoded in place between the bytes that frame them.
fn decode_body(
    raw: &[u8],
    node: &BodyStructure,
    depth: usize,
) -> Result<(Vec<u8>, BodyStructure), CteError> {
    if depth > MAX_TREE_DEPTH {
        return Err(CteError::Malformed("MIME"));
    }
    let (start, end) = span(
        raw,
        node.part_offset + node.part_header_size,
        node.part_body_size,
    )?;
    let mut bs = node.clone();
    let data = if let Some(m) = &node.message {
        let (inner, inner_bs) = splice(raw, start, end, std::slice::from_ref(&m.1), depth)?;
        bs.message = Some(Box::new((
            m.0.clone(),
            inner_bs.into_iter().next().unwrap_or_default(),
        )));
        inner
    } else if !node.parts.is_empty() {
        let (inner, parts) = splice(raw, start, end, &node.parts, depth)?;
        bs.parts = parts;
        inner
    } else {
        decode(&raw[start..end], &node.encoding)?
    };
    bs.size = data.len() as u64;
    if bs.lines.is_some() {
        bs.lines = Some(data.iter().filter(|&&b| b == b'\n').count() as u64);
    }
    Ok((data, bs))
}

/// `raw[start..end]` with each child's bytes replaced by its decoded form.
fn splice(
    raw: &[u8],
    start: usize,
    end: usize,
    children: &[BodyStructure],
    depth: usize,
) -> Result<(Vec<u8>, Vec<BodyStructure>), CteError> {
    let mut out = Vec::with_capacity(end - start);
    let mut structures = Vec::with_capacity(children.len());
    let mut at = start;
    for child in children {
        let (c_start, c_end) = span(
            raw,
            child.part_offset,
            child.part_header_size.saturating_add(child.part_body_size),
        )?;
        if c_start < at || c_end > end {
            return Err(CteError::Malformed("MIME"));
        }
        out.extend_from_slice(&raw[at..c_start]);
        let (data, bs) = decode_entity(raw, child, depth + 1)?;
        out.extend_from_slice(&data);
        structures.push(bs);
        at = c_end;
    }
    out.extend_from_slice(&raw[at..end]);
    Ok((out, structures))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_tolerates_white_space_and_missing_padding() {
        assert_eq!(
            decode_base64(b"aGVs\r\nbG8gd29y\r\nbGQ=\r\n").unwrap(),
            b"hello world"
        );
        assert_eq!(
            decode_base64(b"  aGVs    \r\n bG8g  \r\n\tbGQ= \r\n").unwrap(),
            b"hello ld"
        );
        assert_eq!(decode_base64(b"aGk").unwrap(), b"hi");
        assert_eq!(decode_base64(b"").unwrap(), b"");
    }

    #[test]
    fn malformed_base64_is_an_error() {
        for bad in [&b"aGVs*G8="[..], b"aGk=x", b"a", b"aGVsb", b"\xff\xfe"] {
            assert_eq!(
                decode_base64(bad),
                Err(CteError::Malformed("base64")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn quoted_printable_soft_breaks_and_padding() {
        let input =
            b"hello  \r\nbar=\r\n\r\nfoo\t=\r\nbar\r\nfoo\t \t= \r\n=62\r\nfoo = \t\r\nbar\r\n";
        assert_eq!(
            decode_qp(input),
            b"hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\n"
        );
        // Broken escapes stay as they are.
        assert_eq!(decode_qp(b"a=ZZb=4"), b"a=ZZb=4");
        assert_eq!(decode_qp(b"caf=C3=a9"), "café".as_bytes());
    }

    #[test]
    fn unknown_encodings_are_refused() {
        assert_eq!(
            decode(b"x", "x-uuencode"),
            Err(CteError::Unknown("x-uuencode".into()))
        );
        assert_eq!(decode(b"x\0", "BINARY").unwrap(), b"x\0");
    }

    #[test]
    fn binary_parts_are_stored_as_base64() {
        let raw = b"Subject: b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\0-\xe4\n\r\n\n".to_vec();
        let stored = encode_binary_parts(raw);
        let s = store::summary::summarize(&stored);
        assert_eq!(s.body.encoding.to_ascii_lowercase(), "base64");
        let loc = locate(&stored, &s.body, &[1]).unwrap();
        assert_eq!(decode_section(&loc).unwrap(), b"\0-\xe4\n\r\n\n");
        assert!(!stored.contains(&0));

        let multi = b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/x\r\n\r\n\0\x01\x02\r\n--b--\r\n".to_vec();
        let stored = encode_binary_parts(multi);
        let s = store::summary::summarize(&stored);
        let loc = locate(&stored, &s.body, &[2]).unwrap();
        assert_eq!(loc.bs.encoding.to_ascii_lowercase(), "base64");
        assert_eq!(decode_section(&loc).unwrap(), b"\0\x01\x02");
        let loc = locate(&stored, &s.body, &[1]).unwrap();
        assert_eq!(decode_section(&loc).unwrap(), b"hi");
    }

    const NESTED: &[u8] = b"Content-Type: multipart/mixed; boundary=\"a\"\r\n\r\npre\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nSubject: in\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs\r\nbG8=\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=3Dy=\r\nz\r\n--b--\r\n\r\n--a--\r\npost\r\n";

    #[test]
    fn trees_decode_in_place_with_their_sizes() {
        let s = store::summary::summarize(NESTED);
        let loc = locate(NESTED, &s.body, &[1]).unwrap();
        let t = decode_tree(NESTED, &loc).unwrap();
        let want: &[u8] = b"Subject: in\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nx=yz\r\n--b--\r\n";
        assert_eq!(
            String::from_utf8_lossy(&t.data),
            String::from_utf8_lossy(want)
        );
        assert_eq!(t.structure.size, want.len() as u64);
        let inner = &t.structure.message.as_ref().unwrap().1;
        assert_eq!((inner.parts[0].size, inner.parts[0].lines), (5, Some(0)));
        assert_eq!((inner.parts[1].size, inner.parts[1].lines), (4, Some(0)));
        // A leaf is only decoded; the whole message keeps its frame.
        let leaf = locate(NESTED, &s.body, &[1, 1]).unwrap();
        assert_eq!(decode_tree(NESTED, &leaf).unwrap().data, b"hello");
        let whole = locate(NESTED, &s.body, &[]).unwrap();
        let w = decode_tree(NESTED, &whole).unwrap().data;
        assert!(w.starts_with(b"Content-Type: multipart/mixed"));
        assert!(w.ends_with(b"--a--\r\npost\r\n"));
    }

    #[test]
    fn hostile_trees_never_panic() {
        let mut inputs: Vec<Vec<u8>> = (0..NESTED.len()).map(|i| NESTED[..i].to_vec()).collect();
        for i in 0..NESTED.len() {
            for b in [0u8, b'\n', b'-', 0xff] {
                let mut m = NESTED.to_vec();
                m[i] = b;
                inputs.push(m);
            }
        }
        let mut deep = Vec::new();
        for _ in 0..200 {
            deep.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        inputs.push(deep);
        for raw in &inputs {
            let s = store::summary::summarize(raw);
            for part in [&[][..], &[1], &[1, 1], &[1, 2], &[2], &[1, 1, 1]] {
                if let Some(loc) = locate(raw, &s.body, part) {
                    let _ = decode_tree(raw, &loc);
                }
            }
            // Structures that do not fit the bytes are refused, not trusted.
            let short = &raw[..raw.len() / 2];
            if let Some(loc) = locate(raw, &s.body, &[1]) {
                let _ = decode_tree(short, &loc);
            }
        }
    }
}
