//! What the IMAP server needs beyond append/flags/expunge: COPY and MOVE with
//! their UID pairs, keywords per mailbox, cached summaries and search fields.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::{
    Account, ChangeKind, Copied, FlagOp, Flags, MailboxId, ModSeq, Store, StoreError, Uid,
};
use tempfile::TempDir;

#[macro_use]
mod common;
use common::{changes, open_with, subscribe};

fn flags(names: &[&str]) -> Flags {
    Flags::from_names(names.iter().copied()).unwrap()
}

fn message(n: usize) -> Vec<u8> {
    format!("From: Joe <joe@example.com>\r\nSubject: message {n}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n\r\nbody {n}\r\n")
        .into_bytes()
}

async fn setup() -> (TempDir, Store, Account) {
    let (dir, store, mut users) = open_with(&["alice@example.org"]).await;
    (dir, store, users.pop().unwrap())
}

async fn id(store: &Store, account: &Account, name: &str) -> MailboxId {
    store.mailbox(account.id, name).await.unwrap().unwrap().id
}

#[tokio::test]
async fn copy_keeps_flags_keywords_and_dates_and_reports_uid_pairs() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    let archive = id(&store, &alice, "Archive").await;
    store
        .append(
            alice.id,
            "INBOX",
            message(1),
            flags(&["\\Seen", "$Forwarded"]),
            Some(1000),
        )
        .await
        .unwrap();
    store
        .append(
            alice.id,
            "INBOX",
            message(2),
            flags(&["$SubmitPending"]),
            Some(2000),
        )
        .await
        .unwrap();
    // Archive already has one message, so new UIDs start at 2.
    store
        .append(alice.id, "Archive", message(9), Flags::default(), None)
        .await
        .unwrap();
    let mut feed = subscribe(&store, &alice).await;
    let copied = store
        .copy_messages(alice.id, inbox, vec![Uid(2), Uid(1), Uid(7)], "archive")
        .await;
    assert_invalid!(
        store
            .copy_messages(alice.id, inbox, vec![Uid(1)], "a//b")
            .await,
        "mailbox name"
    );
    // "archive" is not "Archive": mailbox names other than INBOX are case-sensitive.
    assert_err!(copied, StoreError::NotFound(_));
    let copied = store
        .copy_messages(alice.id, inbox, vec![Uid(2), Uid(1), Uid(7)], "Archive")
        .await
        .unwrap();
    let uidvalidity = store
        .mailbox_status(alice.id, "Archive")
        .await
        .unwrap()
        .uidvalidity;
    assert_eq!(
        copied,
        Copied {
            uidvalidity,
            mailbox: archive,
            pairs: vec![(Uid(2), Uid(2)), (Uid(1), Uid(3))]
        }
    );
    let entries = store.entries(alice.id, archive).await.unwrap();
    let got: Vec<(u32, Vec<String>, i64)> = entries
        .iter()
        .map(|e| (e.uid.0, e.flags.names(), e.internal_date))
        .collect();
    assert_eq!(got[1], (2, vec!["$SubmitPending".to_string()], 2000));
    assert_eq!(
        got[2],
        (
            3,
            vec!["\\Seen".to_string(), "$Forwarded".to_string()],
            1000
        )
    );
    assert_eq!(
        store.mailbox_keywords(alice.id, archive).await.unwrap(),
        vec!["$Forwarded", "$SubmitPending"]
    );
    // Each new entry bumped the destination's MODSEQ.
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            ChangeKind::MessageAdded {
                mailbox: archive,
                uid: Uid(2),
                modseq: ModSeq(3)
            },
            ChangeKind::MessageAdded {
                mailbox: archive,
                uid: Uid(3),
                modseq: ModSeq(4)
            },
        ]
    );
    // The source is untouched.
    assert_eq!(store.entries(alice.id, inbox).await.unwrap().len(), 2);
    let account = store.account_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(account.used_messages, 5);
}

