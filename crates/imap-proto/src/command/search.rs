//! SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4) with ESEARCH return options (RFC 4731),
//! SEARCHRES (RFC 5182), MODSEQ (RFC 7162) and WITHIN (RFC 5032).

use crate::datetime::Date;
use crate::ids::ModSeq;
use crate::sequence::SequenceSet;

/// One search key. Strings are UTF-8 (for a charset other than UTF-8/US-ASCII they are
/// decoded lossily; such searches are refused with `NO [BADCHARSET]` anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchKey {
    All,
    Answered,
    Bcc(String),
    Before(Date),
    Body(String),
    Cc(String),
    Deleted,
    Draft,
    Flagged,
    From(String),
    /// `HEADER field-name string`
    Header(String, String),
    Keyword(String),
    Larger(u64),
    New,
    Not(Box<SearchKey>),
    Old,
    On(Date),
    Or(Box<SearchKey>, Box<SearchKey>),
    Recent,
    Seen,
    SentBefore(Date),
    SentOn(Date),
    SentSince(Date),
    Since(Date),
    Smaller(u64),
    Subject(String),
    Text(String),
    To(String),
    Uid(SequenceSet),
    Unanswered,
    Undeleted,
    Undraft,
    Unflagged,
    Unkeyword(String),
    Unseen,
    /// A bare sequence set (message numbers).
    Sequence(SequenceSet),
    /// A parenthesised list: all must match.
    And(Vec<SearchKey>),
    /// `MODSEQ [entry-name entry-type] modseq` (RFC 7162 3.1.5).
    ModSeq {
        entry: Option<(String, String)>,
        mod_seq: ModSeq,
    },
    /// `OLDER n` (RFC 5032): internal date more than n seconds ago.
    Older(u32),
    /// `YOUNGER n` (RFC 5032).
    Younger(u32),
}

/// `RETURN (...)` options (RFC 4731, RFC 5182, RFC 5267).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SearchReturn {
    Min,
    Max,
    All,
    Count,
    Save,
    /// `UPDATE` (RFC 5267 4.3): keep the result up to date with ADDTO/REMOVEFROM.
    Update,
    /// `CONTEXT` (RFC 5267 4.2): a hint that the criteria will be used again.
    Context,
    /// `PARTIAL low:high` (RFC 5267 4.4), positions in the result counted from 1,
    /// stored with `low <= high`.
    Partial {
        low: u32,
        high: u32,
    },
}

use super::CommandBody;
use crate::error::{ParseError, ParseErrorKind};
use crate::lexer::Reader;
use crate::response::encode::write_astring;
use crate::response::{Code, EncodeOptions};

type R<T> = Result<T, Box<ParseError>>;

fn utf8_charset(charset: &Option<String>) -> bool {
    match charset {
        None => true,
        Some(c) => c.eq_ignore_ascii_case("UTF-8") || c.eq_ignore_ascii_case("US-ASCII"),
    }
}

/// `SEARCH [SP RETURN (...)] [SP CHARSET SP astring] 1*(SP search-key)`
pub(crate) fn parse(r: &mut Reader<'_>, uid: bool) -> R<CommandBody> {
    r.sp()?;
    let mut returns = None;
    let mut charset = None;
    let mark = r.mark();
    if r.keyword().ok().as_deref() == Some("RETURN") {
        r.sp()?;
        returns = Some(parse_returns(r)?);
        r.sp()?;
    } else {
        r.reset(mark);
    }
    let mark = r.mark();
    if r.keyword().ok().as_deref() == Some("CHARSET") {
        r.sp()?;
        charset = Some(r.astring_utf8()?);
        r.sp()?;
    } else {
        r.reset(mark);
    }
    let mut criteria = vec![parse_key(r, &charset)?];
    while r.eat(b' ') {
        criteria.push(parse_key(r, &charset)?);
    }
    Ok(CommandBody::Search {
        uid,
        charset,
        criteria,
        returns,
    })
}

