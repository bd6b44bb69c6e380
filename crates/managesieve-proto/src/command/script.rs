//! The script commands of RFC 5804 2.5 to 2.12 that take several arguments.

use super::{Args, Command, ScriptName};
use crate::error::{ParseError, ParseErrorKind};

pub(crate) fn havespace(args: &mut Args) -> Result<Command, ParseError> {
    let name = args.name()?;
    let size = args.number("script size")?;
    Ok(Command::HaveSpace { name, size })
}

pub(crate) fn putscript(args: &mut Args) -> Result<Command, ParseError> {
    let name = args.name()?;
    let script = args.string("script")?;
    Ok(Command::PutScript { name, script })
}

/// RFC 5804 2.8: the empty name deactivates every script.
pub(crate) fn setactive(args: &mut Args) -> Result<Command, ParseError> {
    let bytes = args.string("script name")?;
    if bytes.is_empty() {
        return Ok(Command::SetActive { name: None });
    }
    let name = ScriptName::parse(&bytes)
        .map_err(|e| args.error(ParseErrorKind::BadName, e.to_string()))?;
    Ok(Command::SetActive { name: Some(name) })
}

pub(crate) fn renamescript(args: &mut Args) -> Result<Command, ParseError> {
    let from = args.name()?;
    let to = args.name()?;
    Ok(Command::RenameScript { from, to })
}
