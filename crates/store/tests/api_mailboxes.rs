//! Mailboxes (hierarchy, UIDVALIDITY, subscriptions) and messages (append,
//! flags with MODSEQ, expunge), through the store's public API on a real
//! SQLite file, with the change feed each write produces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use store::{
    Account, ChangeKind, Entry, FlagOp, Flags, MailboxId, MailboxInfo, MailboxStatus, ModSeq,
    Store, StoreError, Subject, Uid, UidValidity,
};
use tempfile::TempDir;

#[macro_use]
mod common;
use common::{addr, changes, open_with, subscribe};

fn flags(names: &[&str]) -> Flags {
    Flags::from_names(names.iter().copied()).unwrap()
}

fn message(n: usize) -> Vec<u8> {
    format!("From: x@example.com\r\nSubject: message {n}\r\n\r\nbody {n}\r\n").into_bytes()
}

async fn setup() -> (TempDir, Store, Account) {
    let (dir, store, mut users) = open_with(&["alice@example.org"]).await;
    (dir, store, users.pop().unwrap())
}

fn raw(dir: &TempDir) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.path().join("zest.db")).unwrap()
}

/// (uid, modseq) rows of the `expunged` table for a mailbox.
fn expunged(path: &Path, mailbox: MailboxId) -> Vec<(u32, i64)> {
    let db = rusqlite::Connection::open(path).unwrap();
    db.prepare("SELECT uid, modseq FROM expunged WHERE mailbox_id = ?1 ORDER BY uid")
        .unwrap()
        .query_map([mailbox.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn blob_count(dir: &TempDir) -> i64 {
    raw(dir)
        .query_row("SELECT COUNT(*) FROM blobs", [], |r| r.get(0))
        .unwrap()
}

async fn mk(store: &Store, account: &Account, name: &str) -> MailboxId {
    store.create_mailbox(account.id, name, None).await.unwrap()
}

/// Appends message(n) with the named flags.
async fn put(
    store: &Store,
    account: &Account,
    mailbox: &str,
    n: usize,
    names: &[&str],
    date: Option<i64>,
) -> (UidValidity, Uid) {
    let raw = message(n);
    store
        .append(account.id, mailbox, raw, flags(names), date)
        .await
        .unwrap()
}

type FlagResult = (Vec<(Uid, ModSeq, Flags)>, Vec<Uid>);

/// STORE with the named flags on the given UIDs.
async fn set(
    store: &Store,
    account: &Account,
    mailbox: MailboxId,
    uids: &[u32],
    op: FlagOp,
    names: &[&str],
    unchanged_since: Option<u64>,
) -> FlagResult {
    let uids = uids.iter().map(|u| Uid(*u)).collect();
    let since = unchanged_since.map(ModSeq);
    let r = store.set_flags(account.id, mailbox, uids, op, flags(names), since);
    r.await.unwrap()
}

fn created(mailbox: MailboxId, name: &str) -> ChangeKind {
    ChangeKind::MailboxCreated {
        mailbox,
        name: name.into(),
    }
}

fn deleted(mailbox: MailboxId, name: &str) -> ChangeKind {
    ChangeKind::MailboxDeleted {
        mailbox,
        name: name.into(),
    }
}

fn renamed(mailbox: MailboxId, old_name: &str, name: &str) -> ChangeKind {
    let (old_name, name) = (old_name.into(), name.into());
    ChangeKind::MailboxRenamed {
        mailbox,
        old_name,
        name,
    }
}

fn added(mailbox: MailboxId, uid: u32, modseq: u64) -> ChangeKind {
    ChangeKind::MessageAdded {
        mailbox,
        uid: Uid(uid),
        modseq: ModSeq(modseq),
    }
}

fn vanished(mailbox: MailboxId, uid: u32, modseq: u64) -> ChangeKind {
    ChangeKind::MessageExpunged {
        mailbox,
        uid: Uid(uid),
        modseq: ModSeq(modseq),
    }
}

fn flagged(mailbox: MailboxId, uid: u32, modseq: u64) -> ChangeKind {
    ChangeKind::FlagsChanged {
        mailbox,
        uid: Uid(uid),
        modseq: ModSeq(modseq),
    }
}

async fn info(store: &Store, account: &Account, name: &str) -> MailboxInfo {
    store.mailbox(account.id, name).await.unwrap().unwrap()
}

fn empty_info(id: MailboxId, name: &str, uidvalidity: UidValidity) -> MailboxInfo {
    MailboxInfo {
        id,
        name: name.into(),
        special_use: None,
        noselect: false,
        subscribed: false,
        has_children: false,
        uidvalidity,
        uidnext: 1,
        highestmodseq: ModSeq(1),
        messages: 0,
        unseen: 0,
        deleted: 0,
        size: 0,
    }
}

#[tokio::test]
async fn create_makes_missing_parents_and_refuses_duplicates_and_bad_names() {
    let (_dir, store, alice) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    let leaf = mk(&store, &alice, "Projects/Zest/2026").await;
    let p = info(&store, &alice, "Projects").await;
    let z = info(&store, &alice, "Projects/Zest").await;
    let l = info(&store, &alice, "Projects/Zest/2026").await;
    assert_eq!(l.id, leaf);
    assert_eq!(
        p,
        MailboxInfo {
            has_children: true,
            ..empty_info(p.id, "Projects", p.uidvalidity)
        }
    );
    assert_eq!(
        z,
        MailboxInfo {
            has_children: true,
            ..empty_info(z.id, "Projects/Zest", z.uidvalidity)
        }
    );
    assert_eq!(l, empty_info(leaf, "Projects/Zest/2026", l.uidvalidity));
    assert!(p.uidvalidity < z.uidvalidity && z.uidvalidity < l.uidvalidity);
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            created(p.id, "Projects"),
            created(z.id, "Projects/Zest"),
            created(leaf, "Projects/Zest/2026"),
        ]
    );

    let sub = store
        .create_mailbox(alice.id, "inbox/Sub", Some("\\Flagged"))
        .await
        .unwrap();
    assert_eq!(
        info(&store, &alice, "INBOX/Sub").await,
        MailboxInfo {
            special_use: Some("\\Flagged".into()),
            ..empty_info(
                sub,
                "INBOX/Sub",
                info(&store, &alice, "INBOX/Sub").await.uidvalidity
            )
        }
    );
    assert!(info(&store, &alice, "INBOX").await.has_children);

    for (name, existing) in [
        ("Projects", "Projects"),
        ("Projects/Zest/2026", "Projects/Zest/2026"),
        ("inbox", "INBOX"),
        ("Sent", "Sent"),
    ] {
        assert_err!(
            store.create_mailbox(alice.id, name, None).await,
            StoreError::AlreadyExists(Subject::Mailbox(n)) if n == existing
        );
    }
    let long = "x".repeat(1001);
    for bad in [
        "",
        "a//b",
        "/a",
        "a/",
        "a%b",
        "a*",
        "a\0b",
        "a\rb",
        long.as_str(),
    ] {
        assert_invalid!(
            store.create_mailbox(alice.id, bad, None).await,
            "mailbox name"
        );
    }
    assert_invalid!(
        store.create_mailbox(alice.id, "Odd", Some("\\Bogus")).await,
        "special-use attribute"
    );
    assert_eq!(store.mailbox(alice.id, "Odd").await.unwrap(), None);
    assert_eq!(store.mailbox(alice.id, "Nope").await.unwrap(), None);
    assert_eq!(store.list_mailboxes(alice.id).await.unwrap().len(), 6 + 4);
}

#[tokio::test]
async fn subscriptions_are_names_and_change_only_when_they_change() {
    let (_dir, store, alice) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    let work = mk(&store, &alice, "Work").await;
    store.set_subscribed(alice.id, "Work", true).await.unwrap();
    store.set_subscribed(alice.id, "Work", true).await.unwrap();
    store
        .set_subscribed(alice.id, "Trash", false)
        .await
        .unwrap();
    store
        .set_subscribed(alice.id, "Trash", false)
        .await
        .unwrap();
    // RFC 3501 6.3.6: a name that does not exist may be subscribed.
    store.set_subscribed(alice.id, "Later", true).await.unwrap();
    assert_err!(
        store.set_subscribed(alice.id, "a//b", true).await,
        StoreError::Invalid { .. }
    );
    assert!(info(&store, &alice, "Work").await.subscribed);
    assert!(!info(&store, &alice, "Trash").await.subscribed);
    assert_eq!(
        store.subscriptions(alice.id).await.unwrap(),
        vec![
            "Archive", "Drafts", "INBOX", "Junk", "Later", "Sent", "Work"
        ]
    );
    // Deleting the mailbox keeps the subscription.
    store.delete_mailbox(alice.id, "Work").await.unwrap();
    assert!(
        store
            .subscriptions(alice.id)
            .await
            .unwrap()
            .contains(&"Work".to_string())
    );
    let sub = |name: &str| ChangeKind::SubscriptionChanged { name: name.into() };
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            created(work, "Work"),
            sub("Work"),
            sub("Trash"),
            sub("Later"),
            deleted(work, "Work")
        ]
    );
}

