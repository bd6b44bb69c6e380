//! Deliveries that fail: over quota, a store that refuses to write. LMTP
//! answers each recipient; inbound SMTP has one reply for all, so a message is
//! either durable for every recipient (some of them queued for redelivery) or
//! for none, and a sender that retries never delivers twice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Server, addr, dot_stuff, message, start};

/// Sends one message over inbound SMTP; returns the reply to the end of DATA
/// (or the first refused RCPT).
async fn smtp(s: &Server, from: &str, rcpts: &[&str], raw: &str) -> String {
    let mut c = Client::connect(s.smtp).await;
    c.expect(220).await;
    c.expect_cmd("EHLO relay.example.net", "250").await;
    c.expect_cmd(&format!("MAIL FROM:<{from}>"), "250").await;
    for r in rcpts {
        let reply = c.cmd(&format!("RCPT TO:<{r}>")).await;
        if !reply[0].starts_with("250") {
            return reply[0].clone();
        }
    }
    c.expect_cmd("DATA", "354").await;
    c.send(&format!("{}.\r\n", dot_stuff(raw))).await;
    let reply = c.reply().await;
    c.cmd("QUIT").await;
    reply[0].clone()
}

/// Replays a queued message over LMTP as the queue runner does for a local
/// domain; returns the reply for each recipient.
async fn redeliver(s: &Server, sender: &str, rcpts: &[String], raw: &[u8]) -> Vec<String> {
    let mut c = Client::connect(s.lmtp).await;
    c.expect(220).await;
    c.cmd("LHLO localhost").await;
    c.expect_cmd(&format!("MAIL FROM:<{sender}>"), "250").await;
    for r in rcpts {
        c.expect_cmd(&format!("RCPT TO:<{r}>"), "250").await;
    }
    c.expect_cmd("DATA", "354").await;
    let text = String::from_utf8(raw.to_vec()).unwrap();
    c.send(&format!("{}.\r\n", dot_stuff(&text))).await;
    let mut out = Vec::new();
    for _ in rcpts {
        out.push(c.reply().await[0].clone());
    }
    out
}

/// A message of about `size` octets.
fn big_message(from: &str, to: &str, subject: &str, size: usize) -> String {
    let mut m = message(from, to, subject);
    let line = "x".repeat(70);
    while m.len() < size {
        m.push_str(&line);
        m.push_str("\r\n");
    }
    m
}

/// Makes every write of a message into `user`'s mailboxes fail, from another
/// connection to the database, as a damaged or misbehaving database would.
fn break_store_for(s: &Server, user: &str) {
    let conn = rusqlite::Connection::open(s.dir.path().join("zest.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    let account = s.account(user).id.0;
    conn.execute_batch(&format!(
        "CREATE TRIGGER failing_writes BEFORE INSERT ON mailbox_messages \
         WHEN NEW.mailbox_id IN (SELECT id FROM mailboxes WHERE account_id = {account}) \
         BEGIN SELECT RAISE(ABORT, 'write refused'); END;"
    ))
    .unwrap();
}

fn repair_store(s: &Server) {
    let conn = rusqlite::Connection::open(s.dir.path().join("zest.db")).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .unwrap();
    conn.execute_batch("DROP TRIGGER failing_writes").unwrap();
}

#[tokio::test]
async fn smtp_over_quota_for_one_recipient_queues_it_and_never_delivers_twice() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    s.store
        .set_quota(&addr("bob@example.org"), Some(1000), None)
        .await
        .unwrap();
    let m = big_message("x@example.net", "alice@example.org", "quota", 4000);
    let reply = smtp(
        &s,
        "x@example.net",
        &["alice@example.org", "bob+list@example.org"],
        &m,
    )
    .await;
    assert_eq!(reply, "250 2.0.0 OK: queued");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 0);

    // Bob's copy waits in the queue, addressed as it was sent, from the
    // original sender, with the MX's trace field but no Return-Path (the
    // redelivery adds it).
    let queue = s.queue().await;
    assert_eq!(queue.len(), 1, "{queue:?}");
    let (source, sender, rcpts, raw) = &queue[0];
    assert_eq!(source, "inbound");
    assert_eq!(sender, "x@example.net");
    assert_eq!(rcpts, &["bob+list@example.org".to_string()]);
    let text = String::from_utf8_lossy(raw).to_string();
    assert!(
        text.starts_with("Received: from relay.example.net"),
        "{text}"
    );
    assert!(text.ends_with(&m), "the message itself, unchanged");

    // Space is freed; the queue runner redelivers over LMTP.
    s.store
        .set_quota(&addr("bob@example.org"), None, None)
        .await
        .unwrap();
    let replies = redeliver(&s, sender, rcpts, raw).await;
    assert!(replies[0].starts_with("250 2.0.0"), "{replies:?}");
    let alice = s.messages("alice@example.org", "INBOX").await;
    let bob = s.messages("bob@example.org", "INBOX").await;
    assert_eq!((alice.len(), bob.len()), (1, 1), "each exactly once");
    let bob = String::from_utf8_lossy(&bob[0].1).to_string();
    assert_eq!(bob.matches("Return-Path:").count(), 1, "{bob}");
    assert!(bob.starts_with("Return-Path: <x@example.net>\r\n"), "{bob}");
    assert!(bob.ends_with(&m));
}

