//! Crash safety, two writing processes, and the cross-process change feed,
//! with real child processes (this test binary re-run as a child).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use store::{ChangeKind, EmailAddress, FeedItem, Flags, Store, Uid};

const USER: &str = "alice@example.org";

/// Every third message is large enough to be kept in a segment file rather
/// than in the database, so both paths are covered.
fn message(tag: &str, n: usize) -> Vec<u8> {
    let mut m = format!(
        "From: a@example.org\r\nTo: alice@example.org\r\nSubject: {tag} {n}\r\nMessage-ID: <{tag}.{n}@example.org>\r\n\r\nbody {tag} {n}\r\n"
    );
    if n.is_multiple_of(3) {
        let line = format!("line of message {tag} {n} .......................................\r\n");
        while m.len() < 40 * 1024 {
            m.push_str(&line);
        }
    }
    m.into_bytes()
}

async fn setup(path: &Path) -> Store {
    let store = Store::open(path).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    store
        .create_account(&EmailAddress::parse(USER).unwrap(), "secret", false)
        .await
        .unwrap();
    store
}

async fn account(store: &Store) -> store::AccountId {
    store
        .account(&EmailAddress::parse(USER).unwrap())
        .await
        .unwrap()
        .unwrap()
        .id
}

fn spawn_child(db: &Path, mode: &str, tag: &str, count: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZEST_TEST_CHILD_DB", db)
        .env("ZEST_TEST_CHILD_MODE", mode)
        .env("ZEST_TEST_CHILD_TAG", tag)
        .env("ZEST_TEST_CHILD_COUNT", count.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Lines "ok UID" the child printed after each append returned Ok.
fn acks(line: &str) -> Option<(u32, usize)> {
    let mut parts = line.strip_prefix("ok ")?.split_whitespace();
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Entry point of the child processes; does nothing unless started by a test above.
#[test]
#[ignore = "runs only as a child process of the tests in this file"]
fn child_process() {
    let Ok(db) = std::env::var("ZEST_TEST_CHILD_DB") else {
        return;
    };
    let mode = std::env::var("ZEST_TEST_CHILD_MODE").unwrap();
    let tag = std::env::var("ZEST_TEST_CHILD_TAG").unwrap();
    let count: usize = std::env::var("ZEST_TEST_CHILD_COUNT")
        .unwrap()
        .parse()
        .unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        let store = Store::open(Path::new(&db)).await.unwrap();
        let acc = account(&store).await;
        use std::io::Write;
        // libtest has just printed "test child_process ... " without a newline.
        println!();
        match mode.as_str() {
            // Sequential appends, acknowledged one by one.
            "sequential" => {
                for n in 0..count {
                    let (_, uid) = store
                        .append(acc, "INBOX", message(&tag, n), Flags::default(), None)
                        .await
                        .unwrap();
                    println!("ok {} {n}", uid.0);
                    std::io::stdout().flush().unwrap();
                }
            }
            // Eight concurrent writers appending forever (until killed).
            "forever" => {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
                for w in 0..8 {
                    let (store, tx, tag) = (store.clone(), tx.clone(), tag.clone());
                    tokio::spawn(async move {
                        for n in 0.. {
                            let id = w * 1_000_000 + n;
                            let (_, uid) = store
                                .append(acc, "INBOX", message(&tag, id), Flags::default(), None)
                                .await
                                .unwrap();
                            tx.send((uid.0, id)).unwrap();
                        }
                    });
                }
                while let Some((uid, id)) = rx.recv().await {
                    println!("ok {uid} {id}");
                    std::io::stdout().flush().unwrap();
                }
            }
            other => panic!("unknown mode {other}"),
        }
        store.close().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_writer_loses_no_acknowledged_append() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zest.db");
    setup(&db).await.close().await;

    let mut child = spawn_child(&db, "forever", "crash", 0);
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut acked = Vec::new();
    for line in stdout.lines() {
        let Some(ack) = acks(&line.unwrap()) else {
            continue;
        };
        acked.push(ack);
        if acked.len() >= 300 {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let store = Store::open(&db).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
    let acc = account(&store).await;
    let inbox = store.mailbox_status(acc, "INBOX").await.unwrap();
    for (uid, id) in &acked {
        let raw = store.read_message(acc, inbox.id, Uid(*uid)).await.unwrap();
        assert_eq!(raw, message("crash", *id), "UID {uid}");
    }
    // Counters agree with the rows that survived.
    let entries = store.entries(acc, inbox.id).await.unwrap();
    assert_eq!(inbox.messages, entries.len() as u64);
    assert!(entries.len() >= acked.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_append_concurrently() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zest.db");
    setup(&db).await.close().await;

    let children: Vec<Child> = ["a", "b"]
        .iter()
        .map(|tag| spawn_child(&db, "sequential", tag, 1000))
        .collect();
    let mut all = Vec::new();
    for mut child in children {
        let out = BufReader::new(child.stdout.take().unwrap());
        let uids: Vec<u32> = out
            .lines()
            .filter_map(|l| acks(&l.unwrap()).map(|a| a.0))
            .collect();
        assert!(child.wait().unwrap().success());
        assert_eq!(uids.len(), 1000);
        // Each process's own appends get strictly increasing UIDs.
        assert!(uids.windows(2).all(|w| w[0] < w[1]));
        all.extend(uids);
    }
    let unique: HashSet<u32> = all.iter().copied().collect();
    assert_eq!(unique.len(), 2000, "duplicated UIDs");
    assert_eq!(unique, (1..=2000).collect::<HashSet<u32>>(), "lost UIDs");

    let store = Store::open(&db).await.unwrap();
    let acc = account(&store).await;
    let status = store.mailbox_status(acc, "INBOX").await.unwrap();
    assert_eq!(status.messages, 2000);
    assert_eq!(status.uidnext, 2001);
    assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_from_another_process_arrive_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("zest.db");
    let store = setup(&db).await;
    let acc = account(&store).await;
    let mut feed = store.subscribe_changes(acc);

    let mut child = spawn_child(&db, "sequential", "x", 50);
    let mut seen = Vec::new();
    let mut last_seq = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen.len() < 50 {
        let item = tokio::time::timeout_at(deadline.into(), feed.next())
            .await
            .expect("events from the other process")
            .unwrap();
        let FeedItem::Change(c) = item else {
            panic!("missed events")
        };
        assert!(c.seq > last_seq, "commit order");
        last_seq = c.seq;
        if let ChangeKind::MessageAdded { uid, .. } = c.kind {
            seen.push(uid.0);
        }
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(seen, (1..=50).collect::<Vec<u32>>());
}

#[tokio::test]
async fn changes_in_process_arrive_in_commit_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = setup(&dir.path().join("zest.db")).await;
    let acc = account(&store).await;
    let mut feed = store.subscribe_changes(acc);
    let mut all = store.subscribe_all_changes();
    // Changes committed just before subscribing (the account's creation) may
    // still arrive (ChangeStream says so): skip them, up to a marker write.
    store.set_subscribed(acc, "marker", true).await.unwrap();
    for stream in [&mut feed, &mut all] {
        loop {
            let Some(FeedItem::Change(c)) =
                tokio::time::timeout(Duration::from_secs(10), stream.next())
                    .await
                    .unwrap()
            else {
                panic!("feed ended")
            };
            if c.kind
                == (ChangeKind::SubscriptionChanged {
                    name: "marker".into(),
                })
            {
                break;
            }
        }
    }
    let inbox = store.mailbox_status(acc, "INBOX").await.unwrap().id;

    let mut handles = Vec::new();
    for n in 0..20 {
        let s = store.clone();
        handles.push(tokio::spawn(async move {
            s.append(acc, "INBOX", message("p", n), Flags::default(), None)
                .await
                .unwrap()
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    store
        .set_flags(
            acc,
            inbox,
            vec![Uid(3)],
            store::FlagOp::Add,
            Flags::from_names(["\\Seen"]).unwrap(),
            None,
        )
        .await
        .unwrap();
    store
        .create_mailbox(acc, "Projects/Zest", None)
        .await
        .unwrap();

    let mut kinds = Vec::new();
    while kinds.len() < 23 {
        let Some(FeedItem::Change(c)) = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .unwrap()
        else {
            panic!("feed ended")
        };
        kinds.push(c.kind.clone());
        let Some(FeedItem::Change(c2)) = all.next().await else {
            panic!("all-feed ended")
        };
        assert_eq!(c, c2);
    }
    let uids: Vec<u32> = kinds
        .iter()
        .filter_map(|k| match k {
            ChangeKind::MessageAdded { uid, .. } => Some(uid.0),
            _ => None,
        })
        .collect();
    assert_eq!(uids, (1..=20).collect::<Vec<u32>>());
    assert!(matches!(
        kinds[20],
        ChangeKind::FlagsChanged {
            uid: Uid(3),
            modseq: store::ModSeq(22),
            ..
        }
    ));
    assert!(matches!(&kinds[21], ChangeKind::MailboxCreated { name, .. } if name == "Projects"));
    assert!(
        matches!(&kinds[22], ChangeKind::MailboxCreated { name, .. } if name == "Projects/Zest")
    );
}
