//! The commands that name mailboxes: CREATE (with RFC 6154 `USE`), DELETE, RENAME,
//! SUBSCRIBE, UNSUBSCRIBE, and COPY/MOVE (RFC 6851).

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::mailbox::MailboxName;
use crate::response::EncodeOptions;
use crate::response::encode::write_mailbox;
use crate::response::list::MailboxAttr;

type R<T> = Result<T, Box<ParseError>>;

/// `SP mailbox`
pub(crate) fn parse_one(r: &mut Reader<'_>) -> R<MailboxName> {
    r.sp()?;
    r.mailbox()
}

/// `CREATE SP mailbox [SP "(" "USE" SP "(" use-attrs ")" ")"]`
pub(crate) fn parse_create(r: &mut Reader<'_>) -> R<CommandBody> {
    let mailbox = parse_one(r)?;
    let mut special_use = Vec::new();
    if r.eat(b' ') {
        let params = r.paren_list(false, |r| {
            let name = r.keyword()?;
            if name != "USE" {
                return r.err("Unknown CREATE parameter");
            }
            r.sp()?;
            r.paren_list(true, |r| {
                r.expect_byte(b'\\', "\\")?;
                let name = r.atom()?;
                MailboxAttr::parse(&format!("\\{name}"))
                    .map_or_else(|| r.err("Invalid attribute"), Ok)
            })
        })?;
        special_use = params.into_iter().flatten().collect();
    }
    Ok(CommandBody::Create {
        mailbox,
        special_use,
    })
}

pub(crate) fn parse_rename(r: &mut Reader<'_>) -> R<CommandBody> {
    let from = parse_one(r)?;
    let to = parse_one(r)?;
    Ok(CommandBody::Rename { from, to })
}

/// `COPY/MOVE SP sequence-set SP mailbox`
pub(crate) fn parse_copy(r: &mut Reader<'_>, uid: bool, is_move: bool) -> R<CommandBody> {
    r.sp()?;
    let set = r.sequence_set()?;
    let mailbox = parse_one(r)?;
    Ok(if is_move {
        CommandBody::Move { uid, set, mailbox }
    } else {
        CommandBody::Copy { uid, set, mailbox }
    })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    match body {
        CommandBody::Create {
            mailbox,
            special_use,
        } => {
            out.extend_from_slice(b"CREATE ");
            write_mailbox(out, mailbox, opts);
            if !special_use.is_empty() {
                out.extend_from_slice(b" (USE (");
                crate::response::encode::write_spaced(out, special_use, |out, a| {
                    out.extend_from_slice(a.name().as_bytes())
                });
                out.extend_from_slice(b"))");
            }
        }
        CommandBody::Delete { mailbox }
        | CommandBody::Subscribe { mailbox }
        | CommandBody::Unsubscribe { mailbox } => {
            out.extend_from_slice(body.name().as_bytes());
            out.push(b' ');
            write_mailbox(out, mailbox, opts);
        }
        CommandBody::Rename { from, to } => {
            out.extend_from_slice(b"RENAME ");
            write_mailbox(out, from, opts);
            out.push(b' ');
            write_mailbox(out, to, opts);
        }
        CommandBody::Copy { set, mailbox, .. } | CommandBody::Move { set, mailbox, .. } => {
            out.extend_from_slice(format!("{} {set} ", body.name()).as_bytes());
            write_mailbox(out, mailbox, opts);
        }
        _ => {}
    }
}
