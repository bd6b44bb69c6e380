//! kill -9 during queue processing: the message survives, the recipient
//! that already got 250 is not sent to again, the other one is delivered
//! after restart. The runner runs in a child process (this test binary
//! re-run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use store::{BodyType, OutboundMessage, OutboundRecipient, QueueSource, RecipientStatus};

const MESSAGE: &[u8] = b"From: alice@example.org\r\nSubject: crash\r\n\r\nbody\r\n";

/// The child: a submission daemon (with its runner) on the database in
/// ZEST_TEST_CHILD_DIR, routing a.test and b.test to the given sinks.
#[test]
#[ignore = "runs only as a child process of the test in this file"]
fn child_runner() {
    let Ok(dir) = std::env::var("ZEST_TEST_CHILD_DIR") else {
        return;
    };
    let a = std::env::var("ZEST_TEST_SINK_A").unwrap().parse().unwrap();
    let b = std::env::var("ZEST_TEST_SINK_B").unwrap().parse().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let dir = std::path::PathBuf::from(dir);
        let cfg = config(
            &dir,
            "127.0.0.1:9".parse().unwrap(),
            &[("a.test", a), ("b.test", b)],
        );
        let s = Server::start(&dir, cfg).await;
        s.store
            .enqueue(OutboundMessage {
                sender: ALICE.into(),
                account: None,
                source: QueueSource::Submission,
                recipients: vec![
                    OutboundRecipient::new("x@a.test"),
                    OutboundRecipient::new("y@b.test"),
                ],
                raw: MESSAGE.to_vec(),
                env_id: None,
                dsn_ret: None,
                body_type: BodyType::SevenBit,
                smtputf8: false,
                hold_until: None,
            })
            .await
            .unwrap();
        // Until killed.
        std::future::pending::<()>().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_killed_mid_delivery_loses_nothing_and_repeats_nothing() {
    let dir = tempfile::tempdir().unwrap();
    open_store(dir.path()).await.close().await;
    let mut a = Sink::start(Behaviour::default()).await;
    let mut b = Sink::start(Behaviour {
        hold_data: true,
        ..Behaviour::default()
    })
    .await;
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_runner",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZEST_TEST_CHILD_DIR", dir.path())
        .env("ZEST_TEST_SINK_A", a.addr.to_string())
        .env("ZEST_TEST_SINK_B", b.addr.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    // a.test got its 250; b.test has the data but no reply yet.
    let got = a.next().await;
    assert!(got.data.ends_with(MESSAGE));
    tokio::time::timeout(WAIT, b.data_arrived.notified())
        .await
        .unwrap();
    let store = open_store(dir.path()).await;
    tokio::time::timeout(WAIT, async {
        loop {
            let q = store.list_queue().await.unwrap();
            if q.len() == 1 && q[0].recipients[0].status == RecipientStatus::Delivered {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the 250 from a.test was not recorded");

    child.kill().unwrap(); // SIGKILL, mid-attempt for b.test
    child.wait().unwrap();

    let q = store.list_queue().await.unwrap();
    assert_eq!(q.len(), 1, "the message survives");
    assert_eq!(q[0].recipients[1].status, RecipientStatus::Pending);
    assert_eq!(q[0].recipients[1].attempts, 1);
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
    store.close().await;

    // Restart: b.test now answers at once.
    b.behaviour.lock().unwrap().hold_data = false;
    let cfg = config(
        dir.path(),
        "127.0.0.1:9".parse().unwrap(),
        &[("a.test", a.addr), ("b.test", b.addr)],
    );
    let s = Server::start(dir.path(), cfg).await;
    let again = b.next().await;
    assert_eq!(again.rcpts, vec!["RCPT TO:<y@b.test>"]);
    assert!(again.data.ends_with(MESSAGE));
    s.queue_drained().await;
    a.nothing_within(Duration::from_millis(500)).await;
    s.stop().await;
}
