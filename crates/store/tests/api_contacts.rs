//! Address books and contacts, `tag:` lists and Sieve scripts, through the
//! store's public API on a real SQLite file, with the change feed each write
//! produces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::ListVisibility::{All, OwnedBy, VisibleTo};
use store::{
    Account, AddressBook, ChangeKind, Contact, ContactId, ImportSummary, List, ListUri, NewContact,
    Script, Store, StoreError, Subject,
};
use tempfile::TempDir;

#[macro_use]
mod common;
use common::{changes, open_with, subscribe};

async fn setup() -> (TempDir, Store, Account, Account) {
    let (dir, store, mut users) = open_with(&["alice@example.org", "bob@example.org"]).await;
    let bob = users.pop().unwrap();
    (dir, store, users.pop().unwrap(), bob)
}

fn contact(name: &str, emails: &[&str]) -> NewContact {
    NewContact {
        name: name.into(),
        emails: emails.iter().map(|e| e.to_string()).collect(),
        note: String::new(),
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

async fn add(store: &Store, a: &Account, book: &str, name: &str, emails: &[&str]) -> Contact {
    store
        .add_contact(a.id, book, contact(name, emails))
        .await
        .unwrap()
}

async fn has(store: &Store, account: &Account, book: &str, value: &str) -> bool {
    store
        .addrbook_contains(account.id, book, value)
        .await
        .unwrap()
}

async fn put(store: &Store, account: &Account, name: &str, content: &[u8]) {
    store
        .put_script(account.id, name, content.to_vec())
        .await
        .unwrap()
}

async fn add_members(store: &Store, uri: &ListUri, values: &[&str]) -> u64 {
    store.add_list_members(uri, strings(values)).await.unwrap()
}

fn script_changed(name: &str) -> ChangeKind {
    ChangeKind::ScriptChanged { name: name.into() }
}

async fn search(store: &Store, account: &Account, query: &str) -> Vec<Contact> {
    let found = store.contacts(account.id, "default", Some(query), 100, 0);
    found.await.unwrap()
}

async fn all_contacts(store: &Store, account: &Account, book: &str) -> Vec<Contact> {
    let all = store.contacts(account.id, book, None, 1000, 0);
    all.await.unwrap()
}

// Address books ---------------------------------------------------------------

#[tokio::test]
async fn address_books_are_created_and_deleted_but_default_stays() {
    let (dir, store, alice, bob) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    let default = store.addrbooks(alice.id).await.unwrap()[0].clone();
    let work = store.create_addrbook(alice.id, "Work").await.unwrap();
    assert_eq!(
        work,
        AddressBook {
            id: work.id,
            name: "Work".into(),
            contacts: 0,
        }
    );
    // Names other than default are case-sensitive.
    let lower = store.create_addrbook(alice.id, "work").await.unwrap();
    for (name, existing) in [
        ("Work", "Work"),
        ("DEFAULT", "default"),
        ("default", "default"),
    ] {
        assert_err!(
            store.create_addrbook(alice.id, name).await,
            StoreError::AlreadyExists(Subject::AddressBook(n)) if n == existing
        );
    }
    let long = "x".repeat(101);
    for bad in ["", "a\nb", "\u{7f}", long.as_str()] {
        assert_invalid!(
            store.create_addrbook(alice.id, bad).await,
            "address book name"
        );
    }
    add(&store, &alice, "Work", "Carol", &["carol@example.net"]).await;
    assert_eq!(
        store.addrbooks(alice.id).await.unwrap(),
        vec![
            default.clone(),
            AddressBook {
                contacts: 1,
                ..work.clone()
            },
            lower.clone(),
        ]
    );
    // Another account's books are not there for it.
    assert_eq!(store.addrbooks(bob.id).await.unwrap().len(), 1);
    assert_err!(
        store.delete_addrbook(bob.id, "Work").await,
        StoreError::NotFound(Subject::AddressBook(n)) if n == "Work"
    );

    for name in ["default", "DEFAULT", "Default"] {
        assert_err!(
            store.delete_addrbook(alice.id, name).await,
            StoreError::Refused(_)
        );
    }
    assert_err!(
        store.delete_addrbook(alice.id, "Nope").await,
        StoreError::NotFound(Subject::AddressBook(n)) if n == "Nope"
    );

    store.delete_addrbook(alice.id, "Work").await.unwrap();
    assert_eq!(
        store.addrbooks(alice.id).await.unwrap(),
        vec![default, lower]
    );
    let db = rusqlite::Connection::open(dir.path().join("zest.db")).unwrap();
    let count = db.query_row("SELECT COUNT(*) FROM contact_emails", [], |r| r.get(0));
    assert_eq!(count, Ok(0));
    assert_err!(
        store.contacts(alice.id, "Work", None, 10, 0).await,
        StoreError::NotFound(Subject::AddressBook(_))
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AddressBookChanged; 4]
    );
}

#[tokio::test]
async fn contacts_are_added_with_normalised_unique_emails() {
    let (_dir, store, alice, bob) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    let c = store
        .add_contact(
            alice.id,
            "DEFAULT",
            NewContact {
                name: "  Carol Example ".into(),
                emails: strings(&[" Carol@Example.NET ", "carol@example.net", "c@work.example"]),
                note: "met at FOSDEM".into(),
            },
        )
        .await
        .unwrap();
    let expected = Contact {
        id: c.id,
        name: "Carol Example".into(),
        emails: strings(&["Carol@Example.NET", "c@work.example"]),
        note: "met at FOSDEM".into(),
    };
    assert_eq!(c, expected);
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![expected.clone()]
    );

    // An email already in the book, in any case, is refused and nothing is added.
    let other = contact("Other", &["x@example.net", "C@WORK.example"]);
    assert_err!(
        store.add_contact(alice.id, "default", other).await,
        StoreError::AlreadyExists(Subject::Contact(e)) if e == "C@WORK.example"
    );
    assert!(!has(&store, &alice, "default", "x@example.net").await);
    // Other books, and other accounts' books, may hold the same email.
    store.create_addrbook(alice.id, "Work").await.unwrap();
    add(&store, &alice, "Work", "Carol", &["carol@example.net"]).await;
    add(&store, &bob, "default", "Carol", &["carol@example.net"]).await;

    assert_invalid!(
        store
            .add_contact(alice.id, "default", contact("Nobody", &[]))
            .await,
        "contact"
    );
    for bad in ["not an email", "a@", "a b@example.org"] {
        let c = contact("Bad", &["ok@example.org", bad]);
        assert_invalid!(store.add_contact(alice.id, "default", c).await, "address");
    }
    assert_err!(
        store.add_contact(alice.id, "Nope", contact("X", &["x@example.org"])).await,
        StoreError::NotFound(Subject::AddressBook(n)) if n == "Nope"
    );
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![expected]
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AddressBookChanged; 3]
    );
}

