//! GETQUOTA, GETQUOTAROOT, SETQUOTA (RFC 9208).

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::{write_astring, write_mailbox};

pub(crate) fn parse(r: &mut Reader<'_>, name: &str) -> Result<CommandBody, Box<ParseError>> {
    r.sp()?;
    match name {
        "GETQUOTA" => Ok(CommandBody::GetQuota {
            root: r.astring_utf8()?,
        }),
        "GETQUOTAROOT" => Ok(CommandBody::GetQuotaRoot {
            mailbox: r.mailbox()?,
        }),
        _ => {
            let root = r.astring_utf8()?;
            r.sp()?;
            let mut limits = Vec::new();
            r.open()?;
            if !r.eat(b')') {
                loop {
                    let resource = r.atom()?.to_ascii_uppercase();
                    r.sp()?;
                    limits.push((resource, r.number64()?));
                    if r.peek() == Some(b')') {
                        break;
                    }
                    r.sp()?;
                }
                r.close()?;
            } else {
                r.leave();
            }
            Ok(CommandBody::SetQuota { root, limits })
        }
    }
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    out.extend_from_slice(body.name().as_bytes());
    out.push(b' ');
    match body {
        CommandBody::GetQuota { root } => write_astring(out, root.as_bytes(), opts),
        CommandBody::GetQuotaRoot { mailbox } => write_mailbox(out, mailbox, opts),
        CommandBody::SetQuota { root, limits } => {
            write_astring(out, root.as_bytes(), opts);
            out.extend_from_slice(b" (");
            crate::response::encode::write_spaced(out, limits, |out, (name, n)| {
                out.extend_from_slice(format!("{name} {n}").as_bytes())
            });
            out.push(b')');
        }
        _ => {}
    }
}
