//! Client commands: the types, the parser entry point, and the client-side encoder
//! (used for round-trip tests and by test clients). One module per command family.

pub mod append;
pub mod auth;
pub mod compress;
pub mod convert;
pub mod enable;
pub mod fetch;
pub mod id;
pub mod idle;
pub mod list;
pub mod mailbox;
pub mod notify;
pub mod quota;
pub mod search;
pub mod select;
pub mod sort;
pub mod status;
pub mod store;
pub mod urlauth;

use crate::Parsed;
use crate::error::{ParseError, Skip};
use crate::flag::Flag;
use crate::ids::{Password, Tag};
use crate::lexer::{Frame, Reader};
use crate::limits::Limits;
use crate::mailbox::MailboxName;
use crate::response::list::MailboxAttr;
use crate::response::{Code, EncodeOptions};
use crate::sequence::SequenceSet;

use append::AppendMessage;
use convert::{ConvertItem, ConvertParams};
use fetch::{FetchItem, FetchModifier};
use list::ListCommand;
use notify::NotifySet;
use search::{SearchKey, SearchReturn};
use select::SelectParam;
use sort::{SortCriterion, ThreadAlgorithm};
use status::StatusItem;
use store::{StoreMode, StoreModifier};

/// A tagged client command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub tag: Tag,
    pub body: CommandBody,
}

/// Every command of RFC 3501 and RFC 9051 plus the extensions the server parses.
/// `uid: true` marks the `UID` form (`UID FETCH`, ...), whose set holds UIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandBody {
    Capability,
    Noop,
    Logout,
    StartTls,
    /// `AUTHENTICATE mech [initial-response]` (RFC 4959 SASL-IR). The initial response
    /// is base64-decoded; `=` gives `Some(vec![])`.
    Authenticate {
        mechanism: String,
        initial_response: Option<Vec<u8>>,
    },
    Login {
        username: String,
        password: Password,
    },
    Select {
        mailbox: MailboxName,
        params: Vec<SelectParam>,
    },
    Examine {
        mailbox: MailboxName,
        params: Vec<SelectParam>,
    },
    /// `CREATE name [(USE (\Drafts ...))]` (RFC 6154 CREATE-SPECIAL-USE).
    Create {
        mailbox: MailboxName,
        special_use: Vec<MailboxAttr>,
    },
    Delete {
        mailbox: MailboxName,
    },
    Rename {
        from: MailboxName,
        to: MailboxName,
    },
    Subscribe {
        mailbox: MailboxName,
    },
    Unsubscribe {
        mailbox: MailboxName,
    },
    List(ListCommand),
    Lsub {
        reference: String,
        pattern: String,
    },
    Status {
        mailbox: MailboxName,
        items: Vec<StatusItem>,
    },
    /// APPEND with one message, or several (RFC 3502 MULTIAPPEND).
    Append {
        mailbox: MailboxName,
        messages: Vec<AppendMessage>,
    },
    Check,
    Close,
    Unselect,
    Expunge,
    /// `UID EXPUNGE set` (RFC 4315, RFC 9051).
    UidExpunge {
        set: SequenceSet,
    },
    /// SEARCH; `criteria` are ANDed. `returns` is `Some` when `RETURN (...)` was given
    /// (RFC 4731 ESEARCH), even if empty.
    Search {
        uid: bool,
        charset: Option<String>,
        criteria: Vec<SearchKey>,
        returns: Option<Vec<SearchReturn>>,
    },
    /// FETCH; macros (ALL, FAST, FULL) are expanded into `items`.
    Fetch {
        uid: bool,
        set: SequenceSet,
        items: Vec<FetchItem>,
        modifiers: Vec<FetchModifier>,
    },
    Store {
        uid: bool,
        set: SequenceSet,
        mode: StoreMode,
        silent: bool,
        flags: Vec<Flag>,
        modifiers: Vec<StoreModifier>,
    },
    Copy {
        uid: bool,
        set: SequenceSet,
        mailbox: MailboxName,
    },
    Move {
        uid: bool,
        set: SequenceSet,
        mailbox: MailboxName,
    },
    Idle,
    Enable {
        capabilities: Vec<String>,
    },
    Namespace,
    /// `ID NIL` or `ID ("name" "value" ...)` (RFC 2971).
    Id {
        params: Option<Vec<(String, Option<String>)>>,
    },
    GetQuota {
        root: String,
    },
    GetQuotaRoot {
        mailbox: MailboxName,
    },
    SetQuota {
        root: String,
        limits: Vec<(String, u64)>,
    },
    /// `NOTIFY SET ...` or, as `None`, `NOTIFY NONE` (RFC 5465).
    Notify(Option<NotifySet>),
    /// `COMPRESS DEFLATE` (RFC 4978); the mechanism is uppercased.
    Compress {
        mechanism: String,
    },
    /// `RESETKEY [mailbox [mechanism ...]]` (RFC 4467 7.1); mechanisms uppercased.
    ResetKey {
        mailbox: Option<MailboxName>,
        mechanisms: Vec<String>,
    },
    /// `GENURLAUTH url mechanism ...` (RFC 4467 7.2); mechanisms uppercased.
    GenUrlAuth {
        urls: Vec<(String, String)>,
    },
    /// `URLFETCH url ...` (RFC 4467 7.3), each URL alone or as `(url param ...)`
    /// (RFC 5524 4): `params[i]` is `Some` for the parenthesized form of `urls[i]`.
    UrlFetch {
        urls: Vec<String>,
        params: Vec<Option<urlauth::UrlFetchParams>>,
    },
    /// `CONVERT` / `UID CONVERT` (RFC 5259 6).
    Convert {
        uid: bool,
        set: SequenceSet,
        params: ConvertParams,
        items: Vec<ConvertItem>,
    },
    /// `CONVERSIONS from to` (RFC 5259 5.1), each `*`, `type/*` or `type/subtype`.
    Conversions {
        from: String,
        to: String,
    },
    /// SORT (RFC 5256 3) with RETURN options (RFC 5267 3); `search` is ANDed.
    Sort {
        uid: bool,
        returns: Option<Vec<SearchReturn>>,
        criteria: Vec<SortCriterion>,
        charset: String,
        search: Vec<SearchKey>,
    },
    /// THREAD (RFC 5256 4).
    Thread {
        uid: bool,
        algorithm: ThreadAlgorithm,
        charset: String,
        search: Vec<SearchKey>,
    },
    /// `CANCELUPDATE "tag" ...` (RFC 5267 4.3.5).
    CancelUpdate {
        tags: Vec<String>,
    },
}

