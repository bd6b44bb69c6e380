//! Server responses (RFC 3501 7, RFC 9051 7) and their encoding to wire bytes.

pub mod code;
pub mod convert;
pub mod encode;
pub mod fetch;
pub mod list;
pub mod namespace;
pub mod quota;
pub mod search;
pub mod status;
pub mod thread;
pub mod urlauth;

pub use code::Code;

use crate::flag::Flag;
use crate::ids::{SeqNum, Tag};
use crate::mailbox::MailboxName;
use crate::sequence::SequenceSet;

use fetch::FetchValue;
use list::ListData;
use namespace::Namespace;
use quota::QuotaResource;
use search::ESearch;
use status::StatusValue;

/// How responses are encoded for this connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// Mailbox names go out as UTF-8 (IMAP4rev2 or UTF8=ACCEPT enabled) instead of
    /// modified UTF-7, and strings may hold 8-bit text as quoted strings.
    pub utf8: bool,
}

/// Anything the server sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    Status(StatusResponse),
    Data(Data),
    Continue(Continuation),
}

/// `OK`, `NO`, `BAD`, `PREAUTH`, `BYE`, tagged or untagged (`tag: None` is `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusResponse {
    pub tag: Option<Tag>,
    pub status: Status,
    pub code: Option<Code>,
    pub text: String,
}

impl StatusResponse {
    pub fn tagged(tag: Tag, status: Status, code: Option<Code>, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: Some(tag),
            status,
            code,
            text: text.into(),
        }
    }

    pub fn untagged(status: Status, code: Option<Code>, text: impl Into<String>) -> Self {
        StatusResponse {
            tag: None,
            status,
            code,
            text: text.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    No,
    Bad,
    PreAuth,
    Bye,
}

impl Status {
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::No => "NO",
            Status::Bad => "BAD",
            Status::PreAuth => "PREAUTH",
            Status::Bye => "BYE",
        }
    }
}

/// A command continuation request (`+ ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Continuation {
    /// `+ [code] text` (e.g. `+ Ready for literal data`, `+ idling`).
    Text { code: Option<Code>, text: String },
    /// `+ base64` (a SASL challenge; empty data gives `+ `).
    Base64(Vec<u8>),
}

/// Untagged data responses (`* ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Data {
    /// `* CAPABILITY IMAP4rev1 ...`
    Capability(Vec<String>),
    List(ListData),
    Lsub(ListData),
    Status {
        mailbox: MailboxName,
        items: Vec<StatusValue>,
    },
    /// `* SEARCH 2 3 6` with an optional `(MODSEQ n)` (RFC 7162 3.1.5).
    Search {
        ids: Vec<u32>,
        mod_seq: Option<crate::ids::ModSeq>,
    },
    ESearch(ESearch),
    Flags(Vec<Flag>),
    Exists(u32),
    Recent(u32),
    Expunge(SeqNum),
    Fetch {
        seq: SeqNum,
        items: Vec<FetchValue>,
    },
    /// `* ENABLED ...` (RFC 5161)
    Enabled(Vec<String>),
    /// `* NAMESPACE personal other shared` (RFC 2342); `None` is NIL.
    Namespace {
        personal: Option<Vec<Namespace>>,
        other: Option<Vec<Namespace>>,
        shared: Option<Vec<Namespace>>,
    },
    /// `* ID (...)` or `* ID NIL` (RFC 2971)
    Id(Option<Vec<(String, Option<String>)>>),
    /// `* QUOTA root (resource usage limit ...)` (RFC 9208)
    Quota {
        root: String,
        resources: Vec<QuotaResource>,
    },
    /// `* QUOTAROOT mailbox root ...`
    QuotaRoot {
        mailbox: MailboxName,
        roots: Vec<String>,
    },
    /// `* VANISHED [(EARLIER)] uids` (RFC 7162 3.2.10)
    Vanished {
        earlier: bool,
        uids: SequenceSet,
    },
    /// `* n CONVERTED (TAG "tag") (...)` (RFC 5259 8.1)
    Converted {
        seq: SeqNum,
        tag: Tag,
        items: Vec<convert::ConvertValue>,
    },
    /// `* CONVERSION "from" "to" (param ...)` (RFC 5259 5.2)
    Conversion {
        from: String,
        to: String,
        params: Vec<String>,
    },
    /// `* SORT 2 3 6` (RFC 5256 3) with an optional `(MODSEQ n)` (RFC 7162 3.1.5).
    Sort {
        ids: Vec<u32>,
        mod_seq: Option<crate::ids::ModSeq>,
    },
    /// `* THREAD (2)(3 6 (4 23)(44 7 96))` (RFC 5256 4).
    Thread(Vec<thread::ThreadNode>),
    /// A pre-encoded response: the bytes after `* `, without the final CRLF.
    Raw(Vec<u8>),
}