/// `"(" [search-return-opt *(SP search-return-opt)] ")"`, shared by SEARCH and
/// SORT (RFC 4731, RFC 5267). At most one of PARTIAL and ALL (RFC 5267 4.4).
pub(crate) fn parse_returns(r: &mut Reader<'_>) -> R<Vec<SearchReturn>> {
    let list = r.paren_list(true, |r| {
        Ok(match r.keyword()?.as_str() {
            "MIN" => SearchReturn::Min,
            "MAX" => SearchReturn::Max,
            "ALL" => SearchReturn::All,
            "COUNT" => SearchReturn::Count,
            "SAVE" => SearchReturn::Save,
            "UPDATE" => SearchReturn::Update,
            "CONTEXT" => SearchReturn::Context,
            "PARTIAL" => {
                r.sp()?;
                let a = r.nz_number()?;
                r.expect_byte(b':', ":")?;
                let b = r.nz_number()?;
                SearchReturn::Partial {
                    low: a.min(b),
                    high: a.max(b),
                }
            }
            _ => return r.err("Unknown return option"),
        })
    })?;
    let windows = list
        .iter()
        .filter(|x| matches!(x, SearchReturn::All | SearchReturn::Partial { .. }))
        .count();
    if windows > 1 {
        return r.err("At most one of PARTIAL and ALL");
    }
    Ok(list)
}

/// Encodes `RETURN (...)` options, after `RETURN `.
pub(crate) fn write_returns(out: &mut Vec<u8>, ret: &[SearchReturn]) {
    out.push(b'(');
    crate::response::encode::write_spaced(out, ret, |out, r| match r {
        SearchReturn::Min => out.extend_from_slice(b"MIN"),
        SearchReturn::Max => out.extend_from_slice(b"MAX"),
        SearchReturn::All => out.extend_from_slice(b"ALL"),
        SearchReturn::Count => out.extend_from_slice(b"COUNT"),
        SearchReturn::Save => out.extend_from_slice(b"SAVE"),
        SearchReturn::Update => out.extend_from_slice(b"UPDATE"),
        SearchReturn::Context => out.extend_from_slice(b"CONTEXT"),
        SearchReturn::Partial { low, high } => {
            out.extend_from_slice(format!("PARTIAL {low}:{high}").as_bytes())
        }
    });
    out.push(b')');
}

