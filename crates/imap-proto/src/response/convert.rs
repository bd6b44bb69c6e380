//! CONVERTED and CONVERSION responses (RFC 5259 5.2, 8, 9, 10).

use crate::command::convert::{write_header_item, write_part};
use crate::ids::{Tag, Uid};

/// Why one conversion failed: `(ERROR "text" code)` in place of the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub text: String,
    pub code: ConvertErrorCode,
}

/// `convert-error-code` (RFC 5259 9, 10).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertErrorCode {
    /// `TEMPFAIL [minutes]`
    TempFail(Option<u32>),
    /// `BADPARAMETERS from to [(name value ...)]`: `from` is NIL when the part does not
    /// exist; no parameters means the conversion itself is not possible.
    BadParameters {
        from: Option<String>,
        to: String,
        params: Vec<(String, String)>,
    },
    /// `MISSINGPARAMETERS from to (name ...)`
    MissingParameters {
        from: String,
        to: String,
        names: Vec<String>,
    },
}

/// One `convert-msg-att` of a CONVERTED response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertValue {
    Uid(Uid),
    /// `BINARY[part]<origin> data` (`~{n}` when the data holds NUL).
    Binary {
        part: Vec<u32>,
        origin: Option<u32>,
        data: Result<Vec<u8>, ConvertError>,
    },
    /// `BINARY.SIZE[part] n`
    BinarySize {
        part: Vec<u32>,
        size: Result<u64, ConvertError>,
    },
    /// `BODYPARTSTRUCTURE[part] body`; the body structure is pre-encoded.
    BodyPartStructure {
        part: Vec<u32>,
        structure: Result<Vec<u8>, ConvertError>,
    },
    /// `AVAILABLECONVERSIONS[part] (("type/subtype" ...))`
    AvailableConversions {
        part: Vec<u32>,
        types: Result<Vec<String>, ConvertError>,
    },
    /// `BODY[HEADER]`, `BODY[part.HEADER]` (`mime: false`) or `BODY[part.MIME]`.
    Header {
        part: Vec<u32>,
        mime: bool,
        data: Result<Vec<u8>, ConvertError>,
    },
}

impl ConvertValue {
    /// Whether this item carries a failed conversion.
    pub fn is_error(&self) -> bool {
        match self {
            ConvertValue::Uid(_) => false,
            ConvertValue::Binary { data, .. } | ConvertValue::Header { data, .. } => data.is_err(),
            ConvertValue::BinarySize { size, .. } => size.is_err(),
            ConvertValue::BodyPartStructure { structure, .. } => structure.is_err(),
            ConvertValue::AvailableConversions { types, .. } => types.is_err(),
        }
    }
}

use super::EncodeOptions;
use super::encode::{write_literal, write_spaced, write_string};

fn write_type(out: &mut Vec<u8>, t: &str, opts: &EncodeOptions) {
    write_string(out, t.as_bytes(), opts);
}

fn write_params(out: &mut Vec<u8>, params: &[(String, String)], opts: &EncodeOptions) {
    out.push(b'(');
    write_spaced(out, params, |out, (n, v)| {
        write_string(out, n.as_bytes(), opts);
        out.push(b' ');
        write_string(out, v.as_bytes(), opts);
    });
    out.push(b')');
}

