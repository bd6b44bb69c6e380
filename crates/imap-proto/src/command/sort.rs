//! SORT and THREAD (RFC 5256), SORT=DISPLAY keys (RFC 5957), the extended SORT of
//! ESORT and CONTEXT=SORT (RFC 5267 3) and CANCELUPDATE (RFC 5267 4.3.5).

use super::CommandBody;
use super::search::{SearchKey, SearchReturn, parse_key, parse_returns, write_key, write_returns};
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_astring, write_spaced, write_string};

type R<T> = Result<T, Box<ParseError>>;

/// What one sort criterion orders by (RFC 5256 3, RFC 5957).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortKey {
    Arrival,
    Cc,
    Date,
    From,
    Size,
    Subject,
    To,
    DisplayFrom,
    DisplayTo,
}

impl SortKey {
    pub fn as_str(&self) -> &'static str {
        match self {
            SortKey::Arrival => "ARRIVAL",
            SortKey::Cc => "CC",
            SortKey::Date => "DATE",
            SortKey::From => "FROM",
            SortKey::Size => "SIZE",
            SortKey::Subject => "SUBJECT",
            SortKey::To => "TO",
            SortKey::DisplayFrom => "DISPLAYFROM",
            SortKey::DisplayTo => "DISPLAYTO",
        }
    }
}

/// `["REVERSE" SP] sort-key`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortCriterion {
    pub reverse: bool,
    pub key: SortKey,
}

/// THREAD algorithms (RFC 5256 4); an unknown one is kept so that the server can
/// answer `NO` rather than `BAD`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadAlgorithm {
    OrderedSubject,
    References,
    Other(String),
}

impl ThreadAlgorithm {
    pub fn as_str(&self) -> &str {
        match self {
            ThreadAlgorithm::OrderedSubject => "ORDEREDSUBJECT",
            ThreadAlgorithm::References => "REFERENCES",
            ThreadAlgorithm::Other(s) => s,
        }
    }
}

/// `SORT [RETURN (...)] (criteria) charset search-key...` (RFC 5256 3, RFC 5267 3).
pub(crate) fn parse_sort(r: &mut Reader<'_>, uid: bool) -> R<CommandBody> {
    r.sp()?;
    let mut returns = None;
    if matches!(r.peek(), Some(b'R' | b'r')) {
        let mark = r.mark();
        if r.keyword().ok().as_deref() == Some("RETURN") {
            r.sp()?;
            returns = Some(parse_returns(r)?);
            r.sp()?;
        } else {
            r.reset(mark);
        }
    }
    let criteria = r.paren_list(false, |r| {
        let mut word = r.keyword()?;
        let reverse = word == "REVERSE";
        if reverse {
            r.sp()?;
            word = r.keyword()?;
        }
        let key = match word.as_str() {
            "ARRIVAL" => SortKey::Arrival,
            "CC" => SortKey::Cc,
            "DATE" => SortKey::Date,
            "FROM" => SortKey::From,
            "SIZE" => SortKey::Size,
            "SUBJECT" => SortKey::Subject,
            "TO" => SortKey::To,
            "DISPLAYFROM" => SortKey::DisplayFrom,
            "DISPLAYTO" => SortKey::DisplayTo,
            _ => return r.err("Unknown sort key"),
        };
        Ok(SortCriterion { reverse, key })
    })?;
    r.sp()?;
    let (charset, search) = search_criteria(r)?;
    Ok(CommandBody::Sort {
        uid,
        returns,
        criteria,
        charset,
        search,
    })
}

/// `THREAD thread-alg SP charset search-key...` (RFC 5256 4).
pub(crate) fn parse_thread(r: &mut Reader<'_>, uid: bool) -> R<CommandBody> {
    r.sp()?;
    let name = r.keyword()?;
    let algorithm = match name.as_str() {
        "ORDEREDSUBJECT" => ThreadAlgorithm::OrderedSubject,
        "REFERENCES" => ThreadAlgorithm::References,
        _ => ThreadAlgorithm::Other(name.chars().take(64).collect()),
    };
    r.sp()?;
    let (charset, search) = search_criteria(r)?;
    Ok(CommandBody::Thread {
        uid,
        algorithm,
        charset,
        search,
    })
}

/// `search-criteria = charset 1*(SP search-key)`: the charset is required here.
fn search_criteria(r: &mut Reader<'_>) -> R<(String, Vec<SearchKey>)> {
    let charset = r.astring_utf8()?;
    let cs = Some(charset.clone());
    let mut keys = Vec::new();
    while r.eat(b' ') {
        keys.push(parse_key(r, &cs)?);
    }
    if keys.is_empty() {
        return r.err("Expected search criteria");
    }
    Ok((charset, keys))
}

/// `CANCELUPDATE 1*(SP quoted)` (RFC 5267 4.3.5): the tags of the searching commands.
pub(crate) fn parse_cancel_update(r: &mut Reader<'_>) -> R<CommandBody> {
    let mut tags = Vec::new();
    while r.eat(b' ') {
        let t = r.quoted()?;
        tags.push(String::from_utf8(t).or_else(|_| r.err("Invalid UTF-8"))?);
    }
    if tags.is_empty() {
        return r.err("Expected a tag");
    }
    Ok(CommandBody::CancelUpdate { tags })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    out.extend_from_slice(body.name().as_bytes());
    match body {
        CommandBody::Sort {
            returns,
            criteria,
            charset,
            search,
            ..
        } => {
            if let Some(ret) = returns {
                out.extend_from_slice(b" RETURN ");
                write_returns(out, ret);
            }
            out.extend_from_slice(b" (");
            write_spaced(out, criteria, |out, c| {
                if c.reverse {
                    out.extend_from_slice(b"REVERSE ");
                }
                out.extend_from_slice(c.key.as_str().as_bytes());
            });
            out.push(b')');
            write_search(out, charset, search, opts);
        }
        CommandBody::Thread {
            algorithm,
            charset,
            search,
            ..
        } => {
            out.push(b' ');
            out.extend_from_slice(algorithm.as_str().as_bytes());
            write_search(out, charset, search, opts);
        }
        CommandBody::CancelUpdate { tags } => {
            for t in tags {
                out.push(b' ');
                write_string(out, t.as_bytes(), opts);
            }
        }
        _ => {}
    }
}

fn write_search(out: &mut Vec<u8>, charset: &str, keys: &[SearchKey], opts: &EncodeOptions) {
    out.push(b' ');
    write_astring(out, charset.as_bytes(), opts);
    for k in keys {
        out.push(b' ');
        write_key(out, k, opts);
    }
}

/// Whether RETURN options ask for anything RFC 5267 4 adds (CONTEXT=SEARCH/SORT).
pub fn uses_context(returns: &[SearchReturn]) -> bool {
    returns.iter().any(|r| {
        matches!(
            r,
            SearchReturn::Update | SearchReturn::Context | SearchReturn::Partial { .. }
        )
    })
}
