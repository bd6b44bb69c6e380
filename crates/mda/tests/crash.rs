//! kill -9 of the MDA during a pipelined LMTP batch: after a restart every
//! recipient that got 250 has the message exactly once. The test runs itself
//! again as the child process that serves LMTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;

use common::{Client, addr, dot_stuff, message};
use store::Store;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

const USERS: usize = 10;

fn user(i: usize) -> String {
    format!("u{i}@example.org")
}

/// The child: serves LMTP on the database it is given until killed.
#[tokio::test]
async fn child_lmtp_server() {
    let Ok(db) = std::env::var("ZEST_TEST_MDA_DB") else {
        return;
    };
    let dir = std::path::PathBuf::from(&db);
    let store = Store::open(&dir).await.unwrap();
    let config = Config {
        hostname: "mx.example.org".into(),
        data_dir: dir.parent().unwrap().to_path_buf(),
        mda: zest_core::config::MdaConfig {
            lmtp_listen: Listen::new(vec!["127.0.0.1:0".parse().unwrap()]),
            smtp_listen: Listen::new(vec![]),
            verify_auth: false,
            reject_dmarc: false,
        },
        ..Config::default()
    };
    let d = mda::Daemon::bind(Arc::new(config), store, Shutdown::new())
        .await
        .unwrap();
    println!("LMTP {}", d.local_addrs()[0].1);
    d.run().await.unwrap();
}

#[tokio::test]
async fn kill_during_pipelined_batch_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zest.db");
    {
        let store = Store::open(&db).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        for i in 0..USERS {
            store
                .create_account(&addr(&user(i)), "secret", false)
                .await
                .unwrap();
        }
        store.close().await;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_lmtp_server", "--nocapture"])
        .env("ZEST_TEST_MDA_DB", &db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let lmtp: std::net::SocketAddr = loop {
        let line = lines.next().expect("child output").unwrap();
        if let Some(a) = line.strip_prefix("LMTP ") {
            break a.parse().unwrap();
        }
    };

    let mut c = Client::connect(lmtp).await;
    c.expect(220).await;
    c.cmd("LHLO c").await;
    // Transactions pipelined back to back; the child dies part-way.
    let mut acked: Vec<(usize, usize)> = Vec::new();
    let total = 40;
    let mut batch = String::new();
    for n in 0..total {
        batch.push_str("MAIL FROM:<x@example.net>\r\n");
        for i in 0..USERS {
            batch.push_str(&format!("RCPT TO:<{}>\r\n", user(i)));
        }
        batch.push_str("DATA\r\n");
        batch.push_str(&dot_stuff(&message(
            "x@example.net",
            "all",
            &format!("m{n}"),
        )));
        batch.push_str(".\r\n");
    }
    c.send(&batch).await;
    let kill_after = total / 3;
    'outer: for n in 0..total {
        for _ in 0..USERS + 1 {
            c.expect(250).await; // MAIL, RCPTs
        }
        c.expect(354).await;
        for i in 0..USERS {
            let r = c.reply().await;
            if r[0].starts_with("250") {
                acked.push((n, i));
            }
        }
        if n == kill_after {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            break 'outer;
        }
    }
    // Whatever happened above, the child is gone before the store is read.
    let _ = child.kill();
    let _ = child.wait();
    assert!(!acked.is_empty());

    let store = Store::open(&db).await.unwrap();
    for i in 0..USERS {
        let account = store.account(&addr(&user(i))).await.unwrap().unwrap().id;
        let inbox = store.mailbox_status(account, "INBOX").await.unwrap();
        let mut seen = std::collections::HashMap::new();
        for e in store.entries(account, inbox.id).await.unwrap() {
            let raw = store.read_message(account, inbox.id, e.uid).await.unwrap();
            let text = String::from_utf8_lossy(&raw).to_string();
            let subject = text
                .lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap()
                .to_string();
            *seen.entry(subject).or_insert(0) += 1;
        }
        for (n, j) in &acked {
            if *j == i {
                assert_eq!(seen.get(&format!("m{n}")), Some(&1), "{} m{n}", user(i));
            }
        }
        assert!(seen.values().all(|c| *c == 1), "{seen:?}");
    }
}
