//! SELECT and EXAMINE, with CONDSTORE/QRESYNC parameters (RFC 7162).

use super::CommandBody;
use crate::error::ParseError;
use crate::ids::{ModSeq, UidValidity};
use crate::lexer::Reader;
use crate::response::EncodeOptions;
use crate::response::encode::write_mailbox;
use crate::sequence::SequenceSet;

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelectParam {
    /// `(CONDSTORE)`
    CondStore,
    /// `(QRESYNC (uidvalidity modseq [known-uids [(seq-match uid-match)]]))`
    QResync {
        uid_validity: UidValidity,
        mod_seq: ModSeq,
        known_uids: Option<SequenceSet>,
        seq_match: Option<(SequenceSet, SequenceSet)>,
    },
}

/// `SELECT/EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"]`
pub(crate) fn parse(r: &mut Reader<'_>, examine: bool) -> Result<CommandBody, Box<ParseError>> {
    let mailbox = super::mailbox::parse_one(r)?;
    let mut params = Vec::new();
    if r.eat(b' ') {
        params = r.paren_list(false, |r| {
            let name = r.keyword()?;
            match name.as_str() {
                "CONDSTORE" => Ok(SelectParam::CondStore),
                "QRESYNC" => {
                    r.sp()?;
                    r.open()?;
                    let uid_validity = UidValidity(r.nz_number()?);
                    r.sp()?;
                    let mod_seq = ModSeq(r.number64()?);
                    let mut known_uids = None;
                    let mut seq_match = None;
                    if r.eat(b' ') {
                        if r.peek() != Some(b'(') {
                            known_uids = Some(r.sequence_set()?);
                            if r.eat(b' ') {
                                r.open()?;
                                let seqs = r.sequence_set()?;
                                r.sp()?;
                                let uids = r.sequence_set()?;
                                r.close()?;
                                seq_match = Some((seqs, uids));
                            }
                        } else {
                            r.open()?;
                            let seqs = r.sequence_set()?;
                            r.sp()?;
                            let uids = r.sequence_set()?;
                            r.close()?;
                            seq_match = Some((seqs, uids));
                        }
                    }
                    r.close()?;
                    Ok(SelectParam::QResync {
                        uid_validity,
                        mod_seq,
                        known_uids,
                        seq_match,
                    })
                }
                _ => r.err("Unknown SELECT parameter"),
            }
        })?;
    }
    Ok(if examine {
        CommandBody::Examine { mailbox, params }
    } else {
        CommandBody::Select { mailbox, params }
    })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    let (CommandBody::Select { mailbox, params } | CommandBody::Examine { mailbox, params }) = body
    else {
        return;
    };
    out.extend_from_slice(body.name().as_bytes());
    out.push(b' ');
    write_mailbox(out, mailbox, opts);
    if params.is_empty() {
        return;
    }
    out.extend_from_slice(b" (");
    crate::response::encode::write_spaced(out, params, |out, p| match p {
        SelectParam::CondStore => out.extend_from_slice(b"CONDSTORE"),
        SelectParam::QResync {
            uid_validity,
            mod_seq,
            known_uids,
            seq_match,
        } => {
            let mut s = format!("QRESYNC ({uid_validity} {mod_seq}");
            if let Some(k) = known_uids {
                s.push_str(&format!(" {k}"));
            }
            if let Some((a, b)) = seq_match {
                s.push_str(&format!(" ({a} {b})"));
            }
            s.push(')');
            out.extend_from_slice(s.as_bytes());
        }
    });
    out.push(b')');
}