impl CommandBody {
    /// The command's name as the client sends it (`"UID FETCH"`), for logs.
    pub fn name(&self) -> &'static str {
        match self {
            CommandBody::Capability => "CAPABILITY",
            CommandBody::Noop => "NOOP",
            CommandBody::Logout => "LOGOUT",
            CommandBody::StartTls => "STARTTLS",
            CommandBody::Authenticate { .. } => "AUTHENTICATE",
            CommandBody::Login { .. } => "LOGIN",
            CommandBody::Select { .. } => "SELECT",
            CommandBody::Examine { .. } => "EXAMINE",
            CommandBody::Create { .. } => "CREATE",
            CommandBody::Delete { .. } => "DELETE",
            CommandBody::Rename { .. } => "RENAME",
            CommandBody::Subscribe { .. } => "SUBSCRIBE",
            CommandBody::Unsubscribe { .. } => "UNSUBSCRIBE",
            CommandBody::List(_) => "LIST",
            CommandBody::Lsub { .. } => "LSUB",
            CommandBody::Status { .. } => "STATUS",
            CommandBody::Append { .. } => "APPEND",
            CommandBody::Check => "CHECK",
            CommandBody::Close => "CLOSE",
            CommandBody::Unselect => "UNSELECT",
            CommandBody::Expunge => "EXPUNGE",
            CommandBody::UidExpunge { .. } => "UID EXPUNGE",
            CommandBody::Search { uid: false, .. } => "SEARCH",
            CommandBody::Search { uid: true, .. } => "UID SEARCH",
            CommandBody::Fetch { uid: false, .. } => "FETCH",
            CommandBody::Fetch { uid: true, .. } => "UID FETCH",
            CommandBody::Store { uid: false, .. } => "STORE",
            CommandBody::Store { uid: true, .. } => "UID STORE",
            CommandBody::Copy { uid: false, .. } => "COPY",
            CommandBody::Copy { uid: true, .. } => "UID COPY",
            CommandBody::Move { uid: false, .. } => "MOVE",
            CommandBody::Move { uid: true, .. } => "UID MOVE",
            CommandBody::Idle => "IDLE",
            CommandBody::Enable { .. } => "ENABLE",
            CommandBody::Namespace => "NAMESPACE",
            CommandBody::Id { .. } => "ID",
            CommandBody::GetQuota { .. } => "GETQUOTA",
            CommandBody::GetQuotaRoot { .. } => "GETQUOTAROOT",
            CommandBody::SetQuota { .. } => "SETQUOTA",
            CommandBody::Notify(_) => "NOTIFY",
            CommandBody::Compress { .. } => "COMPRESS",
            CommandBody::Sort { uid: false, .. } => "SORT",
            CommandBody::Sort { uid: true, .. } => "UID SORT",
            CommandBody::Thread { uid: false, .. } => "THREAD",
            CommandBody::Thread { uid: true, .. } => "UID THREAD",
            CommandBody::CancelUpdate { .. } => "CANCELUPDATE",
            CommandBody::ResetKey { .. } => "RESETKEY",
            CommandBody::GenUrlAuth { .. } => "GENURLAUTH",
            CommandBody::UrlFetch { .. } => "URLFETCH",
            CommandBody::Convert { uid: false, .. } => "CONVERT",
            CommandBody::Convert { uid: true, .. } => "UID CONVERT",
            CommandBody::Conversions { .. } => "CONVERSIONS",
        }
    }
}