#[tokio::test]
async fn delete_removes_messages_and_keeps_children_under_a_noselect_parent() {
    let (dir, store, alice) = setup().await;
    for err in [
        store.delete_mailbox(alice.id, "INBOX").await.unwrap_err(),
        store.delete_mailbox(alice.id, "inbox").await.unwrap_err(),
    ] {
        assert!(matches!(err, StoreError::Refused(_)), "{err:?}");
    }
    assert_err!(
        store.delete_mailbox(alice.id, "Nope").await,
        StoreError::NotFound(Subject::Mailbox(n)) if n == "Nope"
    );

    let parent = store
        .create_mailbox(alice.id, "Work", Some("\\Archive"))
        .await
        .unwrap();
    let child = mk(&store, &alice, "Work/Old").await;
    for n in 0..3 {
        put(&store, &alice, "Work", n, &[], None).await;
    }
    put(&store, &alice, "Work/Old", 9, &[], None).await;
    assert_eq!(blob_count(&dir), 4);
    let before = info(&store, &alice, "Work").await;

    let mut feed = subscribe(&store, &alice).await;
    store.delete_mailbox(alice.id, "Work").await.unwrap();
    assert_eq!(
        info(&store, &alice, "Work").await,
        MailboxInfo {
            special_use: None,
            noselect: true,
            has_children: true,
            messages: 0,
            unseen: 0,
            size: 0,
            // Each removed message took a MODSEQ.
            highestmodseq: ModSeq(4 + 3),
            ..before.clone()
        }
    );
    assert_eq!(
        store.entries(alice.id, parent).await.unwrap(),
        Vec::<Entry>::new()
    );
    assert_eq!(blob_count(&dir), 1);
    assert_eq!(
        store
            .account(&alice.address)
            .await
            .unwrap()
            .unwrap()
            .used_messages,
        1
    );
    // The child is untouched.
    assert_eq!(info(&store, &alice, "Work/Old").await.messages, 1);
    assert_eq!(store.entries(alice.id, child).await.unwrap().len(), 1);
    // A \Noselect mailbox has no status and takes no messages.
    assert_err!(
        store.mailbox_status(alice.id, "Work").await,
        StoreError::NotFound(Subject::Mailbox(n)) if n == "Work"
    );
    assert_err!(
        store.append(alice.id, "Work", message(5), Flags::default(), None).await,
        StoreError::NotFound(Subject::Mailbox(n)) if n == "Work"
    );
    // Deleting it again: it has children and nothing to delete.
    assert_err!(
        store.delete_mailbox(alice.id, "Work").await,
        StoreError::Refused(_)
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![deleted(parent, "Work")]
    );

    // Creating the name again makes it selectable (same row, new UIDVALIDITY).
    assert_eq!(mk(&store, &alice, "Work").await, parent);
    assert!(!info(&store, &alice, "Work").await.noselect);
    store.delete_mailbox(alice.id, "Work").await.unwrap();

    store.delete_mailbox(alice.id, "Work/Old").await.unwrap();
    assert_eq!(store.mailbox(alice.id, "Work/Old").await.unwrap(), None);
    assert_eq!(blob_count(&dir), 0);
    assert!(!info(&store, &alice, "Work").await.has_children);
    assert_err!(
        store.entries(alice.id, child).await,
        StoreError::NotFound(Subject::Mailbox(_))
    );
    // A \Noselect mailbox without children is deleted outright.
    store.delete_mailbox(alice.id, "Work").await.unwrap();
    assert_eq!(store.mailbox(alice.id, "Work").await.unwrap(), None);
    let account = store.account(&alice.address).await.unwrap().unwrap();
    assert_eq!((account.used_bytes, account.used_messages), (0, 0));
}

