//! NOTIFY (RFC 5465) end to end: changes made by another session and by
//! another process (this test binary re-run as a child writing to the same
//! database) reach a client that sends no command, as untagged STATUS,
//! LIST, EXISTS, FETCH and EXPUNGE responses.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use common::{Client, Server, USER, message};

async fn logged_in(server: &Server) -> Client {
    let mut c = server.client().await;
    c.login().await;
    c
}

/// The next line, without `* n RECENT` lines and `\Recent` flags (whose
/// reporting depends on which session saw a message first).
async fn line(c: &mut Client) -> String {
    loop {
        let l = c.line().await.expect("connection open");
        if l.starts_with("* ") && l.ends_with(" RECENT") {
            continue;
        }
        return l
            .replace("\\Recent ", "")
            .replace(" \\Recent", "")
            .replace("(\\Recent)", "()");
    }
}

/// Reads unsolicited lines until one matches `wanted`; returns it.
async fn until(c: &mut Client, wanted: impl Fn(&str) -> bool) -> String {
    let mut seen = Vec::new();
    loop {
        let l = line(c).await;
        if wanted(&l) {
            return l;
        }
        seen.push(l);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_sessions_changes_arrive_unsolicited() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    let mut b = logged_in(&server).await;
    let r = a
        .cmd(
            "a1",
            "NOTIFY SET (personal (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange))",
        )
        .await;
    assert_eq!(r, vec!["a1 OK NOTIFY completed"]);

    let r = b.cmd("b1", "CREATE Work").await;
    assert_eq!(r.last().unwrap(), "b1 OK CREATE completed");
    assert_eq!(line(&mut a).await, "* LIST () \"/\" Work");

    let r = b.append("b2", "Work", "", &message("one", "1")).await;
    let appended = Instant::now();
    assert!(r.last().unwrap().starts_with("b2 OK"), "{r:?}");
    let l = until(&mut a, |l| l.starts_with("* STATUS Work")).await;
    println!(
        "STATUS after another session's APPEND: {:?}",
        appended.elapsed()
    );
    // FlagChange is watched there, so HIGHESTMODSEQ comes too (RFC 5465 5.1).
    assert!(
        l.starts_with("* STATUS Work (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")
            && l.contains(" UNSEEN 1 HIGHESTMODSEQ ")
            && l.ends_with(')'),
        "{l}"
    );

    b.cmd("b3", "SELECT Work").await;
    b.cmd("b4", "STORE 1 +FLAGS (\\Seen)").await;
    let l = until(&mut a, |l| l.starts_with("* STATUS Work")).await;
    assert!(l.contains(" UNSEEN 0 HIGHESTMODSEQ "), "{l}");
    b.cmd("b5", "STORE 1 +FLAGS (\\Deleted)").await;
    until(&mut a, |l| l.starts_with("* STATUS Work")).await;
    b.cmd("b6", "EXPUNGE").await;
    let l = until(&mut a, |l| l.starts_with("* STATUS Work")).await;
    assert!(l.starts_with("* STATUS Work (MESSAGES 0 UIDNEXT 2 "), "{l}");
    b.cmd("b7", "UNSELECT").await;

    b.cmd("b8", "RENAME Work Play").await;
    let l = until(&mut a, |l| l.starts_with("* LIST")).await;
    assert_eq!(l, "* LIST () \"/\" Play (\"OLDNAME\" (Work))");
    b.cmd("b9", "SUBSCRIBE Play").await;
    let l = until(&mut a, |l| l.starts_with("* LIST")).await;
    assert_eq!(l, "* LIST (\\Subscribed) \"/\" Play");
    b.cmd("b10", "UNSUBSCRIBE Play").await;
    let l = until(&mut a, |l| l.starts_with("* LIST")).await;
    assert_eq!(l, "* LIST () \"/\" Play");
    b.cmd("b11", "DELETE Play").await;
    let l = until(&mut a, |l| l.starts_with("* LIST")).await;
    assert_eq!(l, "* LIST (\\NonExistent) \"/\" Play");

    // NOTIFY NONE: nothing more arrives; the next command's answer comes first.
    assert_eq!(
        a.cmd("a2", "NOTIFY NONE").await,
        vec!["a2 OK NOTIFY completed"]
    );
    b.append("b12", "INBOX", "", &message("two", "2")).await;
    b.cmd("b13", "CREATE Later").await;
    let r = a.cmd("a3", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(
        r,
        vec!["* STATUS INBOX (MESSAGES 1)", "a3 OK STATUS completed"]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_mailbox_events_with_fetch_attributes() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    let mut b = logged_in(&server).await;
    a.cmd("a1", "SELECT INBOX").await;
    let r = a
        .cmd(
            "a2",
            "NOTIFY SET (selected (MessageNew (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge FlagChange)) (inboxes NONE)",
        )
        .await;
    assert_eq!(r, vec!["a2 OK NOTIFY completed"]);
    b.append("b1", "INBOX", "\\Flagged", &message("hello", "1"))
        .await;
    assert_eq!(line(&mut a).await, "* 1 EXISTS");
    let l = line(&mut a).await;
    assert!(
        l.starts_with("* 1 FETCH (UID 1 FLAGS (\\Flagged) BODY[HEADER.FIELDS (SUBJECT)] {"),
        "{l}"
    );
    assert_eq!(line(&mut a).await, "Subject: hello");
    assert_eq!(line(&mut a).await, "");
    assert_eq!(line(&mut a).await, ")");
    b.cmd("b2", "SELECT INBOX").await;
    b.cmd("b3", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(
        line(&mut a).await,
        "* 1 FETCH (FLAGS (\\Flagged \\Deleted) UID 1)"
    );
    b.cmd("b4", "EXPUNGE").await;
    // `selected` (not delayed): the EXPUNGE comes without a command.
    assert_eq!(line(&mut a).await, "* 1 EXPUNGE");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_delayed_holds_expunges_for_a_command() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    let mut b = logged_in(&server).await;
    b.append("b1", "INBOX", "", &message("one", "1")).await;
    a.cmd("a1", "SELECT INBOX").await;
    a.cmd(
        "a2",
        "NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange))",
    )
    .await;
    b.cmd("b2", "SELECT INBOX").await;
    b.cmd("b3", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(line(&mut a).await, "* 1 FETCH (FLAGS (\\Deleted) UID 1)");
    b.cmd("b4", "EXPUNGE").await;
    b.append("b5", "INBOX", "", &message("two", "2")).await;
    // The new message is announced at once; the expunge waits.
    assert_eq!(line(&mut a).await, "* 2 EXISTS");
    let r = a.cmd("a3", "NOOP").await;
    let r: Vec<_> = r.into_iter().filter(|l| !l.ends_with(" RECENT")).collect();
    assert_eq!(r, vec!["* 1 EXPUNGE", "a3 OK NOOP completed"]);
    server.stop().await;
}

/// Entry point of the child process; does nothing unless started by a test above.
#[test]
#[ignore = "runs only as a child process of the tests in this file"]
fn child_process() {
    let Ok(db) = std::env::var("ZEST_TEST_CHILD_DB") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async move {
        use std::io::Write;
        let store = store::Store::open(Path::new(&db)).await.unwrap();
        let acc = store
            .account(&store::EmailAddress::parse(USER).unwrap())
            .await
            .unwrap()
            .unwrap()
            .id;
        println!();
        // Wait for the parent's go, then deliver one message.
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).unwrap();
        store
            .append(
                acc,
                "Lists",
                message("from-another-process", "1"),
                store::Flags::default(),
                None,
            )
            .await
            .unwrap();
        println!("delivered");
        std::io::stdout().flush().unwrap();
        store.close().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_by_another_process_produces_status() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    a.cmd("a1", "CREATE Lists").await;
    a.cmd("a2", "SELECT INBOX").await;
    let r = a
        .cmd(
            "a3",
            "NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (subtree Lists (MessageNew MessageExpunge))",
        )
        .await;
    assert!(
        r[0].starts_with("* STATUS Lists (MESSAGES 0 UIDNEXT 1 "),
        "{r:?}"
    );
    assert_eq!(r[1], "a3 OK NOTIFY completed");

    let db = server.dir.path().join("zest.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ZEST_TEST_CHILD_DB", &db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.as_mut().unwrap(), "go").unwrap();
    }
    let stdout = child.stdout.take().unwrap();
    let delivered = tokio::task::spawn_blocking(move || {
        // Read to the end: the child still writes after "delivered".
        let mut at = None;
        for l in BufReader::new(stdout).lines() {
            if l.unwrap() == "delivered" {
                at = Some(Instant::now());
            }
        }
        at.expect("the child ended without delivering")
    });
    let l = until(&mut a, |l| l.starts_with("* STATUS Lists")).await;
    let seen = Instant::now();
    let delivered = delivered.await.unwrap();
    println!(
        "STATUS after another process's delivery: {:?} after its acknowledgement",
        seen.saturating_duration_since(delivered)
    );
    assert!(
        l.starts_with("* STATUS Lists (MESSAGES 1 UIDNEXT 2 "),
        "{l}"
    );
    assert!(child.wait().unwrap().success());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_mailboxes_is_a_notification_overflow() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    let names: Vec<String> = (0..10_001).map(|i| format!("m{i}")).collect();
    let r = a
        .cmd(
            "a1",
            &format!(
                "NOTIFY SET (mailboxes ({}) (MessageNew MessageExpunge))",
                names.join(" ")
            ),
        )
        .await;
    assert_eq!(
        r,
        vec!["a1 NO [NOTIFICATIONOVERFLOW] Too many mailboxes to watch"]
    );
    // The session goes on without notifications.
    let r = a.cmd("a2", "NOOP").await;
    assert_eq!(r, vec!["a2 OK NOOP completed"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_changes_wait_for_a_command_without_flagchange() {
    let server = Server::start().await;
    let mut a = logged_in(&server).await;
    let mut b = logged_in(&server).await;
    b.append("b1", "INBOX", "", &message("one", "1")).await;
    a.cmd("a1", "SELECT INBOX").await;
    a.cmd("a2", "NOTIFY SET (selected (MessageNew MessageExpunge))")
        .await;
    b.cmd("b2", "SELECT INBOX").await;
    b.cmd("b3", "STORE 1 +FLAGS.SILENT (\\Answered)").await;
    b.append("b4", "INBOX", "", &message("two", "2")).await;
    // The new message wakes the session; the flag change it held comes along.
    let first = line(&mut a).await;
    let second = line(&mut a).await;
    assert_eq!(
        [first.as_str(), second.as_str()],
        ["* 1 FETCH (FLAGS (\\Answered) UID 1)", "* 2 EXISTS"]
    );
    server.stop().await;
}

/// A change to a watched mailbox made just before SELECT of another one is
/// reported, whether the session sees it before the SELECT or during it
/// (SELECT skips the pending events of the mailbox it selects only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_just_before_select_still_produces_status() {
    let server = Server::start().await;
    let account = server.account().await;
    let mut a = logged_in(&server).await;
    a.cmd("c", "CREATE Other").await;
    let r = a
        .cmd(
            "n",
            "NOTIFY SET (selected (MessageNew MessageExpunge)) (mailboxes Other (MessageNew MessageExpunge))",
        )
        .await;
    assert_eq!(r.last().unwrap(), "n OK NOTIFY completed");
    for round in 0..20 {
        server
            .store
            .append(
                account.id,
                "Other",
                message(&format!("m{round}"), "x"),
                store::Flags::default(),
                None,
            )
            .await
            .unwrap();
        let mailbox = if round % 2 == 0 { "INBOX" } else { "Archive" };
        a.send(&format!("s{round} EXAMINE {mailbox}")).await;
        let mut status = false;
        loop {
            let l = line(&mut a).await;
            status |= l.starts_with("* STATUS Other (MESSAGES ");
            if l.starts_with(&format!("s{round} ")) {
                break;
            }
        }
        if !status {
            until(&mut a, |l| l.starts_with("* STATUS Other (MESSAGES ")).await;
        }
    }
    server.stop().await;
}

/// A message that arrives after SELECT and before NOTIFY SET is announced:
/// with the NOTIFY command's response, or right after it, never held back
/// until some later command.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_between_select_and_notify_is_announced() {
    let server = Server::start().await;
    let account = server.account().await;
    let mut a = logged_in(&server).await;
    a.cmd("e", "ENABLE QRESYNC").await;
    a.cmd("s", "SELECT INBOX").await;
    server
        .store
        .append(
            account.id,
            "INBOX",
            message("between", "x"),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    a.send("n NOTIFY SET (selected (MessageNew (UID) MessageExpunge FlagChange)) (mailboxes INBOX (MessageNew MessageExpunge FlagChange))")
        .await;
    until(&mut a, |l| l == "* 1 EXISTS").await;
    server.stop().await;
}
