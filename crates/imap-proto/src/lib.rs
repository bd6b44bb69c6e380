//! IMAP4rev1 (RFC 3501) and IMAP4rev2 (RFC 9051) commands and responses: an
//! incremental, bounded parser for what clients send and an encoder for what the
//! server answers. No I/O and no store types.

pub mod command;
pub mod datetime;
pub mod error;
pub mod flag;
pub mod ids;
pub(crate) mod lexer;
pub mod limits;
pub mod mailbox;
pub mod response;
pub mod sequence;
pub mod url;

pub use command::append::{AppendContent, AppendMessage, AppendPart};
pub use command::auth::{SaslResponse, parse_sasl_response};
pub use command::convert::{ConvertItem, ConvertParams};
pub use command::fetch::{FetchItem, FetchModifier, Partial, Section, SectionText};
pub use command::idle::parse_idle_done;
pub use command::list::{ListCommand, ListReturn, ListSelect};
pub use command::notify::{EventGroup, NotifyEvent, NotifyFilter, NotifySet};
pub use command::search::{SearchKey, SearchReturn};
pub use command::select::SelectParam;
pub use command::sort::{SortCriterion, SortKey, ThreadAlgorithm};
pub use command::status::StatusItem;
pub use command::store::{StoreMode, StoreModifier};
pub use command::urlauth::UrlFetchParams;
pub use command::{Command, CommandBody, command_tag, parse_command};
pub use datetime::{Date, DateTime};
pub use error::{ParseError, ParseErrorKind, Skip};
pub use flag::Flag;
pub use ids::{ModSeq, Password, SeqNum, Tag, Uid, UidValidity};
pub use limits::Limits;
pub use mailbox::{MailboxName, MailboxNameError, decode_utf7, encode_utf7};
pub use response::convert::{ConvertError, ConvertErrorCode, ConvertValue};
pub use response::fetch::FetchValue;
pub use response::list::{ListData, MailboxAttr};
pub use response::namespace::Namespace;
pub use response::quota::QuotaResource;
pub use response::search::{ContextUpdate, ESearch};
pub use response::status::StatusValue;
pub use response::thread::ThreadNode;
pub use response::{Code, Continuation, Data, EncodeOptions, Response, Status, StatusResponse};
pub use sequence::{SeqBound, SeqRange, SequenceSet};
pub use url::{Access, ImapUrl, UrlAuth, UrlError};

/// The result of offering a buffer to a parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed<T> {
    /// A complete item, and how many bytes of the buffer it used.
    Done(T, usize),
    /// More bytes are needed; call again when they arrive.
    Incomplete,
    /// The buffer ends right after a literal header (`{n}` or `{n+}`) that the limits
    /// accept. For a synchronising literal (`sync`), the session answers `+ Ready` (or
    /// refuses the command) before the client sends the bytes.
    NeedLiteral { size: u32, sync: bool },
}
