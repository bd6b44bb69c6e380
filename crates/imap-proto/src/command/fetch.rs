//! FETCH (RFC 3501 6.4.5, RFC 9051 6.4.5), BINARY (RFC 3516) and the CONDSTORE/QRESYNC
//! modifiers (RFC 7162).

use crate::ids::ModSeq;

/// One FETCH data item. Macros are expanded when parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchItem {
    Envelope,
    BodyStructure,
    /// `BODY` (the non-extensible body structure).
    Body,
    /// `BODY[section]<partial>` or `BODY.PEEK[...]`.
    BodySection {
        section: Section,
        partial: Option<Partial>,
        peek: bool,
    },
    /// `BINARY[part]<partial>` or `BINARY.PEEK[...]` (RFC 3516).
    Binary {
        part: Vec<u32>,
        partial: Option<Partial>,
        peek: bool,
    },
    /// `BINARY.SIZE[part]`
    BinarySize {
        part: Vec<u32>,
    },
    InternalDate,
    Rfc822,
    Rfc822Header,
    Rfc822Size,
    Rfc822Text,
    Flags,
    Uid,
    /// `MODSEQ` (RFC 7162).
    ModSeq,
}

/// `<origin.length>` of a partial fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Partial {
    pub origin: u32,
    pub length: u32,
}

