//! Flags between the wire (`imap_proto::Flag`) and the store (`store::Flags`).

use imap_proto::Flag;
use store::Flags;

use crate::reply::Reply;

pub(crate) fn to_wire(f: &Flags) -> Vec<Flag> {
    let mut out = Vec::new();
    for (bit, flag) in [
        (Flags::SEEN, Flag::Seen),
        (Flags::ANSWERED, Flag::Answered),
        (Flags::FLAGGED, Flag::Flagged),
        (Flags::DELETED, Flag::Deleted),
        (Flags::DRAFT, Flag::Draft),
    ] {
        if f.has(bit) {
            out.push(flag);
        }
    }
    out.extend(f.keywords.iter().map(|k| Flag::Keyword(k.clone())));
    out
}

/// The flags a client asked to set; `\Recent` is ignored and unknown
/// `\Extension` flags are refused (RFC 3501 2.3.2).
pub(crate) fn from_wire(flags: &[Flag]) -> Result<Flags, Reply> {
    let mut out = Flags::default();
    for f in flags {
        match f {
            Flag::Seen => out.system |= Flags::SEEN,
            Flag::Answered => out.system |= Flags::ANSWERED,
            Flag::Flagged => out.system |= Flags::FLAGGED,
            Flag::Deleted => out.system |= Flags::DELETED,
            Flag::Draft => out.system |= Flags::DRAFT,
            Flag::Recent => {}
            Flag::Keyword(k) => out.add_keyword(k).map_err(Reply::from)?,
            _ => return Err(Reply::bad(format!("Invalid flag {f}"))),
        }
    }
    Ok(out)
}

/// `* FLAGS` and `PERMANENTFLAGS` lists for a mailbox with these keywords.
pub(crate) fn mailbox_flags(keywords: &[String], permanent: bool) -> Vec<Flag> {
    let mut out = vec![
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
    ];
    out.extend(keywords.iter().map(|k| Flag::Keyword(k.clone())));
    if permanent {
        out.push(Flag::Wildcard);
    }
    out
}
