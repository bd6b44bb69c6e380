//! The Zest store: the only code that touches SQLite. Its API speaks the
//! domain (accounts, mailboxes, messages, address books, lists, scripts,
//! queue); writes go through one group-committing writer per process, reads
//! through a pool of connections on blocking threads, and every committed
//! change reaches subscribers through the change feed.

mod account;
mod addrbook;
mod backup;
mod blobfile;
mod changes;
mod checkpoint;
mod compose;
mod connection;
mod copy;
mod credcache;
mod delivery;
mod dkim;
mod error;
mod fetch;
mod list;
mod listing;
mod mailbox;
mod message;
mod migrate;
mod open;
mod queue;
mod sieve;
mod sort;
pub mod summary;
mod types;
mod urlauth;
mod web;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::Connection;
use tokio::sync::Semaphore;

pub use account::{Account, Alias, Domain};
pub use addrbook::{AddressBook, Contact, ImportSummary, NewContact};
pub use backup::{BACKUP_DATABASE, BACKUP_MANIFEST, BackupManifest, restore_backup, verify_backup};
pub use changes::{Change, ChangeKind, ChangeStream, FeedItem};
pub use compose::{ComposedMessage, Piece};
pub use copy::Copied;
pub use delivery::{Delivered, Delivery, DuplicateMark, Filing, VacationMark};
pub use dkim::DkimKey;
pub use error::{Result, StoreError, Subject};
pub use fetch::{MessageMeta, SearchFields};
pub use list::{List, ListVisibility};
pub use mailbox::{MailboxInfo, SPECIAL_MAILBOXES};
pub use message::{Entry, FlagOp, MailboxStatus, NewMessage};
pub use migrate::SCHEMA_VERSION;
pub use open::{MailboxContents, OpenedMailbox};
pub use queue::{
    BodyType, DsnRet, OutboundMessage, OutboundRecipient, Outcome, QueueSource, QueuedMessage,
    QueuedRecipient, RecipientId, RecipientStatus, ReportAction, recipient_domain,
};
pub use sieve::Script;
pub use sort::{SortColumns, SortRow};
pub use types::{
    AccountId, BlobId, BookId, ContactId, DomainId, DomainName, EmailAddress, Flags, ListId,
    ListUri, MailboxId, ModSeq, QueueId, ScriptId, Uid, UidValidity, normalize_member,
};
pub use urlauth::URLAUTH_KEY_BYTES;

use blobfile::BlobDir;
use changes::Feed;
use checkpoint::Checkpointer;
use connection::Role;
pub use web::{ApiToken, ServerCounts, WebSession};
pub use writer::WriteStats;
use writer::{Tx, Writer};

/// Options for opening a store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Recorded when the database is created; names the `tag:` list prefix.
    pub hostname: String,
    /// Read connections kept open at most.
    pub readers: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            hostname: "localhost".into(),
            readers: 8,
        }
    }
}

/// A handle to the store; cheap to clone, shared by every task of a process.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    blobs: Arc<BlobDir>,
    writer: Writer,
    feed: Arc<Feed>,
    checkpointer: Arc<Checkpointer>,
    idle_readers: Mutex<Vec<Connection>>,
    reader_permits: Semaphore,
    verified: credcache::VerifiedCache,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.feed.stop();
        self.checkpointer.stop();
    }
}

impl Store {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<Store> {
        Self::open_with(path, OpenOptions::default()).await
    }

    pub async fn open_with(path: &Path, options: OpenOptions) -> Result<Store> {
        let path = path.to_path_buf();
        let p = path.clone();
        let (conn, feed, checkpointer) = blocking(move || {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let mut conn = connection::open(&p, Role::Writer)?;
            migrate::migrate(
                &mut conn,
                &migrate::InstallInfo {
                    hostname: &options.hostname,
                },
                SCHEMA_VERSION,
            )?;
            let feed = Feed::start(&p)?;
            let checkpointer = Checkpointer::start(&p)?;
            Ok((conn, feed, checkpointer))
        })
        .await?;
        let (f, c) = (feed.clone(), checkpointer.clone());
        let blobs = Arc::new(BlobDir::for_database(&path));
        let writer = Writer::spawn(
            conn,
            blobs.clone(),
            Box::new(move || {
                f.notify();
                c.wrote();
            }),
            {
                let c = checkpointer.clone();
                Box::new(move || c.restart_wanted())
            },
        )?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                blobs,
                writer,
                feed,
                checkpointer,
                idle_readers: Mutex::new(Vec::new()),
                reader_permits: Semaphore::new(options.readers.max(1)),
                verified: credcache::VerifiedCache::new(),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Finishes queued writes, checkpoints the WAL and stops the writer.
    /// Later calls on any clone of this handle fail with `Closed`.
    pub async fn close(&self) {
        self.inner.writer.close().await;
        self.inner.feed.stop();
        self.inner.checkpointer.stop();
    }

    /// How many commits this process made, carrying how many writes: the
    /// ratio shows how well group commit shares fsyncs.
    pub fn write_stats(&self) -> WriteStats {
        self.inner.writer.stats()
    }

    /// Subscribes to one account's changes, in commit order, from any process.
    pub fn subscribe_changes(&self, account: AccountId) -> ChangeStream {
        self.inner.feed.subscribe(Some(account))
    }

    /// Subscribes to every change (queue runner, admin dashboard).
    pub fn subscribe_all_changes(&self) -> ChangeStream {
        self.inner.feed.subscribe(None)
    }

    /// `PRAGMA integrity_check`: an empty list means the database is sound.
    pub async fn integrity_check(&self) -> Result<Vec<String>> {
        self.read(|c| {
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
            let problems: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
            Ok(problems.into_iter().filter(|p| p != "ok").collect())
        })
        .await
    }

    pub async fn schema_version(&self) -> Result<i64> {
        self.read(migrate::current_version).await
    }

    /// A value the installation recorded when the database was made.
    pub async fn meta(&self, key: &'static str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        self.read(move |c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
        .await
    }

    /// Runs `f` in one write transaction (shared with other queued writes);
    /// returns after the commit is durable.
    pub(crate) async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> Result<T> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }

    /// Like `write`, for a job whose data the caller prepares first (hashing,
    /// parsing): `prepare` runs on a blocking thread while the writer knows the
    /// job is coming, so concurrent jobs share one commit.
    pub(crate) async fn prepare_and_write<P, T, F>(
        &self,
        prepare: impl FnOnce() -> Result<P> + Send + 'static,
        f: F,
    ) -> Result<T>
    where
        P: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>, P) -> Result<T> + Send + 'static,
    {
        let prepared = blocking(prepare).await?;
        self.inner.writer.write(move |tx| f(tx, prepared)).await
    }

    /// Runs `f` on a read connection on a blocking thread.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|_| StoreError::Closed)?;
        let inner = self.inner.clone();
        blocking(move || {
            let pooled = inner.idle_readers.lock().ok().and_then(|mut v| v.pop());
            let conn = match pooled {
                Some(c) => c,
                None => connection::open(&inner.path, Role::Reader)?,
            };
            let r = f(&conn);
            if let Ok(mut v) = inner.idle_readers.lock() {
                v.push(conn);
            }
            r
        })
        .await
    }
}

/// Runs blocking work off the async worker threads.
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Internal(format!("blocking task failed: {e}")))?
}
