//! The Lemonade profile's Sieve extensions (RFC 5550 2.6) end to end over LMTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{message, start};
use store::Flags;

#[tokio::test]
async fn vacation_replies_once_per_days() {
    let s = start(&["alice@example.org"]).await;
    s.script(
        "alice@example.org",
        r#"require ["vacation"];
vacation :days 7 :addresses ["alice@example.org"] :handle "away" "I am away.";"#,
    )
    .await;
    let m = message("bob@example.net", "alice@example.org", "v1");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    let m = message("bob@example.net", "alice@example.org", "v2");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    // No replies to lists, bulk or automatic mail.
    let list = format!(
        "List-Id: <l.example.net>\r\n{}",
        message("carol@example.net", "alice@example.org", "l")
    );
    s.deliver("carol@example.net", "alice@example.org", &list)
        .await;
    let bulk = format!(
        "Precedence: bulk\r\n{}",
        message("dan@example.net", "alice@example.org", "b")
    );
    s.deliver("dan@example.net", "alice@example.org", &bulk)
        .await;
    let auto = format!(
        "Auto-Submitted: auto-generated\r\n{}",
        message("erin@example.net", "alice@example.org", "a")
    );
    s.deliver("erin@example.net", "alice@example.org", &auto)
        .await;
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 5);
    let q = s.queue().await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].0, "vacation");
    assert_eq!(q[0].1, "");
    assert_eq!(q[0].2, ["bob@example.net"]);
    let reply = String::from_utf8_lossy(&q[0].3);
    assert!(reply.contains("Auto-Submitted: auto-replied"), "{reply}");
    assert!(reply.contains("I am away."), "{reply}");
}

#[tokio::test]
async fn enotify_mailto_is_queued() {
    let s = start(&["alice@example.org"]).await;
    s.script(
        "alice@example.org",
        r#"require ["enotify", "variables"];
if header :contains "subject" "urgent" {
  notify :message "Urgent mail arrived" "mailto:alice-phone@example.net";
}"#,
    )
    .await;
    let m = message("bob@example.net", "alice@example.org", "urgent");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    let q = s.queue().await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!((q[0].0.as_str(), q[0].1.as_str()), ("notify", ""));
    assert_eq!(q[0].2, ["alice-phone@example.net"]);
    assert!(String::from_utf8_lossy(&q[0].3).contains("Urgent mail arrived"));
}

#[tokio::test]
async fn imap4flags_are_stored() {
    let s = start(&["alice@example.org"]).await;
    s.script(
        "alice@example.org",
        r#"require ["imap4flags", "fileinto"];
addflag "\\Flagged";
addflag ["$Important", "\\Seen"];
removeflag "\\Seen";
fileinto :flags ["\\Answered", "Work"] "Archive";
keep;"#,
    )
    .await;
    let m = message("bob@example.net", "alice@example.org", "f");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    let inbox = s.messages("alice@example.org", "INBOX").await;
    assert_eq!(inbox.len(), 1);
    assert_eq!(
        inbox[0].0,
        Flags::from_names(["\\Flagged", "$Important"]).unwrap()
    );
    let archive = s.messages("alice@example.org", "Archive").await;
    assert_eq!(
        archive[0].0,
        Flags::from_names(["\\Answered", "Work"]).unwrap()
    );
}

#[tokio::test]
async fn relational_count_variables_and_unicode_casemap() {
    let s = start(&["alice@example.org"]).await;
    s.script(
        "alice@example.org",
        r#"require ["relational", "comparator-i;ascii-numeric", "variables", "fileinto",
                    "mailbox", "comparator-i;unicode-casemap"];
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3" {
  fileinto :create "many";
}
if header :matches "subject" "[*] *" {
  set :lower "tag" "${1}";
  fileinto :create "tags/${tag}";
}
if header :is :comparator "i;unicode-casemap" "x-city" "ZÜRICH" {
  fileinto :create "zurich";
}
if header :matches :comparator "i;unicode-casemap" "x-city" "zür*" {
  fileinto :create "zurich-glob";
}"#,
    )
    .await;
    let m = format!(
        "Cc: a@example.net, b@example.net\r\nX-City: zürich\r\n{}",
        message("bob@example.net", "alice@example.org", "[Dev] hello")
    );
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    let m = message("bob@example.net", "alice@example.org", "plain");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    assert_eq!(s.messages("alice@example.org", "many").await.len(), 1);
    assert_eq!(s.messages("alice@example.org", "tags/dev").await.len(), 1);
    assert_eq!(s.messages("alice@example.org", "zurich").await.len(), 1);
    assert_eq!(
        s.messages("alice@example.org", "zurich-glob").await.len(),
        1
    );
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
}

#[tokio::test]
async fn a_failing_script_keeps_and_records_the_error() {
    let s = start(&["alice@example.org"]).await;
    s.script(
        "alice@example.org",
        "require \"fileinto\";\nfileinto \"x\"\n",
    )
    .await;
    let m = message("bob@example.net", "alice@example.org", "e");
    s.deliver("bob@example.net", "alice@example.org", &m).await;
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    let a = s.account("alice@example.org").id;
    assert!(
        s.store
            .script(a, "main")
            .await
            .unwrap()
            .last_error
            .is_some()
    );
}

#[tokio::test]
async fn redirects_are_limited_and_loops_stop() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    // alice and bob redirect to each other: each gets it once, nothing loops.
    s.script(
        "alice@example.org",
        "redirect :copy \"bob@example.org\";\n"
            .replace("redirect :copy", "require \"copy\";\nredirect :copy")
            .as_str(),
    )
    .await;
    s.script(
        "bob@example.org",
        "require \"copy\";\nredirect :copy \"alice@example.org\";\n",
    )
    .await;
    let m = message("x@example.net", "alice@example.org", "loop");
    s.deliver("x@example.net", "alice@example.org", &m).await;
    assert!(s.messages("alice@example.org", "INBOX").await.len() <= 3);
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 1);
    // Too many redirects: only the configured number (5) leave.
    let many: String = (0..10)
        .map(|i| format!("redirect \"r{i}@example.net\";\n"))
        .collect();
    s.script("alice@example.org", &many).await;
    let m = message("x@example.net", "alice@example.org", "many");
    s.deliver("x@example.net", "alice@example.org", &m).await;
    let q = s.queue().await;
    let sent: usize = q.iter().map(|e| e.2.len()).sum();
    assert_eq!(sent, 5, "{q:?}");
}