#[tokio::test]
async fn a_recreated_mailbox_gets_a_new_uidvalidity() {
    let (_dir, store, alice) = setup().await;
    mk(&store, &alice, "Work").await;
    let first = info(&store, &alice, "Work").await.uidvalidity;
    store.delete_mailbox(alice.id, "Work").await.unwrap();
    mk(&store, &alice, "Work").await;
    let second = info(&store, &alice, "Work").await.uidvalidity;
    assert!(second > first, "{first} then {second}");

    // RFC 3501 2.3.1.1 holds for a deleted mailbox kept as a \Noselect parent
    // too: its messages vanished without EXPUNGE, so cached UIDs are invalid.
    mk(&store, &alice, "Work/Child").await;
    put(&store, &alice, "Work", 1, &[], None).await;
    store.delete_mailbox(alice.id, "Work").await.unwrap();
    assert!(info(&store, &alice, "Work").await.noselect);
    mk(&store, &alice, "Work").await;
    let third = info(&store, &alice, "Work").await;
    assert!(
        third.uidvalidity > second,
        "{second} then {}",
        third.uidvalidity
    );
    assert_eq!((third.noselect, third.messages), (false, 0));
}

#[tokio::test]
async fn rename_moves_children_and_keeps_uidvalidity() {
    let (dir, store, alice) = setup().await;
    let work = mk(&store, &alice, "Work").await;
    let a = mk(&store, &alice, "Work/A").await;
    let b = mk(&store, &alice, "Work/A/B").await;
    let other = mk(&store, &alice, "Workshop").await;
    put(&store, &alice, "Work/A", 1, &["\\Seen"], Some(1_000)).await;
    let before: Vec<MailboxInfo> = store.list_mailboxes(alice.id).await.unwrap();
    let old = |name: &str| before.iter().find(|m| m.name == name).unwrap().clone();

    let mut feed = subscribe(&store, &alice).await;
    store
        .rename_mailbox(alice.id, "Work", "Archive/2026/Work")
        .await
        .unwrap();
    let new = store
        .mailbox(alice.id, "Archive/2026")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            created(new.id, "Archive/2026"),
            renamed(work, "Work", "Archive/2026/Work"),
            renamed(a, "Work/A", "Archive/2026/Work/A"),
            renamed(b, "Work/A/B", "Archive/2026/Work/A/B"),
        ]
    );
    for (from, to) in [
        ("Work", "Archive/2026/Work"),
        ("Work/A", "Archive/2026/Work/A"),
        ("Work/A/B", "Archive/2026/Work/A/B"),
    ] {
        assert_eq!(store.mailbox(alice.id, from).await.unwrap(), None);
        assert_eq!(
            info(&store, &alice, to).await,
            MailboxInfo {
                name: to.into(),
                ..old(from)
            }
        );
    }
    assert!(info(&store, &alice, "Archive/2026").await.has_children);
    assert_eq!(info(&store, &alice, "Workshop").await.id, other);
    assert_eq!(
        store.read_message(alice.id, a, Uid(1)).await.unwrap(),
        message(1)
    );

    assert_err!(
        store.rename_mailbox(alice.id, "Workshop", "Sent").await,
        StoreError::AlreadyExists(Subject::Mailbox(n)) if n == "Sent"
    );
    assert_err!(
        store.rename_mailbox(alice.id, "Work", "Elsewhere").await,
        StoreError::NotFound(Subject::Mailbox(n)) if n == "Work"
    );
    assert_err!(
        store
            .rename_mailbox(alice.id, "Workshop", "Workshop/Inner")
            .await,
        StoreError::Refused(_)
    );
    assert_err!(
        store.rename_mailbox(alice.id, "Workshop", "bad%name").await,
        StoreError::Invalid { .. }
    );
    assert_eq!(info(&store, &alice, "Workshop").await, old("Workshop"));

    // UIDVALIDITY survives closing and reopening the store.
    let after = store.list_mailboxes(alice.id).await.unwrap();
    store.close().await;
    let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
    assert_eq!(store.list_mailboxes(alice.id).await.unwrap(), after);
}