#[tokio::test]
async fn contacts_are_updated_and_deleted_only_by_their_owner() {
    let (_dir, store, alice, bob) = setup().await;
    let carol = add(&store, &alice, "default", "Carol", &["carol@example.net"]).await;
    let dave = add(&store, &alice, "default", "Dave", &["dave@example.net"]).await;
    let mut feed = subscribe(&store, &alice).await;
    store
        .update_contact(
            alice.id,
            carol.id,
            NewContact {
                name: "Carol C.".into(),
                emails: strings(&["CAROL@example.net", "carol@home.example"]),
                note: "new".into(),
            },
        )
        .await
        .unwrap();
    let carol2 = Contact {
        id: carol.id,
        name: "Carol C.".into(),
        emails: strings(&["CAROL@example.net", "carol@home.example"]),
        note: "new".into(),
    };
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![carol2.clone(), dave.clone()]
    );
    // Taking Dave's email is refused and Carol keeps hers.
    assert_err!(
        store
            .update_contact(alice.id, carol.id, contact("Carol", &["dave@example.net"]))
            .await,
        StoreError::AlreadyExists(Subject::Contact(_))
    );
    let no_email = contact("Carol", &[]);
    assert_invalid!(
        store.update_contact(alice.id, carol.id, no_email).await,
        "contact"
    );
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![carol2.clone(), dave.clone()]
    );
    assert!(has(&store, &alice, "default", "carol@home.example").await);

    let id = carol.id.to_string();
    let mine = contact("Mine", &["x@example.org"]);
    for result in [
        store.update_contact(bob.id, carol.id, mine).await,
        store.delete_contact(bob.id, carol.id).await,
    ] {
        assert_err!(result, StoreError::NotFound(Subject::Contact(c)) if *c == id);
    }
    assert_err!(
        store.delete_contact(alice.id, ContactId(9999)).await,
        StoreError::NotFound(Subject::Contact(_))
    );
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![carol2, dave.clone()]
    );

    store.delete_contact(alice.id, carol.id).await.unwrap();
    assert_eq!(all_contacts(&store, &alice, "default").await, vec![dave]);
    assert!(!has(&store, &alice, "default", "carol@example.net").await);
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AddressBookChanged; 2]
    );
}

