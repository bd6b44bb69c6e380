//! interimap (Debian package `interimap`) as a real QRESYNC client: a
//! bidirectional sync between two accounts on one server must converge.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASS, Server, USER, message};

const BOB: &str = "bob@example.org";

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

async fn run_interimap(home: &std::path::Path, config: &std::path::Path) -> (bool, String) {
    let out = tokio::process::Command::new("interimap")
        .arg(format!("--config={}", config.display()))
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `(subject, flags)` of every message of a mailbox, sorted.
async fn contents(server: &Server, user: &str, mailbox: &str) -> Vec<(String, String)> {
    let a = store::EmailAddress::parse(user).unwrap();
    let account = server.store.account(&a).await.unwrap().unwrap();
    let Some(mb) = server.store.mailbox(account.id, mailbox).await.unwrap() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in server.store.entries(account.id, mb.id).await.unwrap() {
        let raw = server
            .store
            .read_message(account.id, mb.id, e.uid)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let subject = text
            .lines()
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string();
        out.push((
            subject,
            format!("{}:{:?}", e.flags.system, e.flags.keywords),
        ));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interimap_bidirectional_sync_converges() {
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
    server
        .store
        .create_account(&bob, PASS, false)
        .await
        .unwrap();
    let alice = server.account().await;
    for n in 0..5 {
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
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("interimap.conf");
    let port = server.plain.port();
    std::fs::write(
        &config,
        format!(
            "database = {db}\n\n[local]\ntype = imap\nhost = 127.0.0.1\nport = {port}\nSTARTTLS = NO\nusername = {USER}\npassword = {PASS}\n\n[remote]\ntype = imap\nhost = 127.0.0.1\nport = {port}\nSTARTTLS = NO\nusername = {BOB}\npassword = {PASS}\ncompress = NO\n",
            db = home.path().join("sync.db").display(),
        ),
    )
    .unwrap();

    let (ok, log) = run_interimap(home.path(), &config).await;
    assert!(ok, "first sync failed:\n{log}");
    assert!(!log.contains("WARNING"), "{log}");
    assert_eq!(
        contents(&server, USER, "INBOX").await,
        contents(&server, BOB, "INBOX").await,
        "{log}"
    );

    // Changes on both sides, then sync again.
    let bob_account = server.store.account(&bob).await.unwrap().unwrap();
    server
        .store
        .append(
            bob_account.id,
            "INBOX",
            message("bob0", "body"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    let mut c = server.client().await;
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    c.cmd("f", "UID STORE 1:2 +FLAGS (\\Seen \\Flagged)").await;
    c.cmd("d", "UID STORE 3 +FLAGS (\\Deleted)").await;
    c.cmd("x", "EXPUNGE").await;
    c.cmd("l", "LOGOUT").await;
    let (ok, log) = run_interimap(home.path(), &config).await;
    assert!(ok, "second sync failed:\n{log}");
    assert!(!log.contains("WARNING"), "{log}");
    let a = contents(&server, USER, "INBOX").await;
    assert_eq!(a.len(), 5, "{a:?}\n{log}");
    let flagged = a.iter().filter(|(_, f)| f.starts_with("5:")).count();
    assert_eq!(flagged, 2, "{a:?}");
    assert_eq!(a, contents(&server, BOB, "INBOX").await, "{log}");

    // Changes on the other account only, and a new mailbox.
    let mut c = server.client().await;
    assert!(c.line().await.unwrap().starts_with("* OK"));
    let r = c.cmd("b", &format!("LOGIN {BOB} {PASS}")).await;
    assert!(r.last().unwrap().starts_with("b OK"), "{r:?}");
    c.cmd("s", "SELECT INBOX").await;
    c.cmd("f", "UID STORE 1 -FLAGS (\\Seen)").await;
    c.cmd("k", "UID STORE 4 +FLAGS ($Later)").await;
    c.cmd("d", "UID STORE 5 +FLAGS (\\Deleted)").await;
    c.cmd("x", "EXPUNGE").await;
    c.cmd("c", "CREATE Projects").await;
    c.append("a", "Projects", "\\Flagged", &message("plan", "body"))
        .await;
    c.cmd("l", "LOGOUT").await;
    let (ok, log) = run_interimap(home.path(), &config).await;
    assert!(ok, "third sync failed:\n{log}");
    assert!(!log.contains("WARNING"), "{log}");
    let a = contents(&server, USER, "INBOX").await;
    assert_eq!(a.len(), 4, "{a:?}\n{log}");
    assert_eq!(a, contents(&server, BOB, "INBOX").await, "{log}");
    let p = contents(&server, USER, "Projects").await;
    assert_eq!(p.len(), 1, "{log}");
    assert_eq!(p, contents(&server, BOB, "Projects").await, "{log}");
    server.stop().await;
}
