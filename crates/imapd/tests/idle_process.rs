//! IDLE woken by a delivery from another process: this test binary runs
//! itself again as a child that opens the same database and appends; the
//! session in IDLE reports the new message. The wake-up time is printed
//! (the target is 200 ms), not asserted.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{Server, message};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sees_an_append_from_another_process() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    let r = c.cmd("s", "SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("s OK"), "{r:?}");
    c.send("i IDLE").await;
    assert_eq!(c.line().await.unwrap(), "+ idling");
    let db = server.dir.path().join("zest.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_appends",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZEST_TEST_CHILD_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The child prints "appended" once its APPEND has returned (is durable).
    let stdout = child.stdout.take().unwrap();
    // Read to the end, so that the child never writes to a closed pipe.
    let acked = tokio::task::spawn_blocking(move || {
        let mut at = None;
        for line in BufReader::new(stdout).lines() {
            if line.unwrap().trim() == "appended" && at.is_none() {
                at = Some(Instant::now());
            }
        }
        at.expect("the child process stopped without appending")
    });
    let exists = tokio::time::timeout(common::WAIT, c.line())
        .await
        .expect("no EXISTS during IDLE")
        .unwrap();
    let arrived = Instant::now();
    assert_eq!(exists, "* 1 EXISTS");
    let acked = acked.await.unwrap();
    println!(
        "IDLE wake-up after another process's append: {:?}",
        arrived.saturating_duration_since(acked)
    );
    assert!(child.wait().unwrap().success());
    c.send("DONE").await;
    loop {
        let l = c.line().await.unwrap();
        if l.starts_with("i ") {
            assert_eq!(l, "i OK IDLE terminated");
            break;
        }
    }
    server.stop().await;
}

/// The other process: appends one message to the account's INBOX.
#[test]
#[ignore = "runs only as a child process of the test in this file"]
fn child_appends() {
    let Ok(db) = std::env::var("ZEST_TEST_CHILD_DB") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let store = store::Store::open(Path::new(&db)).await.unwrap();
        let a = store::EmailAddress::parse(common::USER).unwrap();
        let account = store.account(&a).await.unwrap().unwrap();
        store
            .append(
                account.id,
                "INBOX",
                message("from another process", "x"),
                store::Flags::default(),
                None,
            )
            .await
            .unwrap();
        // libtest has printed "test child_appends ... " without a newline.
        println!();
        println!("appended");
        store.close().await;
    });
}
