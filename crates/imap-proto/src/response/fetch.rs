//! FETCH response items (RFC 3501 7.4.2).

use crate::command::fetch::Section;
use crate::datetime::DateTime;
use crate::flag::Flag;
use crate::ids::{ModSeq, Uid};

/// One item of a `* n FETCH (...)` response. Message data goes out as a literal
/// (`None` is NIL). ENVELOPE and BODYSTRUCTURE are computed by the server and passed as
/// pre-encoded bytes with [`FetchValue::Raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchValue {
    Flags(Vec<Flag>),
    Uid(Uid),
    InternalDate(DateTime),
    Rfc822Size(u64),
    ModSeq(ModSeq),
    /// `BODY[section]<origin> data`; `origin` is echoed for a partial fetch.
    BodySection {
        section: Section,
        origin: Option<u32>,
        data: Option<Vec<u8>>,
    },
    /// `BINARY[part]<origin> data`, sent as `~{n}` when it holds NUL.
    Binary {
        part: Vec<u32>,
        origin: Option<u32>,
        data: Option<Vec<u8>>,
    },
    /// `BINARY.SIZE[part] n`
    BinarySize {
        part: Vec<u32>,
        size: u64,
    },
    Rfc822(Option<Vec<u8>>),
    Rfc822Header(Option<Vec<u8>>),
    Rfc822Text(Option<Vec<u8>>),
    /// `name value` with `value` already in wire form, e.g.
    /// `Raw { name: "ENVELOPE".into(), value: b"(NIL \"subject\" ...)".to_vec() }`.
    Raw {
        name: String,
        value: Vec<u8>,
    },
}

use super::EncodeOptions;
use super::encode::{write_literal, write_spaced};

fn write_body(out: &mut Vec<u8>, data: &Option<Vec<u8>>) {
    match data {
        Some(d) => write_literal(out, d),
        None => out.extend_from_slice(b"NIL"),
    }
}

impl FetchValue {
    /// `NAME value` inside `* n FETCH (...)`.
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        match self {
            FetchValue::Flags(flags) => {
                out.extend_from_slice(b"FLAGS (");
                write_spaced(out, flags, |out, f| {
                    out.extend_from_slice(f.to_string().as_bytes())
                });
                out.push(b')');
            }
            FetchValue::Uid(u) => out.extend_from_slice(format!("UID {u}").as_bytes()),
            FetchValue::InternalDate(d) => {
                out.extend_from_slice(format!("INTERNALDATE \"{d}\"").as_bytes())
            }
            FetchValue::Rfc822Size(n) => {
                out.extend_from_slice(format!("RFC822.SIZE {n}").as_bytes())
            }
            FetchValue::ModSeq(m) => out.extend_from_slice(format!("MODSEQ ({m})").as_bytes()),
            FetchValue::BodySection {
                section,
                origin,
                data,
            } => {
                out.extend_from_slice(b"BODY");
                crate::command::fetch::write_section(out, section, opts);
                if let Some(o) = origin {
                    out.extend_from_slice(format!("<{o}>").as_bytes());
                }
                out.push(b' ');
                write_body(out, data);
            }
            FetchValue::Binary { part, origin, data } => {
                out.extend_from_slice(b"BINARY");
                crate::command::fetch::write_part(out, part);
                if let Some(o) = origin {
                    out.extend_from_slice(format!("<{o}>").as_bytes());
                }
                out.push(b' ');
                write_body(out, data);
            }
            FetchValue::BinarySize { part, size } => {
                out.extend_from_slice(b"BINARY.SIZE");
                crate::command::fetch::write_part(out, part);
                out.extend_from_slice(format!(" {size}").as_bytes());
            }
            FetchValue::Rfc822(d) => {
                out.extend_from_slice(b"RFC822 ");
                write_body(out, d);
            }
            FetchValue::Rfc822Header(d) => {
                out.extend_from_slice(b"RFC822.HEADER ");
                write_body(out, d);
            }
            FetchValue::Rfc822Text(d) => {
                out.extend_from_slice(b"RFC822.TEXT ");
                write_body(out, d);
            }
            FetchValue::Raw { name, value } => {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
                out.extend_from_slice(value);
            }
        }
    }
}