#[tokio::test]
async fn smtp_over_quota_for_every_recipient_is_452_and_nothing_is_kept() {
    let s = start(&["bob@example.org"]).await;
    s.store
        .set_quota(&addr("bob@example.org"), Some(1000), None)
        .await
        .unwrap();
    let m = big_message("x@example.net", "bob@example.org", "full", 4000);
    let reply = smtp(&s, "x@example.net", &["bob@example.org"], &m).await;
    assert_eq!(reply, "452 4.2.2 mailbox full");
    assert!(s.queue().await.is_empty());
    assert!(s.messages("bob@example.org", "INBOX").await.is_empty());
}

#[tokio::test]
async fn smtp_quota_counts_what_earlier_recipients_of_the_same_message_use() {
    // Two addresses of one account with room for one copy: the first is
    // delivered, the second queued (it is over quota once the first is in).
    let s = start(&["bob@example.org"]).await;
    s.store
        .set_quota(&addr("bob@example.org"), Some(6000), None)
        .await
        .unwrap();
    let m = big_message("x@example.net", "bob@example.org", "twice", 4000);
    let reply = smtp(
        &s,
        "x@example.net",
        &["bob@example.org", "bob+copy@example.org"],
        &m,
    )
    .await;
    assert_eq!(reply, "250 2.0.0 OK: queued");
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 1);
    let queue = s.queue().await;
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].2, ["bob+copy@example.org".to_string()]);
}

#[tokio::test]
async fn lmtp_over_quota_is_452_4_2_2_for_that_recipient_only() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    s.store
        .set_quota(&addr("bob@example.org"), Some(1000), None)
        .await
        .unwrap();
    let m = big_message("x@example.net", "alice@example.org", "lmtpquota", 4000);
    let replies = s
        .lmtp(
            "x@example.net",
            &["alice@example.org", "bob@example.org"],
            &m,
        )
        .await;
    assert!(
        replies[0].starts_with("250 2.0.0 <alice@example.org>"),
        "{replies:?}"
    );
    assert_eq!(replies[1], "452 4.2.2 mailbox full");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert!(s.messages("bob@example.org", "INBOX").await.is_empty());
    assert!(
        s.queue().await.is_empty(),
        "LMTP leaves retrying to the client"
    );

    // A message-count quota is a quota too.
    s.store
        .set_quota(&addr("alice@example.org"), None, Some(1))
        .await
        .unwrap();
    let replies = s
        .lmtp(
            "x@example.net",
            &["alice@example.org"],
            &message("x@example.net", "alice@example.org", "n"),
        )
        .await;
    assert_eq!(replies[0], "452 4.2.2 mailbox full");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
}

#[tokio::test]
async fn lmtp_store_failure_is_451_for_that_recipient_and_nothing_half_done() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    // Bob's script also queues a notification: it must not leave either.
    s.script(
        "bob@example.org",
        "require [\"enotify\", \"fileinto\"];\r\n\
         notify \"mailto:pager@example.net\";\r\n\
         fileinto \"INBOX\";\r\n",
    )
    .await;
    break_store_for(&s, "bob@example.org");
    let m = message("x@example.net", "bob@example.org", "broken");
    let replies = s
        .lmtp(
            "x@example.net",
            &["alice@example.org", "bob@example.org"],
            &m,
        )
        .await;
    assert!(
        replies[0].starts_with("250 2.0.0 <alice@example.org>"),
        "{replies:?}"
    );
    assert_eq!(replies[1], "451 4.3.0 temporary failure; try again later");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert!(s.messages("bob@example.org", "INBOX").await.is_empty());
    assert!(
        s.queue().await.is_empty(),
        "no notification for an undelivered message"
    );

    // The client retries bob alone once the store works again.
    repair_store(&s);
    let replies = s.lmtp("x@example.net", &["bob@example.org"], &m).await;
    assert!(replies[0].starts_with("250 2.0.0"), "{replies:?}");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 1);
    assert_eq!(s.queue().await.len(), 1, "the notification, once");
}

#[tokio::test]
async fn smtp_store_failure_for_one_recipient_is_451_and_nobody_gets_it_until_the_retry() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    break_store_for(&s, "bob@example.org");
    let m = message("x@example.net", "alice@example.org", "atomic");
    let reply = smtp(
        &s,
        "x@example.net",
        &["alice@example.org", "bob@example.org"],
        &m,
    )
    .await;
    assert_eq!(reply, "451 4.3.0 temporary failure; try again later");
    assert!(s.messages("alice@example.org", "INBOX").await.is_empty());
    assert!(s.messages("bob@example.org", "INBOX").await.is_empty());
    assert!(s.queue().await.is_empty());

    // The sending MTA retries every recipient; each gets the message once.
    repair_store(&s);
    let reply = smtp(
        &s,
        "x@example.net",
        &["alice@example.org", "bob@example.org"],
        &m,
    )
    .await;
    assert_eq!(reply, "250 2.0.0 OK: delivered");
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 1);
}
