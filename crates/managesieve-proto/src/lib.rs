//! ManageSieve (RFC 5804): an incremental, bounded parser for what clients send
//! and an encoder for what the server answers. No I/O and no store types.

pub mod command;
pub mod error;
pub(crate) mod lexer;
pub mod limits;
pub mod response;

pub use command::auth::parse_sasl_response;
pub use command::{Command, MAX_NAME, ScriptName, ScriptNameError, parse_command};
pub use error::{ParseError, ParseErrorKind, Skip};
pub use limits::Limits;
pub use response::{
    Code, Response, Status, encode_capability, encode_challenge, encode_listscripts_entry,
    encode_script, encode_string,
};

/// The result of offering a buffer to a parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A complete item, and how many bytes of the buffer it used.
    Done(T, usize),
    /// More bytes are needed; call again when they arrive.
    Incomplete,
    /// The buffer ends inside a literal (`{n}` or `{n+}`) the limits accept;
    /// `size` of its octets are still missing. ManageSieve sends no continuation
    /// for either form: the session just reads on (at least `size` more octets
    /// before parsing again).
    NeedLiteral { size: u32, sync: bool },
}
