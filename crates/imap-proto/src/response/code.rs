//! Response codes (RFC 3501 7.1, RFC 5530, RFC 4315, RFC 7162, RFC 9051 7.1).

use crate::flag::Flag;
use crate::ids::{ModSeq, SeqNum, Uid, UidValidity};
use crate::sequence::SequenceSet;

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Code {
    Alert,
    /// `BADCHARSET (UTF-8 US-ASCII)`
    BadCharset(Vec<String>),
    Capability(Vec<String>),
    Parse,
    /// `PERMANENTFLAGS (...)`; include `Flag::Wildcard` for `\*`.
    PermanentFlags(Vec<Flag>),
    ReadOnly,
    ReadWrite,
    TryCreate,
    UidNext(Uid),
    UidValidity(UidValidity),
    Unseen(SeqNum),
    /// `APPENDUID uidvalidity uid-set` (RFC 4315)
    AppendUid {
        uid_validity: UidValidity,
        uids: SequenceSet,
    },
    /// `COPYUID uidvalidity source-uids dest-uids` (RFC 4315)
    CopyUid {
        uid_validity: UidValidity,
        source: SequenceSet,
        dest: SequenceSet,
    },
    UidNotSticky,
    OverQuota,
    Limit,
    Nonexistent,
    AlreadyExists,
    Cannot,
    InUse,
    ServerBug,
    ClientBug,
    NoPerm,
    TooBig,
    Unavailable,
    AuthenticationFailed,
    AuthorizationFailed,
    Expired,
    PrivacyRequired,
    ContactAdmin,
    ExpungeIssued,
    Corruption,
    NotSaved,
    HasChildren,
    UnknownCte,
    /// `HIGHESTMODSEQ n` (RFC 7162)
    HighestModSeq(ModSeq),
    /// `NOMODSEQ`
    NoModSeq,
    /// `MODIFIED set` (RFC 7162 3.1.3)
    Modified(SequenceSet),
    /// `CLOSED` (RFC 7162 3.2.11)
    Closed,
    /// `NOTIFICATIONOVERFLOW` (RFC 5465 5.8)
    NotificationOverflow,
    /// `BADEVENT (event ...)`: the events the server supports (RFC 5465 3.1)
    BadEvent(Vec<String>),
    /// `COMPRESSIONACTIVE` (RFC 4978 3)
    CompressionActive,
    /// Any other code, sent verbatim: `Other("X-FOO", Some("bar"))` is `[X-FOO bar]`.
    Other(String, Option<String>),
}

use super::EncodeOptions;
use super::encode::{write_astring, write_spaced};

impl Code {
    /// The code without its brackets.
    pub fn encode(&self, opts: &EncodeOptions, out: &mut Vec<u8>) {
        let simple = |out: &mut Vec<u8>, s: &str| out.extend_from_slice(s.as_bytes());
        match self {
            Code::Alert => simple(out, "ALERT"),
            Code::BadCharset(list) => {
                simple(out, "BADCHARSET");
                if !list.is_empty() {
                    out.extend_from_slice(b" (");
                    write_spaced(out, list, |out, c| write_astring(out, c.as_bytes(), opts));
                    out.push(b')');
                }
            }
            Code::Capability(caps) => {
                simple(out, "CAPABILITY");
                for c in caps {
                    out.push(b' ');
                    out.extend_from_slice(c.as_bytes());
                }
            }
            Code::Parse => simple(out, "PARSE"),
            Code::PermanentFlags(flags) => {
                simple(out, "PERMANENTFLAGS (");
                write_spaced(out, flags, |out, f| {
                    out.extend_from_slice(f.to_string().as_bytes())
                });
                out.push(b')');
            }
            Code::ReadOnly => simple(out, "READ-ONLY"),
            Code::ReadWrite => simple(out, "READ-WRITE"),
            Code::TryCreate => simple(out, "TRYCREATE"),
            Code::UidNext(n) => simple(out, &format!("UIDNEXT {n}")),
            Code::UidValidity(n) => simple(out, &format!("UIDVALIDITY {n}")),
            Code::Unseen(n) => simple(out, &format!("UNSEEN {n}")),
            Code::AppendUid { uid_validity, uids } => {
                simple(out, &format!("APPENDUID {uid_validity} {uids}"))
            }
            Code::CopyUid {
                uid_validity,
                source,
                dest,
            } => simple(out, &format!("COPYUID {uid_validity} {source} {dest}")),
            Code::UidNotSticky => simple(out, "UIDNOTSTICKY"),
            Code::OverQuota => simple(out, "OVERQUOTA"),
            Code::Limit => simple(out, "LIMIT"),
            Code::Nonexistent => simple(out, "NONEXISTENT"),
            Code::AlreadyExists => simple(out, "ALREADYEXISTS"),
            Code::Cannot => simple(out, "CANNOT"),
            Code::InUse => simple(out, "INUSE"),
            Code::ServerBug => simple(out, "SERVERBUG"),
            Code::ClientBug => simple(out, "CLIENTBUG"),
            Code::NoPerm => simple(out, "NOPERM"),
            Code::TooBig => simple(out, "TOOBIG"),
            Code::Unavailable => simple(out, "UNAVAILABLE"),
            Code::AuthenticationFailed => simple(out, "AUTHENTICATIONFAILED"),
            Code::AuthorizationFailed => simple(out, "AUTHORIZATIONFAILED"),
            Code::Expired => simple(out, "EXPIRED"),
            Code::PrivacyRequired => simple(out, "PRIVACYREQUIRED"),
            Code::ContactAdmin => simple(out, "CONTACTADMIN"),
            Code::ExpungeIssued => simple(out, "EXPUNGEISSUED"),
            Code::Corruption => simple(out, "CORRUPTION"),
            Code::NotSaved => simple(out, "NOTSAVED"),
            Code::HasChildren => simple(out, "HASCHILDREN"),
            Code::UnknownCte => simple(out, "UNKNOWN-CTE"),
            Code::HighestModSeq(n) => simple(out, &format!("HIGHESTMODSEQ {n}")),
            Code::NoModSeq => simple(out, "NOMODSEQ"),
            Code::Modified(set) => simple(out, &format!("MODIFIED {set}")),
            Code::Closed => simple(out, "CLOSED"),
            Code::NotificationOverflow => simple(out, "NOTIFICATIONOVERFLOW"),
            Code::BadEvent(events) => {
                simple(out, "BADEVENT (");
                write_spaced(out, events, |out, e| out.extend_from_slice(e.as_bytes()));
                out.push(b')');
            }
            Code::CompressionActive => simple(out, "COMPRESSIONACTIVE"),
            Code::Other(name, text) => {
                simple(out, name);
                if let Some(t) = text {
                    out.push(b' ');
                    out.extend(
                        t.bytes()
                            .filter(|&b| !matches!(b, b'\r' | b'\n' | 0 | b']')),
                    );
                }
            }
        }
    }
}