#[tokio::test]
async fn removing_the_last_email_removes_the_contact() {
    let (_dir, store, alice, _bob) = setup().await;
    let carol = add(
        &store,
        &alice,
        "default",
        "Carol",
        &["carol@example.net", "c@work.example"],
    )
    .await;
    let mut feed = subscribe(&store, &alice).await;
    store
        .remove_contact_email(alice.id, "default", "<Carol@Example.NET>")
        .await
        .unwrap();
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![Contact {
            emails: strings(&["c@work.example"]),
            ..carol.clone()
        }]
    );
    assert_err!(
        store.remove_contact_email(alice.id, "default", "carol@example.net").await,
        StoreError::NotFound(Subject::Contact(e)) if e == "carol@example.net"
    );
    assert_err!(
        store
            .remove_contact_email(alice.id, "Nope", "c@work.example")
            .await,
        StoreError::NotFound(Subject::AddressBook(_))
    );
    store
        .remove_contact_email(alice.id, "default", "mailto:C@work.example")
        .await
        .unwrap();
    assert_eq!(all_contacts(&store, &alice, "default").await, vec![]);
    assert_eq!(store.addrbooks(alice.id).await.unwrap()[0].contacts, 0);
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AddressBookChanged; 2]
    );
}

#[tokio::test]
async fn contacts_search_names_and_emails_literally() {
    let (_dir, store, alice, _bob) = setup().await;
    let mut added = Vec::new();
    for (name, email) in [
        ("alice Smith", "alice.smith@example.net"),
        ("Bob Jones", "bj@jones.example"),
        ("100% Real", "real@example.net"),
        ("under_score", "u1@example.net"),
        ("underXscore", "u2@example.net"),
        ("Back\\slash", "percent%sign@example.net"),
    ] {
        added.push(add(&store, &alice, "default", name, &[email]).await);
    }
    let [smith, jones, real, under, underx, back] = <[Contact; 6]>::try_from(added).unwrap();
    // Sorted by name, case-insensitively.
    assert_eq!(
        all_contacts(&store, &alice, "default").await,
        vec![
            real.clone(),
            smith.clone(),
            back.clone(),
            jones.clone(),
            under.clone(),
            underx.clone()
        ]
    );
    assert_eq!(search(&store, &alice, "SMITH").await, vec![smith.clone()]);
    assert_eq!(
        search(&store, &alice, "jones.EX").await,
        vec![jones.clone()]
    );
    assert_eq!(
        search(&store, &alice, "%").await,
        vec![real.clone(), back.clone()]
    );
    assert_eq!(search(&store, &alice, "_").await, vec![under.clone()]);
    assert_eq!(search(&store, &alice, "\\").await, vec![back.clone()]);
    assert_eq!(search(&store, &alice, "u_@").await, vec![]);
    assert_eq!(search(&store, &alice, "nothing").await, vec![]);
    assert_eq!(search(&store, &alice, "").await.len(), 6);
    // Paging.
    assert_eq!(
        store
            .contacts(alice.id, "default", None, 2, 1)
            .await
            .unwrap(),
        vec![smith, back]
    );
    assert_eq!(
        store
            .contacts(alice.id, "default", Some("example.net"), 10, 3)
            .await
            .unwrap(),
        vec![under, underx]
    );
}

