//! The queue runner against sinks: local recipients over LMTP, remote ones by
//! route, retries, bounces and delivery status notifications.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;

const MESSAGE: &str = "From: Alice <alice@example.org>\r\nTo: x@remote.test\r\nSubject: hello there\r\n\r\nHello.\r\n";

#[tokio::test]
async fn local_and_remote_recipients_are_delivered_once_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour::default()).await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    let r = c
        .submit(
            ALICE,
            &["x@remote.test", "y@Remote.Test", "bob@example.org"],
            MESSAGE,
        )
        .await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");

    let got = remote.next().await;
    assert_eq!(got.mail, "MAIL FROM:<alice@example.org>");
    assert_eq!(
        got.rcpts,
        vec!["RCPT TO:<x@remote.test>", "RCPT TO:<y@Remote.Test>"]
    );
    assert_eq!(got.via, "DATA");
    assert!(got.text().ends_with(MESSAGE), "{}", got.text());
    assert!(got.text().starts_with("Received: from client.test"));

    let local = lmtp.next().await;
    assert_eq!(local.mail, "MAIL FROM:<alice@example.org>");
    assert_eq!(local.rcpts, vec!["RCPT TO:<bob@example.org>"]);
    assert_eq!(local.data, got.data);

    s.queue_drained().await;
    remote.nothing_within(Duration::from_millis(300)).await;
    lmtp.nothing_within(Duration::from_millis(10)).await;
    s.stop().await;
}

#[tokio::test]
async fn a_temporary_failure_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour {
        data: ["451 4.3.0 try again later".to_string()].into(),
        ..Behaviour::default()
    })
    .await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.submit_ok(ALICE, &["x@remote.test"], MESSAGE).await;

    // The first attempt is deferred with a back-off of a minute...
    let q = tokio::time::timeout(WAIT, async {
        loop {
            let q = s.store.list_queue().await.unwrap();
            if q[0].recipients[0].last_error.is_some() && q[0].recipients[0].lease_until.is_none() {
                return q;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    let r = &q[0].recipients[0];
    assert_eq!(r.last_error.as_deref(), Some("451 4.3.0 try again later"));
    assert_eq!(r.attempts, 1);
    assert!(r.next_attempt >= r.last_attempt.unwrap() + 59, "{r:?}");
    // ...which `zest queue flush` cuts short.
    assert_eq!(s.store.flush_queue(None).await.unwrap(), 1);
    let got = remote.next().await;
    assert!(got.text().ends_with(MESSAGE));
    s.queue_drained().await;
    s.stop().await;
}

#[tokio::test]
async fn a_rejected_recipient_bounces_with_a_delivery_status_notification() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour {
        ehlo: vec!["DSN".into()],
        rcpt: [(
            "nobody@remote.test".to_string(),
            "550 5.1.1 no such user".to_string(),
        )]
        .into(),
        ..Behaviour::default()
    })
    .await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    let r = c
        .submit_with(
            "MAIL FROM:<alice@example.org> RET=HDRS ENVID=env-42",
            &["nobody@remote.test", "x@remote.test"],
            MESSAGE,
        )
        .await;
    assert!(r.starts_with("250"), "{r}");

    let got = remote.next().await;
    assert_eq!(
        got.mail,
        "MAIL FROM:<alice@example.org> RET=HDRS ENVID=env-42"
    );
    assert_eq!(got.rcpts, vec!["RCPT TO:<x@remote.test>"]);

    // The bounce goes to alice, a local user: over LMTP from the null sender.
    let dsn = lmtp.next().await;
    assert_eq!(dsn.mail, "MAIL FROM:<>");
    assert_eq!(dsn.rcpts, vec!["RCPT TO:<alice@example.org>"]);
    let text = dsn.text();
    for want in [
        "From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n",
        "To: <alice@example.org>\r\n",
        "Subject: Undelivered Mail Returned to Sender\r\n",
        "Auto-Submitted: auto-replied\r\n",
        "Content-Type: multipart/report; report-type=delivery-status;",
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mail.example.org\r\nOriginal-Envelope-Id: env-42\r\n",
        "\r\nFinal-Recipient: rfc822; nobody@remote.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n",
        "<nobody@remote.test>: failed: 550 5.1.1 no such user",
        "Content-Type: text/rfc822-headers\r\n\r\nReceived: from client.test",
        "Subject: hello there\r\n",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // RET=HDRS: the body is not returned.
    assert!(!text.contains("Hello."), "{text}");
    // x@remote.test got it, and the next hop takes the DSN duty for it.
    assert!(!text.contains("Final-Recipient: rfc822; x@remote.test"));
    s.queue_drained().await;
    s.stop().await;
}

#[tokio::test]
async fn success_is_reported_when_asked_for_and_the_next_hop_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour::default()).await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.cmd("MAIL FROM:<alice@example.org>").await;
    assert_eq!(
        c.cmd("RCPT TO:<x@remote.test> NOTIFY=SUCCESS ORCPT=rfc822;x@remote.test")
            .await,
        "250 2.1.5 Recipient OK"
    );
    c.cmd("DATA").await;
    c.send(MESSAGE.as_bytes()).await;
    c.send(b".\r\n").await;
    assert!(c.reply().await.starts_with("250"));
    let got = remote.next().await;
    // The sink has no DSN extension: no NOTIFY passed on.
    assert_eq!(got.rcpts, vec!["RCPT TO:<x@remote.test>"]);
    let dsn = lmtp.next().await.text();
    for want in [
        "Subject: Successful Mail Delivery Report\r\n",
        "Original-Recipient: rfc822;x@remote.test\r\nFinal-Recipient: rfc822; x@remote.test\r\nAction: relayed\r\nStatus: 2.0.0\r\n",
    ] {
        assert!(dsn.contains(want), "missing {want:?} in\n{dsn}");
    }
    s.queue_drained().await;
    s.stop().await;
}

