//! NAMESPACE responses (RFC 2342).

/// One namespace: its prefix and hierarchy delimiter (`None` is NIL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    pub prefix: String,
    pub delimiter: Option<char>,
}

use super::EncodeOptions;
use super::encode::{write_delimiter, write_string};

/// `(("prefix" "delim") ...)` or NIL.
pub(crate) fn write_namespaces(
    out: &mut Vec<u8>,
    ns: &Option<Vec<Namespace>>,
    opts: &EncodeOptions,
) {
    match ns {
        None => out.extend_from_slice(b"NIL"),
        Some(list) if list.is_empty() => out.extend_from_slice(b"NIL"),
        Some(list) => {
            out.push(b'(');
            for n in list {
                out.push(b'(');
                let prefix = if opts.utf8 {
                    n.prefix.clone()
                } else {
                    crate::mailbox::encode_utf7(&n.prefix)
                };
                write_string(out, prefix.as_bytes(), opts);
                out.push(b' ');
                write_delimiter(out, n.delimiter);
                out.push(b')');
            }
            out.push(b')');
        }
    }
}
