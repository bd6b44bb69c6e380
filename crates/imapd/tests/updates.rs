//! Changes made elsewhere reach a session: another client's STORE, EXPUNGE
//! and APPEND as untagged updates at the allowed points, IDLE woken by a
//! write through another store handle, and UIDs that survive a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server, message};

async fn selected(server: &Server) -> Client {
    let mut c = server.client().await;
    c.login().await;
    let r = c.cmd("s1", "SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("s1 OK"), "{r:?}");
    c
}

/// Lines without what `\Recent` adds (RECENT counts and the flag itself):
/// which session sees a message as recent is not what these tests check.
fn norecent(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .filter(|l| !(l.starts_with("* ") && l.ends_with(" RECENT")))
        .map(|l| {
            l.replace(" \\Recent)", ")")
                .replace("(\\Recent ", "(")
                .replace(" \\Recent ", " ")
                .replace("(\\Recent)", "()")
        })
        .collect()
}

/// The next line that is not a RECENT count.
async fn line_skipping_recent(c: &mut Client) -> String {
    loop {
        let l = c.line().await.unwrap();
        if !(l.starts_with("* ") && l.ends_with(" RECENT")) {
            return l;
        }
    }
}

/// NOOP until the wanted untagged lines have all arrived (the change feed
/// is asynchronous); returns the untagged lines seen.
async fn noop_until(c: &mut Client, wanted: &[&str]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let start = Instant::now();
    let mut n = 0;
    while !wanted.iter().all(|w| seen.iter().any(|s| s == w)) {
        assert!(
            start.elapsed() < common::WAIT,
            "still waiting for {wanted:?}; saw {seen:?}"
        );
        n += 1;
        let tag = format!("n{n}");
        let lines = c.cmd(&tag, "NOOP").await;
        seen.extend(lines.into_iter().filter(|l| l.starts_with('*')));
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_see_each_others_changes() {
    let server = Server::start().await;
    let mut a = selected(&server).await;
    let mut b = selected(&server).await;
    // An APPEND to the selected mailbox reports the new message at once.
    let r = norecent(
        b.append("b1", "INBOX", "\\Seen", &message("one", "1"))
            .await,
    );
    assert_eq!(r[0], "* 1 EXISTS");
    assert!(r[1].starts_with("b1 OK [APPENDUID"), "{r:?}");
    let r = norecent(b.append("b2", "INBOX", "", &message("two", "2")).await);
    assert_eq!(r[0], "* 2 EXISTS");
    noop_until(&mut a, &["* 2 EXISTS"]).await;
    let r = norecent(b.cmd("b3", "STORE 2 +FLAGS (\\Deleted)").await);
    assert_eq!(
        r,
        vec!["* 2 FETCH (FLAGS (\\Deleted))", "b3 OK STORE completed"]
    );
    noop_until(&mut a, &["* 2 FETCH (FLAGS (\\Deleted) UID 2)"]).await;
    assert_eq!(
        b.cmd("b4", "EXPUNGE").await,
        vec!["* 2 EXPUNGE", "b4 OK EXPUNGE completed"]
    );
    // A FETCH may not carry the EXPUNGE (RFC 3501 7.4.1); the NOOP after it does.
    let start = Instant::now();
    loop {
        let r = a.cmd("f", "FETCH 1:* (FLAGS)").await;
        assert!(r.iter().all(|l| !l.contains("EXPUNGE")), "{r:?}");
        let n = a.cmd("n", "NOOP").await;
        if n.contains(&"* 2 EXPUNGE".to_string()) {
            break;
        }
        assert!(start.elapsed() < common::WAIT);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_wakes_on_a_write_through_another_store_handle() {
    let server = Server::start().await;
    let mut c = selected(&server).await;
    c.send("i1 IDLE").await;
    assert_eq!(c.line().await.unwrap(), "+ idling");
    // Another handle on the same database: its writes reach this process
    // through the change log, as another process's would.
    let other = store::Store::open(&server.dir.path().join("zest.db"))
        .await
        .unwrap();
    let account = server.account().await;
    let start = Instant::now();
    other
        .append(
            account.id,
            "INBOX",
            message("idle", "x"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(line_skipping_recent(&mut c).await, "* 1 EXISTS");
    let other_handle = start.elapsed();
    // And a write in this process (the server's own handle).
    let start = Instant::now();
    server
        .store
        .append(
            account.id,
            "INBOX",
            message("idle2", "y"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(line_skipping_recent(&mut c).await, "* 2 EXISTS");
    let same_handle = start.elapsed();
    c.send("DONE").await;
    assert_eq!(line_skipping_recent(&mut c).await, "i1 OK IDLE terminated");
    println!("IDLE wake-up: other handle {other_handle:?}, same handle {same_handle:?}");
    other.close().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_uids_and_uidvalidity() {
    let server = Server::start().await;
    let mut c = selected(&server).await;
    for n in 0..3 {
        c.append(
            &format!("a{n}"),
            "INBOX",
            "",
            &message(&format!("m{n}"), "b"),
        )
        .await;
    }
    c.cmd("d", "STORE 2 +FLAGS (\\Deleted)").await;
    c.cmd("e", "EXPUNGE").await;
    let before = c
        .cmd("s", "STATUS INBOX (UIDVALIDITY UIDNEXT MESSAGES)")
        .await;
    let fetched = norecent(c.cmd("f", "UID FETCH 1:* (FLAGS)").await);
    drop(c);
    let dir = server.stop().await;
    let config = common::config(dir.path());
    let server = Server::start_with(dir, config, false).await;
    let mut c = server.client().await;
    c.login().await;
    assert_eq!(
        c.cmd("s", "STATUS INBOX (UIDVALIDITY UIDNEXT MESSAGES)")
            .await,
        before
    );
    c.cmd("x", "SELECT INBOX").await;
    assert_eq!(norecent(c.cmd("f", "UID FETCH 1:* (FLAGS)").await), fetched);
    assert_eq!(
        fetched,
        vec![
            "* 1 FETCH (UID 1 FLAGS ())",
            "* 2 FETCH (UID 3 FLAGS ())",
            "f OK UID FETCH completed"
        ]
    );
    let _ = Duration::ZERO;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_says_bye_to_connected_clients() {
    let server = Server::start().await;
    let mut idle = selected(&server).await;
    idle.send("i IDLE").await;
    assert_eq!(idle.line().await.unwrap(), "+ idling");
    let mut plain = server.client().await;
    plain.line().await.unwrap();
    server.shutdown.trigger();
    assert_eq!(plain.line().await.unwrap(), "* BYE Server shutting down");
    assert_eq!(plain.line().await, None);
    assert_eq!(idle.line().await.unwrap(), "* BYE Server shutting down");
    server.stop().await;
}

/// A large mailbox selected again is brought up to date from the process's
/// cached view: what the second SELECT shows equals a fresh read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reselected_large_mailbox_matches_the_store() {
    let server = Server::start().await;
    let account = server.account().await;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..5_200u32 {
        let store = server.store.clone();
        let m = message(&format!("m{}", n % 50), "b");
        set.spawn(async move {
            store
                .append(account.id, "INBOX", m, store::Flags::default(), None)
                .await
                .unwrap();
        });
        if set.len() >= 256 {
            set.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let mut a = selected(&server).await;
    a.cmd("u", "UNSELECT").await;
    let inbox = server
        .store
        .mailbox(account.id, "INBOX")
        .await
        .unwrap()
        .unwrap()
        .id;
    let deleted = store::Flags {
        system: store::Flags::DELETED,
        keywords: vec!["Gone".into()],
    };
    let uids = vec![store::Uid(2), store::Uid(5000)];
    server
        .store
        .set_flags(account.id, inbox, uids, store::FlagOp::Add, deleted, None)
        .await
        .unwrap();
    server
        .store
        .expunge(account.id, inbox, Some(vec![store::Uid(2)]))
        .await
        .unwrap();
    server
        .store
        .append(
            account.id,
            "INBOX",
            message("new", "n"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    let again = a.cmd("s", "SELECT INBOX").await;
    assert!(again.contains(&"* 5200 EXISTS".to_string()), "{again:?}");
    assert!(
        again.contains(&"* OK [UIDNEXT 5202] Predicted next UID".to_string()),
        "{again:?}"
    );
    let cached = norecent(a.cmd("f", "UID FETCH 4990:* (FLAGS)").await);
    // What the store itself holds, formatted as the FETCH answer.
    let entries = server.store.entries(account.id, inbox).await.unwrap();
    assert_eq!(entries.len(), 5200);
    let mut expected: Vec<String> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.uid.0 >= 4990)
        .map(|(i, e)| {
            format!(
                "* {} FETCH (UID {} FLAGS ({}))",
                i + 1,
                e.uid.0,
                e.flags.names().join(" ")
            )
        })
        .collect();
    expected.push("f OK UID FETCH completed".into());
    assert_eq!(cached, expected);
    assert!(
        cached.contains(&"* 4999 FETCH (UID 5000 FLAGS (\\Deleted Gone))".to_string()),
        "{cached:?}"
    );
    assert_eq!(
        a.cmd("g", "UID SEARCH UID 1:3").await,
        vec!["* SEARCH 1 3", "g OK UID SEARCH completed"]
    );
    server.stop().await;
}
