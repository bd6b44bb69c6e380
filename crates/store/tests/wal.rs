//! The write-ahead log stays small under steady load: readers that always
//! hold some snapshot must not keep it from starting again from its beginning.

#![allow(clippy::unwrap_used, clippy::expect_used, unused_macros)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use store::Flags;

/// About 12 KB: kept in the database, so every append writes WAL frames.
fn message(n: usize) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: alice@example.org\r\nSubject: wal {n}\r\n\
         Message-ID: <wal.{n}@example.org>\r\n\r\n"
    );
    while m.len() < 12 * 1024 {
        m.push_str(&format!(
            "line {n} of a message that fills the log .........\r\n"
        ));
    }
    m.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wal_stays_bounded_while_readers_never_stop() {
    let (dir, store, accounts) = common::open_with(&["alice@example.org"]).await;
    let wal = dir.path().join("zest.db-wal");
    let alice = accounts[0].id;
    let mailbox = store.mailbox_status(alice, "INBOX").await.unwrap().id;

    // Readers overlapping one another, so that at any moment one of them
    // holds a snapshot.
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (store, stop) = (store.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                store.entries(alice, mailbox).await.unwrap();
            }
        }));
    }

    // Far more than the WAL may hold: 4,000 appends write well over 64 MB of
    // frames (every append also rewrites index and counter pages).
    let mut largest = 0;
    let mut written = 0u64;
    for n in 0..4_000 {
        let m = message(n);
        written += m.len() as u64;
        store
            .append(alice, "INBOX", m, Flags::default(), None)
            .await
            .unwrap();
        if n % 100 == 0 {
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        r.await.unwrap();
    }
    largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
    assert!(
        largest < 40 * 1024 * 1024 && largest < written,
        "the WAL grew to {largest} bytes for {written} bytes of messages"
    );
    assert_eq!(
        store.mailbox_status(alice, "INBOX").await.unwrap().messages,
        4_000
    );
}