#[tokio::test]
async fn import_counts_duplicates_and_reports_progress() {
    let (_dir, store, alice, _bob) = setup().await;
    add(&store, &alice, "default", "Bob", &["bob@example.net"]).await;
    let mut feed = subscribe(&store, &alice).await;
    let mut progress = Vec::new();
    let summary = store
        .import_contacts(
            alice.id,
            "Default",
            vec![
                contact("Carol", &["carol@example.net"]),
                contact("Bob again", &["BOB@example.net"]),
                contact("Bob and Dave", &["bob@example.net", "dave@example.net"]),
                contact("Carol twice", &["<carol@example.net>"]),
            ],
            |n| progress.push(n),
        )
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            imported: 2,
            duplicates: 2
        }
    );
    assert_eq!(progress, vec![4]);
    let got: Vec<(String, Vec<String>)> = all_contacts(&store, &alice, "default")
        .await
        .into_iter()
        .map(|c| (c.name, c.emails))
        .collect();
    assert_eq!(
        got,
        vec![
            ("Bob".to_string(), strings(&["bob@example.net"])),
            ("Bob and Dave".to_string(), strings(&["dave@example.net"])),
            ("Carol".to_string(), strings(&["carol@example.net"])),
        ]
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::AddressBookChanged]
    );

    // More than one chunk: progress after each.
    store.create_addrbook(alice.id, "Big").await.unwrap();
    let many: Vec<NewContact> = (0..2001)
        .map(|n| contact(&format!("c{n}"), &[&format!("c{n}@example.net")]))
        .collect();
    let mut progress = Vec::new();
    let summary = store
        .import_contacts(alice.id, "Big", many, |n| progress.push(n))
        .await
        .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            imported: 2001,
            duplicates: 0
        }
    );
    assert_eq!(progress, vec![2000, 2001]);
    assert_eq!(store.addrbooks(alice.id).await.unwrap()[1].contacts, 2001);

    // A bad email anywhere imports nothing; so does a missing book.
    let bad = vec![
        contact("Eve", &["eve@example.net"]),
        contact("Bad", &["bad"]),
    ];
    assert_invalid!(
        store
            .import_contacts(alice.id, "default", bad, |_| {})
            .await,
        "address"
    );
    let eve = vec![contact("Eve", &["eve@example.net"])];
    assert_err!(
        store.import_contacts(alice.id, "Nope", eve, |_| {}).await,
        StoreError::NotFound(Subject::AddressBook(n)) if n == "Nope"
    );
    assert_eq!(all_contacts(&store, &alice, "default").await.len(), 3);
}

#[tokio::test]
async fn addrbook_contains_matches_normalised_addresses_in_own_books_only() {
    let (_dir, store, alice, bob) = setup().await;
    add(&store, &alice, "default", "Carol", &["Carol@Example.NET"]).await;
    store.create_addrbook(alice.id, "Work").await.unwrap();
    for (book, value, expected) in [
        ("default", "carol@example.net", true),
        ("DEFAULT", "CAROL@EXAMPLE.NET", true),
        ("Default", "<Carol@example.net>", true),
        ("default", " mailto:carol@example.net ", true),
        ("default", "MAILTO:carol@example.net", true),
        ("default", "carol@example.org", false),
        ("default", "carol", false),
        ("default", "", false),
        ("Work", "carol@example.net", false),
    ] {
        assert_eq!(
            store
                .addrbook_contains(alice.id, book, value)
                .await
                .unwrap(),
            expected,
            "{book} {value:?}"
        );
    }
    assert_err!(
        store.addrbook_contains(alice.id, "work", "carol@example.net").await,
        StoreError::NotFound(Subject::AddressBook(n)) if n == "work"
    );
    // Bob's default is his own; Alice's Work does not exist for him.
    assert!(!has(&store, &bob, "default", "carol@example.net").await);
    assert_err!(
        store
            .addrbook_contains(bob.id, "Work", "carol@example.net")
            .await,
        StoreError::NotFound(Subject::AddressBook(_))
    );
}

