//! Figures, not assertions: SELECT of a 100,000-message mailbox, FETCH
//! (FLAGS ENVELOPE) of 1,000 messages, and SORT/THREAD of the whole mailbox
//! over a real socket. Run with
//! `cargo test -p imapd --release --test perf -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{Server, message};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it explicitly"]
async fn select_and_fetch_timings() {
    let server = Server::start().await;
    let account = server.account().await;
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..100_000u32 {
        let store = server.store.clone();
        let m = message(&format!("m{}", n % 1000), "body");
        set.spawn(async move {
            store
                .append(account.id, "INBOX", m, store::Flags::default(), None)
                .await
                .unwrap();
        });
        if set.len() >= 512 {
            set.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    println!("filled 100,000 messages in {:?}", started.elapsed());
    let inbox = server
        .store
        .mailbox(account.id, "INBOX")
        .await
        .unwrap()
        .unwrap()
        .id;
    for _ in 0..3 {
        let t = Instant::now();
        let n = server.store.entries(account.id, inbox).await.unwrap().len();
        println!("store entries() of {n}: {:?}", t.elapsed());
    }
    let mut c = server.client().await;
    c.login().await;
    for round in 0..3 {
        let t = Instant::now();
        let r = c.cmd("s", "SELECT INBOX").await;
        let select = t.elapsed();
        assert!(r.last().unwrap().starts_with("s OK"));
        let t = Instant::now();
        let r = c.cmd("f", "FETCH 1:1000 (FLAGS ENVELOPE)").await;
        let fetch = t.elapsed();
        assert_eq!(r.len(), 1001);
        println!(
            "round {round}: SELECT 100,000: {select:?}; FETCH 1:1000 (FLAGS ENVELOPE): {fetch:?}"
        );
    }
    server.stop().await;
}

/// QRESYNC SELECT of a 100,000-message mailbox with 1,000 changes (500 flag
/// changes, 500 expunges) since the client's MODSEQ, known UIDs 1:100000.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it explicitly"]
async fn qresync_select_timings() {
    let server = Server::start().await;
    let account = server.account().await;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..100_000u32 {
        let store = server.store.clone();
        let m = message(&format!("m{}", n % 1000), "body");
        set.spawn(async move {
            store
                .append(account.id, "INBOX", m, store::Flags::default(), None)
                .await
                .unwrap();
        });
        if set.len() >= 512 {
            set.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let mut c = server.client().await;
    c.login().await;
    c.cmd("e", "ENABLE QRESYNC").await;
    let r = c.cmd("s", "SELECT INBOX").await;
    let field = |name: &str| -> u64 {
        let p = format!("* OK [{name} ");
        let l = r.iter().find(|l| l.starts_with(&p)).unwrap();
        l[p.len()..].split(']').next().unwrap().parse().unwrap()
    };
    let (uidvalidity, modseq) = (field("UIDVALIDITY"), field("HIGHESTMODSEQ"));
    let flagged: Vec<String> = (0..500).map(|i| (i * 200 + 1).to_string()).collect();
    let deleted: Vec<String> = (0..500).map(|i| (i * 200 + 2).to_string()).collect();
    c.cmd(
        "f",
        &format!("UID STORE {} +FLAGS.SILENT (\\Seen)", flagged.join(",")),
    )
    .await;
    c.cmd(
        "d",
        &format!("UID STORE {} +FLAGS.SILENT (\\Deleted)", deleted.join(",")),
    )
    .await;
    c.cmd("x", "EXPUNGE").await;
    c.cmd("u", "UNSELECT").await;
    for round in 0..5 {
        let t = Instant::now();
        let r = c
            .cmd(
                "q",
                &format!("SELECT INBOX (QRESYNC ({uidvalidity} {modseq} 1:100000))"),
            )
            .await;
        let took = t.elapsed();
        assert!(r.last().unwrap().starts_with("q OK"), "{:?}", r.last());
        let fetches = r.iter().filter(|l| l.contains(" FETCH (")).count();
        let vanished = r.iter().any(|l| l.starts_with("* VANISHED (EARLIER) "));
        assert_eq!(fetches, 500);
        assert!(vanished);
        println!("round {round}: QRESYNC SELECT of 100,000 with 1,000 changes: {took:?}");
        c.cmd("u", "UNSELECT").await;
    }
    // A new process: nothing cached, every entry is read from the database.
    let config = (*server.config).clone();
    let dir = server.stop().await;
    let server = Server::start_with(dir, config, false).await;
    let mut c = server.client().await;
    c.login().await;
    c.cmd("e", "ENABLE QRESYNC").await;
    let t = Instant::now();
    let r = c
        .cmd(
            "q",
            &format!("SELECT INBOX (QRESYNC ({uidvalidity} {modseq} 1:100000))"),
        )
        .await;
    let took = t.elapsed();
    assert!(r.last().unwrap().starts_with("q OK"), "{:?}", r.last());
    println!("fresh process: QRESYNC SELECT of 100,000 with 1,000 changes: {took:?}");
    server.stop().await;
}

/// SORT (DATE) of a 100,000-message mailbox: the first SORT after SELECT
/// (the sort values are read from the store), later ones, and the first in
/// a new process; THREAD REFERENCES and SORT (SUBJECT) for comparison.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it explicitly"]
async fn sort_timings() {
    let server = Server::start().await;
    let account = server.account().await;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..100_000u32 {
        let store = server.store.clone();
        // Dates spread over a year, out of arrival order.
        let day = (n.wrapping_mul(7919) % 365) + 1;
        let m = format!(
            "From: u{}@example.com\r\nSubject: Re: topic {}\r\nDate: {} Jan 2020 10:{:02}:00 +0000\r\nMessage-ID: <m{n}@example.com>\r\nReferences: <m{}@example.com>\r\n\r\nbody\r\n",
            n % 97,
            n % 1000,
            1 + day % 28,
            n % 60,
            n / 2
        )
        .into_bytes();
        set.spawn(async move {
            store
                .append(account.id, "INBOX", m, store::Flags::default(), None)
                .await
                .unwrap();
        });
        if set.len() >= 512 {
            set.join_next().await.unwrap().unwrap();
        }
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let mut c = server.client().await;
    c.login().await;
    let r = c.cmd("s", "SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("s OK"));
    for round in 0..3 {
        let t = Instant::now();
        let r = c.cmd("d", "SORT (DATE) UTF-8 ALL").await;
        let took = t.elapsed();
        assert!(r.last().unwrap().starts_with("d OK"), "{:?}", r.last());
        assert_eq!(r[0].split(' ').count(), 100_002);
        println!("round {round}: SORT (DATE) of 100,000: {took:?}");
    }
    let t = Instant::now();
    let r = c
        .cmd(
            "u",
            "UID SORT RETURN (COUNT MIN MAX) (REVERSE DATE) UTF-8 ALL",
        )
        .await;
    println!("ESORT (REVERSE DATE) of 100,000: {:?}", t.elapsed());
    assert!(r.last().unwrap().starts_with("u OK"));
    let t = Instant::now();
    c.cmd("j", "SORT (SUBJECT) UTF-8 ALL").await;
    println!("SORT (SUBJECT) of 100,000, first: {:?}", t.elapsed());
    let t = Instant::now();
    c.cmd("j", "SORT (SUBJECT) UTF-8 ALL").await;
    println!("SORT (SUBJECT) of 100,000, again: {:?}", t.elapsed());
    let t = Instant::now();
    let r = c.cmd("h", "THREAD REFERENCES UTF-8 ALL").await;
    println!("THREAD REFERENCES of 100,000: {:?}", t.elapsed());
    assert!(r.last().unwrap().starts_with("h OK"));
    // A new process: nothing cached.
    let config = (*server.config).clone();
    let dir = server.stop().await;
    let server = Server::start_with(dir, config, false).await;
    let mut c = server.client().await;
    c.login().await;
    c.cmd("s", "SELECT INBOX").await;
    let t = Instant::now();
    let r = c.cmd("d", "SORT (DATE) UTF-8 ALL").await;
    println!("fresh process: SORT (DATE) of 100,000: {:?}", t.elapsed());
    assert!(r.last().unwrap().starts_with("d OK"));
    server.stop().await;
}
