//! Large message bodies kept in segment files beside the database: they read
//! back exactly, are found by SEARCH, survive copies of their message, give
//! their space back when the last message using them goes, and are carried
//! inside backups.

#![allow(clippy::unwrap_used, clippy::expect_used, unused_macros)]

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use store::{FlagOp, Flags, Store, Uid};

/// A message of about `size` bytes whose body ends with `marker`.
fn large(n: usize, size: usize, marker: &str) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: alice@example.org\r\nSubject: large {n}\r\n\
         Message-ID: <large.{n}@example.org>\r\n\r\n"
    );
    let line = format!("line of large message {n} ..........................................\r\n");
    while m.len() < size {
        m.push_str(&line);
    }
    m.push_str(marker);
    m.push_str("\r\n");
    m.into_bytes()
}

/// Bytes the blob directory of the database at `db` holds on disk.
fn allocated(db: &Path) -> u64 {
    let dir = db.with_file_name("zest.db.blobs");
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().metadata().unwrap().blocks() * 512)
                .sum()
        })
        .unwrap_or(0)
}

fn files(db: &Path) -> usize {
    std::fs::read_dir(db.with_file_name("zest.db.blobs"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_round_trip_through_segments() {
    let (dir, store, accounts) = common::open_with(&["alice@example.org"]).await;
    let db = dir.path().join("zest.db");
    let alice = accounts[0].id;
    let small = b"From: a@example.org\r\nSubject: small\r\n\r\nsmall body\r\n".to_vec();
    let (_, s) = store
        .append(alice, "INBOX", small.clone(), Flags::default(), None)
        .await
        .unwrap();
    assert_eq!(files(&db), 0, "small bodies stay in the database");

    let mut uids = Vec::new();
    for n in 0..5 {
        let raw = large(n, 20_000 + n * 30_000, &format!("needle{n}"));
        let (_, uid) = store
            .append(alice, "INBOX", raw, Flags::default(), None)
            .await
            .unwrap();
        uids.push(uid);
    }
    assert_eq!(files(&db), 1, "one process appends to one segment");
    let inbox = store.mailbox_status(alice, "INBOX").await.unwrap();
    assert_eq!(store.read_message(alice, inbox.id, s).await.unwrap(), small);
    for (n, uid) in uids.iter().enumerate() {
        let raw = store.read_message(alice, inbox.id, *uid).await.unwrap();
        assert_eq!(raw, large(n, 20_000 + n * 30_000, &format!("needle{n}")));
    }

    // SEARCH reads the header and the text from the segment.
    let fields = store
        .search_fields(alice, inbox.id, uids.clone(), true, true)
        .await
        .unwrap();
    assert_eq!(fields.len(), 5);
    for (n, f) in fields.iter().enumerate() {
        let header = String::from_utf8(f.header.clone().unwrap()).unwrap();
        assert!(header.starts_with("From: a@example.org"), "{header}");
        assert!(header.ends_with("\r\n\r\n"), "{header}");
        assert!(f.text.as_deref().unwrap().contains(&format!("needle{n}")));
    }

    // A copy shares the body; it stays when the original goes.
    store.create_mailbox(alice, "Keep", None).await.unwrap();
    store
        .copy_messages(alice, inbox.id, vec![uids[0]], "Keep")
        .await
        .unwrap();
    let before = allocated(&db);
    store
        .set_flags(
            alice,
            inbox.id,
            uids.clone(),
            FlagOp::Add,
            Flags {
                system: Flags::DELETED,
                keywords: Vec::new(),
            },
            None,
        )
        .await
        .unwrap();
    store.expunge(alice, inbox.id, None).await.unwrap();
    let keep = store.mailbox_status(alice, "Keep").await.unwrap();
    let copy = store.read_message(alice, keep.id, Uid(1)).await.unwrap();
    assert_eq!(copy, large(0, 20_000, "needle0"));
    let after = allocated(&db);
    assert!(
        after + 100_000 < before,
        "space of the expunged bodies is released: {before} -> {after}"
    );
    store.close().await;

    // Reopened, the copy still reads back.
    let store = Store::open(&db).await.unwrap();
    let copy = store.read_message(alice, keep.id, Uid(1)).await.unwrap();
    assert_eq!(copy, large(0, 20_000, "needle0"));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_append_leaves_no_space_behind_and_backups_carry_bodies() {
    let (dir, store, accounts) = common::open_with(&["alice@example.org"]).await;
    let db = dir.path().join("zest.db");
    let alice = accounts[0].id;
    let raw = large(1, 100_000, "kept");
    store
        .append(alice, "INBOX", raw.clone(), Flags::default(), None)
        .await
        .unwrap();
    let before = allocated(&db);
    store
        .set_quota(&common::addr("alice@example.org"), Some(150_000), None)
        .await
        .unwrap();
    let refused = store
        .append(
            alice,
            "INBOX",
            large(2, 100_000, "refused"),
            Flags::default(),
            None,
        )
        .await;
    assert!(
        matches!(refused, Err(store::StoreError::OverQuota)),
        "{refused:?}"
    );
    assert!(
        allocated(&db) <= before + 16 * 1024,
        "the refused body's space is given back: {before} -> {}",
        allocated(&db)
    );

    let backup = dir.path().join("backup");
    store.backup(&backup).await.unwrap();
    store.close().await;
    // The backup is one self-contained file: restored elsewhere, with no
    // segment files beside it, the body reads back.
    let other = tempfile::tempdir().unwrap();
    let target = other.path().join("zest.db");
    store::restore_backup(&backup, &target, false)
        .await
        .unwrap();
    let restored = Store::open(&target).await.unwrap();
    let inbox = restored.mailbox_status(alice, "INBOX").await.unwrap();
    assert_eq!(
        restored
            .read_message(alice, inbox.id, Uid(1))
            .await
            .unwrap(),
        raw
    );
    restored.close().await;
}