// Lists -------------------------------------------------------------------------

#[tokio::test]
async fn list_uris_use_the_installation_prefix() {
    let (_dir, store, _alice, _bob) = setup().await;
    let prefix = store.list_prefix().await.unwrap();
    let staff = store.list_uri("staff").await.unwrap();
    assert_eq!(staff.as_str(), format!("{prefix}staff"));
    assert_eq!(staff.name(), "staff");
    assert_eq!(staff.prefix(), prefix);
    assert_eq!(
        store.list_uri(&format!("{prefix}staff")).await.unwrap(),
        staff
    );
    assert_eq!(
        store
            .list_uri(&format!("TAG:{}staff", &prefix[4..]))
            .await
            .unwrap()
            .as_str(),
        staff.as_str()
    );
    assert_eq!(
        store.list_uri("team/eu").await.unwrap().as_str(),
        format!("{prefix}team/eu")
    );
    for bad in [
        "tag:other.example,2020-01-01:staff",
        "tag:localhost,1999:staff",
        "tag:nonsense",
        "",
        "two words",
        "naïve",
        "aaaé",
        "é",
    ] {
        assert_invalid!(store.list_uri(bad).await, "list URI");
    }
}

#[tokio::test]
async fn lists_are_created_filled_emptied_and_deleted() {
    let (_dir, store, alice, bob) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    let staff = store.list_uri("staff").await.unwrap();
    let friends = store.list_uri("alice-friends").await.unwrap();
    let s = store.create_list(&staff, None).await.unwrap();
    assert_eq!(
        s,
        List {
            id: s.id,
            uri: staff.to_string(),
            name: "staff".into(),
            owner: None,
            members: 0,
        }
    );
    let f = store.create_list(&friends, Some(alice.id)).await.unwrap();
    assert_eq!(
        f,
        List {
            id: f.id,
            uri: friends.to_string(),
            name: "alice-friends".into(),
            owner: Some(alice.address.clone()),
            members: 0,
        }
    );
    for owner in [None, Some(bob.id)] {
        assert_err!(
            store.create_list(&staff, owner).await,
            StoreError::AlreadyExists(Subject::List(u)) if *u == staff.to_string()
        );
    }
    let ghost = store.list_uri("ghost").await.unwrap();
    assert_err!(
        store
            .create_list(&ghost, Some(store::AccountId(9999)))
            .await,
        StoreError::NotFound(Subject::Account(_))
    );

    assert_eq!(
        add_members(
            &store,
            &friends,
            &[
                " Carol@Example.net ",
                "<dave@example.net>",
                "carol@example.net"
            ]
        )
        .await,
        2
    );
    assert_eq!(
        add_members(
            &store,
            &friends,
            &["mailto:DAVE@example.net", "eve@example.net"]
        )
        .await,
        1
    );
    assert_eq!(
        store.list_members(None, &friends).await.unwrap(),
        strings(&["Carol@Example.net", "<dave@example.net>", "eve@example.net"])
    );
    for bad in ["", "  ", "a\nb"] {
        assert_invalid!(
            store
                .add_list_members(&friends, strings(&["ok@example.net", bad]))
                .await,
            "list member"
        );
    }
    assert_err!(
        store.add_list_members(&ghost, strings(&["x@example.net"])).await,
        StoreError::NotFound(Subject::List(u)) if *u == ghost.to_string()
    );

    // A value that is not a member fails the call, and the others stay.
    let values = strings(&["eve@example.net", "nobody@example.net"]);
    assert_err!(
        store.remove_list_members(&friends, values).await,
        StoreError::NotFound(Subject::ListMember(v)) if v == "nobody@example.net"
    );
    assert_eq!(store.list_members(None, &friends).await.unwrap().len(), 3);
    store
        .remove_list_members(
            &friends,
            strings(&["EVE@example.net", "<carol@example.net>"]),
        )
        .await
        .unwrap();
    assert_eq!(
        store.list_members(Some(alice.id), &friends).await.unwrap(),
        strings(&["<dave@example.net>"])
    );
    assert_err!(
        store.remove_list_members(&ghost, strings(&["x"])).await,
        StoreError::NotFound(Subject::List(_))
    );

    store.delete_list(&friends).await.unwrap();
    assert_err!(
        store.delete_list(&friends).await,
        StoreError::NotFound(Subject::List(u)) if *u == friends.to_string()
    );
    assert!(!store.list_exists(alice.id, friends.as_str()).await.unwrap());
    assert_eq!(store.lists(All).await.unwrap(), vec![s]);
    // Only changes to Alice's own list reach Alice's feed; server lists have no account.
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![ChangeKind::ListChanged; 5]
    );
}

