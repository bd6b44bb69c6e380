//! A large mailbox's entries come from its stored listing plus the changes
//! after it; whatever happened since, the result equals a row-by-row read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use store::{Entry, FlagOp, Flags, Uid};

#[allow(unused_macros)]
mod common;
use common::open_with;

fn message(n: usize) -> Vec<u8> {
    format!("From: x@example.com\r\nSubject: listing {n}\r\n\r\nbody {n}\r\n").into_bytes()
}

/// Entries as the table holds them, read directly.
fn table(path: &std::path::Path, mailbox: i64) -> Vec<(u32, i64, i64, String, i64)> {
    let db = rusqlite::Connection::open(path).unwrap();
    db.prepare(
        "SELECT uid, modseq, flags, keywords, size FROM mailbox_messages \
         WHERE mailbox_id = ?1 ORDER BY uid",
    )
    .unwrap()
    .query_map([mailbox], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn view(entries: &[Entry]) -> Vec<(u32, i64, i64, String, i64)> {
    entries
        .iter()
        .map(|e| {
            (
                e.uid.0,
                e.modseq.0 as i64,
                i64::from(e.flags.system),
                e.flags.keywords.join(" "),
                e.size as i64,
            )
        })
        .collect()
}

fn listed(path: &std::path::Path) -> Option<i64> {
    let db = rusqlite::Connection::open(path).unwrap();
    db.query_row("SELECT modseq FROM mailbox_listing", [], |r| r.get(0))
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_mailbox_reads_equal_the_table_after_every_kind_of_change() {
    let (dir, store, mut users) = open_with(&["alice@example.org"]).await;
    let account = users.pop().unwrap().id;
    let path = dir.path().join("zest.db");
    let mut set = tokio::task::JoinSet::new();
    for n in 0..5_200 {
        let store = store.clone();
        set.spawn(async move {
            store
                .append(account, "INBOX", message(n), Flags::default(), None)
                .await
                .unwrap()
        });
        if set.len() >= 256 {
            set.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let inbox = store.mailbox(account, "INBOX").await.unwrap().unwrap().id;
    let first = store.entries(account, inbox).await.unwrap();
    assert_eq!(view(&first), table(&path, inbox.0));
    // The listing is written in the background.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while listed(&path).is_none() {
        assert!(std::time::Instant::now() < deadline, "no listing stored");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let kw = Flags::from_names(["$Forwarded", "\\Seen"]).unwrap();
    store
        .set_flags(
            account,
            inbox,
            vec![Uid(3), Uid(4000)],
            FlagOp::Add,
            kw,
            None,
        )
        .await
        .unwrap();
    let del = Flags::from_names(["\\Deleted"]).unwrap();
    store
        .set_flags(
            account,
            inbox,
            vec![Uid(2), Uid(5000)],
            FlagOp::Add,
            del,
            None,
        )
        .await
        .unwrap();
    store.expunge(account, inbox, None).await.unwrap();
    store
        .append(account, "INBOX", message(9_999), Flags::default(), None)
        .await
        .unwrap();
    let second = store.entries(account, inbox).await.unwrap();
    assert_eq!(view(&second), table(&path, inbox.0));
    assert_eq!(second.len(), 5_199);
    assert!(second.iter().all(|e| e.uid != Uid(2) && e.uid != Uid(5000)));
    // A damaged listing is ignored, not trusted.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute("UPDATE mailbox_listing SET data = x'0102'", [])
        .unwrap();
    let third = store.entries(account, inbox).await.unwrap();
    assert_eq!(view(&third), table(&path, inbox.0));
    store.close().await;
}