/// Parses one command from the front of `buf`.
///
/// `Ok(Parsed::Done(cmd, n))`: the command used the first `n` bytes.
/// `Ok(Parsed::Incomplete)`: call again with more bytes.
/// `Ok(Parsed::NeedLiteral { .. })`: the buffer ends after a literal header; for a
/// synchronising literal answer `+` first. `Err(e)`: answer `e.response()` and drop the
/// input `e.skip` describes.
// The error is returned once per refused command, so its size costs nothing; the
// plain `ParseError` keeps the session's code simple.
#[allow(clippy::result_large_err)]
pub fn parse_command(buf: &[u8], limits: &Limits) -> Result<Parsed<Command>, ParseError> {
    let len = match crate::lexer::frame(buf, limits).map_err(|e| *e)? {
        Frame::Incomplete => return Ok(Parsed::Incomplete),
        Frame::NeedLiteral { size, sync } => return Ok(Parsed::NeedLiteral { size, sync }),
        Frame::Complete(n) => n,
    };
    let mut r = Reader::new(&buf[..len], limits);
    let tag = r
        .take_while(crate::ids::is_tag_char, "tag")
        .ok()
        .filter(|_| matches!(r.peek(), Some(b' ' | b'\r')))
        .and_then(Tag::new);
    let fail = |mut e: ParseError, tag: Option<Tag>| {
        e.tag = tag;
        e.skip = Skip {
            bytes: len as u64,
            then_line: false,
        };
        if e.code.is_none() {
            e.code = Some(Code::ClientBug);
        }
        e
    };
    let Some(tag) = tag else {
        return Err(fail(ParseError::syntax("Missing or invalid tag"), None));
    };
    let result = r.sp().and_then(|()| parse_body(&mut r)).and_then(|body| {
        r.end()?;
        Ok(body)
    });
    match result {
        Ok(body) => Ok(Parsed::Done(Command { tag, body }, len)),
        Err(e) => Err(fail(*e, Some(tag))),
    }
}

/// The tag at the start of `buf`, if one is there: lets the session answer a command
/// it refuses before the whole command has arrived (e.g. `tag NO [TOOBIG]` on seeing an
/// APPEND's literal header).
pub fn command_tag(buf: &[u8]) -> Option<Tag> {
    crate::lexer::leading_tag(buf)
}

type R<T> = Result<T, Box<ParseError>>;

fn parse_body(r: &mut Reader<'_>) -> R<CommandBody> {
    let name = r.keyword()?;
    let body = match name.as_str() {
        "CAPABILITY" => CommandBody::Capability,
        "NOOP" => CommandBody::Noop,
        "LOGOUT" => CommandBody::Logout,
        "STARTTLS" => CommandBody::StartTls,
        "CHECK" => CommandBody::Check,
        "CLOSE" => CommandBody::Close,
        "UNSELECT" => CommandBody::Unselect,
        "EXPUNGE" => CommandBody::Expunge,
        "IDLE" => CommandBody::Idle,
        "NAMESPACE" => CommandBody::Namespace,
        "AUTHENTICATE" => auth::parse_authenticate(r)?,
        "LOGIN" => auth::parse_login(r)?,
        "SELECT" | "EXAMINE" => select::parse(r, name == "EXAMINE")?,
        "CREATE" => mailbox::parse_create(r)?,
        "DELETE" => CommandBody::Delete {
            mailbox: mailbox::parse_one(r)?,
        },
        "SUBSCRIBE" => CommandBody::Subscribe {
            mailbox: mailbox::parse_one(r)?,
        },
        "UNSUBSCRIBE" => CommandBody::Unsubscribe {
            mailbox: mailbox::parse_one(r)?,
        },
        "RENAME" => mailbox::parse_rename(r)?,
        "LIST" => list::parse_list(r)?,
        "LSUB" => list::parse_lsub(r)?,
        "STATUS" => status::parse(r)?,
        "APPEND" => append::parse(r)?,
        "SEARCH" => search::parse(r, false)?,
        "FETCH" => fetch::parse(r, false)?,
        "STORE" => store::parse(r, false)?,
        "COPY" | "MOVE" => mailbox::parse_copy(r, false, name == "MOVE")?,
        "UID" => {
            r.sp()?;
            let sub = r.keyword()?;
            match sub.as_str() {
                "SEARCH" => search::parse(r, true)?,
                "SORT" => sort::parse_sort(r, true)?,
                "THREAD" => sort::parse_thread(r, true)?,
                "FETCH" => fetch::parse(r, true)?,
                "STORE" => store::parse(r, true)?,
                "COPY" | "MOVE" => mailbox::parse_copy(r, true, sub == "MOVE")?,
                "CONVERT" => convert::parse(r, true)?,
                "EXPUNGE" => {
                    r.sp()?;
                    CommandBody::UidExpunge {
                        set: r.sequence_set()?,
                    }
                }
                _ => return Err(unknown(&format!("UID {sub}"))),
            }
        }
        "ENABLE" => enable::parse(r)?,
        "ID" => id::parse(r)?,
        "GETQUOTA" | "GETQUOTAROOT" | "SETQUOTA" => quota::parse(r, &name)?,
        "NOTIFY" => notify::parse(r)?,
        "COMPRESS" => compress::parse(r)?,
        "SORT" => sort::parse_sort(r, false)?,
        "THREAD" => sort::parse_thread(r, false)?,
        "CANCELUPDATE" => sort::parse_cancel_update(r)?,
        "RESETKEY" => urlauth::parse_resetkey(r)?,
        "GENURLAUTH" => urlauth::parse_genurlauth(r)?,
        "URLFETCH" => urlauth::parse_urlfetch(r)?,
        "CONVERT" => convert::parse(r, false)?,
        "CONVERSIONS" => convert::parse_conversions(r)?,
        _ => return Err(unknown(&name)),
    };
    Ok(body)
}