#[tokio::test]
async fn lists_are_visible_to_their_owner_and_server_lists_to_all() {
    let (_dir, store, alice, bob) = setup().await;
    let staff = store.list_uri("staff").await.unwrap();
    let a_list = store.list_uri("alice-vip").await.unwrap();
    let b_list = store.list_uri("bob-blocked").await.unwrap();
    let s = store.create_list(&staff, None).await.unwrap();
    let a = store.create_list(&a_list, Some(alice.id)).await.unwrap();
    let b = store.create_list(&b_list, Some(bob.id)).await.unwrap();
    for uri in [&staff, &a_list, &b_list] {
        add_members(&store, uri, &["carol@example.net"]).await;
    }
    let with_one = |l: &List| List {
        members: 1,
        ..l.clone()
    };
    let (s, a, b) = (with_one(&s), with_one(&a), with_one(&b));
    assert_eq!(
        store.lists(All).await.unwrap(),
        vec![a.clone(), b.clone(), s.clone()]
    );
    assert_eq!(
        store.lists(VisibleTo(alice.id)).await.unwrap(),
        vec![a.clone(), s.clone()]
    );
    assert_eq!(
        store.lists(VisibleTo(bob.id)).await.unwrap(),
        vec![b.clone(), s.clone()]
    );
    assert_eq!(
        store.lists(OwnedBy(alice.id)).await.unwrap(),
        vec![a.clone()]
    );

    let ghost = store.list_uri("ghost").await.unwrap();
    for (viewer, uri, visible) in [
        (&alice, &staff, true),
        (&bob, &staff, true),
        (&alice, &a_list, true),
        (&bob, &a_list, false),
        (&alice, &b_list, false),
        (&bob, &b_list, true),
        (&alice, &ghost, false),
    ] {
        assert_eq!(
            store.list_exists(viewer.id, uri.as_str()).await.unwrap(),
            visible,
            "{} {uri}",
            viewer.address
        );
        let contains = store
            .list_contains(viewer.id, uri.as_str(), "<CAROL@example.net>")
            .await;
        let members = store.list_members(Some(viewer.id), uri).await;
        if visible {
            assert!(contains.unwrap());
            assert_eq!(members.unwrap(), strings(&["carol@example.net"]));
            assert!(
                !store
                    .list_contains(viewer.id, uri.as_str(), "dave@example.net")
                    .await
                    .unwrap()
            );
        } else {
            let uri = uri.to_string();
            assert_err!(contains, StoreError::NotFound(Subject::List(u)) if *u == uri);
            assert_err!(members, StoreError::NotFound(Subject::List(u)) if *u == uri);
        }
    }
    // The admin (no viewer) sees every list.
    assert_eq!(
        store.list_members(None, &b_list).await.unwrap(),
        strings(&["carol@example.net"])
    );
}

// Sieve scripts -------------------------------------------------------------------

