//! RESETKEY, GENURLAUTH and URLFETCH (RFC 4467). The URLs stay strings here: the
//! server parses them with [`crate::url::ImapUrl`] so that one bad URL among several
//! gets its own answer instead of failing the whole command.

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_astring, write_mailbox};

type R<T> = Result<T, Box<ParseError>>;

fn mechanism(r: &mut Reader<'_>) -> R<String> {
    Ok(r.atom()?.to_ascii_uppercase())
}

/// `RESETKEY [SP mailbox *(SP mechanism)]`
pub(crate) fn parse_resetkey(r: &mut Reader<'_>) -> R<CommandBody> {
    let mut mailbox = None;
    let mut mechanisms = Vec::new();
    if r.eat(b' ') {
        mailbox = Some(r.mailbox()?);
        while r.eat(b' ') {
            mechanisms.push(mechanism(r)?);
        }
    }
    Ok(CommandBody::ResetKey {
        mailbox,
        mechanisms,
    })
}

/// `GENURLAUTH 1*(SP url-rump SP mechanism)`
pub(crate) fn parse_genurlauth(r: &mut Reader<'_>) -> R<CommandBody> {
    let mut urls = Vec::new();
    while r.eat(b' ') {
        let url = url(r)?;
        r.sp()?;
        urls.push((url, mechanism(r)?));
    }
    if urls.is_empty() {
        return r.err("GENURLAUTH needs a URL and a mechanism");
    }
    Ok(CommandBody::GenUrlAuth { urls })
}

/// A URL argument: an astring, or (as clients send what GENURLAUTH returned
/// without quoting it) a bare run of URL characters, `%` and `*` included.
fn url(r: &mut Reader<'_>) -> R<String> {
    if matches!(r.peek(), Some(b'"' | b'{' | b'~')) {
        return r.astring_utf8();
    }
    let bare = r.take_while(
        |b| b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'"'),
        "URL",
    )?;
    Ok(bare.to_string())
}

/// What a parenthesized URLFETCH argument asks for besides the URL (RFC 5524 4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlFetchParams {
    /// `BODYPARTSTRUCTURE`: the part's structure.
    pub body_part_structure: bool,
    /// `BINARY` (or `BINARY.PEEK`): the content with its transfer encoding removed.
    pub binary: bool,
    /// `BODY` (or `BODY.PEEK`): the content as stored.
    pub body: bool,
}

/// `"(" url *(SP param) ")"` after the `(`: BINARY and BODY exclude each other.
fn fetch_params(r: &mut Reader<'_>) -> R<(String, UrlFetchParams)> {
    let u = url(r)?;
    let mut p = UrlFetchParams::default();
    while r.eat(b' ') {
        let word = r.atom()?.to_ascii_uppercase();
        let (flag, other) = match word.as_str() {
            "BODYPARTSTRUCTURE" => (&mut p.body_part_structure, false),
            "BINARY" | "BINARY.PEEK" => (&mut p.binary, p.body),
            "BODY" | "BODY.PEEK" => (&mut p.body, p.binary),
            _ => return r.err("Unknown URLFETCH parameter"),
        };
        if *flag || other {
            return r.err("URLFETCH parameter repeated or BINARY with BODY");
        }
        *flag = true;
    }
    r.close()?;
    Ok((u, p))
}

/// `URLFETCH 1*(SP (url / "(" url *(SP param) ")"))`
pub(crate) fn parse_urlfetch(r: &mut Reader<'_>) -> R<CommandBody> {
    let mut urls = Vec::new();
    let mut params = Vec::new();
    while r.eat(b' ') {
        if r.peek() == Some(b'(') {
            r.open()?;
            let (u, p) = fetch_params(r)?;
            urls.push(u);
            params.push(Some(p));
        } else {
            urls.push(url(r)?);
            params.push(None);
        }
    }
    if urls.is_empty() {
        return r.err("URLFETCH needs a URL");
    }
    Ok(CommandBody::UrlFetch { urls, params })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    match body {
        CommandBody::ResetKey {
            mailbox,
            mechanisms,
        } => {
            out.extend_from_slice(b"RESETKEY");
            if let Some(m) = mailbox {
                out.push(b' ');
                write_mailbox(out, m, opts);
                for mech in mechanisms {
                    out.push(b' ');
                    out.extend_from_slice(mech.as_bytes());
                }
            }
        }
        CommandBody::GenUrlAuth { urls } => {
            out.extend_from_slice(b"GENURLAUTH");
            for (url, mech) in urls {
                out.push(b' ');
                write_astring(out, url.as_bytes(), opts);
                out.push(b' ');
                out.extend_from_slice(mech.as_bytes());
            }
        }
        CommandBody::UrlFetch { urls, params } => {
            out.extend_from_slice(b"URLFETCH");
            for (i, url) in urls.iter().enumerate() {
                out.push(b' ');
                let Some(p) = params.get(i).copied().flatten() else {
                    write_astring(out, url.as_bytes(), opts);
                    continue;
                };
                out.push(b'(');
                write_astring(out, url.as_bytes(), opts);
                for (on, word) in [
                    (p.body_part_structure, &b" BODYPARTSTRUCTURE"[..]),
                    (p.binary, b" BINARY"),
                    (p.body, b" BODY"),
                ] {
                    if on {
                        out.extend_from_slice(word);
                    }
                }
                out.push(b')');
            }
        }
        _ => {}
    }
}
