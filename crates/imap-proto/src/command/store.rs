//! STORE (RFC 3501 6.4.6) with UNCHANGEDSINCE (RFC 7162).

use crate::ids::ModSeq;

/// `FLAGS`, `+FLAGS` or `-FLAGS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreMode {
    Replace,
    Add,
    Remove,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreModifier {
    /// `(UNCHANGEDSINCE modseq)`
    UnchangedSince(ModSeq),
}

use super::CommandBody;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::response::EncodeOptions;

/// `STORE SP sequence-set [SP "(" UNCHANGEDSINCE mod-sequence-value ")"] SP
/// ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / (flag *(SP flag)))`
pub(crate) fn parse(r: &mut Reader<'_>, uid: bool) -> Result<CommandBody, Box<ParseError>> {
    r.sp()?;
    let set = r.sequence_set()?;
    r.sp()?;
    let mut modifiers = Vec::new();
    if r.peek() == Some(b'(') {
        modifiers = r.paren_list(false, |r| {
            let name = r.keyword()?;
            if name != "UNCHANGEDSINCE" {
                return r.err("Unknown STORE modifier");
            }
            r.sp()?;
            Ok(StoreModifier::UnchangedSince(ModSeq(r.number64()?)))
        })?;
        r.sp()?;
    }
    let mode = if r.eat(b'+') {
        StoreMode::Add
    } else if r.eat(b'-') {
        StoreMode::Remove
    } else {
        StoreMode::Replace
    };
    let silent = match r.keyword()?.as_str() {
        "FLAGS" => false,
        "FLAGS.SILENT" => true,
        _ => return r.err("Expected FLAGS, +FLAGS or -FLAGS"),
    };
    r.sp()?;
    let flags = if r.peek() == Some(b'(') {
        r.flag_list()?
    } else {
        let mut flags = vec![r.flag()?];
        while r.eat(b' ') {
            flags.push(r.flag()?);
        }
        flags
    };
    Ok(CommandBody::Store {
        uid,
        set,
        mode,
        silent,
        flags,
        modifiers,
    })
}

pub(crate) fn encode(body: &CommandBody, _opts: &EncodeOptions, out: &mut Vec<u8>) {
    let CommandBody::Store {
        set,
        mode,
        silent,
        flags,
        modifiers,
        ..
    } = body
    else {
        return;
    };
    let mut s = format!("{} {set} ", body.name());
    for m in modifiers {
        let StoreModifier::UnchangedSince(n) = m;
        s.push_str(&format!("(UNCHANGEDSINCE {n}) "));
    }
    s.push_str(match mode {
        StoreMode::Replace => "",
        StoreMode::Add => "+",
        StoreMode::Remove => "-",
    });
    s.push_str(if *silent { "FLAGS.SILENT (" } else { "FLAGS (" });
    let names: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
    s.push_str(&names.join(" "));
    s.push(')');
    out.extend_from_slice(s.as_bytes());
}