/// A body section: `part` is the MIME part path (`1.2` is `[1, 2]`, empty for the whole
/// message), `text` the optional section text. `BODY[]` is `Section::default()`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash)]
pub struct Section {
    pub part: Vec<u32>,
    pub text: Option<SectionText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionText {
    Header,
    /// `HEADER.FIELDS (names)`
    HeaderFields(Vec<String>),
    /// `HEADER.FIELDS.NOT (names)`
    HeaderFieldsNot(Vec<String>),
    Text,
    /// `MIME` (only with a part number).
    Mime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FetchModifier {
    /// `CHANGEDSINCE modseq`
    ChangedSince(ModSeq),
    /// `VANISHED` (RFC 7162 QRESYNC, UID FETCH only)
    Vanished,
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::write_astring;

type R<T> = Result<T, Box<ParseError>>;

/// `FETCH SP sequence-set SP (macro / fetch-att / "(" fetch-att *(SP fetch-att) ")")
/// [SP "(" fetch-modifier *(SP fetch-modifier) ")"]`
pub(crate) fn parse(r: &mut Reader<'_>, uid: bool) -> R<CommandBody> {
    r.sp()?;
    let set = r.sequence_set()?;
    r.sp()?;
    let items = if r.peek() == Some(b'(') {
        r.paren_list(false, parse_item)?
    } else {
        let mark = r.mark();
        match r.keyword()?.as_str() {
            "ALL" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
                FetchItem::Envelope,
            ],
            "FAST" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
            ],
            "FULL" => vec![
                FetchItem::Flags,
                FetchItem::InternalDate,
                FetchItem::Rfc822Size,
                FetchItem::Envelope,
                FetchItem::Body,
            ],
            _ => {
                r.reset(mark);
                vec![parse_item(r)?]
            }
        }
    };
    let mut modifiers = Vec::new();
    if r.eat(b' ') {
        modifiers = r.paren_list(false, |r| match r.keyword()?.as_str() {
            "CHANGEDSINCE" => {
                r.sp()?;
                Ok(FetchModifier::ChangedSince(ModSeq(r.number64()?)))
            }
            "VANISHED" => Ok(FetchModifier::Vanished),
            _ => r.err("Unknown FETCH modifier"),
        })?;
    }
    Ok(CommandBody::Fetch {
        uid,
        set,
        items,
        modifiers,
    })
}

pub(crate) fn parse_item(r: &mut Reader<'_>) -> R<FetchItem> {
    let name = r.keyword()?;
    Ok(match name.as_str() {
        "ENVELOPE" => FetchItem::Envelope,
        "FLAGS" => FetchItem::Flags,
        "INTERNALDATE" => FetchItem::InternalDate,
        "RFC822" => FetchItem::Rfc822,
        "RFC822.HEADER" => FetchItem::Rfc822Header,
        "RFC822.SIZE" => FetchItem::Rfc822Size,
        "RFC822.TEXT" => FetchItem::Rfc822Text,
        "BODYSTRUCTURE" => FetchItem::BodyStructure,
        "UID" => FetchItem::Uid,
        "MODSEQ" => FetchItem::ModSeq,
        "BODY" if r.peek() != Some(b'[') => FetchItem::Body,
        "BODY" | "BODY.PEEK" => {
            let section = parse_section(r)?;
            let partial = parse_partial(r)?;
            FetchItem::BodySection {
                section,
                partial,
                peek: name == "BODY.PEEK",
            }
        }
        "BINARY" | "BINARY.PEEK" => {
            let part = parse_binary_section(r)?;
            let partial = parse_partial(r)?;
            FetchItem::Binary {
                part,
                partial,
                peek: name == "BINARY.PEEK",
            }
        }
        "BINARY.SIZE" => FetchItem::BinarySize {
            part: parse_binary_section(r)?,
        },
        _ => return r.err("Unknown FETCH item"),
    })
}

/// `"[" [section-part] "]"`
pub(crate) fn parse_binary_section(r: &mut Reader<'_>) -> R<Vec<u32>> {
    r.expect_byte(b'[', "[")?;
    let mut part = Vec::new();
    if !r.eat(b']') {
        loop {
            part.push(r.nz_number()?);
            if !r.eat(b'.') {
                break;
            }
        }
        r.expect_byte(b']', "]")?;
    }
    Ok(part)
}

/// `"[" [section-spec] "]"`
pub(crate) fn parse_section(r: &mut Reader<'_>) -> R<Section> {
    r.expect_byte(b'[', "[")?;
    let mut section = Section::default();
    if r.eat(b']') {
        return Ok(section);
    }
    while r.peek().is_some_and(|b| b.is_ascii_digit()) {
        section.part.push(r.nz_number()?);
        if !r.eat(b'.') {
            break;
        }
    }
    if r.peek() != Some(b']') {
        let text = r.keyword()?;
        section.text = Some(match text.as_str() {
            "HEADER" => SectionText::Header,
            "TEXT" => SectionText::Text,
            "MIME" if !section.part.is_empty() => SectionText::Mime,
            "HEADER.FIELDS" | "HEADER.FIELDS.NOT" => {
                r.sp()?;
                let names = r.paren_list(false, |r| r.astring_utf8())?;
                if text == "HEADER.FIELDS" {
                    SectionText::HeaderFields(names)
                } else {
                    SectionText::HeaderFieldsNot(names)
                }
            }
            _ => return r.err("Invalid section"),
        });
    }
    r.expect_byte(b']', "]")?;
    Ok(section)
}

/// `["<" number "." nz-number ">"]`
pub(crate) fn parse_partial(r: &mut Reader<'_>) -> R<Option<Partial>> {
    if !r.eat(b'<') {
        return Ok(None);
    }
    let origin = r.number()?;
    r.expect_byte(b'.', ".")?;
    let length = r.nz_number()?;
    r.expect_byte(b'>', ">")?;
    Ok(Some(Partial { origin, length }))
}

/// `[1.2.HEADER.FIELDS (From To)]`, as in the request and the response.
pub(crate) fn write_section(out: &mut Vec<u8>, section: &Section, opts: &EncodeOptions) {
    out.push(b'[');
    let parts: Vec<String> = section.part.iter().map(|p| p.to_string()).collect();
    out.extend_from_slice(parts.join(".").as_bytes());
    if let Some(text) = &section.text {
        if !section.part.is_empty() {
            out.push(b'.');
        }
        let (name, fields) = match text {
            SectionText::Header => ("HEADER", None),
            SectionText::Text => ("TEXT", None),
            SectionText::Mime => ("MIME", None),
            SectionText::HeaderFields(f) => ("HEADER.FIELDS", Some(f)),
            SectionText::HeaderFieldsNot(f) => ("HEADER.FIELDS.NOT", Some(f)),
        };
        out.extend_from_slice(name.as_bytes());
        if let Some(fields) = fields {
            out.extend_from_slice(b" (");
            crate::response::encode::write_spaced(out, fields, |out, f| {
                write_astring(out, f.as_bytes(), opts)
            });
            out.push(b')');
        }
    }
    out.push(b']');
}

pub(crate) fn write_part(out: &mut Vec<u8>, part: &[u32]) {
    let parts: Vec<String> = part.iter().map(|p| p.to_string()).collect();
    out.extend_from_slice(format!("[{}]", parts.join(".")).as_bytes());
}

pub(crate) fn write_item(out: &mut Vec<u8>, item: &FetchItem, opts: &EncodeOptions) {
    let partial = |out: &mut Vec<u8>, p: &Option<Partial>| {
        if let Some(p) = p {
            out.extend_from_slice(format!("<{}.{}>", p.origin, p.length).as_bytes());
        }
    };
    match item {
        FetchItem::Envelope => out.extend_from_slice(b"ENVELOPE"),
        FetchItem::BodyStructure => out.extend_from_slice(b"BODYSTRUCTURE"),
        FetchItem::Body => out.extend_from_slice(b"BODY"),
        FetchItem::BodySection {
            section,
            partial: p,
            peek,
        } => {
            out.extend_from_slice(if *peek {
                b"BODY.PEEK".as_slice()
            } else {
                b"BODY"
            });
            write_section(out, section, opts);
            partial(out, p);
        }
        FetchItem::Binary {
            part,
            partial: p,
            peek,
        } => {
            out.extend_from_slice(if *peek {
                b"BINARY.PEEK".as_slice()
            } else {
                b"BINARY"
            });
            write_part(out, part);
            partial(out, p);
        }
        FetchItem::BinarySize { part } => {
            out.extend_from_slice(b"BINARY.SIZE");
            write_part(out, part);
        }
        FetchItem::InternalDate => out.extend_from_slice(b"INTERNALDATE"),
        FetchItem::Rfc822 => out.extend_from_slice(b"RFC822"),
        FetchItem::Rfc822Header => out.extend_from_slice(b"RFC822.HEADER"),
        FetchItem::Rfc822Size => out.extend_from_slice(b"RFC822.SIZE"),
        FetchItem::Rfc822Text => out.extend_from_slice(b"RFC822.TEXT"),
        FetchItem::Flags => out.extend_from_slice(b"FLAGS"),
        FetchItem::Uid => out.extend_from_slice(b"UID"),
        FetchItem::ModSeq => out.extend_from_slice(b"MODSEQ"),
    }
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    let CommandBody::Fetch {
        set,
        items,
        modifiers,
        ..
    } = body
    else {
        return;
    };
    out.extend_from_slice(format!("{} {set} (", body.name()).as_bytes());
    crate::response::encode::write_spaced(out, items, |out, i| write_item(out, i, opts));
    out.push(b')');
    if !modifiers.is_empty() {
        out.extend_from_slice(b" (");
        crate::response::encode::write_spaced(out, modifiers, |out, m| match m {
            FetchModifier::ChangedSince(n) => {
                out.extend_from_slice(format!("CHANGEDSINCE {n}").as_bytes())
            }
            FetchModifier::Vanished => out.extend_from_slice(b"VANISHED"),
        });
        out.push(b')');
    }
}
