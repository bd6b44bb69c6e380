//! The change feed. Every committed write appends rows to `change_log`; one
//! tailer thread per process reads new rows in commit order and publishes
//! them to subscribers. Writes from this process wake the tailer at once;
//! writes from other processes are seen by polling `PRAGMA data_version`, so
//! callers never know which process wrote.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::broadcast;

use crate::connection::{self, Role};
use crate::error::Result;
use crate::types::{AccountId, MailboxId, ModSeq, Uid};
use crate::writer::Tx;

/// How often the tailer looks for commits made by other processes.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// Events a slow subscriber may fall behind before it is told it missed some.
const CHANNEL_CAPACITY: usize = 4096;
const READ_CHUNK: i64 = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    MessageAdded {
        mailbox: MailboxId,
        uid: Uid,
        modseq: ModSeq,
    },
    FlagsChanged {
        mailbox: MailboxId,
        uid: Uid,
        modseq: ModSeq,
    },
    MessageExpunged {
        mailbox: MailboxId,
        uid: Uid,
        modseq: ModSeq,
    },
    MailboxCreated {
        mailbox: MailboxId,
        name: String,
    },
    MailboxDeleted {
        mailbox: MailboxId,
        name: String,
    },
    MailboxRenamed {
        mailbox: MailboxId,
        old_name: String,
        name: String,
    },
    SubscriptionChanged {
        name: String,
    },
    ScriptChanged {
        name: String,
    },
    AddressBookChanged,
    ListChanged,
    AccountChanged,
    /// Something was queued for outbound delivery (account is None).
    QueueChanged,
}

impl ChangeKind {
    fn code(&self) -> i64 {
        match self {
            ChangeKind::MessageAdded { .. } => 1,
            ChangeKind::FlagsChanged { .. } => 2,
            ChangeKind::MessageExpunged { .. } => 3,
            ChangeKind::MailboxCreated { .. } => 4,
            ChangeKind::MailboxDeleted { .. } => 5,
            ChangeKind::MailboxRenamed { .. } => 6,
            ChangeKind::SubscriptionChanged { .. } => 7,
            ChangeKind::ScriptChanged { .. } => 8,
            ChangeKind::AddressBookChanged => 9,
            ChangeKind::ListChanged => 10,
            ChangeKind::AccountChanged => 11,
            ChangeKind::QueueChanged => 12,
        }
    }
}

/// One committed change, in commit order (`seq` increases across processes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub account: Option<AccountId>,
    pub kind: ChangeKind,
}

impl Tx<'_> {
    /// Records a change; it is published only if the transaction commits.
    pub(crate) fn log(&self, account: Option<AccountId>, kind: ChangeKind) -> Result<()> {
        let (mailbox, uid, modseq, name, old_name) = match &kind {
            ChangeKind::MessageAdded {
                mailbox,
                uid,
                modseq,
            }
            | ChangeKind::FlagsChanged {
                mailbox,
                uid,
                modseq,
            }
            | ChangeKind::MessageExpunged {
                mailbox,
                uid,
                modseq,
            } => (
                Some(mailbox.0),
                Some(uid.0),
                Some(modseq.0 as i64),
                None,
                None,
            ),
            ChangeKind::MailboxCreated { mailbox, name }
            | ChangeKind::MailboxDeleted { mailbox, name } => {
                (Some(mailbox.0), None, None, Some(name.as_str()), None)
            }
            ChangeKind::MailboxRenamed {
                mailbox,
                old_name,
                name,
            } => (
                Some(mailbox.0),
                None,
                None,
                Some(name.as_str()),
                Some(old_name.as_str()),
            ),
            ChangeKind::SubscriptionChanged { name } | ChangeKind::ScriptChanged { name } => {
                (None, None, None, Some(name.as_str()), None)
            }
            ChangeKind::AddressBookChanged
            | ChangeKind::ListChanged
            | ChangeKind::AccountChanged
            | ChangeKind::QueueChanged => (None, None, None, None, None),
        };
        self.conn()
            .prepare_cached(
                "INSERT INTO change_log (account_id, mailbox_id, kind, uid, modseq, name, old_name, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute((
                account.map(|a| a.0),
                mailbox,
                kind.code(),
                uid,
                modseq,
                name,
                old_name,
                self.now,
            ))?;
        Ok(())
    }
}

/// A change_log row (seq, account_id, mailbox_id, kind, uid, modseq, name,
/// old_name); None for a kind this binary does not know (a newer writer).
fn decode(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Change>> {
    let seq: i64 = r.get(0)?;
    let account: Option<i64> = r.get(1)?;
    let mailbox: Option<i64> = r.get(2)?;
    let code: i64 = r.get(3)?;
    let uid: Option<u32> = r.get(4)?;
    let modseq: Option<i64> = r.get(5)?;
    let name: Option<String> = r.get(6)?;
    let old_name: Option<String> = r.get(7)?;
    Ok(decode_fields(
        seq,
        account,
        mailbox,
        code,
        (uid, modseq),
        name,
        old_name,
    ))
}

fn decode_fields(
    seq: i64,
    account: Option<i64>,
    mailbox: Option<i64>,
    code: i64,
    (uid, modseq): (Option<u32>, Option<i64>),
    name: Option<String>,
    old_name: Option<String>,
) -> Option<Change> {
    let mbx = || mailbox.map(MailboxId);
    let msg = || Some((mbx()?, Uid(uid?), ModSeq(modseq? as u64)));
    let kind = match code {
        1 => msg().map(|(mailbox, uid, modseq)| ChangeKind::MessageAdded {
            mailbox,
            uid,
            modseq,
        })?,
        2 => msg().map(|(mailbox, uid, modseq)| ChangeKind::FlagsChanged {
            mailbox,
            uid,
            modseq,
        })?,
        3 => msg().map(|(mailbox, uid, modseq)| ChangeKind::MessageExpunged {
            mailbox,
            uid,
            modseq,
        })?,
        4 => ChangeKind::MailboxCreated {
            mailbox: mbx()?,
            name: name?,
        },
        5 => ChangeKind::MailboxDeleted {
            mailbox: mbx()?,
            name: name?,
        },
        6 => ChangeKind::MailboxRenamed {
            mailbox: mbx()?,
            old_name: old_name?,
            name: name?,
        },
        7 => ChangeKind::SubscriptionChanged { name: name? },
        8 => ChangeKind::ScriptChanged { name: name? },
        9 => ChangeKind::AddressBookChanged,
        10 => ChangeKind::ListChanged,
        11 => ChangeKind::AccountChanged,
        12 => ChangeKind::QueueChanged,
        _ => return None,
    };
    Some(Change {
        seq,
        account: account.map(AccountId),
        kind,
    })
}

/// What a subscriber receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedItem {
    Change(Arc<Change>),
    /// The subscriber fell behind and this many events were dropped; it must
    /// re-read the state it cares about.
    Missed(u64),
}