impl ConvertError {
    /// `converterror-phrase = "(" "ERROR" SP convert-err-descript SP convert-error-code ")"`
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        out.extend_from_slice(b"(ERROR ");
        write_string(out, self.text.as_bytes(), opts);
        out.push(b' ');
        match &self.code {
            ConvertErrorCode::TempFail(None) => out.extend_from_slice(b"TEMPFAIL"),
            ConvertErrorCode::TempFail(Some(m)) => {
                out.extend_from_slice(format!("TEMPFAIL {m}").as_bytes())
            }
            ConvertErrorCode::BadParameters { from, to, params } => {
                out.extend_from_slice(b"BADPARAMETERS ");
                match from {
                    Some(f) => write_type(out, f, opts),
                    None => out.extend_from_slice(b"NIL"),
                }
                out.push(b' ');
                write_type(out, to, opts);
                if !params.is_empty() {
                    out.push(b' ');
                    write_params(out, params, opts);
                }
            }
            ConvertErrorCode::MissingParameters { from, to, names } => {
                out.extend_from_slice(b"MISSINGPARAMETERS ");
                write_type(out, from, opts);
                out.push(b' ');
                write_type(out, to, opts);
                out.extend_from_slice(b" (");
                write_spaced(out, names, |out, n| write_string(out, n.as_bytes(), opts));
                out.push(b')');
            }
        }
        out.push(b')');
    }
}

fn write_result<T>(
    out: &mut Vec<u8>,
    r: &Result<T, ConvertError>,
    opts: &EncodeOptions,
    ok: impl FnOnce(&mut Vec<u8>, &T),
) {
    match r {
        Ok(v) => ok(out, v),
        Err(e) => e.encode(opts, out),
    }
}

impl ConvertValue {
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        match self {
            ConvertValue::Uid(u) => out.extend_from_slice(format!("UID {u}").as_bytes()),
            ConvertValue::Binary { part, origin, data } => {
                out.extend_from_slice(b"BINARY");
                write_part(out, part);
                if let Some(o) = origin {
                    out.extend_from_slice(format!("<{o}>").as_bytes());
                }
                out.push(b' ');
                write_result(out, data, opts, |out, d| write_literal(out, d));
            }
            ConvertValue::BinarySize { part, size } => {
                out.extend_from_slice(b"BINARY.SIZE");
                write_part(out, part);
                out.push(b' ');
                write_result(out, size, opts, |out, n| {
                    out.extend_from_slice(n.to_string().as_bytes())
                });
            }
            ConvertValue::BodyPartStructure { part, structure } => {
                out.extend_from_slice(b"BODYPARTSTRUCTURE");
                write_part(out, part);
                out.push(b' ');
                write_result(out, structure, opts, |out, s| out.extend_from_slice(s));
            }
            ConvertValue::AvailableConversions { part, types } => {
                out.extend_from_slice(b"AVAILABLECONVERSIONS");
                write_part(out, part);
                out.push(b' ');
                write_result(out, types, opts, |out, types| {
                    out.extend_from_slice(b"((");
                    write_spaced(out, types, |out, t| write_type(out, t, opts));
                    out.extend_from_slice(b"))");
                });
            }
            ConvertValue::Header { part, mime, data } => {
                write_header_item(out, part, *mime);
                out.push(b' ');
                write_result(out, data, opts, |out, d| write_literal(out, d));
            }
        }
    }
}

/// `n CONVERTED (TAG "tag") (items)`, after the `* `.
pub(crate) fn encode_converted(
    out: &mut Vec<u8>,
    seq: u32,
    tag: &Tag,
    items: &[ConvertValue],
    opts: &EncodeOptions,
) {
    out.extend_from_slice(format!("{seq} CONVERTED (TAG ").as_bytes());
    write_string(out, tag.as_str().as_bytes(), opts);
    out.extend_from_slice(b") (");
    write_spaced(out, items, |out, i| i.encode(opts, out));
    out.push(b')');
}

/// `CONVERSION "from" "to" [(name ...)]`, after the `* `.
pub(crate) fn encode_conversion(
    out: &mut Vec<u8>,
    from: &str,
    to: &str,
    params: &[String],
    opts: &EncodeOptions,
) {
    out.extend_from_slice(b"CONVERSION ");
    write_type(out, from, opts);
    out.push(b' ');
    write_type(out, to, opts);
    if !params.is_empty() {
        out.extend_from_slice(b" (");
        write_spaced(out, params, |out, p| write_string(out, p.as_bytes(), opts));
        out.push(b')');
    }
}
