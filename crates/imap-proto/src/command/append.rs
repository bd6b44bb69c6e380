//! APPEND (RFC 3501 6.3.11), MULTIAPPEND (RFC 3502), CATENATE (RFC 4469) and binary
//! literals (RFC 3516).

use crate::datetime::DateTime;
use crate::flag::Flag;

/// One message of an APPEND.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendMessage {
    pub flags: Vec<Flag>,
    pub date: Option<DateTime>,
    pub content: AppendContent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendContent {
    /// The message as one literal; `binary` when sent as `~{n}` (RFC 3516).
    Literal { data: Vec<u8>, binary: bool },
    /// `CATENATE (TEXT {n} URL "..." ...)` (RFC 4469).
    Catenate(Vec<AppendPart>),
}

/// A part of a CATENATE.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendPart {
    Text { data: Vec<u8>, binary: bool },
    Url(String),
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_astring, write_mailbox};

type R<T> = Result<T, Box<ParseError>>;

/// `APPEND SP mailbox 1*(SP [flag-list SP] [date-time SP] append-data)`
pub(crate) fn parse(r: &mut Reader<'_>) -> R<CommandBody> {
    let mailbox = super::mailbox::parse_one(r)?;
    let mut messages = Vec::new();
    while r.eat(b' ') {
        let mut flags = Vec::new();
        let mut date = None;
        if r.peek() == Some(b'(') {
            flags = r.flag_list()?;
            r.sp()?;
        }
        if r.peek() == Some(b'"') {
            date = Some(r.date_time()?);
            r.sp()?;
        }
        let content = parse_content(r)?;
        messages.push(AppendMessage {
            flags,
            date,
            content,
        });
    }
    if messages.is_empty() {
        return r.err("APPEND needs a message");
    }
    Ok(CommandBody::Append { mailbox, messages })
}

fn parse_content(r: &mut Reader<'_>) -> R<AppendContent> {
    if matches!(r.peek(), Some(b'{') | Some(b'~')) {
        let (data, binary) = r.literal()?;
        return Ok(AppendContent::Literal {
            data: data.to_vec(),
            binary,
        });
    }
    match r.keyword()?.as_str() {
        // RFC 6855 4: `UTF8 (literal8)`
        "UTF8" => {
            r.sp()?;
            r.open()?;
            let (data, binary) = r.literal()?;
            r.close()?;
            Ok(AppendContent::Literal {
                data: data.to_vec(),
                binary,
            })
        }
        "CATENATE" => {
            r.sp()?;
            let parts = r.paren_list(false, |r| match r.keyword()?.as_str() {
                "TEXT" => {
                    r.sp()?;
                    let (data, binary) = r.literal()?;
                    Ok(AppendPart::Text {
                        data: data.to_vec(),
                        binary,
                    })
                }
                "URL" => {
                    r.sp()?;
                    Ok(AppendPart::Url(r.astring_utf8()?))
                }
                _ => r.err("Expected TEXT or URL"),
            })?;
            Ok(AppendContent::Catenate(parts))
        }
        _ => r.err("Expected message literal"),
    }
}

fn write_literal(out: &mut Vec<u8>, data: &[u8], binary: bool) {
    if binary {
        out.push(b'~');
    }
    out.extend_from_slice(format!("{{{}}}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    let CommandBody::Append { mailbox, messages } = body else {
        return;
    };
    out.extend_from_slice(b"APPEND ");
    write_mailbox(out, mailbox, opts);
    for m in messages {
        out.push(b' ');
        if !m.flags.is_empty() {
            let names: Vec<String> = m.flags.iter().map(|f| f.to_string()).collect();
            out.extend_from_slice(format!("({}) ", names.join(" ")).as_bytes());
        }
        if let Some(d) = &m.date {
            out.extend_from_slice(format!("\"{d}\" ").as_bytes());
        }
        match &m.content {
            AppendContent::Literal { data, binary } => write_literal(out, data, *binary),
            AppendContent::Catenate(parts) => {
                out.extend_from_slice(b"CATENATE (");
                crate::response::encode::write_spaced(out, parts, |out, p| match p {
                    AppendPart::Text { data, binary } => {
                        out.extend_from_slice(b"TEXT ");
                        write_literal(out, data, *binary);
                    }
                    AppendPart::Url(u) => {
                        out.extend_from_slice(b"URL ");
                        write_astring(out, u.as_bytes(), opts);
                    }
                });
                out.push(b')');
            }
        }
    }
}