impl Response {
    /// Appends the wire form of this response, CRLF included, to `out`.
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        match self {
            Response::Status(s) => s.encode(opts, out),
            Response::Data(d) => d.encode(opts, out),
            Response::Continue(c) => c.encode(opts, out),
        }
    }

    /// The wire form of this response.
    pub fn to_bytes(&self, opts: &EncodeOptions) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(opts, &mut out);
        out
    }
}

impl From<StatusResponse> for Response {
    fn from(s: StatusResponse) -> Self {
        Response::Status(s)
    }
}

impl From<Data> for Response {
    fn from(d: Data) -> Self {
        Response::Data(d)
    }
}

impl From<Continuation> for Response {
    fn from(c: Continuation) -> Self {
        Response::Continue(c)
    }
}

/// Response text (`text = 1*TEXT-CHAR`): CR, LF and NUL become spaces; empty text gets a
/// placeholder because the grammar requires at least one character.
fn write_text(out: &mut Vec<u8>, text: &str) {
    if text.is_empty() {
        out.extend_from_slice(b"completed");
        return;
    }
    out.extend(text.bytes().map(|b| {
        if matches!(b, b'\r' | b'\n' | 0) {
            b' '
        } else {
            b
        }
    }));
}

impl StatusResponse {
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        match &self.tag {
            Some(t) => out.extend_from_slice(t.as_str().as_bytes()),
            None => out.push(b'*'),
        }
        out.push(b' ');
        out.extend_from_slice(self.status.as_str().as_bytes());
        out.push(b' ');
        if let Some(code) = &self.code {
            out.push(b'[');
            code.encode(opts, out);
            out.extend_from_slice(b"] ");
        }
        write_text(out, &self.text);
        out.extend_from_slice(b"\r\n");
    }
}

impl Continuation {
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        out.extend_from_slice(b"+ ");
        match self {
            Continuation::Text { code, text } => {
                if let Some(code) = code {
                    out.push(b'[');
                    code.encode(opts, out);
                    out.extend_from_slice(b"] ");
                }
                write_text(out, text);
            }
            Continuation::Base64(data) => {
                use base64::Engine;
                out.extend_from_slice(
                    base64::engine::general_purpose::STANDARD
                        .encode(data)
                        .as_bytes(),
                );
            }
        }
        out.extend_from_slice(b"\r\n");
    }
}

fn write_atoms(out: &mut Vec<u8>, atoms: &[String]) {
    for a in atoms {
        out.push(b' ');
        out.extend_from_slice(a.as_bytes());
    }
}

fn write_flags(out: &mut Vec<u8>, flags: &[Flag]) {
    out.push(b'(');
    encode::write_spaced(out, flags, |out, f| {
        out.extend_from_slice(f.to_string().as_bytes())
    });
    out.push(b')');
}

