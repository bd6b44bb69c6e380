//! `* GENURLAUTH` and `* URLFETCH` (RFC 4467 9).

use super::encode::{write_literal, write_nstring, write_string};
use super::{Data, EncodeOptions};

/// `* GENURLAUTH url ...`: the authorized URLs, in the order asked.
pub fn genurlauth(urls: &[String], opts: &EncodeOptions) -> Data {
    let mut out = b"GENURLAUTH".to_vec();
    for u in urls {
        out.push(b' ');
        write_string(&mut out, u.as_bytes(), opts);
    }
    Data::Raw(out)
}

/// `* URLFETCH url data`: `None` is NIL (not authorized, or nothing there).
pub fn urlfetch(url: &str, data: Option<&[u8]>, opts: &EncodeOptions) -> Data {
    let mut out = Vec::with_capacity(url.len() + 32 + data.map_or(0, <[u8]>::len));
    out.extend_from_slice(b"URLFETCH ");
    write_string(&mut out, url.as_bytes(), opts);
    out.push(b' ');
    write_nstring(&mut out, data, opts);
    Data::Raw(out)
}

/// What an extended URLFETCH (RFC 5524 4) returns for one URL it serves.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UrlFetchExt<'a> {
    /// `BODYPARTSTRUCTURE`: a body structure as BODYSTRUCTURE writes it, parentheses
    /// included.
    pub body_part_structure: Option<&'a [u8]>,
    /// `BINARY data`: the inner `None` is NIL (the part cannot be decoded).
    pub binary: Option<Option<&'a [u8]>>,
    /// `BODY data`.
    pub body: Option<Option<&'a [u8]>>,
}

/// `* URLFETCH url (BODYPARTSTRUCTURE (...) BINARY data)`, or `* URLFETCH url NIL`
/// when `ext` is `None`. BINARY data holding NUL is sent as a literal8.
pub fn urlfetch_ext(url: &str, ext: Option<&UrlFetchExt<'_>>, opts: &EncodeOptions) -> Data {
    let Some(ext) = ext else {
        return urlfetch(url, None, opts);
    };
    let mut out = b"URLFETCH ".to_vec();
    write_string(&mut out, url.as_bytes(), opts);
    out.extend_from_slice(b" (");
    let mut first = true;
    let mut sep = |out: &mut Vec<u8>| {
        if !std::mem::take(&mut first) {
            out.push(b' ');
        }
    };
    if let Some(s) = ext.body_part_structure {
        sep(&mut out);
        out.extend_from_slice(b"BODYPARTSTRUCTURE ");
        out.extend_from_slice(s);
    }
    if let Some(b) = ext.binary {
        sep(&mut out);
        out.extend_from_slice(b"BINARY ");
        match b {
            Some(b) => write_literal(&mut out, b),
            None => out.extend_from_slice(b"NIL"),
        }
    }
    if let Some(b) = ext.body {
        sep(&mut out);
        out.extend_from_slice(b"BODY ");
        write_nstring(&mut out, b, opts);
    }
    out.push(b')');
    Data::Raw(out)
}
