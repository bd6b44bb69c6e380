//! Throughput figures, run by hand:
//!
//!     cargo test -p submission --release --test throughput -- --ignored --nocapture
//!
//! 10 pipelining clients submit 2,000 messages; prints the rate Zest accepts
//! them (durably queued) and the rate they reach the sink. With
//! `ZEST_BENCH_SINK=host:port` (e.g. postfix's smtp-sink) Zest relays there;
//! with `ZEST_BENCH_PEER=host:port` the same clients also measure a peer
//! submission server (user testuser1@example.org, password "pass") that
//! relays to that sink, in the same run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;

const CLIENTS: usize = 10;
const PER_CLIENT: usize = 200;

async fn load(addr: SocketAddr, user: &str, password: &str) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..CLIENTS {
        let (user, password) = (user.to_string(), password.to_string());
        tasks.push(tokio::spawn(async move {
            let mut c = Client::connect(addr).await;
            assert!(c.cmd("EHLO bench.test").await.starts_with("250"));
            let token = base64_encode(format!("\0{user}\0{password}").as_bytes());
            let r = c.cmd(&format!("AUTH PLAIN {token}")).await;
            assert!(r.starts_with("235"), "{r}");
            for i in 0..PER_CLIENT {
                let msg = format!(
                    "From: {user}\r\nTo: x@remote.test\r\nSubject: {n}/{i}\r\n\r\n{}\r\n.\r\n",
                    "Lorem ipsum dolor sit amet. ".repeat(100)
                );
                let batch = format!("MAIL FROM:<{user}>\r\nRCPT TO:<x@remote.test>\r\nDATA\r\n");
                c.send(batch.as_bytes()).await;
                for _ in 0..3 {
                    let r = c.reply().await;
                    assert!(r.starts_with('2') || r.starts_with('3'), "{r}");
                }
                c.send(msg.as_bytes()).await;
                let r = c.reply().await;
                assert!(r.starts_with("250"), "{r}");
            }
            c.cmd("QUIT").await;
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "measures; run by hand"]
async fn submission_to_a_remote_sink() {
    let total = (CLIENTS * PER_CLIENT) as f64;
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::lmtp().await;
    let mut own_sink = Sink::start(Behaviour::default()).await;
    let external: Option<SocketAddr> = std::env::var("ZEST_BENCH_SINK")
        .ok()
        .map(|s| s.parse().unwrap());
    let sink = external.unwrap_or(own_sink.addr);
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", sink)]),
    )
    .await;
    let start = Instant::now();
    let accepted = load(s.submission, ALICE, PASSWORD).await;
    if external.is_none() {
        for _ in 0..CLIENTS * PER_CLIENT {
            own_sink.next().await;
        }
    }
    s.queue_drained().await;
    let delivered = start.elapsed();
    println!(
        "zest: {} messages accepted (durable) at {:.0}/s, all delivered to the sink at {:.0}/s",
        CLIENTS * PER_CLIENT,
        total / accepted.as_secs_f64(),
        total / delivered.as_secs_f64()
    );
    s.stop().await;
    if let Ok(peer) = std::env::var("ZEST_BENCH_PEER") {
        let took = load(peer.parse().unwrap(), "testuser1@example.org", "pass").await;
        println!(
            "peer: {} messages relayed (250 after the relay's 250) at {:.0}/s",
            CLIENTS * PER_CLIENT,
            total / took.as_secs_f64()
        );
    }
}