#[tokio::test]
async fn rename_moves_children_with_non_ascii_names() {
    let (_dir, store, alice) = setup().await;
    mk(&store, &alice, "Café/Ünter").await;
    store.rename_mailbox(alice.id, "Café", "Bar").await.unwrap();
    let names: Vec<String> = store
        .list_mailboxes(alice.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .filter(|n| n.starts_with("Ca") || n.starts_with("Ba"))
        .collect();
    assert_eq!(names, vec!["Bar", "Bar/Ünter"]);
}

#[tokio::test]
async fn renaming_inbox_moves_its_messages_and_leaves_it_empty() {
    let (_dir, store, alice) = setup().await;
    let inbox_before = info(&store, &alice, "INBOX").await;
    put(&store, &alice, "INBOX", 1, &["\\Seen", "$Work"], Some(111)).await;
    put(&store, &alice, "INBOX", 2, &[], Some(222)).await;
    let old_entries = store.entries(alice.id, inbox_before.id).await.unwrap();

    let mut feed = subscribe(&store, &alice).await;
    store
        .rename_mailbox(alice.id, "inbox", "Old Mail")
        .await
        .unwrap();
    let moved = info(&store, &alice, "Old Mail").await;
    let inbox = info(&store, &alice, "INBOX").await;
    assert_eq!(
        inbox,
        MailboxInfo {
            uidnext: 3,
            highestmodseq: ModSeq(5),
            ..inbox_before.clone()
        }
    );
    assert_eq!(
        store.entries(alice.id, inbox.id).await.unwrap(),
        Vec::<Entry>::new()
    );
    assert_eq!(
        moved,
        MailboxInfo {
            uidnext: 3,
            highestmodseq: ModSeq(3),
            messages: 2,
            unseen: 1,
            size: (message(1).len() + message(2).len()) as u64,
            ..empty_info(moved.id, "Old Mail", moved.uidvalidity)
        }
    );
    let entries = store.entries(alice.id, moved.id).await.unwrap();
    assert_eq!(
        entries,
        vec![
            Entry {
                modseq: ModSeq(2),
                ..old_entries[0].clone()
            },
            Entry {
                modseq: ModSeq(3),
                ..old_entries[1].clone()
            },
        ]
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            created(moved.id, "Old Mail"),
            added(moved.id, 1, 2),
            added(moved.id, 2, 3),
            vanished(inbox.id, 1, 4),
            vanished(inbox.id, 2, 5),
        ]
    );
    let account = store.account(&alice.address).await.unwrap().unwrap();
    assert_eq!(account.used_messages, 2);
    // INBOX's UIDs are not reused.
    assert_eq!(
        put(&store, &alice, "INBOX", 3, &[], None).await,
        (inbox.uidvalidity, Uid(3))
    );
}

