//! Encoding primitives: atoms, quoted strings, literals, NIL, mailbox names. Public so
//! the server can pre-encode ENVELOPE and BODYSTRUCTURE for [`super::fetch::FetchValue::Raw`].

use super::EncodeOptions;
use crate::lexer::is_astring_char;
use crate::mailbox::MailboxName;

/// Longest string sent quoted; longer ones go out as literals.
const MAX_QUOTED: usize = 1024;

fn quotable(bytes: &[u8], opts: &EncodeOptions) -> bool {
    if bytes.len() > MAX_QUOTED || bytes.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n')) {
        return false;
    }
    if bytes.is_ascii() {
        return true;
    }
    // RFC 9051 / RFC 6855: 8-bit text may be quoted only as UTF-8 once UTF-8 is on.
    opts.utf8 && std::str::from_utf8(bytes).is_ok()
}

/// `{n}` CRLF bytes (or `~{n}` when the bytes hold NUL, RFC 3516).
pub fn write_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.contains(&0) {
        out.push(b'~');
    }
    out.extend_from_slice(format!("{{{}}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// A quoted string with `"` and `\` escaped; the caller checked it is quotable.
fn write_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// `string`: quoted when it can be, a literal otherwise.
pub fn write_string(out: &mut Vec<u8>, bytes: &[u8], opts: &EncodeOptions) {
    if quotable(bytes, opts) {
        write_quoted(out, bytes);
    } else {
        write_literal(out, bytes);
    }
}

/// `nstring`: `NIL` for `None`.
pub fn write_nstring(out: &mut Vec<u8>, bytes: Option<&[u8]>, opts: &EncodeOptions) {
    match bytes {
        Some(b) => write_string(out, b, opts),
        None => out.extend_from_slice(b"NIL"),
    }
}

/// `astring`: a bare atom when the bytes allow it (and it cannot be read as NIL).
pub fn write_astring(out: &mut Vec<u8>, bytes: &[u8], opts: &EncodeOptions) {
    if !bytes.is_empty()
        && bytes.iter().all(|&b| is_astring_char(b))
        && !bytes.eq_ignore_ascii_case(b"NIL")
    {
        out.extend_from_slice(bytes);
    } else {
        write_string(out, bytes, opts);
    }
}

/// A mailbox name: modified UTF-7 unless UTF-8 is enabled.
pub fn write_mailbox(out: &mut Vec<u8>, name: &MailboxName, opts: &EncodeOptions) {
    if opts.utf8 {
        write_astring(out, name.as_str().as_bytes(), opts);
    } else {
        write_astring(out, name.to_utf7().as_bytes(), opts);
    }
}

/// A LIST pattern (may hold `%` and `*`), encoded like a mailbox name.
pub(crate) fn write_list_mailbox(out: &mut Vec<u8>, pattern: &str, opts: &EncodeOptions) {
    let wire = if opts.utf8 {
        pattern.to_string()
    } else {
        crate::mailbox::encode_utf7(pattern)
    };
    let b = wire.as_bytes();
    if !b.is_empty()
        && b.iter()
            .all(|&c| is_astring_char(c) || c == b'%' || c == b'*')
    {
        out.extend_from_slice(b);
    } else {
        write_string(out, b, opts);
    }
}

/// Writes `items` separated by single spaces.
pub(crate) fn write_spaced<T>(out: &mut Vec<u8>, items: &[T], mut f: impl FnMut(&mut Vec<u8>, &T)) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        f(out, item);
    }
}

/// A delimiter as a quoted char or NIL.
pub(crate) fn write_delimiter(out: &mut Vec<u8>, delimiter: Option<char>) {
    match delimiter {
        Some(c) => {
            let mut buf = [0u8; 4];
            write_quoted(out, c.encode_utf8(&mut buf).as_bytes());
        }
        None => out.extend_from_slice(b"NIL"),
    }
}
