//! Admin UI sessions, API tokens and dashboard counts, through the store's
//! public API on a real SQLite file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use store::{EmailAddress, Store, StoreError};
use tempfile::TempDir;

async fn open() -> (TempDir, Store, store::Account) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    let a = store
        .create_account(&EmailAddress::parse("a@example.org").unwrap(), "pw", true)
        .await
        .unwrap();
    (dir, store, a)
}

#[tokio::test]
async fn sessions_live_until_they_expire_or_are_deleted() {
    let (_d, store, a) = open().await;
    store
        .create_web_session(a.id, "tok1", "csrf1", 3600)
        .await
        .unwrap();
    let s = store.web_session("tok1").await.unwrap().unwrap();
    assert_eq!(s.account, a);
    assert_eq!(s.csrf_token, "csrf1");
    assert!(store.web_session("tok2").await.unwrap().is_none());

    // Already expired: never found, and swept by the next login.
    store
        .create_web_session(a.id, "old", "c", -1)
        .await
        .unwrap();
    assert!(store.web_session("old").await.unwrap().is_none());

    store
        .create_web_session(a.id, "tok2", "csrf2", 3600)
        .await
        .unwrap();
    assert_eq!(
        store
            .delete_web_sessions_of(a.id, Some("tok2"))
            .await
            .unwrap(),
        1
    );
    assert!(store.web_session("tok1").await.unwrap().is_none());
    assert!(store.web_session("tok2").await.unwrap().is_some());
    store.delete_web_session("tok2").await.unwrap();
    assert!(store.web_session("tok2").await.unwrap().is_none());
    store.delete_web_session("never-existed").await.unwrap();
}

#[tokio::test]
async fn sessions_and_tokens_go_with_their_account() {
    let (_d, store, a) = open().await;
    store
        .create_web_session(a.id, "tok", "c", 3600)
        .await
        .unwrap();
    store
        .create_api_token(a.id, "ci", "zest_secret")
        .await
        .unwrap();
    store.delete_account(&a.address).await.unwrap();
    assert!(store.web_session("tok").await.unwrap().is_none());
    assert!(
        store
            .api_token_account("zest_secret")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn api_tokens_find_their_account_and_record_use() {
    let (_d, store, a) = open().await;
    let t = store
        .create_api_token(a.id, " deploy ", "zest_abc")
        .await
        .unwrap();
    assert_eq!(t.name, "deploy");
    assert_eq!(t.last_used, None);
    assert_eq!(
        store.api_token_account("zest_abc").await.unwrap(),
        Some(a.clone())
    );
    assert!(store.api_token_account("zest_abd").await.unwrap().is_none());
    let listed = store.api_tokens(Some(a.id)).await.unwrap();
    assert!(listed[0].last_used.is_some());
    assert!(matches!(
        store.create_api_token(a.id, "", "x").await,
        Err(StoreError::Invalid { .. })
    ));
    store.delete_api_token(t.id).await.unwrap();
    assert!(store.api_token_account("zest_abc").await.unwrap().is_none());
    assert!(matches!(
        store.delete_api_token(t.id).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test]
async fn counts_for_the_dashboard() {
    let (_d, store, a) = open().await;
    store
        .add_contact(
            a.id,
            "default",
            store::NewContact {
                name: "x".into(),
                emails: vec!["x@example.com".into()],
                note: String::new(),
            },
        )
        .await
        .unwrap();
    let c = store.server_counts().await.unwrap();
    assert_eq!(
        (c.domains, c.accounts, c.contacts, c.queued_messages),
        (1, 1, 1, 0)
    );
}

#[tokio::test]
async fn one_contact_is_found_only_in_its_own_book_and_account() {
    let (_d, store, a) = open().await;
    let b = store
        .create_account(&EmailAddress::parse("b@example.org").unwrap(), "pw", false)
        .await
        .unwrap();
    store.create_addrbook(a.id, "work").await.unwrap();
    let c = store
        .add_contact(
            a.id,
            "default",
            store::NewContact {
                name: "Two".into(),
                emails: vec!["one@example.com".into(), "two@example.com".into()],
                note: "n".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.contact(a.id, "default", c.id).await.unwrap(), c);
    assert_eq!(store.contact(a.id, "DEFAULT", c.id).await.unwrap(), c);
    for (account, book) in [(a.id, "work"), (b.id, "default"), (a.id, "nope")] {
        assert!(matches!(
            store.contact(account, book, c.id).await,
            Err(StoreError::NotFound(_))
        ));
    }
}