/// A subscription to one account's changes (or all changes). Subscribe first,
/// then read the state: events that the read already reflects may still
/// arrive and must be tolerated.
pub struct ChangeStream {
    rx: broadcast::Receiver<Arc<Change>>,
}

impl ChangeStream {
    /// The next event; None once the store is closed.
    pub async fn next(&mut self) -> Option<FeedItem> {
        match self.rx.recv().await {
            Ok(c) => Some(FeedItem::Change(c)),
            Err(broadcast::error::RecvError::Lagged(n)) => Some(FeedItem::Missed(n)),
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// An event that is already waiting, without blocking.
    pub fn try_next(&mut self) -> Option<FeedItem> {
        match self.rx.try_recv() {
            Ok(c) => Some(FeedItem::Change(c)),
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(FeedItem::Missed(n)),
            Err(_) => None,
        }
    }
}

pub(crate) struct Feed {
    per_account: Mutex<HashMap<AccountId, broadcast::Sender<Arc<Change>>>>,
    all: broadcast::Sender<Arc<Change>>,
    wake: Mutex<bool>,
    cond: Condvar,
    stop: AtomicBool,
}

impl Feed {
    /// Starts the tailer at the current end of the log.
    pub(crate) fn start(path: &Path) -> Result<Arc<Feed>> {
        let conn = connection::open(path, Role::Reader)?;
        let last: i64 =
            conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM change_log", [], |r| {
                r.get(0)
            })?;
        let (all, _) = broadcast::channel(CHANNEL_CAPACITY);
        let feed = Arc::new(Feed {
            per_account: Mutex::new(HashMap::new()),
            all,
            wake: Mutex::new(false),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let f = feed.clone();
        thread::Builder::new()
            .name("zest-store-feed".into())
            .spawn(move || f.tail(conn, last))?;
        Ok(feed)
    }

    pub(crate) fn subscribe(&self, account: Option<AccountId>) -> ChangeStream {
        let rx = match account {
            None => self.all.subscribe(),
            Some(a) => match self.per_account.lock() {
                Ok(mut map) => map
                    .entry(a)
                    .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                    .subscribe(),
                Err(poisoned) => poisoned
                    .into_inner()
                    .entry(a)
                    .or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0)
                    .subscribe(),
            },
        };
        ChangeStream { rx }
    }

    /// Called by the writer after a commit.
    pub(crate) fn notify(&self) {
        if let Ok(mut w) = self.wake.lock() {
            *w = true;
            self.cond.notify_one();
        }
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify();
    }

    fn tail(self: Arc<Self>, conn: Connection, mut last: i64) {
        let mut version: i64 = -1;
        while !self.stop.load(Ordering::SeqCst) {
            let woken = match self.wake.lock() {
                Ok(guard) => match self.cond.wait_timeout_while(guard, POLL_INTERVAL, |w| !*w) {
                    Ok((mut guard, _)) => std::mem::replace(&mut *guard, false),
                    Err(_) => false,
                },
                Err(_) => false,
            };
            let v = conn
                .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
                .unwrap_or(-2);
            if !woken && v == version {
                continue;
            }
            version = v;
            match self.publish_since(&conn, last) {
                Ok(l) => last = l,
                Err(e) => tracing::warn!(error = %e, "reading the change log failed"),
            }
        }
        // Dropping the senders ends every stream.
        if let Ok(mut map) = self.per_account.lock() {
            map.clear();
        }
    }

    fn publish_since(&self, conn: &Connection, mut last: i64) -> Result<i64> {
        loop {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, account_id, mailbox_id, kind, uid, modseq, name, old_name \
                 FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map((last, READ_CHUNK), |r| {
                Ok((r.get::<_, i64>(0)?, decode(r)?))
            })?;
            let mut n = 0;
            let mut map = match self.per_account.lock() {
                Ok(m) => m,
                Err(p) => p.into_inner(),
            };
            for row in rows {
                let (seq, change) = row?;
                n += 1;
                last = seq;
                let Some(change) = change else { continue };
                let change = Arc::new(change);
                if let Some(a) = change.account
                    && let Some(tx) = map.get(&a)
                    && tx.send(change.clone()).is_err()
                {
                    // No receiver left: forget the channel.
                    map.remove(&a);
                }
                let _ = self.all.send(change);
            }
            if n < READ_CHUNK {
                return Ok(last);
            }
        }
    }
}