#[tokio::test]
async fn append_assigns_uids_keeps_dates_and_flags_and_shares_blobs() {
    let (dir, store, alice) = setup().await;
    let inbox = info(&store, &alice, "INBOX").await;
    let t0 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let r1 = put(
        &store,
        &alice,
        "INBOX",
        1,
        &["\\Seen", "$Work", "$Important"],
        Some(1_000_000_000),
    )
    .await;
    let r2 = put(&store, &alice, "INBOX", 1, &["\\Deleted"], None).await;
    let r3 = put(&store, &alice, "inbox", 2, &[], Some(-5)).await;
    assert_eq!(
        vec![r1, r2, r3],
        vec![
            (inbox.uidvalidity, Uid(1)),
            (inbox.uidvalidity, Uid(2)),
            (inbox.uidvalidity, Uid(3))
        ]
    );
    let (s1, s2) = (message(1).len() as u64, message(2).len() as u64);
    let status = store.mailbox_status(alice.id, "INBOX").await.unwrap();
    let expected = MailboxStatus {
        id: inbox.id,
        uidvalidity: inbox.uidvalidity,
        uidnext: 4,
        highestmodseq: ModSeq(4),
        messages: 3,
        unseen: 2,
        deleted: 1,
        size: 2 * s1 + s2,
    };
    assert_eq!(status, expected);
    let listed = store.list_mailboxes(alice.id).await.unwrap();
    let listed = listed.into_iter().find(|m| m.name == "INBOX");
    let expected = MailboxInfo {
        uidnext: 4,
        highestmodseq: ModSeq(4),
        messages: 3,
        unseen: 2,
        deleted: 1,
        size: 2 * s1 + s2,
        ..inbox.clone()
    };
    assert_eq!(listed, Some(expected.clone()));
    assert_eq!(info(&store, &alice, "INBOX").await, expected);
    let entries = store.entries(alice.id, inbox.id).await.unwrap();
    let t1 = entries[1].internal_date;
    assert!(t1 >= t0 && t1 <= t0 + 60, "{t1} vs {t0}");
    assert_eq!(
        entries,
        vec![
            Entry {
                uid: Uid(1),
                modseq: ModSeq(2),
                flags: Flags {
                    system: Flags::SEEN,
                    keywords: vec!["$Important".into(), "$Work".into()],
                },
                internal_date: 1_000_000_000,
                size: s1,
                blob: entries[0].blob,
            },
            Entry {
                uid: Uid(2),
                modseq: ModSeq(3),
                flags: flags(&["\\Deleted"]),
                internal_date: t1,
                size: s1,
                // The same bytes are stored once.
                blob: entries[0].blob,
            },
            Entry {
                uid: Uid(3),
                modseq: ModSeq(4),
                flags: Flags::default(),
                internal_date: -5,
                size: s2,
                blob: entries[2].blob,
            },
        ]
    );
    assert_ne!(entries[0].blob, entries[2].blob);
    assert_eq!(blob_count(&dir), 2);
    let refs: i64 = raw(&dir)
        .query_row(
            "SELECT refcount FROM blobs WHERE id = ?1",
            [entries[0].blob.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refs, 2);
    for (uid, bytes) in [(1, message(1)), (2, message(1)), (3, message(2))] {
        assert_eq!(
            store
                .read_message(alice.id, inbox.id, Uid(uid))
                .await
                .unwrap(),
            bytes
        );
    }
    assert_err!(
        store.read_message(alice.id, inbox.id, Uid(4)).await,
        StoreError::NotFound(Subject::Message(4))
    );
    let account = store.account(&alice.address).await.unwrap().unwrap();
    assert_eq!(
        (account.used_bytes, account.used_messages),
        (2 * s1 + s2, 3)
    );
}

#[tokio::test]
async fn append_to_a_missing_mailbox_or_over_quota_changes_nothing() {
    let (dir, store, alice) = setup().await;
    assert_err!(
        store.append(alice.id, "Nope", message(1), Flags::default(), None).await,
        StoreError::NotFound(Subject::Mailbox(n)) if n == "Nope"
    );
    assert_invalid!(
        store
            .append(alice.id, "a//b", message(1), Flags::default(), None)
            .await,
        "mailbox name"
    );

    let size = message(1).len() as u64;
    store
        .set_quota(&alice.address, Some(2 * size), None)
        .await
        .unwrap();
    for n in 1..=2 {
        put(&store, &alice, "INBOX", n, &[], None).await;
    }
    let status = store.mailbox_status(alice.id, "INBOX").await.unwrap();
    let account = store.account(&alice.address).await.unwrap().unwrap();
    let mut feed = subscribe(&store, &alice).await;
    let err = store
        .append(alice.id, "INBOX", message(3), Flags::default(), None)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::OverQuota), "{err:?}");
    assert!(!err.is_temporary());
    // Even a message whose bytes are already stored counts.
    assert_err!(
        store
            .append(alice.id, "Sent", message(1), Flags::default(), None)
            .await,
        StoreError::OverQuota
    );
    // Refused appends publish nothing.
    assert_eq!(changes(&store, &alice, &mut feed).await, vec![]);

    store
        .set_quota(&alice.address, None, Some(2))
        .await
        .unwrap();
    let mut feed = subscribe(&store, &alice).await;
    assert_err!(
        store
            .append(alice.id, "INBOX", b"x".to_vec(), Flags::default(), None)
            .await,
        StoreError::OverQuota
    );

    assert_eq!(
        store.mailbox_status(alice.id, "INBOX").await.unwrap(),
        status
    );
    assert_eq!(
        store
            .mailbox_status(alice.id, "Sent")
            .await
            .unwrap()
            .messages,
        0
    );
    assert_eq!(
        store.account(&alice.address).await.unwrap().unwrap(),
        Account {
            quota_bytes: None,
            quota_messages: Some(2),
            ..account
        }
    );
    assert_eq!(blob_count(&dir), 2);
    assert_eq!(changes(&store, &alice, &mut feed).await, vec![]);
}