impl Data {
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        out.extend_from_slice(b"* ");
        match self {
            Data::Capability(caps) => {
                out.extend_from_slice(b"CAPABILITY");
                write_atoms(out, caps);
            }
            Data::List(l) => {
                out.extend_from_slice(b"LIST ");
                l.encode(opts, out);
            }
            Data::Lsub(l) => {
                out.extend_from_slice(b"LSUB ");
                l.encode(opts, out);
            }
            Data::Status { mailbox, items } => {
                out.extend_from_slice(b"STATUS ");
                encode::write_mailbox(out, mailbox, opts);
                out.extend_from_slice(b" (");
                encode::write_spaced(out, items, |out, i| i.encode(out));
                out.push(b')');
            }
            Data::Search { ids, mod_seq } => {
                out.extend_from_slice(b"SEARCH");
                for id in ids {
                    out.extend_from_slice(format!(" {id}").as_bytes());
                }
                if let Some(m) = mod_seq {
                    out.extend_from_slice(format!(" (MODSEQ {m})").as_bytes());
                }
            }
            Data::ESearch(e) => e.encode(out),
            Data::Flags(flags) => {
                out.extend_from_slice(b"FLAGS ");
                write_flags(out, flags);
            }
            Data::Exists(n) => out.extend_from_slice(format!("{n} EXISTS").as_bytes()),
            Data::Recent(n) => out.extend_from_slice(format!("{n} RECENT").as_bytes()),
            Data::Expunge(n) => out.extend_from_slice(format!("{n} EXPUNGE").as_bytes()),
            Data::Fetch { seq, items } => {
                out.extend_from_slice(format!("{seq} FETCH (").as_bytes());
                encode::write_spaced(out, items, |out, i| i.encode(opts, out));
                out.push(b')');
            }
            Data::Enabled(caps) => {
                out.extend_from_slice(b"ENABLED");
                write_atoms(out, caps);
            }
            Data::Namespace {
                personal,
                other,
                shared,
            } => {
                out.extend_from_slice(b"NAMESPACE ");
                namespace::write_namespaces(out, personal, opts);
                out.push(b' ');
                namespace::write_namespaces(out, other, opts);
                out.push(b' ');
                namespace::write_namespaces(out, shared, opts);
            }
            Data::Id(params) => {
                out.extend_from_slice(b"ID ");
                crate::command::id::write_params(out, params, opts);
            }
            Data::Quota { root, resources } => {
                out.extend_from_slice(b"QUOTA ");
                encode::write_astring(out, root.as_bytes(), opts);
                out.extend_from_slice(b" (");
                encode::write_spaced(out, resources, |out, r| {
                    out.extend_from_slice(format!("{} {} {}", r.name, r.usage, r.limit).as_bytes())
                });
                out.push(b')');
            }
            Data::QuotaRoot { mailbox, roots } => {
                out.extend_from_slice(b"QUOTAROOT ");
                encode::write_mailbox(out, mailbox, opts);
                for r in roots {
                    out.push(b' ');
                    encode::write_astring(out, r.as_bytes(), opts);
                }
            }
            Data::Vanished { earlier, uids } => {
                out.extend_from_slice(b"VANISHED ");
                if *earlier {
                    out.extend_from_slice(b"(EARLIER) ");
                }
                out.extend_from_slice(uids.to_string().as_bytes());
            }
            Data::Converted { seq, tag, items } => {
                convert::encode_converted(out, seq.0, tag, items, opts)
            }
            Data::Conversion { from, to, params } => {
                convert::encode_conversion(out, from, to, params, opts)
            }
            Data::Sort { ids, mod_seq } => {
                use std::io::Write;
                out.extend_from_slice(b"SORT");
                for id in ids {
                    // Writing to a Vec cannot fail.
                    let _ = write!(out, " {id}");
                }
                if let Some(m) = mod_seq {
                    out.extend_from_slice(format!(" (MODSEQ {m})").as_bytes());
                }
            }
            Data::Thread(threads) => thread::encode(threads, out),
            Data::Raw(bytes) => out.extend_from_slice(bytes),
        }
        out.extend_from_slice(b"\r\n");
    }
}
