//! CONVERT, UID CONVERT and CONVERSIONS (RFC 5259 5.1, 6, 10): conversion requests
//! modelled on FETCH with BINARY (RFC 3516).

use crate::command::fetch::Partial;

/// `convert-params`: the target media type (`None` is NIL, the server's default
/// conversion) and the transcoding parameters as name/value pairs, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConvertParams {
    pub target: Option<String>,
    pub params: Vec<(String, String)>,
}

impl ConvertParams {
    /// The value of a parameter; names are case-insensitive (RFC 5259 7).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One `convert-att` (RFC 5259 10). `part` is the section-part (`[1, 2]` for `1.2`,
/// empty for the whole message).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConvertItem {
    Uid,
    /// `BINARY[part]<partial>`
    Binary {
        part: Vec<u32>,
        partial: Option<Partial>,
    },
    /// `BINARY.SIZE[part]`
    BinarySize {
        part: Vec<u32>,
    },
    /// `BODYPARTSTRUCTURE[part]`
    BodyPartStructure {
        part: Vec<u32>,
    },
    /// `AVAILABLECONVERSIONS[part]`
    AvailableConversions {
        part: Vec<u32>,
    },
    /// `BODY[HEADER]` (empty part) or `BODY[part.HEADER]`
    Header {
        part: Vec<u32>,
    },
    /// `BODY[part.MIME]`
    Mime {
        part: Vec<u32>,
    },
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_astring, write_string};

type R<T> = Result<T, Box<ParseError>>;

/// `convert = "CONVERT" SP sequence-set SP convert-params SP
///            (convert-att / "(" convert-att *(SP convert-att) ")")`
pub(crate) fn parse(r: &mut Reader<'_>, uid: bool) -> R<CommandBody> {
    r.sp()?;
    let set = r.sequence_set()?;
    r.sp()?;
    let params = parse_params(r)?;
    r.sp()?;
    let items = if r.peek() == Some(b'(') {
        r.paren_list(false, parse_item)?
    } else {
        vec![parse_item(r)?]
    };
    Ok(CommandBody::Convert {
        uid,
        set,
        params,
        items,
    })
}

/// `"(" (quoted-to-mime-type / "NIL") [SP "(" transcoding-params ")"] ")"`
fn parse_params(r: &mut Reader<'_>) -> R<ConvertParams> {
    r.open()?;
    let target = if r.peek() == Some(b'"') || r.peek() == Some(b'{') {
        let t = r.string_utf8()?;
        if !is_concrete_type(&t) {
            return r.err("Invalid target media type");
        }
        Some(t)
    } else {
        if r.keyword()? != "NIL" {
            return r.err("Expected a quoted media type or NIL");
        }
        None
    };
    let mut params = Vec::new();
    if r.eat(b' ') {
        r.open()?;
        if !r.eat(b')') {
            loop {
                let name = r.astring_utf8()?;
                r.sp()?;
                let value = r.astring_utf8()?;
                params.push((name, value));
                if r.eat(b')') {
                    break;
                }
                r.sp()?;
            }
        }
        r.leave();
    }
    r.close()?;
    Ok(ConvertParams { target, params })
}

fn parse_item(r: &mut Reader<'_>) -> R<ConvertItem> {
    let name = r.keyword()?;
    Ok(match name.as_str() {
        "UID" => ConvertItem::Uid,
        "BINARY" => ConvertItem::Binary {
            part: super::fetch::parse_binary_section(r)?,
            partial: super::fetch::parse_partial(r)?,
        },
        "BINARY.SIZE" => ConvertItem::BinarySize {
            part: super::fetch::parse_binary_section(r)?,
        },
        "BODYPARTSTRUCTURE" => ConvertItem::BodyPartStructure {
            part: super::fetch::parse_binary_section(r)?,
        },
        "AVAILABLECONVERSIONS" => ConvertItem::AvailableConversions {
            part: super::fetch::parse_binary_section(r)?,
        },
        // "BODY[HEADER]" / "BODY[" section-part ".HEADER]" / "BODY[" section-part ".MIME]"
        "BODY" => {
            r.expect_byte(b'[', "[")?;
            let mut part = Vec::new();
            while r.peek().is_some_and(|b| b.is_ascii_digit()) {
                part.push(r.nz_number()?);
                r.expect_byte(b'.', ".")?;
            }
            let text = r.keyword()?;
            r.expect_byte(b']', "]")?;
            match text.as_str() {
                "HEADER" => ConvertItem::Header { part },
                "MIME" if !part.is_empty() => ConvertItem::Mime { part },
                _ => return r.err("CONVERT takes BODY[HEADER], BODY[n.HEADER] or BODY[n.MIME]"),
            }
        }
        _ => return r.err("Unknown CONVERT item"),
    })
}