#[tokio::test]
async fn set_flags_bumps_modseq_only_for_changed_messages() {
    let (_dir, store, alice) = setup().await;
    let inbox = info(&store, &alice, "INBOX").await.id;
    put(&store, &alice, "INBOX", 1, &[], None).await;
    put(&store, &alice, "INBOX", 2, &["\\Seen"], None).await;
    put(&store, &alice, "INBOX", 3, &[], None).await;
    // MODSEQs now 2, 3, 4; HIGHESTMODSEQ 4.
    let mut feed = subscribe(&store, &alice).await;

    let seen = flags(&["\\Seen"]);
    let st = |uids, op, names, since| set(&store, &alice, inbox, uids, op, names, since);
    let (changed, modified) = st(&[1, 2, 3, 9], FlagOp::Add, &["\\Seen"], None).await;
    assert_eq!(
        changed,
        vec![
            (Uid(1), ModSeq(5), seen.clone()),
            (Uid(3), ModSeq(6), seen.clone())
        ]
    );
    assert_eq!(modified, Vec::<Uid>::new());
    let status = store.mailbox_status(alice.id, "INBOX").await.unwrap();
    assert_eq!((status.highestmodseq, status.unseen), (ModSeq(6), 0));

    // Keywords, added and removed; \Deleted counted.
    let (changed, _) = st(&[2], FlagOp::Add, &["$Work", "\\Deleted"], None).await;
    let expected2 = Flags {
        system: Flags::SEEN | Flags::DELETED,
        keywords: vec!["$Work".into()],
    };
    assert_eq!(changed, vec![(Uid(2), ModSeq(7), expected2.clone())]);
    let (changed, _) = st(&[1, 2], FlagOp::Remove, &["\\Seen", "$Work"], None).await;
    assert_eq!(
        changed,
        vec![
            (Uid(1), ModSeq(8), Flags::default()),
            (Uid(2), ModSeq(9), flags(&["\\Deleted"]))
        ]
    );
    let (changed, _) = st(&[3], FlagOp::Replace, &["\\Flagged", "b", "a"], None).await;
    assert_eq!(
        changed,
        vec![(Uid(3), ModSeq(10), flags(&["\\Flagged", "a", "b"]))]
    );
    // Replacing with the same flags changes nothing.
    let (changed, _) = st(&[3], FlagOp::Replace, &["a", "\\Flagged", "b"], None).await;
    assert_eq!(changed, vec![]);

    // RFC 7162 3.1.3: UNCHANGEDSINCE 8 fails for messages modified after 8.
    let (changed, modified) = st(&[1, 2, 3], FlagOp::Add, &["\\Answered"], Some(8)).await;
    assert_eq!(changed, vec![(Uid(1), ModSeq(11), flags(&["\\Answered"]))]);
    assert_eq!(modified, vec![Uid(2), Uid(3)]);

    let entries = store.entries(alice.id, inbox).await.unwrap();
    let got: Vec<(Uid, ModSeq, Flags)> = entries
        .into_iter()
        .map(|e| (e.uid, e.modseq, e.flags))
        .collect();
    assert_eq!(
        got,
        vec![
            (Uid(1), ModSeq(11), flags(&["\\Answered"])),
            (Uid(2), ModSeq(9), flags(&["\\Deleted"])),
            (Uid(3), ModSeq(10), flags(&["\\Flagged", "a", "b"])),
        ]
    );
    assert_eq!(
        store.mailbox_status(alice.id, "INBOX").await.unwrap(),
        MailboxStatus {
            highestmodseq: ModSeq(11),
            messages: 3,
            unseen: 3,
            deleted: 1,
            ..status
        }
    );
    let fc = |uid, modseq| flagged(inbox, uid, modseq);
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            fc(1, 5),
            fc(3, 6),
            fc(2, 7),
            fc(1, 8),
            fc(2, 9),
            fc(3, 10),
            fc(1, 11)
        ]
    );
}

