//! SORT, THREAD, ESORT and the CONTEXT=SEARCH / CONTEXT=SORT updates over a
//! real socket: results kept up to date while other sessions append, flag
//! and expunge, and while mail is delivered through the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{Client, Server};

fn msg(from: &str, subject: &str, date: &str, id: &str, refs: &str) -> Vec<u8> {
    let mut m = format!("From: {from}\r\nTo: alice@example.org\r\nSubject: {subject}\r\n");
    if !date.is_empty() {
        m.push_str(&format!("Date: {date}\r\n"));
    }
    m.push_str(&format!("Message-ID: {id}\r\n"));
    if !refs.is_empty() {
        m.push_str(&format!("References: {refs}\r\n"));
    }
    m.push_str("\r\nbody\r\n");
    m.into_bytes()
}

async fn selected(server: &Server) -> Client {
    let mut c = server.client().await;
    c.login().await;
    let r = c.cmd("s1", "SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("s1 OK"), "{r:?}");
    c
}

/// The untagged lines of a reply.
fn untagged(lines: &[String]) -> Vec<&str> {
    lines
        .iter()
        .map(String::as_str)
        .filter(|l| l.starts_with("* ") && !l.ends_with(" RECENT"))
        .collect()
}

/// In IDLE, reads until every wanted line has arrived; returns all lines read.
async fn idle_until(c: &mut Client, wanted: &[&str]) -> Vec<String> {
    let mut seen = Vec::new();
    let start = Instant::now();
    while !wanted.iter().all(|w| seen.iter().any(|s: &String| s == w)) {
        assert!(
            start.elapsed() < common::WAIT,
            "still waiting for {wanted:?}; saw {seen:?}"
        );
        seen.push(c.line().await.unwrap());
    }
    seen
}

async fn fill(c: &mut Client) {
    let msgs = [
        msg(
            "Zed <z@x.org>",
            "hello",
            "Mon, 7 Feb 1994 10:00:00 +0000",
            "<a@x>",
            "",
        ),
        msg(
            "amy <a@x.org>",
            "Re: hello",
            "Mon, 7 Feb 1994 09:00:00 +0000",
            "<b@x>",
            "<a@x>",
        ),
        msg(
            "Bob <b@x.org>",
            "[list] other",
            "Sun, 6 Feb 1994 12:00:00 +0000",
            "<c@x>",
            "",
        ),
        msg("carl@x.org", "Re: other", "", "<d@x>", "<zz@x>"),
    ];
    for (i, m) in msgs.iter().enumerate() {
        let r = c.append(&format!("a{i}"), "INBOX", "", m).await;
        assert!(r.last().unwrap().contains(" OK "), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_thread_and_esort() {
    let server = Server::start().await;
    let mut c = selected(&server).await;
    let caps = c.cmd("c", "CAPABILITY").await;
    for cap in [
        " SORT ",
        " SORT=DISPLAY ",
        " ESORT ",
        " THREAD=REFERENCES ",
        " THREAD=ORDEREDSUBJECT ",
        " CONTEXT=SEARCH ",
        " CONTEXT=SORT ",
        " I18NLEVEL=1",
    ] {
        assert!(caps[0].contains(cap), "{cap} in {:?}", caps[0]);
    }
    fill(&mut c).await;
    // The fourth message has no Date: it sorts by its INTERNALDATE (now).
    let r = c.cmd("t1", "SORT (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* SORT 3 2 1 4"]);
    let r = c.cmd("t2", "SORT (REVERSE DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* SORT 4 1 2 3"]);
    let r = c.cmd("t3", "SORT (SUBJECT DATE) US-ASCII ALL").await;
    assert_eq!(untagged(&r), ["* SORT 2 1 3 4"]);
    let r = c.cmd("t4", "SORT (FROM) UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* SORT 2 3 4 1"]);
    let r = c.cmd("t5", "SORT (DISPLAYFROM) UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* SORT 2 3 4 1"]);
    let r = c.cmd("t6", "SORT (ARRIVAL) UTF-8 SUBJECT other").await;
    assert_eq!(untagged(&r), ["* SORT 3 4"]);
    let r = c.cmd("t7", "UID SORT (SIZE) UTF-8 NOT ALL").await;
    assert_eq!(untagged(&r), ["* SORT"]);
    // ESORT (RFC 5267 3): MIN/MAX in sort order, ALL in sort order.
    let r = c
        .cmd("e1", "UID SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")
        .await;
    assert_eq!(
        untagged(&r),
        ["* ESEARCH (TAG \"e1\") UID MIN 3 MAX 4 COUNT 4 ALL 3,2,1,4"]
    );
    let r = c.cmd("e2", "SORT RETURN () (DATE) UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* ESEARCH (TAG \"e2\") ALL 3,2,1,4"]);
    let r = c
        .cmd("e3", "SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL")
        .await;
    assert_eq!(untagged(&r), ["* ESEARCH (TAG \"e3\") PARTIAL (2:3 2,1)"]);
    // THREAD (RFC 5256 4).
    let r = c.cmd("h1", "THREAD REFERENCES UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* THREAD (3 4)(1 2)"]);
    let r = c.cmd("h2", "THREAD ORDEREDSUBJECT UTF-8 ALL").await;
    assert_eq!(untagged(&r), ["* THREAD (3 4)(2 1)"]);
    let r = c.cmd("h3", "UID THREAD REFERENCES UTF-8 UID 2:3").await;
    assert_eq!(untagged(&r), ["* THREAD (3)(2)"]);
    // Refusals.
    let r = c.cmd("x1", "THREAD X-NONE UTF-8 ALL").await;
    assert!(r.last().unwrap().starts_with("x1 NO "), "{r:?}");
    let r = c.cmd("x2", "SORT (DATE) KOI8-R ALL").await;
    assert!(r.last().unwrap().starts_with("x2 NO [BADCHARSET"), "{r:?}");
    let r = c.cmd("x3", "SORT (NOPE) UTF-8 ALL").await;
    assert!(r.last().unwrap().starts_with("x3 BAD "), "{r:?}");
    let r = c.cmd("x4", "CANCELUPDATE \"nothing\"").await;
    assert!(r.last().unwrap().starts_with("x4 BAD "), "{r:?}");
    c.cmd("u", "UNSELECT").await;
    let r = c.cmd("x5", "SORT (DATE) UTF-8 ALL").await;
    assert!(r.last().unwrap().starts_with("x5 BAD "), "{r:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_context_follows_other_sessions_and_deliveries() {
    let server = Server::start().await;
    let mut a = selected(&server).await;
    let mut b = selected(&server).await;
    fill(&mut b).await;
    let r = a.cmd("n", "NOOP").await;
    assert!(r.iter().any(|l| l == "* 4 EXISTS"), "{r:?}");
    let r = a.cmd("u1", "SEARCH RETURN (UPDATE COUNT) UNSEEN").await;
    assert_eq!(untagged(&r), ["* ESEARCH (TAG \"u1\") COUNT 4"]);
    let r = a
        .cmd(
            "u2",
            "UID SORT RETURN (UPDATE ALL) (REVERSE DATE) UTF-8 UNSEEN",
        )
        .await;
    assert_eq!(untagged(&r), ["* ESEARCH (TAG \"u2\") UID ALL 4,1:3"]);
    // Reusing a tag with UPDATE is refused (RFC 5267 4.3).
    let r = a.cmd("u1", "SEARCH RETURN (UPDATE) ALL").await;
    assert!(r.last().unwrap().starts_with("u1 BAD "), "{r:?}");
    a.send("i1 IDLE").await;
    assert!(a.line().await.unwrap().starts_with('+'));
    // Another session flags a message: both contexts drop it.
    let r = b.cmd("b1", "STORE 1 +FLAGS (\\Seen)").await;
    assert!(r.last().unwrap().starts_with("b1 OK"));
    idle_until(
        &mut a,
        &[
            "* ESEARCH (TAG \"u1\") REMOVEFROM (0 1)",
            "* ESEARCH (TAG \"u2\") UID REMOVEFROM (2 1)",
        ],
    )
    .await;
    // Another session appends: ADDTO after EXISTS.
    let new = msg(
        "dan@x.org",
        "late",
        "Tue, 8 Feb 1994 10:00:00 +0000",
        "<e@x>",
        "",
    );
    let r = b.append("b2", "INBOX", "", &new).await;
    assert!(r.last().unwrap().contains(" OK "), "{r:?}");
    let seen = idle_until(
        &mut a,
        &[
            "* 5 EXISTS",
            "* ESEARCH (TAG \"u1\") ADDTO (0 5)",
            "* ESEARCH (TAG \"u2\") UID ADDTO (2 5)",
        ],
    )
    .await;
    let exists = seen.iter().position(|l| l == "* 5 EXISTS").unwrap();
    let addto = seen
        .iter()
        .position(|l| l == "* ESEARCH (TAG \"u1\") ADDTO (0 5)")
        .unwrap();
    assert!(exists < addto, "{seen:?}");
    // Mail delivered through the store (as the delivery agent does).
    let account = server.account().await;
    server
        .store
        .append(
            account.id,
            "INBOX",
            msg(
                "eve@x.org",
                "x",
                "Mon, 7 Feb 1994 11:00:00 +0000",
                "<f@x>",
                "",
            ),
            store::Flags::default(),
            None,
        )
        .await
        .unwrap();
    idle_until(
        &mut a,
        &[
            "* 6 EXISTS",
            "* ESEARCH (TAG \"u1\") ADDTO (0 6)",
            "* ESEARCH (TAG \"u2\") UID ADDTO (3 6)",
        ],
    )
    .await;
    // Another session expunges: REMOVEFROM before the EXPUNGE it numbers.
    let r = b.cmd("b3", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    assert!(r.last().unwrap().starts_with("b3 OK"));
    let r = b.cmd("b4", "EXPUNGE").await;
    assert!(r.last().unwrap().starts_with("b4 OK"));
    let seen = idle_until(
        &mut a,
        &[
            "* ESEARCH (TAG \"u1\") REMOVEFROM (0 2)",
            "* ESEARCH (TAG \"u2\") UID REMOVEFROM (4 2)",
            "* 2 EXPUNGE",
        ],
    )
    .await;
    let removed = seen
        .iter()
        .position(|l| l == "* ESEARCH (TAG \"u1\") REMOVEFROM (0 2)")
        .unwrap();
    let expunge = seen.iter().position(|l| l == "* 2 EXPUNGE").unwrap();
    assert!(removed < expunge, "{seen:?}");
    a.send("DONE").await;
    let r = a.until_tagged("i1").await;
    assert!(r.last().unwrap().starts_with("i1 OK"), "{r:?}");
    // What the contexts hold now is what a new search finds.
    let r = a
        .cmd("v1", "UID SORT RETURN (ALL) (REVERSE DATE) UTF-8 UNSEEN")
        .await;
    assert_eq!(untagged(&r), ["* ESEARCH (TAG \"v1\") UID ALL 4:6,3"]);
    // After CANCELUPDATE, nothing more for u1; u2 goes on.
    let r = a.cmd("c1", "CANCELUPDATE \"u1\"").await;
    assert!(r.last().unwrap().starts_with("c1 OK"), "{r:?}");
    let r = a.cmd("c2", "STORE 2 +FLAGS (\\Seen)").await;
    let u = untagged(&r);
    assert!(!u.iter().any(|l| l.contains("\"u1\"")), "{u:?}");
    assert!(
        u.contains(&"* ESEARCH (TAG \"u2\") UID REMOVEFROM (4 3)"),
        "{u:?}"
    );
    // Leaving the mailbox ends the contexts.
    a.cmd("s2", "SELECT INBOX").await;
    let r = a.cmd("c3", "STORE 1 -FLAGS (\\Seen)").await;
    assert!(!untagged(&r).iter().any(|l| l.contains("ESEARCH")), "{r:?}");
    server.stop().await;
}