/// `conversions-cmd = "CONVERSIONS" SP from-mime-type-req SP to-mime-type-req`
pub(crate) fn parse_conversions(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    let from = r.astring_utf8()?;
    r.sp()?;
    let to = r.astring_utf8()?;
    if !is_type_request(&from) || !is_type_request(&to) {
        return r.err("Expected \"*\", \"type/*\" or \"type/subtype\"");
    }
    Ok(CommandBody::Conversions { from, to })
}

/// `restricted-name` (RFC 6838 4.2): 1 to 127 letters, digits and `!#$&-^_.+`,
/// starting with a letter or digit.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 127
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

/// `type/subtype`
pub fn is_concrete_type(s: &str) -> bool {
    s.split_once('/')
        .is_some_and(|(t, st)| is_token(t) && is_token(st))
}

/// `mime-type-req = "*" / type "/*" / type "/" subtype`
pub fn is_type_request(s: &str) -> bool {
    s == "*"
        || s.split_once('/')
            .is_some_and(|(t, st)| is_token(t) && (st == "*" || is_token(st)))
}

pub(crate) fn write_part(out: &mut Vec<u8>, part: &[u32]) {
    crate::command::fetch::write_part(out, part);
}

/// `BODY[1.2.MIME]` and friends, as in the request and in CONVERTED.
pub(crate) fn write_header_item(out: &mut Vec<u8>, part: &[u32], mime: bool) {
    out.extend_from_slice(b"BODY[");
    for p in part {
        out.extend_from_slice(format!("{p}.").as_bytes());
    }
    out.extend_from_slice(if mime { b"MIME]" } else { b"HEADER]" });
}

pub(crate) fn write_item(out: &mut Vec<u8>, item: &ConvertItem) {
    match item {
        ConvertItem::Uid => out.extend_from_slice(b"UID"),
        ConvertItem::Binary { part, partial } => {
            out.extend_from_slice(b"BINARY");
            write_part(out, part);
            if let Some(p) = partial {
                out.extend_from_slice(format!("<{}.{}>", p.origin, p.length).as_bytes());
            }
        }
        ConvertItem::BinarySize { part } => {
            out.extend_from_slice(b"BINARY.SIZE");
            write_part(out, part);
        }
        ConvertItem::BodyPartStructure { part } => {
            out.extend_from_slice(b"BODYPARTSTRUCTURE");
            write_part(out, part);
        }
        ConvertItem::AvailableConversions { part } => {
            out.extend_from_slice(b"AVAILABLECONVERSIONS");
            write_part(out, part);
        }
        ConvertItem::Header { part } => write_header_item(out, part, false),
        ConvertItem::Mime { part } => write_header_item(out, part, true),
    }
}

/// `"(" ("to/type" / NIL) [SP "(" name value ... ")"] ")"`
pub(crate) fn write_params(out: &mut Vec<u8>, p: &ConvertParams, opts: &EncodeOptions) {
    out.push(b'(');
    match &p.target {
        Some(t) => write_string(out, t.as_bytes(), opts),
        None => out.extend_from_slice(b"NIL"),
    }
    if !p.params.is_empty() {
        out.extend_from_slice(b" (");
        crate::response::encode::write_spaced(out, &p.params, |out, (n, v)| {
            write_astring(out, n.as_bytes(), opts);
            out.push(b' ');
            write_astring(out, v.as_bytes(), opts);
        });
        out.push(b')');
    }
    out.push(b')');
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    match body {
        CommandBody::Convert {
            set, params, items, ..
        } => {
            out.extend_from_slice(format!("{} {set} ", body.name()).as_bytes());
            write_params(out, params, opts);
            out.extend_from_slice(b" (");
            crate::response::encode::write_spaced(out, items, write_item);
            out.push(b')');
        }
        CommandBody::Conversions { from, to } => {
            out.extend_from_slice(b"CONVERSIONS ");
            write_string(out, from.as_bytes(), opts);
            out.push(b' ');
            write_string(out, to.as_bytes(), opts);
        }
        _ => {}
    }
}
