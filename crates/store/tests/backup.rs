//! `Store::backup` of a live store and `restore_backup`: consistent snapshots
//! while a writer appends, identical mailbox state after restore, and loud
//! failures on damaged backups or occupied targets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
#[allow(unused_macros)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use common::open_with;
use store::{AccountId, Flags, Store, StoreError, restore_backup, verify_backup};

fn message(n: u32) -> Vec<u8> {
    format!(
        "From: a@example.org\r\nTo: b@example.org\r\nSubject: message {n}\r\n\r\nbody of message {n}\r\n"
    )
    .into_bytes()
}

/// Every mailbox of the account with each message's UID, flags and bytes.
/// Each mailbox's name and its messages: UID, flags and bytes.
type MailboxState = Vec<(String, Vec<(u32, Flags, Vec<u8>)>)>;

async fn state(store: &Store, account: AccountId) -> MailboxState {
    let mut out = Vec::new();
    for mb in store.list_mailboxes(account).await.unwrap() {
        let Ok(status) = store.mailbox_status(account, &mb.name).await else {
            continue;
        };
        let mut msgs = Vec::new();
        for e in store.entries(account, status.id).await.unwrap() {
            let raw = store.read_message(account, status.id, e.uid).await.unwrap();
            msgs.push((e.uid.0, e.flags, raw));
        }
        out.push((mb.name, msgs));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn backup_of_a_live_store_restores_a_consistent_prefix_then_the_identical_state() {
    let (dir, live, accounts) = open_with(&["alice@example.org"]).await;
    let alice = accounts[0].id;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU32::new(0));
    let writer = tokio::spawn({
        let (live, stop, written) = (live.clone(), stop.clone(), written.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                live.append(alice, "INBOX", message(n), Flags::default(), None)
                    .await
                    .unwrap();
                n += 1;
                written.store(n, Ordering::SeqCst);
            }
        }
    });
    // Let the writer get going, back up while it runs, and make sure it kept
    // writing after the snapshot was taken.
    let mut feed = live.subscribe_changes(alice);
    while written.load(Ordering::SeqCst) < 20 {
        feed.next().await.unwrap();
    }
    let backup_dir = dir.path().join("backup-live");
    let manifest = live.backup(&backup_dir).await.unwrap();
    let at_backup = written.load(Ordering::SeqCst);
    while written.load(Ordering::SeqCst) < at_backup + 20 {
        feed.next().await.unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    assert_eq!(verify_backup(&backup_dir).await.unwrap(), manifest);
    let restored_path = dir.path().join("restored").join("zest.db");
    let restored_manifest = restore_backup(&backup_dir, &restored_path, false)
        .await
        .unwrap();
    assert_eq!(restored_manifest, manifest);
    let restored = Store::open(&restored_path).await.unwrap();
    let inbox = restored.mailbox_status(alice, "INBOX").await.unwrap();
    let entries = restored.entries(alice, inbox.id).await.unwrap();
    // A snapshot: the first k messages, none missing, none half-written.
    let k = entries.len() as u32;
    assert!(k >= 20, "the backup saw {k} messages");
    assert!(k < written.load(Ordering::SeqCst));
    assert_eq!(inbox.messages, u64::from(k));
    assert_eq!(inbox.uidnext, k + 1);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e.uid.0, i as u32 + 1);
        let raw = restored.read_message(alice, inbox.id, e.uid).await.unwrap();
        assert_eq!(raw, message(i as u32));
    }
    assert_eq!(manifest.rows("mailbox_messages"), u64::from(k));
    assert!(restored.integrity_check().await.unwrap().is_empty());
    restored.close().await;

    // Quiet now: a second backup restores to exactly the live state, over
    // the first restore only when told to.
    let quiet_dir = dir.path().join("backup-quiet");
    live.backup(&quiet_dir).await.unwrap();
    let refused = restore_backup(&quiet_dir, &restored_path, false).await;
    assert!(
        matches!(refused, Err(StoreError::Refused(_))),
        "{refused:?}"
    );
    restore_backup(&quiet_dir, &restored_path, true)
        .await
        .unwrap();
    let restored = Store::open(&restored_path).await.unwrap();
    assert_eq!(state(&restored, alice).await, state(&live, alice).await);
    assert_eq!(
        restored.list_accounts(None).await.unwrap(),
        live.list_accounts(None).await.unwrap()
    );
    // The replaced database was kept beside the new one.
    let kept = std::fs::read_dir(restored_path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("zest.db.before-restore-")
        });
    assert!(kept);
    restored.close().await;
    live.close().await;
}

#[tokio::test]
async fn damaged_or_missing_backups_fail_and_leave_the_target_alone() {
    let (dir, live, accounts) = open_with(&["bob@example.org"]).await;
    live.append(accounts[0].id, "INBOX", message(1), Flags::default(), None)
        .await
        .unwrap();
    let backup_dir = dir.path().join("b");
    live.backup(&backup_dir).await.unwrap();

    // A second backup into the same directory is refused.
    let again = live.backup(&backup_dir).await;
    assert!(matches!(again, Err(StoreError::Refused(_))), "{again:?}");

    // One flipped byte: verification and restore both fail, nothing is written.
    let db = backup_dir.join(store::BACKUP_DATABASE);
    let mut bytes = std::fs::read(&db).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&db, &bytes).unwrap();
    assert!(verify_backup(&backup_dir).await.is_err());
    let target = dir.path().join("t").join("zest.db");
    assert!(restore_backup(&backup_dir, &target, false).await.is_err());
    assert!(!target.exists());

    // No manifest at all.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let missing = restore_backup(&empty, &target, false).await;
    assert!(
        matches!(&missing, Err(StoreError::Invalid { what: "backup", .. })),
        "{missing:?}"
    );
    assert!(!target.exists());
    live.close().await;
}