#[tokio::test]
async fn move_expunges_the_source_in_the_same_transaction() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    let trash = id(&store, &alice, "Trash").await;
    for n in 1..=3 {
        store
            .append(alice.id, "INBOX", message(n), flags(&["$Submitted"]), None)
            .await
            .unwrap();
    }
    let mut feed = subscribe(&store, &alice).await;
    let moved = store
        .move_messages(alice.id, inbox, vec![Uid(1), Uid(3)], "Trash")
        .await
        .unwrap();
    assert_eq!(moved.pairs, vec![(Uid(1), Uid(1)), (Uid(3), Uid(2))]);
    let left: Vec<u32> = store
        .entries(alice.id, inbox)
        .await
        .unwrap()
        .iter()
        .map(|e| e.uid.0)
        .collect();
    assert_eq!(left, vec![2]);
    let trash_entries = store.entries(alice.id, trash).await.unwrap();
    assert!(
        trash_entries
            .iter()
            .all(|e| e.flags.names() == ["$Submitted"])
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            ChangeKind::MessageAdded {
                mailbox: trash,
                uid: Uid(1),
                modseq: ModSeq(2)
            },
            ChangeKind::MessageAdded {
                mailbox: trash,
                uid: Uid(2),
                modseq: ModSeq(3)
            },
            ChangeKind::MessageExpunged {
                mailbox: inbox,
                uid: Uid(1),
                modseq: ModSeq(5)
            },
            ChangeKind::MessageExpunged {
                mailbox: inbox,
                uid: Uid(3),
                modseq: ModSeq(6)
            },
        ]
    );
    let account = store.account_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(account.used_messages, 3);
}

#[tokio::test]
async fn copy_over_quota_changes_nothing() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    let size = message(1).len() as u64;
    store
        .append(alice.id, "INBOX", message(1), Flags::default(), None)
        .await
        .unwrap();
    store
        .set_quota(&alice.address, Some(size * 2 - 1), None)
        .await
        .unwrap();
    assert_err!(
        store
            .copy_messages(alice.id, inbox, vec![Uid(1)], "Trash")
            .await,
        StoreError::OverQuota
    );
    assert_err!(
        store
            .move_messages(alice.id, inbox, vec![Uid(1)], "Trash")
            .await,
        StoreError::OverQuota
    );
    let trash = id(&store, &alice, "Trash").await;
    assert!(store.entries(alice.id, trash).await.unwrap().is_empty());
    assert_eq!(store.entries(alice.id, inbox).await.unwrap().len(), 1);
}

#[tokio::test]
async fn summaries_and_search_fields_come_from_the_cache() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    let html = b"From: a@b.example\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Gr&uuml;n caf\xc3\xa9</p>\r\n".to_vec();
    store
        .append(alice.id, "INBOX", message(1), Flags::default(), None)
        .await
        .unwrap();
    store
        .append(alice.id, "INBOX", html, Flags::default(), None)
        .await
        .unwrap();
    let meta = store
        .message_meta(alice.id, inbox, vec![Uid(2), Uid(1), Uid(9)])
        .await
        .unwrap();
    assert_eq!(meta.len(), 2);
    assert_eq!(meta[0].uid, Uid(2));
    assert_eq!(meta[0].body.media_subtype, "html");
    assert_eq!(meta[1].envelope.subject.as_deref(), Some("message 1"));
    assert_eq!(
        meta[1].header_size as usize,
        message(1).len() - "body 1\r\n".len()
    );

    let fields = store
        .search_fields(alice.id, inbox, vec![Uid(1), Uid(2)], true, true)
        .await
        .unwrap();
    assert_eq!(fields[0].sent_date, Some(760_686_745));
    assert!(
        fields[0]
            .header
            .as_deref()
            .unwrap()
            .starts_with(b"From: Joe")
    );
    assert_eq!(fields[0].text.as_deref(), Some("body 1\r\n"));
    assert!(fields[1].text.as_deref().unwrap().contains("café"));
    let bare = store
        .search_fields(alice.id, inbox, vec![Uid(1)], false, false)
        .await
        .unwrap();
    assert_eq!((bare[0].header.clone(), bare[0].text.clone()), (None, None));
}

