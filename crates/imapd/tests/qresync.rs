//! QRESYNC with sets of 10,000 UIDs in one command (RFC 7162 4): known UIDs
//! and seq-match in SELECT, UID FETCH (CHANGEDSINCE .. VANISHED), UID STORE,
//! UID EXPUNGE and UID SEARCH, over a mailbox of 20,000 messages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{Server, message};

/// Expands a sequence set of plain numbers (`1:3,7`).
fn expand(set: &str) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    for part in set.split(',') {
        match part.split_once(':') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
                out.extend(a.min(b)..=a.max(b));
            }
            None => {
                out.insert(part.parse().unwrap());
            }
        }
    }
    out
}

fn list(uids: impl Iterator<Item = u32>) -> String {
    uids.map(|u| u.to_string()).collect::<Vec<_>>().join(",")
}

/// The value after `[NAME ` in the untagged OK that carries it.
fn code(lines: &[String], name: &str) -> u64 {
    let prefix = format!("* OK [{name} ");
    let l = lines.iter().find(|l| l.starts_with(&prefix)).unwrap();
    l[prefix.len()..]
        .split(']')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_uid_sets() {
    const N: u32 = 20_000;
    let server = Server::start().await;
    let account = server.account().await;
    let mut set = tokio::task::JoinSet::new();
    for n in 0..N {
        let store = server.store.clone();
        let m = message(&format!("m{n}"), "body");
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

    let mut a = server.client().await;
    a.login().await;
    let r = a.cmd("e", "ENABLE QRESYNC").await;
    assert_eq!(r[0], "* ENABLED QRESYNC");
    let r = a.cmd("s", "SELECT INBOX").await;
    let uidvalidity = code(&r, "UIDVALIDITY");
    let modseq = code(&r, "HIGHESTMODSEQ");

    // Another client flags 2,500 messages and expunges 10,000, naming each
    // UID in one command.
    let mut b = server.client().await;
    b.login().await;
    b.cmd("s", "SELECT INBOX").await;
    let seen: Vec<u32> = (1..=N).filter(|u| u % 8 == 1).collect();
    let r = b
        .cmd(
            "f",
            &format!(
                "UID STORE {} (UNCHANGEDSINCE {modseq}) +FLAGS.SILENT (\\Seen)",
                list(seen.iter().copied())
            ),
        )
        .await;
    assert_eq!(r.last().unwrap(), "f OK UID STORE completed");
    let even: Vec<u32> = (1..=N).filter(|u| u % 2 == 0).collect();
    assert_eq!(even.len(), 10_000);
    let even_list = list(even.iter().copied());
    let r = b
        .cmd(
            "d",
            &format!("UID STORE {even_list} +FLAGS.SILENT (\\Deleted)"),
        )
        .await;
    assert_eq!(r.last().unwrap(), "d OK UID STORE completed");
    let r = b.cmd("x", &format!("UID EXPUNGE {even_list}")).await;
    assert_eq!(r.len(), 10_001, "one EXPUNGE per message");
    assert_eq!(r.last().unwrap(), "x OK EXPUNGE completed");

    // Live: one VANISHED naming every UID, and FETCH with MODSEQ for the flags.
    let r = a.cmd("n", "NOOP").await;
    let vanished: Vec<&String> = r.iter().filter(|l| l.starts_with("* VANISHED ")).collect();
    assert_eq!(vanished.len(), 1);
    let gone = expand(&vanished[0]["* VANISHED ".len()..]);
    assert_eq!(gone, even.iter().copied().collect());
    let fetches = r.iter().filter(|l| l.contains(" FETCH (")).count();
    assert_eq!(fetches, seen.len());
    assert!(r.iter().all(|l| !l.contains(" EXPUNGE")));

    // Resync from the old MODSEQ, knowing 10,000 UIDs (half of them now
    // expunged) and a 10,000-pair seq-match.
    let known: Vec<u32> = (1..=N).filter(|u| u % 4 <= 1).collect();
    assert_eq!(known.len(), 10_000);
    let seqs = list(1..=10_000);
    let cmd = format!(
        "SELECT INBOX (QRESYNC ({uidvalidity} {modseq} {} ({seqs} {})))",
        list(known.iter().copied()),
        list(known.iter().copied()),
    );
    assert!(cmd.len() > 100_000, "{}", cmd.len());
    let r = a.cmd("q", &cmd).await;
    assert_eq!(r.last().unwrap(), "q OK [READ-WRITE] SELECT completed");
    assert_eq!(r[0], "* OK [CLOSED] Previous mailbox closed");
    let earlier: Vec<&String> = r
        .iter()
        .filter(|l| l.starts_with("* VANISHED (EARLIER) "))
        .collect();
    assert_eq!(earlier.len(), 1);
    let gone = expand(&earlier[0]["* VANISHED (EARLIER) ".len()..]);
    let want: BTreeSet<u32> = known.iter().copied().filter(|u| u % 4 == 0).collect();
    assert_eq!(gone.len(), 5_000);
    assert_eq!(gone, want);
    let changed: Vec<&String> = r.iter().filter(|l| l.contains(" FETCH (UID ")).collect();
    assert_eq!(changed.len(), seen.len());
    assert!(
        changed
            .iter()
            .all(|l| l.contains("FLAGS (\\Seen) MODSEQ ("))
    );

    // The same answer from UID FETCH, again with 10,000 UIDs named one by one.
    let r = a
        .cmd(
            "u",
            &format!(
                "UID FETCH {} (FLAGS) (CHANGEDSINCE {modseq} VANISHED)",
                list(known.iter().copied())
            ),
        )
        .await;
    assert_eq!(r.last().unwrap(), "u OK UID FETCH completed");
    let gone = expand(&r[0]["* VANISHED (EARLIER) ".len()..]);
    assert_eq!(gone, want);
    let flagged_known = known.iter().filter(|u| *u % 8 == 1).count();
    assert_eq!(r.len(), 1 + flagged_known + 1);

    let r = a
        .cmd(
            "c",
            &format!(
                "UID SEARCH RETURN (COUNT) UID {}",
                list(known.iter().copied())
            ),
        )
        .await;
    assert_eq!(r[0], "* ESEARCH (TAG \"c\") UID COUNT 5000");
    server.stop().await;
}