fn text(r: &mut Reader<'_>, charset: &Option<String>) -> R<String> {
    r.sp()?;
    let bytes = r.astring()?;
    if utf8_charset(charset) {
        String::from_utf8(bytes).map_err(|_| {
            Box::new(
                ParseError::new(
                    ParseErrorKind::BadCharset,
                    "Search string is not valid UTF-8",
                )
                .with_code(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
            )
        })
    } else {
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

pub(crate) fn parse_key(r: &mut Reader<'_>, charset: &Option<String>) -> R<SearchKey> {
    match r.peek() {
        Some(b'(') => {
            r.open()?;
            let mut keys = vec![parse_key(r, charset)?];
            while r.eat(b' ') {
                keys.push(parse_key(r, charset)?);
            }
            r.close()?;
            return Ok(SearchKey::And(keys));
        }
        Some(b'0'..=b'9' | b'*' | b'$') => return Ok(SearchKey::Sequence(r.sequence_set()?)),
        _ => {}
    }
    let name = r.keyword()?;
    let key = match name.as_str() {
        "ALL" => SearchKey::All,
        "ANSWERED" => SearchKey::Answered,
        "DELETED" => SearchKey::Deleted,
        "DRAFT" => SearchKey::Draft,
        "FLAGGED" => SearchKey::Flagged,
        "NEW" => SearchKey::New,
        "OLD" => SearchKey::Old,
        "RECENT" => SearchKey::Recent,
        "SEEN" => SearchKey::Seen,
        "UNANSWERED" => SearchKey::Unanswered,
        "UNDELETED" => SearchKey::Undeleted,
        "UNDRAFT" => SearchKey::Undraft,
        "UNFLAGGED" => SearchKey::Unflagged,
        "UNSEEN" => SearchKey::Unseen,
        "BCC" => SearchKey::Bcc(text(r, charset)?),
        "BODY" => SearchKey::Body(text(r, charset)?),
        "CC" => SearchKey::Cc(text(r, charset)?),
        "FROM" => SearchKey::From(text(r, charset)?),
        "SUBJECT" => SearchKey::Subject(text(r, charset)?),
        "TEXT" => SearchKey::Text(text(r, charset)?),
        "TO" => SearchKey::To(text(r, charset)?),
        "HEADER" => {
            let field = text(r, charset)?;
            SearchKey::Header(field, text(r, charset)?)
        }
        "BEFORE" | "ON" | "SINCE" | "SENTBEFORE" | "SENTON" | "SENTSINCE" => {
            r.sp()?;
            let d = r.date()?;
            match name.as_str() {
                "BEFORE" => SearchKey::Before(d),
                "ON" => SearchKey::On(d),
                "SINCE" => SearchKey::Since(d),
                "SENTBEFORE" => SearchKey::SentBefore(d),
                "SENTON" => SearchKey::SentOn(d),
                _ => SearchKey::SentSince(d),
            }
        }
        "KEYWORD" | "UNKEYWORD" => {
            r.sp()?;
            let kw = r.atom()?.to_string();
            if name == "KEYWORD" {
                SearchKey::Keyword(kw)
            } else {
                SearchKey::Unkeyword(kw)
            }
        }
        "LARGER" => {
            r.sp()?;
            SearchKey::Larger(r.number64()?)
        }
        "SMALLER" => {
            r.sp()?;
            SearchKey::Smaller(r.number64()?)
        }
        "NOT" => {
            r.sp()?;
            r.enter()?;
            let k = parse_key(r, charset)?;
            r.leave();
            SearchKey::Not(Box::new(k))
        }
        "OR" => {
            r.sp()?;
            r.enter()?;
            let a = parse_key(r, charset)?;
            r.sp()?;
            let b = parse_key(r, charset)?;
            r.leave();
            SearchKey::Or(Box::new(a), Box::new(b))
        }
        "UID" => {
            r.sp()?;
            SearchKey::Uid(r.sequence_set()?)
        }
        "MODSEQ" => {
            r.sp()?;
            let mut entry = None;
            if r.peek() == Some(b'"') {
                let name = String::from_utf8(r.quoted()?).or_else(|_| r.err("Invalid UTF-8"))?;
                r.sp()?;
                let kind = r.keyword()?.to_ascii_lowercase();
                if !matches!(kind.as_str(), "priv" | "shared" | "all") {
                    return r.err("Invalid MODSEQ entry type");
                }
                r.sp()?;
                entry = Some((name, kind));
            }
            SearchKey::ModSeq {
                entry,
                mod_seq: crate::ids::ModSeq(r.number64()?),
            }
        }
        "OLDER" | "YOUNGER" => {
            r.sp()?;
            let n = r.nz_number()?;
            if name == "OLDER" {
                SearchKey::Older(n)
            } else {
                SearchKey::Younger(n)
            }
        }
        _ => return r.err("Unknown search key"),
    };
    Ok(key)
}

pub(crate) fn write_key(out: &mut Vec<u8>, key: &SearchKey, opts: &EncodeOptions) {
    let word = |out: &mut Vec<u8>, name: &str, s: &str| {
        out.extend_from_slice(name.as_bytes());
        out.push(b' ');
        write_astring(out, s.as_bytes(), opts);
    };
    match key {
        SearchKey::All => out.extend_from_slice(b"ALL"),
        SearchKey::Answered => out.extend_from_slice(b"ANSWERED"),
        SearchKey::Deleted => out.extend_from_slice(b"DELETED"),
        SearchKey::Draft => out.extend_from_slice(b"DRAFT"),
        SearchKey::Flagged => out.extend_from_slice(b"FLAGGED"),
        SearchKey::New => out.extend_from_slice(b"NEW"),
        SearchKey::Old => out.extend_from_slice(b"OLD"),
        SearchKey::Recent => out.extend_from_slice(b"RECENT"),
        SearchKey::Seen => out.extend_from_slice(b"SEEN"),
        SearchKey::Unanswered => out.extend_from_slice(b"UNANSWERED"),
        SearchKey::Undeleted => out.extend_from_slice(b"UNDELETED"),
        SearchKey::Undraft => out.extend_from_slice(b"UNDRAFT"),
        SearchKey::Unflagged => out.extend_from_slice(b"UNFLAGGED"),
        SearchKey::Unseen => out.extend_from_slice(b"UNSEEN"),
        SearchKey::Bcc(s) => word(out, "BCC", s),
        SearchKey::Body(s) => word(out, "BODY", s),
        SearchKey::Cc(s) => word(out, "CC", s),
        SearchKey::From(s) => word(out, "FROM", s),
        SearchKey::Subject(s) => word(out, "SUBJECT", s),
        SearchKey::Text(s) => word(out, "TEXT", s),
        SearchKey::To(s) => word(out, "TO", s),
        SearchKey::Header(f, s) => {
            word(out, "HEADER", f);
            out.push(b' ');
            write_astring(out, s.as_bytes(), opts);
        }
        SearchKey::Before(d) => out.extend_from_slice(format!("BEFORE {d}").as_bytes()),
        SearchKey::On(d) => out.extend_from_slice(format!("ON {d}").as_bytes()),
        SearchKey::Since(d) => out.extend_from_slice(format!("SINCE {d}").as_bytes()),
        SearchKey::SentBefore(d) => out.extend_from_slice(format!("SENTBEFORE {d}").as_bytes()),
        SearchKey::SentOn(d) => out.extend_from_slice(format!("SENTON {d}").as_bytes()),
        SearchKey::SentSince(d) => out.extend_from_slice(format!("SENTSINCE {d}").as_bytes()),
        SearchKey::Keyword(k) => out.extend_from_slice(format!("KEYWORD {k}").as_bytes()),
        SearchKey::Unkeyword(k) => out.extend_from_slice(format!("UNKEYWORD {k}").as_bytes()),
        SearchKey::Larger(n) => out.extend_from_slice(format!("LARGER {n}").as_bytes()),
        SearchKey::Smaller(n) => out.extend_from_slice(format!("SMALLER {n}").as_bytes()),
        SearchKey::Not(k) => {
            out.extend_from_slice(b"NOT ");
            write_key(out, k, opts);
        }
        SearchKey::Or(a, b) => {
            out.extend_from_slice(b"OR ");
            write_key(out, a, opts);
            out.push(b' ');
            write_key(out, b, opts);
        }
        SearchKey::Uid(set) => out.extend_from_slice(format!("UID {set}").as_bytes()),
        SearchKey::Sequence(set) => out.extend_from_slice(set.to_string().as_bytes()),
        SearchKey::And(keys) => {
            out.push(b'(');
            crate::response::encode::write_spaced(out, keys, |out, k| write_key(out, k, opts));
            out.push(b')');
        }
        SearchKey::ModSeq { entry, mod_seq } => {
            out.extend_from_slice(b"MODSEQ ");
            if let Some((name, kind)) = entry {
                crate::response::encode::write_string(out, name.as_bytes(), opts);
                out.extend_from_slice(format!(" {kind} ").as_bytes());
            }
            out.extend_from_slice(mod_seq.to_string().as_bytes());
        }
        SearchKey::Older(n) => out.extend_from_slice(format!("OLDER {n}").as_bytes()),
        SearchKey::Younger(n) => out.extend_from_slice(format!("YOUNGER {n}").as_bytes()),
    }
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    let CommandBody::Search {
        charset,
        criteria,
        returns,
        ..
    } = body
    else {
        return;
    };
    out.extend_from_slice(body.name().as_bytes());
    if let Some(ret) = returns {
        out.extend_from_slice(b" RETURN ");
        write_returns(out, ret);
    }
    if let Some(c) = charset {
        out.extend_from_slice(b" CHARSET ");
        write_astring(out, c.as_bytes(), opts);
    }
    for k in criteria {
        out.push(b' ');
        write_key(out, k, opts);
    }
}