#[tokio::test]
async fn expunge_removes_deleted_messages_and_remembers_their_uids() {
    let (dir, store, alice) = setup().await;
    let inbox = info(&store, &alice, "INBOX").await.id;
    for n in 1..=5 {
        let deleted: &[&str] = if [2, 3, 5].contains(&n) {
            &["\\Deleted"]
        } else {
            &[]
        };
        put(&store, &alice, "INBOX", n, deleted, None).await;
    }
    // HIGHESTMODSEQ 6.
    let mut feed = subscribe(&store, &alice).await;
    // UID EXPUNGE 3:4 removes 3 only (4 is not \Deleted).
    assert_eq!(
        store
            .expunge(alice.id, inbox, Some(vec![Uid(4), Uid(3), Uid(7)]))
            .await
            .unwrap(),
        vec![Uid(3)]
    );
    assert_eq!(
        store.expunge(alice.id, inbox, None).await.unwrap(),
        vec![Uid(2), Uid(5)]
    );
    assert_eq!(
        store.expunge(alice.id, inbox, None).await.unwrap(),
        Vec::<Uid>::new()
    );
    assert_eq!(
        expunged(&dir.path().join("zest.db"), inbox),
        vec![(2, 8), (3, 7), (5, 9)]
    );
    let (s1, s4) = (message(1).len() as u64, message(4).len() as u64);
    let status = store.mailbox_status(alice.id, "INBOX").await.unwrap();
    assert_eq!(
        (
            status.highestmodseq,
            status.messages,
            status.unseen,
            status.deleted,
            status.size,
            status.uidnext
        ),
        (ModSeq(9), 2, 2, 0, s1 + s4, 6)
    );
    let uids: Vec<Uid> = store
        .entries(alice.id, inbox)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.uid)
        .collect();
    assert_eq!(uids, vec![Uid(1), Uid(4)]);
    assert_err!(
        store.read_message(alice.id, inbox, Uid(2)).await,
        StoreError::NotFound(Subject::Message(2))
    );
    assert_eq!(blob_count(&dir), 2);
    let account = store.account(&alice.address).await.unwrap().unwrap();
    assert_eq!((account.used_bytes, account.used_messages), (s1 + s4, 2));
    let gone = |uid, modseq| vanished(inbox, uid, modseq);
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![gone(3, 7), gone(2, 8), gone(5, 9)]
    );
    // A new message gets a UID never used before.
    assert_eq!(put(&store, &alice, "INBOX", 6, &[], None).await.1, Uid(6));
}

