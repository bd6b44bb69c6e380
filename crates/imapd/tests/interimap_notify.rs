//! interimap (Debian package `interimap`) in `--watch --notify` mode with
//! COMPRESS=DEFLATE on both sides: it relies on the server's NOTIFY updates
//! (RFC 5465) instead of polling, so messages delivered while it runs must
//! reach the other account without any timer firing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Stdio;

use common::{PASS, Server, USER, message};
use store::{ChangeKind, ChangeStream, FeedItem};

const BOB: &str = "bob@example.org";

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// Waits until `n` messages were added to the account's mailboxes.
async fn added(feed: &mut ChangeStream, n: usize, log: &std::path::Path) {
    let mut seen = 0;
    while seen < n {
        let item = tokio::time::timeout(common::WAIT, feed.next()).await;
        let Ok(Some(item)) = item else {
            panic!(
                "{seen} of {n} messages arrived; interimap said:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        };
        if let FeedItem::Change(c) = item
            && matches!(c.kind, ChangeKind::MessageAdded { .. })
        {
            seen += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interimap_watch_with_notify_and_compress() {
    if which("interimap").is_none() {
        assert!(
            std::env::var("REQUIRE_REAL_CLIENTS").as_deref() != Ok("1"),
            "interimap is required"
        );
        println!("skipped: interimap not installed");
        return;
    }
    let server = Server::start().await;
    let bob = store::EmailAddress::parse(BOB).unwrap();
    let bob = server
        .store
        .create_account(&bob, PASS, false)
        .await
        .unwrap();
    let alice = server.account().await;
    for n in 0..3 {
        server
            .store
            .append(
                alice.id,
                "INBOX",
                message(&format!("alice{n}"), "body"),
                store::Flags::default(),
                None,
            )
            .await
            .unwrap();
    }
    let mut alice_feed = server.store.subscribe_changes(alice.id);
    let mut bob_feed = server.store.subscribe_changes(bob.id);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("interimap.conf");
    let log = home.path().join("interimap.log");
    let port = server.plain.port();
    std::fs::write(
        &config,
        format!(
            "database = {db}\n\n[local]\ntype = imap\nhost = 127.0.0.1\nport = {port}\nSTARTTLS = NO\nusername = {USER}\npassword = {PASS}\ncompress = YES\n\n[remote]\ntype = imap\nhost = 127.0.0.1\nport = {port}\nSTARTTLS = NO\nusername = {BOB}\npassword = {PASS}\ncompress = YES\n",
            db = home.path().join("sync.db").display(),
        ),
    )
    .unwrap();
    // A first one-shot sync creates interimap's database (`--watch` does not).
    let first = tokio::process::Command::new("interimap")
        .arg(format!("--config={}", config.display()))
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .output()
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut child = tokio::process::Command::new("interimap")
        .arg(format!("--config={}", config.display()))
        .arg("--watch=600")
        .arg("--notify")
        .arg("--debug")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    // The first pass copied alice's three messages to bob.
    added(&mut bob_feed, 3, &log).await;
    // With a 10-minute timer, only NOTIFY can bring the next ones.
    server
        .store
        .append(
            alice.id,
            "INBOX",
            message("later", "x"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    added(&mut bob_feed, 1, &log).await;
    server
        .store
        .append(
            bob.id,
            "INBOX",
            message("reply", "y"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    // The first MessageAdded on alice's feed is the append of "later" itself.
    added(&mut alice_feed, 2, &log).await;
    child.kill().await.unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("COMPRESS DEFLATE"), "{text}");
    assert!(text.contains("NOTIFY SET"), "{text}");
    for l in text
        .lines()
        .filter(|l| l.contains("NOTIFY") || l.contains("COMPRESS"))
    {
        println!("{l}");
    }
    server.stop().await;
}