#[tokio::test]
async fn keywords_are_remembered_per_mailbox() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    store
        .append(alice.id, "INBOX", message(1), Flags::default(), None)
        .await
        .unwrap();
    assert!(
        store
            .mailbox_keywords(alice.id, inbox)
            .await
            .unwrap()
            .is_empty()
    );
    store
        .set_flags(
            alice.id,
            inbox,
            vec![Uid(1)],
            FlagOp::Add,
            flags(&["Work", "$Forwarded"]),
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        store.mailbox_keywords(alice.id, inbox).await.unwrap(),
        vec!["$Forwarded", "Work"]
    );
}

#[tokio::test]
async fn changes_since_reports_new_reflagged_and_expunged_messages() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    for n in 1..=3 {
        store
            .append(alice.id, "INBOX", message(n), Flags::default(), None)
            .await
            .unwrap();
    }
    let since = store
        .mailbox_status(alice.id, "INBOX")
        .await
        .unwrap()
        .highestmodseq;
    assert_eq!(since, ModSeq(4));
    let (changed, gone, highest) = store.changes_since(alice.id, inbox, since).await.unwrap();
    assert!(changed.is_empty() && gone.is_empty());
    assert_eq!(highest, since);
    store
        .set_flags(
            alice.id,
            inbox,
            vec![Uid(1), Uid(3)],
            FlagOp::Add,
            flags(&["\\Deleted"]),
            None,
        )
        .await
        .unwrap();
    store
        .expunge(alice.id, inbox, Some(vec![Uid(3)]))
        .await
        .unwrap();
    store
        .append(alice.id, "INBOX", message(4), Flags::default(), None)
        .await
        .unwrap();
    let (changed, gone, highest) = store.changes_since(alice.id, inbox, since).await.unwrap();
    let got: Vec<(u32, u64)> = changed.iter().map(|e| (e.uid.0, e.modseq.0)).collect();
    assert_eq!(got, vec![(1, 5), (4, 8)]);
    assert_eq!(gone, vec![Uid(3)]);
    assert_eq!(highest, ModSeq(8));
    let other = store
        .create_account(&common::addr("bob@example.org"), "pw", false)
        .await
        .unwrap();
    assert_err!(
        store.changes_since(other.id, inbox, since).await,
        StoreError::NotFound(_)
    );
}

#[tokio::test]
async fn internaldate_zones_are_kept_through_append_and_copy() {
    let (_dir, store, alice) = setup().await;
    let inbox = id(&store, &alice, "INBOX").await;
    let archive = id(&store, &alice, "Archive").await;
    let new = |n: usize, zone: i32| store::NewMessage {
        raw: message(n),
        flags: Flags::default(),
        internal_date: Some(1_000_000),
        zone_minutes: zone,
    };
    let (_, uids) = store
        .append_many(
            alice.id,
            "INBOX",
            vec![new(1, 330), new(2, 0), new(3, -480)],
        )
        .await
        .unwrap();
    assert_eq!(uids, vec![Uid(1), Uid(2), Uid(3)]);
    // UTC entries are not listed; UIDs not asked for are not either.
    let zones = store
        .internal_zones(alice.id, inbox, vec![Uid(3), Uid(1), Uid(2), Uid(9)])
        .await
        .unwrap();
    assert_eq!(zones, vec![(Uid(1), 330), (Uid(3), -480)]);
    assert_eq!(
        store
            .internal_zones(alice.id, inbox, vec![Uid(2)])
            .await
            .unwrap(),
        vec![]
    );
    assert!(
        store
            .internal_zones(alice.id, inbox, vec![])
            .await
            .unwrap()
            .is_empty()
    );
    let copied = store
        .copy_messages(alice.id, inbox, vec![Uid(1), Uid(3)], "Archive")
        .await
        .unwrap();
    assert_eq!(copied.pairs, vec![(Uid(1), Uid(1)), (Uid(3), Uid(2))]);
    let zones = store
        .internal_zones(alice.id, archive, vec![Uid(1), Uid(2)])
        .await
        .unwrap();
    assert_eq!(zones, vec![(Uid(1), 330), (Uid(2), -480)]);
    // Through another account, the mailbox gives nothing.
    let foreign = store
        .internal_zones(store::AccountId(alice.id.0 + 1000), inbox, vec![Uid(1)])
        .await
        .unwrap();
    assert!(foreign.is_empty());
}