#[tokio::test]
async fn another_accounts_mailbox_is_not_found() {
    let (_dir, store, alice) = setup().await;
    let bob = store
        .create_account(&addr("bob@example.org"), "pw", false)
        .await
        .unwrap();
    put(&store, &alice, "INBOX", 1, &["\\Deleted"], None).await;
    let inbox = info(&store, &alice, "INBOX").await.id;
    let errors = [
        store.entries(bob.id, inbox).await.unwrap_err(),
        store.read_message(bob.id, inbox, Uid(1)).await.unwrap_err(),
        store
            .set_flags(
                bob.id,
                inbox,
                vec![Uid(1)],
                FlagOp::Add,
                flags(&["\\Seen"]),
                None,
            )
            .await
            .unwrap_err(),
        store.expunge(bob.id, inbox, None).await.unwrap_err(),
        store.entries(alice.id, MailboxId(9999)).await.unwrap_err(),
    ];
    for err in errors {
        assert!(
            matches!(err, StoreError::NotFound(Subject::Mailbox(_))),
            "{err:?}"
        );
    }
    // Bob's own names do not reach Alice's mailboxes either.
    assert_eq!(
        store
            .mailbox_status(bob.id, "INBOX")
            .await
            .unwrap()
            .messages,
        0
    );
    assert_eq!(
        store.entries(alice.id, inbox).await.unwrap()[0].flags,
        flags(&["\\Deleted"])
    );
}
