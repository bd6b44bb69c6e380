//! The tagged outcome of a command, and the one place store and auth errors
//! become IMAP responses.

use imap_proto::{Code, Status};
use store::StoreError;

/// What a handler answers in the tagged response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: Status,
    pub code: Option<Code>,
    pub text: String,
}

impl Reply {
    pub fn ok(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Ok,
            code: None,
            text: text.into(),
        }
    }

    pub fn no(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::No,
            code: None,
            text: text.into(),
        }
    }

    pub fn bad(text: impl Into<String>) -> Reply {
        Reply {
            status: Status::Bad,
            code: None,
            text: text.into(),
        }
    }

    pub fn code(mut self, code: Code) -> Reply {
        self.code = Some(code);
        self
    }
}

/// A handler's result: `Err` carries a NO or BAD.
pub type Outcome = Result<Reply, Reply>;

impl From<StoreError> for Reply {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::NotFound(store::Subject::Mailbox(_)) => {
                Reply::no(e.to_string()).code(Code::Nonexistent)
            }
            StoreError::NotFound(store::Subject::Message(_)) => {
                Reply::no(e.to_string()).code(Code::ExpungeIssued)
            }
            StoreError::NotFound(_) => Reply::no(e.to_string()).code(Code::Nonexistent),
            StoreError::AlreadyExists(_) => Reply::no(e.to_string()).code(Code::AlreadyExists),
            StoreError::OverQuota => Reply::no("Over quota").code(Code::OverQuota),
            StoreError::Invalid { .. } => Reply::bad(e.to_string()).code(Code::ClientBug),
            StoreError::Refused(_) => Reply::no(e.to_string()).code(Code::Cannot),
            StoreError::UnknownDomain(_) => Reply::no(e.to_string()).code(Code::Nonexistent),
            StoreError::DiskFull => Reply::no("The disk is full").code(Code::Limit),
            _ => {
                tracing::error!(error = %e, "store failure");
                Reply::no("Temporary failure, try again").code(Code::Unavailable)
            }
        }
    }
}

impl From<zest_core::Error> for Reply {
    fn from(e: zest_core::Error) -> Self {
        use zest_core::Error as E;
        match &e {
            E::EncryptionRequired => Reply::no(e.to_string()).code(Code::PrivacyRequired),
            E::RateLimited { .. } => Reply::no(e.to_string()).code(Code::Unavailable),
            E::AuthUnavailable(_) => {
                Reply::no("Authentication temporarily unavailable").code(Code::Unavailable)
            }
            E::SaslCancelled => Reply::bad("Authentication cancelled"),
            E::MalformedSasl(_) | E::AuthzidNotPermitted => Reply::bad(e.to_string()),
            _ => Reply::no("Authentication failed").code(Code::AuthenticationFailed),
        }
    }
}