fn unknown(name: &str) -> Box<ParseError> {
    let shown: String = name.chars().take(40).collect();
    Box::new(
        ParseError::new(
            crate::error::ParseErrorKind::UnknownCommand,
            format!("Unknown command {shown}"),
        )
        .with_code(Code::ClientBug),
    )
}

impl Command {
    /// The command as a client sends it, CRLF included, with synchronising literals
    /// where a string cannot be quoted.
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        out.extend_from_slice(self.tag.as_str().as_bytes());
        out.push(b' ');
        let b = &self.body;
        match b {
            CommandBody::Capability
            | CommandBody::Noop
            | CommandBody::Logout
            | CommandBody::StartTls
            | CommandBody::Check
            | CommandBody::Close
            | CommandBody::Unselect
            | CommandBody::Expunge
            | CommandBody::Idle
            | CommandBody::Namespace => out.extend_from_slice(b.name().as_bytes()),
            CommandBody::Authenticate { .. } | CommandBody::Login { .. } => {
                auth::encode(b, opts, out)
            }
            CommandBody::Select { .. } | CommandBody::Examine { .. } => {
                select::encode(b, opts, out)
            }
            CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. }
            | CommandBody::Subscribe { .. }
            | CommandBody::Unsubscribe { .. }
            | CommandBody::Copy { .. }
            | CommandBody::Move { .. } => mailbox::encode(b, opts, out),
            CommandBody::List(_) | CommandBody::Lsub { .. } => list::encode(b, opts, out),
            CommandBody::Status { .. } => status::encode(b, opts, out),
            CommandBody::Append { .. } => append::encode(b, opts, out),
            CommandBody::UidExpunge { set } => {
                out.extend_from_slice(format!("UID EXPUNGE {set}").as_bytes())
            }
            CommandBody::Search { .. } => search::encode(b, opts, out),
            CommandBody::Fetch { .. } => fetch::encode(b, opts, out),
            CommandBody::Store { .. } => store::encode(b, opts, out),
            CommandBody::Enable { .. } => enable::encode(b, out),
            CommandBody::Id { .. } => id::encode(b, opts, out),
            CommandBody::GetQuota { .. }
            | CommandBody::GetQuotaRoot { .. }
            | CommandBody::SetQuota { .. } => quota::encode(b, opts, out),
            CommandBody::Notify(_) => notify::encode(b, opts, out),
            CommandBody::Compress { .. } => compress::encode(b, out),
            CommandBody::Sort { .. }
            | CommandBody::Thread { .. }
            | CommandBody::CancelUpdate { .. } => sort::encode(b, opts, out),
            CommandBody::ResetKey { .. }
            | CommandBody::GenUrlAuth { .. }
            | CommandBody::UrlFetch { .. } => urlauth::encode(b, opts, out),
            CommandBody::Convert { .. } | CommandBody::Conversions { .. } => {
                convert::encode(b, opts, out)
            }
        }
        out.extend_from_slice(b"\r\n");
    }

    pub fn to_bytes(&self, opts: &EncodeOptions) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(opts, &mut out);
        out
    }
}