#[tokio::test]
async fn binary_content_goes_by_bdat_to_a_next_hop_that_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour {
        ehlo: vec!["CHUNKING".into(), "BINARYMIME".into()],
        ..Behaviour::default()
    })
    .await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    let mut msg = b"From: alice@example.org\r\n\r\n".to_vec();
    msg.extend((0..=255u8).collect::<Vec<_>>());
    c.send(b"MAIL FROM:<alice@example.org> BODY=BINARYMIME\r\nRCPT TO:<x@remote.test>\r\n")
        .await;
    c.reply().await;
    c.reply().await;
    let mut chunk = format!("BDAT {} LAST\r\n", msg.len()).into_bytes();
    chunk.extend_from_slice(&msg);
    c.send(&chunk).await;
    assert!(c.reply().await.starts_with("250 2.0.0 OK queued"));
    let got = remote.next().await;
    assert_eq!(got.via, "BDAT");
    assert_eq!(got.mail, "MAIL FROM:<alice@example.org> BODY=BINARYMIME");
    assert!(got.data.ends_with(&msg));
    s.queue_drained().await;
    s.stop().await;
}

#[tokio::test]
async fn a_long_delay_is_reported_once_then_expiry_bounces() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmtp = Sink::lmtp().await;
    let remote = Sink::start(Behaviour {
        data: std::iter::repeat_n("451 4.3.0 try again later".to_string(), 100).collect(),
        ..Behaviour::default()
    })
    .await;
    let mut cfg = config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]);
    cfg.submission.delay_notify_secs = 0;
    cfg.submission.queue_lifetime_secs = 2;
    let s = Server::start(dir.path(), cfg).await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.submit_ok(ALICE, &["x@remote.test"], MESSAGE).await;

    let delay = lmtp.next().await.text();
    for want in [
        "Subject: Delayed Mail (still being retried)\r\n",
        "Final-Recipient: rfc822; x@remote.test\r\nAction: delayed\r\nStatus: 4.3.0\r\n",
        "Diagnostic-Code: smtp; 451 4.3.0 try again later\r\n",
        "Will-Retry-Until: ",
        "Content-Type: text/rfc822-headers\r\n",
    ] {
        assert!(delay.contains(want), "missing {want:?} in\n{delay}");
    }
    // The lifetime (2 s) runs out at the next attempts: a failure report follows.
    let bounce = lmtp.next().await.text();
    for want in [
        "Subject: Undelivered Mail Returned to Sender\r\n",
        "Action: failed\r\nStatus: 5.4.7\r\n",
        "(gave up after 0 hours)",
        // A failure without RET returns the whole message.
        "Content-Type: message/rfc822\r\n",
        "\r\n\r\nHello.\r\n",
    ] {
        assert!(bounce.contains(want), "missing {want:?} in\n{bounce}");
    }
    s.queue_drained().await;
    s.stop().await;
}