#[tokio::test]
async fn scripts_are_stored_replaced_and_listed() {
    let (_dir, store, alice, bob) = setup().await;
    let mut feed = subscribe(&store, &alice).await;
    put(&store, &alice, "main", b"keep;").await;
    let main = store.script(alice.id, "main").await.unwrap();
    assert_eq!(
        main,
        Script {
            id: main.id,
            name: "main".into(),
            content: b"keep;".to_vec(),
            active: false,
            last_error: None,
            updated_at: main.updated_at,
        }
    );
    put(&store, &alice, "main", b"discard;").await;
    let main = Script {
        content: b"discard;".to_vec(),
        ..main
    };
    assert_eq!(store.script(alice.id, "main").await.unwrap(), main);
    put(&store, &alice, "Été", b"stop;").await;
    put(&store, &alice, "aux", b"").await;
    let names: Vec<String> = store
        .scripts(alice.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, strings(&["aux", "main", "Été"]));
    assert_eq!(store.scripts(bob.id).await.unwrap(), vec![]);
    assert_err!(
        store.script(bob.id, "main").await,
        StoreError::NotFound(Subject::Script(n)) if n == "main"
    );
    assert_err!(
        store.script(alice.id, "Main").await,
        StoreError::NotFound(Subject::Script(_))
    );

    let long = "x".repeat(513);
    for bad in [
        "",
        "a\nb",
        "tab\there",
        "a\u{2028}b",
        "nul\0",
        long.as_str(),
    ] {
        assert_invalid!(
            store.put_script(alice.id, bad, Vec::new()).await,
            "script name"
        );
        assert_invalid!(
            store.rename_script(alice.id, "aux", bad).await,
            "script name"
        );
    }
    let longest = "x".repeat(512);
    put(&store, &alice, &longest, b"").await;
    assert_eq!(
        store.script(alice.id, &longest).await.unwrap().name,
        longest
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            script_changed("main"),
            script_changed("main"),
            script_changed("Été"),
            script_changed("aux"),
            script_changed(&longest)
        ]
    );
}

#[tokio::test]
async fn at_most_one_script_is_active() {
    let (_dir, store, alice, bob) = setup().await;
    for n in ["a", "b"] {
        put(&store, &alice, n, n.as_bytes()).await;
    }
    put(&store, &bob, "a", b"bob").await;
    store.activate_script(bob.id, Some("a")).await.unwrap();
    let mut feed = subscribe(&store, &alice).await;
    assert_eq!(store.active_script(alice.id).await.unwrap(), None);

    let active = |store: Store, account| async move {
        store
            .scripts(account)
            .await
            .unwrap()
            .into_iter()
            .filter(|s| s.active)
            .map(|s| s.name)
            .collect::<Vec<_>>()
    };
    store.activate_script(alice.id, Some("a")).await.unwrap();
    assert_eq!(active(store.clone(), alice.id).await, strings(&["a"]));
    store.activate_script(alice.id, Some("b")).await.unwrap();
    assert_eq!(active(store.clone(), alice.id).await, strings(&["b"]));
    let b = store.active_script(alice.id).await.unwrap().unwrap();
    assert_eq!(
        (b.name.as_str(), b.content.as_slice(), b.active),
        ("b", &b"b"[..], true)
    );
    // Replacing the active script keeps it active.
    put(&store, &alice, "b", b"b2").await;
    assert_eq!(
        store
            .active_script(alice.id)
            .await
            .unwrap()
            .unwrap()
            .content,
        b"b2".to_vec()
    );
    // A missing script is NotFound and the active one stays.
    assert_err!(
        store.activate_script(alice.id, Some("c")).await,
        StoreError::NotFound(Subject::Script(n)) if n == "c"
    );
    assert_eq!(active(store.clone(), alice.id).await, strings(&["b"]));
    // Bob's active script is his own business.
    assert_eq!(active(store.clone(), bob.id).await, strings(&["a"]));

    // RFC 5804 2.10: the active script cannot be deleted.
    assert_err!(
        store.delete_script(alice.id, "b").await,
        StoreError::Refused(_)
    );
    store.delete_script(alice.id, "a").await.unwrap();
    assert_err!(
        store.delete_script(alice.id, "a").await,
        StoreError::NotFound(Subject::Script(n)) if n == "a"
    );

    store.activate_script(alice.id, None).await.unwrap();
    assert_eq!(store.active_script(alice.id).await.unwrap(), None);
    store.delete_script(alice.id, "b").await.unwrap();
    assert_eq!(store.scripts(alice.id).await.unwrap(), vec![]);
    assert_eq!(active(store.clone(), bob.id).await, strings(&["a"]));
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![
            script_changed("a"),
            script_changed("b"),
            script_changed("b"),
            script_changed("a"),
            script_changed(""),
            script_changed("b")
        ]
    );
}

