//! Helpers the api_* tests share: a store on a real file in a temp dir,
//! exact lists of published changes, and error assertions.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use store::{Account, ChangeKind, ChangeStream, EmailAddress, FeedItem, Store};
use tempfile::TempDir;

/// Asserts that a `Result` is an error matching a pattern (with an optional guard).
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(if $guard:expr)? $(,)?) => {
        match $result {
            Ok(v) => panic!("expected an error, got Ok({v:?})"),
            Err(err) => assert!(matches!(&err, $pattern $(if $guard)?), "{err:?}"),
        }
    };
}

/// Asserts that a `Result` is `StoreError::Invalid` about `what`.
macro_rules! assert_invalid {
    ($result:expr, $what:expr $(,)?) => {
        assert_err!($result, store::StoreError::Invalid { what, .. } if *what == $what)
    };
}

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

/// A new store in a temp dir with the domain example.org and the given accounts.
pub async fn open_with(users: &[&str]) -> (TempDir, Store, Vec<Account>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    let mut accounts = Vec::new();
    for u in users {
        let a = store.create_account(&addr(u), "secret", false).await;
        accounts.push(a.unwrap());
    }
    (dir, store, accounts)
}

/// Every change published for `account` up to a marker (a name subscribed
/// and unsubscribed again, which leaves no trace), so the list is exact.
pub async fn changes(store: &Store, account: &Account, feed: &mut ChangeStream) -> Vec<ChangeKind> {
    static MARKERS: AtomicUsize = AtomicUsize::new(0);
    let marker = format!("zz-marker-{}", MARKERS.fetch_add(1, Ordering::Relaxed));
    store
        .set_subscribed(account.id, &marker, true)
        .await
        .unwrap();
    store
        .set_subscribed(account.id, &marker, false)
        .await
        .unwrap();
    let mut out = Vec::new();
    let mut seen = 0;
    while seen < 2 {
        let item = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("a change");
        match item {
            Some(FeedItem::Change(c)) => {
                assert_eq!(c.account, Some(account.id));
                match &c.kind {
                    ChangeKind::SubscriptionChanged { name } if *name == marker => seen += 1,
                    kind => out.push(kind.clone()),
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

/// A subscription that has seen everything committed so far: events of
/// writes committed just before subscribing may still arrive (ChangeStream
/// documents this), so they are skipped here.
pub async fn subscribe(store: &Store, account: &Account) -> ChangeStream {
    let mut feed = store.subscribe_changes(account.id);
    changes(store, account, &mut feed).await;
    feed
}
