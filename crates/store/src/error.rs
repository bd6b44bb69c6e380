//! The store's one error type; daemons map it to their protocol's replies.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the database has schema version {found}, newer than this binary's {supported}; upgrade zest"
    )]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("migration {version} failed: {reason}")]
    Migration { version: i64, reason: String },
    #[error("the store is closed")]
    Closed,
    #[error("the database stayed busy; try again")]
    Busy,
    #[error("the disk is full")]
    DiskFull,
    #[error("{0} not found")]
    NotFound(Subject),
    #[error("{0} already exists")]
    AlreadyExists(Subject),
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    #[error("unknown domain {0}")]
    UnknownDomain(String),
    #[error("over quota")]
    OverQuota,
    #[error("the message would be larger than the limit")]
    TooLarge,
    #[error("{0}")]
    Refused(String),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// What a NotFound/AlreadyExists error is about, for a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Domain(String),
    Account(String),
    Alias(String),
    Address(String),
    Mailbox(String),
    Message(u32),
    AddressBook(String),
    Contact(String),
    List(String),
    ListMember(String),
    Script(String),
    QueueEntry(i64),
    ApiToken(i64),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Domain(s) => write!(f, "domain {s}"),
            Subject::Account(s) => write!(f, "user {s}"),
            Subject::Alias(s) => write!(f, "alias {s}"),
            Subject::Address(s) => write!(f, "address {s}"),
            Subject::Mailbox(s) => write!(f, "mailbox {s}"),
            Subject::Message(uid) => write!(f, "message UID {uid}"),
            Subject::AddressBook(s) => write!(f, "address book {s}"),
            Subject::Contact(s) => write!(f, "contact {s}"),
            Subject::List(s) => write!(f, "list {s}"),
            Subject::ListMember(s) => write!(f, "list member {s}"),
            Subject::Script(s) => write!(f, "script {s}"),
            Subject::QueueEntry(id) => write!(f, "queue entry {id}"),
            Subject::ApiToken(id) => write!(f, "API token {id}"),
        }
    }
}

impl StoreError {
    /// A failure the caller should report as temporary (SMTP 4xx, IMAP NO [UNAVAILABLE]):
    /// nothing was wrong with the request itself.
    pub fn is_temporary(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(_)
                | StoreError::Io(_)
                | StoreError::Closed
                | StoreError::Busy
                | StoreError::DiskFull
                | StoreError::Internal(_)
        )
    }

    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            what,
            reason: reason.into(),
        }
    }

    /// SQLite's own codes for a busy or full database, lifted to typed variants.
    pub(crate) fn classify(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match e.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy) | Some(ErrorCode::DatabaseLocked) => StoreError::Busy,
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