#[tokio::test]
async fn scripts_are_renamed_and_remember_their_last_error() {
    let (_dir, store, alice, _bob) = setup().await;
    put(&store, &alice, "a", b"keep;").await;
    put(&store, &alice, "b", b"stop;").await;
    store.activate_script(alice.id, Some("a")).await.unwrap();
    let mut feed = subscribe(&store, &alice).await;

    assert_err!(
        store.rename_script(alice.id, "a", "b").await,
        StoreError::AlreadyExists(Subject::Script(n)) if n == "b"
    );
    assert_err!(
        store.rename_script(alice.id, "x", "y").await,
        StoreError::NotFound(Subject::Script(n)) if n == "x"
    );
    let before = store.script(alice.id, "a").await.unwrap();
    store.rename_script(alice.id, "a", "renamed").await.unwrap();
    let after = store.script(alice.id, "renamed").await.unwrap();
    assert_eq!(
        after,
        Script {
            name: "renamed".into(),
            updated_at: after.updated_at,
            ..before
        }
    );
    assert!(matches!(
        store.script(alice.id, "a").await.unwrap_err(),
        StoreError::NotFound(Subject::Script(_))
    ));
    assert_eq!(
        store.active_script(alice.id).await.unwrap().unwrap().name,
        "renamed"
    );

    store
        .record_script_error(alice.id, "renamed", "line 1: unknown command")
        .await
        .unwrap();
    assert_eq!(
        store.script(alice.id, "renamed").await.unwrap(),
        Script {
            last_error: Some("line 1: unknown command".into()),
            ..after.clone()
        }
    );
    // A new version starts without the old version's error.
    put(&store, &alice, "renamed", b"keep;").await;
    assert_eq!(
        store.script(alice.id, "renamed").await.unwrap().last_error,
        None
    );
    assert_eq!(
        changes(&store, &alice, &mut feed).await,
        vec![script_changed("renamed"), script_changed("renamed")]
    );
}

#[tokio::test]
async fn another_accounts_things_are_untouched() {
    let (_dir, store, alice, bob) = setup().await;
    put(&store, &alice, "main", b"keep;").await;
    store.create_addrbook(alice.id, "Work").await.unwrap();
    let mut feed = subscribe(&store, &bob).await;
    let mut alice_feed = subscribe(&store, &alice).await;
    for result in [
        store.delete_script(bob.id, "main").await,
        store.rename_script(bob.id, "main", "x").await,
        store.activate_script(bob.id, Some("main")).await,
        store.delete_addrbook(bob.id, "Work").await,
    ] {
        assert_err!(
            result,
            StoreError::NotFound(Subject::Script(_) | Subject::AddressBook(_))
        );
    }
    let x = contact("x", &["x@example.net"]);
    assert_err!(
        store.add_contact(bob.id, "Work", x).await,
        StoreError::NotFound(Subject::AddressBook(_))
    );
    assert!(!store.script(alice.id, "main").await.unwrap().active);
    assert_eq!(store.addrbooks(alice.id).await.unwrap().len(), 2);
    assert_eq!(changes(&store, &bob, &mut feed).await, vec![]);
    assert_eq!(changes(&store, &alice, &mut alice_feed).await, vec![]);
}
