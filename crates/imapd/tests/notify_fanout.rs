//! Benchmark (ignored; run with `cargo test -p imapd --test notify_fanout --
//! --ignored --nocapture`): 1,000 sessions that asked for NOTIFY on their
//! personal mailboxes, one delivery, and the time until the last session has
//! received its untagged STATUS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server, message};

const SESSIONS: usize = 1_000;

async fn fan_out(
    server: &Server,
    select: Option<&str>,
    groups: &str,
    mailbox: &str,
    wanted: &'static str,
) -> Vec<Duration> {
    let mut clients: Vec<Client> = Vec::with_capacity(SESSIONS);
    for i in 0..SESSIONS {
        let mut c = server.client().await;
        c.login().await;
        if let Some(m) = select {
            let r = c.cmd("s", &format!("SELECT {m}")).await;
            assert!(r.last().unwrap().starts_with("s OK"), "{r:?}");
        }
        let r = c
            .cmd(&format!("n{i}"), &format!("NOTIFY SET {groups}"))
            .await;
        assert!(r.last().unwrap().ends_with("OK NOTIFY completed"), "{r:?}");
        clients.push(c);
    }
    let account = server.account().await.id;
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(SESSIONS);
    for mut c in clients {
        tasks.push(tokio::spawn(async move {
            loop {
                let l = c.line().await.expect("connection open");
                if l.starts_with(wanted) {
                    return (Instant::now(), c);
                }
            }
        }));
    }
    server
        .store
        .append(
            account,
            mailbox,
            message("fan-out", "1"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    let appended = start.elapsed();
    let mut times = Vec::with_capacity(SESSIONS);
    for t in tasks {
        let (at, _c) = t.await.unwrap();
        times.push(at.duration_since(start));
    }
    times.sort();
    println!(
        "{SESSIONS} sessions, {groups}: append returned after {appended:?}; \
         median {:?}, p99 {:?}, last {:?} after the append started",
        times[SESSIONS / 2],
        times[SESSIONS * 99 / 100],
        times[SESSIONS - 1]
    );
    times
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn notify_fan_out_to_1000_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::config(dir.path());
    c.limits.max_connections_per_ip = SESSIONS as u64 + 10;
    let server = Server::start_with(dir, c, true).await;
    server
        .store
        .create_mailbox(server.account().await.id, "Lists", None)
        .await
        .unwrap();
    fan_out(
        &server,
        None,
        "(personal (MessageNew MessageExpunge))",
        "Lists",
        "* STATUS Lists",
    )
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run explicitly with --ignored --nocapture"]
async fn notify_fan_out_to_1000_selected_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = common::config(dir.path());
    c.limits.max_connections_per_ip = SESSIONS as u64 + 10;
    let server = Server::start_with(dir, c, true).await;
    fan_out(
        &server,
        Some("INBOX"),
        "(selected (MessageNew (UID FLAGS) MessageExpunge))",
        "INBOX",
        "* 1 FETCH",
    )
    .await;
    server.stop().await;
}