#[tokio::test]
async fn mail_from_a_domain_with_a_key_is_dkim_signed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    let key = submission::queue::dkim::generate("ed25519", "sel1").unwrap();
    store.set_dkim_key("example.org", Some(key)).await.unwrap();
    drop(store);
    let lmtp = Sink::lmtp().await;
    let mut remote = Sink::start(Behaviour::default()).await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", remote.addr)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.submit_ok(ALICE, &["x@remote.test"], MESSAGE).await;
    let text = remote.next().await.text();
    assert!(
        text.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; "),
        "{text}"
    );
    let sig = text.split("\r\nReceived:").next().unwrap();
    assert!(
        sig.contains("d=example.org;") && sig.contains("s=sel1;"),
        "{sig}"
    );
    assert!(text.ends_with(MESSAGE));
    s.queue_drained().await;
    s.stop().await;
}

/// Our own submission port as the "remote" MX: it offers STARTTLS, so the
/// runner upgrades (opportunistic TLS with a self-signed certificate), and
/// then refuses MAIL without AUTH, which bounces. Before TLS that server
/// would have answered "Must issue a STARTTLS command first": the bounce's
/// "Authentication required" shows the upgrade happened.
#[tokio::test]
async fn starttls_is_used_when_offered_and_refusals_bounce() {
    let dir = tempfile::tempdir().unwrap();
    let mut lmtp = Sink::lmtp().await;
    let other = tempfile::tempdir().unwrap();
    let mut far_cfg = config(other.path(), "127.0.0.1:9".parse().unwrap(), &[]);
    far_cfg.auth.allow_plaintext_on_loopback = false;
    let far = Server::start(other.path(), far_cfg).await;
    let s = Server::start(
        dir.path(),
        config(dir.path(), lmtp.addr, &[("remote.test", far.submission)]),
    )
    .await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.submit_ok(ALICE, &["x@remote.test"], MESSAGE).await;
    let bounce = lmtp.next().await.text();
    assert!(
        bounce.contains("Action: failed\r\nStatus: 5.7.0\r\nRemote-MTA: dns; 127.0.0.1\r\nDiagnostic-Code: smtp; 530 5.7.0 Authentication required\r\n"),
        "{bounce}"
    );
    s.queue_drained().await;
    s.stop().await;
    far.stop().await;
}

#[tokio::test]
async fn the_smarthost_takes_remote_mail_after_auth() {
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::lmtp().await;
    let mut relay = Sink::start(Behaviour {
        ehlo: vec!["AUTH PLAIN".into()],
        ..Behaviour::default()
    })
    .await;
    let mut cfg = config(dir.path(), lmtp.addr, &[]);
    cfg.submission.relay_host = relay.addr.to_string();
    cfg.submission.relay_user = "relay-user".into();
    cfg.submission.relay_password = zest_core::Secret::new("relay-pw".into());
    let s = Server::start(dir.path(), cfg).await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    c.submit_ok(ALICE, &["someone@elsewhere.example"], MESSAGE)
        .await;
    let got = relay.next().await;
    assert_eq!(got.rcpts, vec!["RCPT TO:<someone@elsewhere.example>"]);
    assert_eq!(
        relay.behaviour.lock().unwrap().auth_seen,
        vec!["\0relay-user\0relay-pw"]
    );
    s.queue_drained().await;
    s.stop().await;
}
