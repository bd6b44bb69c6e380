//! Domains, accounts, passwords, aliases and recipient resolution, through the
//! store's public API on a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::Duration;

use store::{
    Account, AccountId, AddressBook, Alias, ChangeKind, ChangeStream, Domain, EmailAddress,
    FeedItem, Flags, MailboxInfo, ModSeq, NewContact, Store, StoreError, Subject, Uid,
};
use tempfile::TempDir;

#[macro_use]
mod common;
use common::{addr, changes, open_with, subscribe};

async fn open() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
    (dir, store)
}

/// A store with example.org and alice@example.org (password "secret").
async fn with_alice() -> (TempDir, Store, Account) {
    let (dir, store, mut users) = open_with(&["alice@example.org"]).await;
    (dir, store, users.pop().unwrap())
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

/// A COUNT(*) query, with `id` as ?1 when it has one.
fn count(conn: &rusqlite::Connection, sql: &str, id: i64) -> i64 {
    let params: &[i64] = if sql.contains("?1") { &[id] } else { &[] };
    let params = rusqlite::params_from_iter(params);
    conn.query_row(sql, params, |r| r.get(0)).unwrap()
}

async fn next_kind(feed: &mut ChangeStream) -> ChangeKind {
    match tokio::time::timeout(Duration::from_secs(10), feed.next())
        .await
        .expect("a change")
    {
        Some(FeedItem::Change(c)) => c.kind.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn domains_are_created_listed_and_deleted_only_when_empty() {
    let (_dir, store) = open().await;
    let d = store.create_domain(" Example.ORG. ").await.unwrap();
    assert_eq!(
        d,
        Domain {
            id: d.id,
            name: "example.org".into(),
            created_at: d.created_at,
            accounts: 0,
            aliases: 0,
        }
    );
    assert_err!(
        store.create_domain("example.org").await,
        StoreError::AlreadyExists(Subject::Domain(n)) if n == "example.org"
    );
    for bad in ["", "a b.org", "-a.org", "a..org", "a_b.org"] {
        assert_invalid!(store.create_domain(bad).await, "domain");
    }
    let net = store.create_domain("example.net").await.unwrap();
    assert!(store.is_local_domain("EXAMPLE.org").await.unwrap());
    assert!(!store.is_local_domain("example.com").await.unwrap());
    assert!(!store.is_local_domain("not a domain").await.unwrap());

    store
        .create_account(&addr("alice@example.org"), "pw", false)
        .await
        .unwrap();
    store
        .create_alias(&addr("info@example.net"), &addr("alice@example.org"))
        .await
        .unwrap();
    assert_eq!(
        store.list_domains().await.unwrap(),
        vec![
            Domain {
                aliases: 1,
                ..net.clone()
            },
            Domain {
                accounts: 1,
                ..d.clone()
            },
        ]
    );

    // Users or aliases left: refused, and nothing is deleted.
    for name in ["example.org", "example.net"] {
        assert_err!(store.delete_domain(name).await, StoreError::Refused(_));
    }
    assert_eq!(store.list_domains().await.unwrap().len(), 2);

    store.delete_alias(&addr("info@example.net")).await.unwrap();
    store.delete_domain("EXAMPLE.NET").await.unwrap();
    store
        .delete_account(&addr("alice@example.org"))
        .await
        .unwrap();
    store.delete_domain("example.org").await.unwrap();
    assert_eq!(store.list_domains().await.unwrap(), Vec::<Domain>::new());
    assert_err!(
        store.delete_domain("example.org").await,
        StoreError::NotFound(Subject::Domain(n)) if n == "example.org"
    );
    assert!(!store.is_local_domain("example.org").await.unwrap());
}

#[tokio::test]
async fn create_account_refuses_unknown_domains_taken_addresses_and_bad_passwords() {
    let (_dir, store, alice) = with_alice().await;
    store.create_domain("example.net").await.unwrap();
    store
        .create_alias(&addr("postmaster@example.org"), &alice.address)
        .await
        .unwrap();

    assert_err!(
        store.create_account(&addr("bob@other.org"), "pw", false).await,
        StoreError::UnknownDomain(d) if d == "other.org"
    );
    assert_err!(
        store.create_account(&addr("ALICE@example.org"), "pw", false).await,
        StoreError::AlreadyExists(Subject::Address(a)) if a == "alice@example.org"
    );
    assert_err!(
        store.create_account(&addr("postmaster@example.org"), "pw", false).await,
        StoreError::AlreadyExists(Subject::Address(a)) if a == "postmaster@example.org"
    );
    for pw in [String::new(), "x".repeat(1025)] {
        assert_invalid!(
            store
                .create_account(&addr("bob@example.org"), &pw, false)
                .await,
            "password"
        );
    }
    // Addresses are parsed before they reach the store.
    for bad in [
        "",
        "bob",
        "bob@",
        "@example.org",
        "b ob@example.org",
        "bob@exa mple.org",
        "bob..x@example.org",
        "<bob>@example.org",
    ] {
        assert_invalid!(EmailAddress::parse(bad), "address");
    }
    assert_eq!(store.list_accounts(None).await.unwrap(), vec![alice]);
}

#[tokio::test]
async fn a_new_account_has_its_mailboxes_subscriptions_and_default_book() {
    let (_dir, store) = open().await;
    store.create_domain("example.org").await.unwrap();
    let a = store
        .create_account(&addr("Alice@Example.org"), "secret", true)
        .await
        .unwrap();
    assert_eq!(
        a,
        Account {
            id: a.id,
            address: addr("alice@example.org"),
            is_admin: true,
            quota_bytes: None,
            quota_messages: None,
            used_bytes: 0,
            used_messages: 0,
            created_at: a.created_at,
        }
    );
    assert_eq!(
        store.account(&addr("alice@example.org")).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.account_by_id(a.id).await.unwrap(), Some(a.clone()));
    assert_eq!(store.account_by_id(AccountId(999)).await.unwrap(), None);
    assert_eq!(
        store.account(&addr("nobody@example.org")).await.unwrap(),
        None
    );

    let boxes = store.list_mailboxes(a.id).await.unwrap();
    let expected: Vec<(&str, Option<&str>)> = vec![
        ("Archive", Some("\\Archive")),
        ("Drafts", Some("\\Drafts")),
        ("INBOX", None),
        ("Junk", Some("\\Junk")),
        ("Sent", Some("\\Sent")),
        ("Trash", Some("\\Trash")),
    ];
    assert_eq!(boxes.len(), expected.len());
    for (b, (name, special)) in boxes.iter().zip(&expected) {
        assert_eq!(
            *b,
            MailboxInfo {
                id: b.id,
                name: name.to_string(),
                special_use: special.map(str::to_string),
                noselect: false,
                subscribed: true,
                has_children: false,
                uidvalidity: b.uidvalidity,
                uidnext: 1,
                highestmodseq: ModSeq(1),
                messages: 0,
                unseen: 0,
                deleted: 0,
                size: 0,
            }
        );
    }
    // Every mailbox gets its own UIDVALIDITY.
    let mut validities: Vec<u32> = boxes.iter().map(|b| b.uidvalidity.0).collect();
    validities.sort_unstable();
    validities.dedup();
    assert_eq!(validities.len(), 6);
    assert_eq!(
        store.subscriptions(a.id).await.unwrap(),
        vec!["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]
    );
    let books = store.addrbooks(a.id).await.unwrap();
    assert_eq!(
        books,
        vec![AddressBook {
            id: books[0].id,
            name: "default".into(),
            contacts: 0,
        }]
    );
}

#[tokio::test]
async fn passwords_verify_only_when_right() {
    let (_dir, store, alice) = with_alice().await;
    assert_eq!(
        store
            .verify_password("alice@example.org", "secret")
            .await
            .unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        store
            .verify_password(" Alice@EXAMPLE.org ", "secret")
            .await
            .unwrap(),
        Some(alice.clone())
    );
    for (user, pw) in [
        ("alice@example.org", "Secret"),
        ("alice@example.org", ""),
        ("bob@example.org", "secret"),
        ("not an address", "secret"),
        ("", ""),
    ] {
        assert_eq!(
            store.verify_password(user, pw).await.unwrap(),
            None,
            "{user:?} {pw:?}"
        );
    }

    store
        .set_password(&alice.address, "new secret")
        .await
        .unwrap();
    assert_eq!(
        store
            .verify_password("alice@example.org", "secret")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .verify_password("alice@example.org", "new secret")
            .await
            .unwrap(),
        Some(alice.clone())
    );
    assert_err!(
        store.set_password(&addr("bob@example.org"), "x").await,
        StoreError::NotFound(Subject::Account(a)) if a == "bob@example.org"
    );
    assert_invalid!(store.set_password(&alice.address, "").await, "password");
    // The failed change left the password alone.
    assert!(
        store
            .verify_password("alice@example.org", "new secret")
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn admin_role_and_quota_are_set() {
    let (_dir, store, alice) = with_alice().await;
    let mut feed = subscribe(&store, &alice).await;
    store.set_admin(&alice.address, true).await.unwrap();
    store
        .set_quota(&alice.address, Some(1_000_000), Some(50))
        .await
        .unwrap();
    let expected = Account {
        is_admin: true,
        quota_bytes: Some(1_000_000),
        quota_messages: Some(50),
        ..alice.clone()
    };
    assert_eq!(
        store.account(&alice.address).await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AccountChanged; 2]
    );

    store.set_admin(&alice.address, false).await.unwrap();
    store.set_quota(&alice.address, None, None).await.unwrap();
    assert_eq!(store.account(&alice.address).await.unwrap(), Some(alice));

    let nobody = addr("nobody@example.org");
    for result in [
        store.set_admin(&nobody, true).await,
        store.set_quota(&nobody, Some(1), None).await,
    ] {
        assert_err!(
            result,
            StoreError::NotFound(Subject::Account(a)) if a == "nobody@example.org"
        );
    }
}

#[tokio::test]
async fn list_accounts_by_domain() {
    let (_dir, store, alice) = with_alice().await;
    store.create_domain("example.net").await.unwrap();
    let carol = store
        .create_account(&addr("carol@example.net"), "pw", false)
        .await
        .unwrap();
    let bob = store
        .create_account(&addr("bob@example.org"), "pw", false)
        .await
        .unwrap();
    assert_eq!(
        store.list_accounts(None).await.unwrap(),
        vec![alice.clone(), bob.clone(), carol.clone()]
    );
    assert_eq!(
        store.list_accounts(Some("Example.ORG")).await.unwrap(),
        vec![alice, bob]
    );
    assert_eq!(
        store.list_accounts(Some("example.net")).await.unwrap(),
        vec![carol]
    );
    assert_eq!(
        store.list_accounts(Some("example.com")).await.unwrap(),
        Vec::<Account>::new()
    );
    assert_invalid!(store.list_accounts(Some("bad domain")).await, "domain");
}

#[tokio::test]
async fn aliases_are_created_listed_and_deleted() {
    let (_dir, store, alice) = with_alice().await;
    store.create_domain("example.net").await.unwrap();
    let bob = store
        .create_account(&addr("bob@example.org"), "pw", false)
        .await
        .unwrap();

    let a1 = store
        .create_alias(&addr("Info@Example.net"), &alice.address)
        .await
        .unwrap();
    assert_eq!(
        a1,
        Alias {
            address: addr("info@example.net"),
            target: alice.address.clone(),
            created_at: a1.created_at,
        }
    );
    let a2 = store
        .create_alias(&addr("sales@example.org"), &alice.address)
        .await
        .unwrap();
    let a3 = store
        .create_alias(&addr("help@example.net"), &bob.address)
        .await
        .unwrap();

    assert_err!(
        store.create_alias(&addr("x@example.org"), &addr("nobody@example.org")).await,
        StoreError::NotFound(Subject::Account(a)) if a == "nobody@example.org"
    );
    assert_err!(
        store.create_alias(&addr("x@other.org"), &alice.address).await,
        StoreError::UnknownDomain(d) if d == "other.org"
    );
    assert_err!(
        store.create_alias(&addr("info@example.net"), &bob.address).await,
        StoreError::AlreadyExists(Subject::Address(a)) if a == "info@example.net"
    );
    assert_err!(
        store.create_alias(&addr("bob@example.org"), &alice.address).await,
        StoreError::AlreadyExists(Subject::Address(a)) if a == "bob@example.org"
    );
    // An account's own address cannot also be its alias.
    assert_err!(
        store.create_alias(&alice.address, &alice.address).await,
        StoreError::AlreadyExists(Subject::Address(_))
    );

    assert_eq!(
        store.list_aliases(None, None).await.unwrap(),
        vec![a3.clone(), a1.clone(), a2.clone()]
    );
    assert_eq!(
        store.list_aliases(Some("EXAMPLE.NET"), None).await.unwrap(),
        vec![a3.clone(), a1.clone()]
    );
    assert_eq!(
        store
            .list_aliases(None, Some(&alice.address))
            .await
            .unwrap(),
        vec![a1.clone(), a2.clone()]
    );
    assert_eq!(
        store
            .list_aliases(Some("example.net"), Some(&alice.address))
            .await
            .unwrap(),
        vec![a1.clone()]
    );
    assert_eq!(
        store.list_aliases(Some("example.com"), None).await.unwrap(),
        Vec::<Alias>::new()
    );

    store.delete_alias(&addr("INFO@example.net")).await.unwrap();
    assert_err!(
        store.delete_alias(&addr("info@example.net")).await,
        StoreError::NotFound(Subject::Alias(a)) if a == "info@example.net"
    );
    // An account's own address is no alias.
    assert_err!(
        store.delete_alias(&alice.address).await,
        StoreError::NotFound(Subject::Alias(_))
    );
    assert_eq!(store.list_aliases(None, None).await.unwrap(), vec![a3, a2]);
    assert_eq!(
        store
            .resolve_recipient(&addr("info@example.net"))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn recipients_resolve_through_aliases_and_details() {
    let (_dir, store, alice) = with_alice().await;
    let bob = store
        .create_account(&addr("bob@example.org"), "pw", false)
        .await
        .unwrap();
    store
        .create_alias(&addr("sales@example.org"), &bob.address)
        .await
        .unwrap();
    type Resolved = Option<(AccountId, Option<String>)>;
    let cases: Vec<(&str, Resolved)> = vec![
        ("alice@example.org", Some((alice.id, None))),
        ("ALICE@Example.ORG", Some((alice.id, None))),
        ("sales@example.org", Some((bob.id, None))),
        (
            "alice+lists@example.org",
            Some((alice.id, Some("lists".into()))),
        ),
        (
            "sales+eu+de@example.org",
            Some((bob.id, Some("eu+de".into()))),
        ),
        ("nobody@example.org", None),
        ("nobody+x@example.org", None),
        ("alice@example.net", None),
        ("+x@example.org", None),
    ];
    for (a, expected) in cases {
        assert_eq!(
            store.resolve_recipient(&addr(a)).await.unwrap(),
            expected,
            "{a}"
        );
    }
}

#[tokio::test]
async fn addresses_of_lists_the_account_and_its_aliases() {
    let (_dir, store, alice) = with_alice().await;
    store.create_domain("example.net").await.unwrap();
    store
        .create_alias(&addr("a@example.net"), &alice.address)
        .await
        .unwrap();
    store
        .create_alias(&addr("b@example.org"), &alice.address)
        .await
        .unwrap();
    assert_eq!(
        store.addresses_of(alice.id).await.unwrap(),
        vec![
            addr("alice@example.org"),
            addr("a@example.net"),
            addr("b@example.org")
        ]
    );
    assert_eq!(
        store.addresses_of(AccountId(999)).await.unwrap(),
        Vec::<EmailAddress>::new()
    );
}

fn message(subject: &str) -> Vec<u8> {
    format!("From: x@example.com\r\nSubject: {subject}\r\n\r\nbody of {subject}\r\n").into_bytes()
}

#[tokio::test]
async fn delete_account_removes_what_it_owned_and_frees_only_its_blobs() {
    let (dir, store, alice) = with_alice().await;
    let path = dir.path().join("zest.db");
    let bob = store
        .create_account(&addr("bob@example.org"), "pw", false)
        .await
        .unwrap();
    store
        .create_alias(&addr("al@example.org"), &alice.address)
        .await
        .unwrap();
    store
        .create_mailbox(alice.id, "Work/2026", None)
        .await
        .unwrap();
    for (mailbox, m) in [("INBOX", "shared"), ("INBOX", "own"), ("Work/2026", "own")] {
        store
            .append(alice.id, mailbox, message(m), Flags::default(), None)
            .await
            .unwrap();
    }
    store
        .append(bob.id, "INBOX", message("shared"), Flags::default(), None)
        .await
        .unwrap();
    store
        .add_contact(
            alice.id,
            "default",
            NewContact {
                name: "Bob".into(),
                emails: vec!["bob@example.org".into()],
                note: String::new(),
            },
        )
        .await
        .unwrap();
    store
        .put_script(alice.id, "main", b"keep;".to_vec())
        .await
        .unwrap();
    store.activate_script(alice.id, Some("main")).await.unwrap();
    let own_list = store.list_uri("alice-friends").await.unwrap();
    store.create_list(&own_list, Some(alice.id)).await.unwrap();
    store
        .add_list_members(&own_list, vec!["x@example.com".into()])
        .await
        .unwrap();
    let server_list = store.list_uri("staff").await.unwrap();
    store.create_list(&server_list, None).await.unwrap();
    store
        .add_list_members(&server_list, vec![alice.address.to_string()])
        .await
        .unwrap();

    let db = raw(&path);
    let blobs = |db: &rusqlite::Connection| -> Vec<(Vec<u8>, i64)> {
        db.prepare("SELECT data, refcount FROM blobs ORDER BY data")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        blobs(&db),
        vec![(message("own"), 2), (message("shared"), 2)]
    );

    let mut feed = subscribe(&store, &alice).await;
    store.delete_account(&alice.address).await.unwrap();
    assert_eq!(next_kind(&mut feed).await, ChangeKind::AccountChanged);

    assert_eq!(store.account(&alice.address).await.unwrap(), None);
    assert_eq!(
        store
            .verify_password("alice@example.org", "secret")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .resolve_recipient(&addr("al@example.org"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.list_aliases(None, None).await.unwrap(),
        Vec::<Alias>::new()
    );
    for (table, sql) in [
        (
            "mailboxes",
            "SELECT COUNT(*) FROM mailboxes WHERE account_id = ?1",
        ),
        (
            "subscriptions",
            "SELECT COUNT(*) FROM subscriptions WHERE account_id = ?1",
        ),
        (
            "addressbooks",
            "SELECT COUNT(*) FROM addressbooks WHERE account_id = ?1",
        ),
        (
            "sieve_scripts",
            "SELECT COUNT(*) FROM sieve_scripts WHERE account_id = ?1",
        ),
        (
            "lists",
            "SELECT COUNT(*) FROM lists WHERE owner_account_id = ?1",
        ),
        ("contacts", "SELECT COUNT(*) FROM contacts"),
        ("contact_emails", "SELECT COUNT(*) FROM contact_emails"),
        (
            "list_members",
            "SELECT COUNT(*) FROM list_members WHERE list_id NOT IN (SELECT id FROM lists)",
        ),
    ] {
        assert_eq!(count(&db, sql, alice.id.0), 0, "{table}");
    }
    // The blob only alice referenced is gone with its summary; the shared one stays.
    assert_eq!(blobs(&db), vec![(message("shared"), 1)]);
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM message_meta WHERE blob_id NOT IN (SELECT id FROM blobs)",
            0
        ),
        0
    );
    let inbox = store.mailbox_status(bob.id, "INBOX").await.unwrap();
    assert_eq!(
        store.read_message(bob.id, inbox.id, Uid(1)).await.unwrap(),
        message("shared")
    );
    // Server lists stay, with their members.
    assert_eq!(
        store.list_members(None, &server_list).await.unwrap(),
        vec!["alice@example.org".to_string()]
    );
    assert_err!(
        store.list_members(None, &own_list).await,
        StoreError::NotFound(Subject::List(_))
    );
    assert_eq!(store.list_domains().await.unwrap()[0].accounts, 1);
    assert_eq!(store.list_domains().await.unwrap()[0].aliases, 0);

    assert_err!(
        store.delete_account(&alice.address).await,
        StoreError::NotFound(Subject::Account(a)) if a == "alice@example.org"
    );
    // The address is free again, with fresh mailboxes.
    let again = store
        .create_account(&alice.address, "pw", false)
        .await
        .unwrap();
    assert_ne!(again.id, alice.id);
    assert_eq!(
        store
            .mailbox_status(again.id, "INBOX")
            .await
            .unwrap()
            .messages,
        0
    );
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
}
