//! LIST (RFC 3501 6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC 6154
//! SPECIAL-USE) and LSUB.

use super::status::StatusItem;

/// `LIST [(select-opts)] reference (pattern | (patterns)) [RETURN (return-opts)]`.
/// Reference and patterns are decoded to UTF-8 and keep their `%`/`*` wildcards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    pub reference: String,
    pub patterns: Vec<String>,
    pub select: Vec<ListSelect>,
    pub returns: Vec<ListReturn>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListSelect {
    Subscribed,
    Remote,
    RecursiveMatch,
    SpecialUse,
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListReturn {
    Subscribed,
    Children,
    SpecialUse,
    /// `STATUS (items)` (RFC 5819).
    Status(Vec<StatusItem>),
    Other(String),
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::write_list_mailbox;

type R<T> = Result<T, Box<ParseError>>;

/// `LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]`
pub(crate) fn parse_list(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    let mut select = Vec::new();
    if r.peek() == Some(b'(') {
        select = r.paren_list(true, |r| {
            Ok(match r.keyword()?.as_str() {
                "SUBSCRIBED" => ListSelect::Subscribed,
                "REMOTE" => ListSelect::Remote,
                "RECURSIVEMATCH" => ListSelect::RecursiveMatch,
                "SPECIAL-USE" => ListSelect::SpecialUse,
                // RFC 5258 3: unrecognised selection options are rejected with BAD.
                _ => return r.err("Unknown LIST selection option"),
            })
        })?;
        r.sp()?;
        // RFC 5258 3: RECURSIVEMATCH only modifies another selection option.
        if select.contains(&ListSelect::RecursiveMatch)
            && !select
                .iter()
                .any(|s| !matches!(s, ListSelect::RecursiveMatch | ListSelect::Remote))
        {
            return r.err("RECURSIVEMATCH needs another selection option");
        }
    }
    let reference = r.list_mailbox()?;
    r.sp()?;
    let patterns = if r.peek() == Some(b'(') {
        r.paren_list(false, |r| r.list_mailbox())?
    } else {
        vec![r.list_mailbox()?]
    };
    let mut returns = Vec::new();
    if r.eat(b' ') {
        if r.keyword()? != "RETURN" {
            return r.err("Expected RETURN");
        }
        r.sp()?;
        returns = r.paren_list(true, |r| {
            Ok(match r.keyword()?.as_str() {
                "SUBSCRIBED" => ListReturn::Subscribed,
                "CHILDREN" => ListReturn::Children,
                "SPECIAL-USE" => ListReturn::SpecialUse,
                "STATUS" => {
                    r.sp()?;
                    ListReturn::Status(super::status::parse_items(r)?)
                }
                // RFC 5258 3: so are unrecognised return options.
                _ => return r.err("Unknown LIST return option"),
            })
        })?;
    }
    Ok(CommandBody::List(ListCommand {
        reference,
        patterns,
        select,
        returns,
    }))
}

/// `LSUB SP mailbox SP list-mailbox`
pub(crate) fn parse_lsub(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    let reference = r.list_mailbox()?;
    r.sp()?;
    let pattern = r.list_mailbox()?;
    Ok(CommandBody::Lsub { reference, pattern })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    match body {
        CommandBody::List(l) => {
            out.extend_from_slice(b"LIST ");
            if !l.select.is_empty() {
                out.push(b'(');
                crate::response::encode::write_spaced(out, &l.select, |out, s| {
                    out.extend_from_slice(
                        match s {
                            ListSelect::Subscribed => "SUBSCRIBED",
                            ListSelect::Remote => "REMOTE",
                            ListSelect::RecursiveMatch => "RECURSIVEMATCH",
                            ListSelect::SpecialUse => "SPECIAL-USE",
                            ListSelect::Other(o) => o,
                        }
                        .as_bytes(),
                    )
                });
                out.extend_from_slice(b") ");
            }
            write_list_mailbox(out, &l.reference, opts);
            out.push(b' ');
            if l.patterns.len() == 1 {
                write_list_mailbox(out, &l.patterns[0], opts);
            } else {
                out.push(b'(');
                crate::response::encode::write_spaced(out, &l.patterns, |out, p| {
                    write_list_mailbox(out, p, opts)
                });
                out.push(b')');
            }
            if !l.returns.is_empty() {
                out.extend_from_slice(b" RETURN (");
                crate::response::encode::write_spaced(out, &l.returns, |out, ret| match ret {
                    ListReturn::Subscribed => out.extend_from_slice(b"SUBSCRIBED"),
                    ListReturn::Children => out.extend_from_slice(b"CHILDREN"),
                    ListReturn::SpecialUse => out.extend_from_slice(b"SPECIAL-USE"),
                    ListReturn::Status(items) => {
                        out.extend_from_slice(b"STATUS ");
                        super::status::write_items(out, items);
                    }
                    ListReturn::Other(o) => out.extend_from_slice(o.as_bytes()),
                });
                out.push(b')');
            }
        }
        CommandBody::Lsub { reference, pattern } => {
            out.extend_from_slice(b"LSUB ");
            write_list_mailbox(out, reference, opts);
            out.push(b' ');
            write_list_mailbox(out, pattern, opts);
        }
        _ => {}
    }
}
