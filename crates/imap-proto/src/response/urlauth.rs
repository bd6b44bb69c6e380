//! `* GENURLAUTH` and `* URLFETCH` (RFC 4467 9).

use super::encode::{write_nstring, write_string};
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
