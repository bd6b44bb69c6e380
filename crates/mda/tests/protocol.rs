//! LMTP (RFC 2033) and inbound SMTP (RFC 5321) as clients speak them:
//! pipelining, per-recipient replies, CHUNKING, SIZE, STARTTLS, relaying,
//! trace fields and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, message, start, start_with};

#[tokio::test]
async fn lmtp_pipelined_batch_gets_one_reply_per_recipient() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    let mut c = Client::connect(s.lmtp).await;
    c.expect(220).await;
    let ehlo = c.cmd("LHLO client.example.net").await;
    for ext in [
        "PIPELINING",
        "8BITMIME",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
        "SMTPUTF8",
    ] {
        assert!(ehlo.iter().any(|l| l.ends_with(ext)), "{ext} in {ehlo:?}");
    }
    assert!(ehlo.iter().any(|l| l.contains("SIZE ")));
    let body = common::dot_stuff(&message("x@example.net", "alice@example.org", "p"));
    c.send(
        "MAIL FROM:<x@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<Bob+tag@Example.ORG>\r\nDATA\r\n",
    )
    .await;
    assert!(c.reply().await[0].starts_with("250 2.1.0"));
    assert!(c.reply().await[0].starts_with("250"));
    assert!(c.reply().await[0].starts_with("550 5.1.1"));
    assert!(c.reply().await[0].starts_with("250"));
    assert!(c.reply().await[0].starts_with("354"));
    c.send(&format!("{body}.\r\n")).await;
    assert!(c.reply().await[0].starts_with("250 2.0.0 <alice@example.org>"));
    assert!(c.reply().await[0].starts_with("250 2.0.0 <bob+tag@example.org>"));
    let alice = s.messages("alice@example.org", "INBOX").await;
    assert_eq!(alice.len(), 1);
    let text = String::from_utf8_lossy(&alice[0].1).to_string();
    assert!(
        text.starts_with("Return-Path: <x@example.net>\r\nReceived: from client.example.net"),
        "{text}"
    );
    assert_eq!(s.messages("bob@example.org", "INBOX").await.len(), 1);
}

#[tokio::test]
async fn lmtp_bdat_chunks() {
    let s = start(&["alice@example.org"]).await;
    let mut c = Client::connect(s.lmtp).await;
    c.expect(220).await;
    c.cmd("LHLO c").await;
    c.expect_cmd("MAIL FROM:<>", "250").await;
    let m = message("x@example.net", "alice@example.org", "chunked");
    let (a, b) = m.split_at(20);
    c.send("RCPT TO:<alice@example.org>\r\n").await;
    c.expect(250).await;
    c.send(&format!("BDAT {}\r\n{a}", a.len())).await;
    c.expect(250).await;
    c.send(&format!("BDAT {} LAST\r\n{b}", b.len())).await;
    c.expect(250).await;
    let got = s.messages("alice@example.org", "INBOX").await;
    assert!(got[0].1.ends_with(m.as_bytes()));
    assert!(String::from_utf8_lossy(&got[0].1).starts_with("Return-Path: <>\r\n"));
}

#[tokio::test]
async fn smtp_refuses_relaying_and_unknown_users() {
    let s = start(&["alice@example.org"]).await;
    let mut c = Client::connect(s.smtp).await;
    c.expect(220).await;
    let ehlo = c.cmd("EHLO client.example.net").await;
    assert!(ehlo.iter().any(|l| l.ends_with("STARTTLS")));
    c.expect_cmd("MAIL FROM:<x@example.net>", "250").await;
    c.expect_cmd("RCPT TO:<someone@example.com>", "550 5.7.1")
        .await;
    c.expect_cmd("RCPT TO:<nobody@example.org>", "550 5.1.1")
        .await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
    c.expect_cmd("DATA", "354").await;
    c.send(&common::dot_stuff(&message(
        "x@example.net",
        "alice@example.org",
        "mx",
    )))
    .await;
    c.expect_cmd(".", "250").await;
    let got = s.messages("alice@example.org", "INBOX").await;
    assert!(String::from_utf8_lossy(&got[0].1).contains("with ESMTP;"));
}

#[tokio::test]
async fn smtp_starttls_then_delivery() {
    let s = start(&["alice@example.org"]).await;
    let mut c = Client::connect(s.smtp).await;
    c.expect(220).await;
    c.cmd("EHLO c.example.net").await;
    c.expect_cmd("STARTTLS", "220").await;
    let tcp = c.into_inner();
    let mut roots = rustls::RootCertStore::empty();
    let (cert, _) = zest_core::tls::self_signed_paths(&s.config.data_dir);
    let pem = std::fs::read(cert).unwrap();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let cfg = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(cfg));
    let name = rustls::pki_types::ServerName::try_from("mx.example.org").unwrap();
    let tls = connector.connect(name, tcp).await;
    let Ok(tls) = tls else {
        // The generated certificate names the configured host; any TLS error is a failure.
        panic!("TLS handshake failed: {tls:?}", tls = tls.err());
    };
    let mut c = common::TlsClient::new(tls);
    let ehlo = c.cmd("EHLO c.example.net").await;
    assert!(!ehlo.iter().any(|l| l.ends_with("STARTTLS")));
    c.expect_cmd("MAIL FROM:<x@example.net>", "250").await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
    c.expect_cmd("DATA", "354").await;
    c.send(&common::dot_stuff(&message(
        "x@example.net",
        "alice@example.org",
        "tls",
    )))
    .await;
    c.expect_cmd(".", "250").await;
    let got = s.messages("alice@example.org", "INBOX").await;
    assert!(String::from_utf8_lossy(&got[0].1).contains("with ESMTPS;"));
}

#[tokio::test]
async fn bad_input_gets_errors_and_the_session_goes_on() {
    let s = start_with(&["alice@example.org"], |c| {
        c.limits.max_message_size = 10_000
    })
    .await;
    let mut c = Client::connect(s.lmtp).await;
    c.expect(220).await;
    c.expect_cmd("MAIL FROM:<x@example.net>", "503").await;
    c.cmd("LHLO c").await;
    c.expect_cmd("EHLO c", "500").await;
    c.expect_cmd("FOO BAR", "500").await;
    c.expect_cmd("MAIL FROM:<not an address>", "5").await;
    c.expect_cmd("MAIL FROM:<x@example.net> SIZE=100000000", "552 5.3.4")
        .await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "503").await;
    let long = "x".repeat(s.config.limits.max_line_length as usize + 10);
    c.expect_cmd(&format!("NOOP {long}"), "500").await;
    c.send_bytes(b"\xff\xfe\x00garbage\r\n").await;
    assert!(c.reply().await[0].starts_with('5'));
    // Bare LF and NUL in content are refused; 8-bit headers and a missing
    // header block are accepted.
    for (body, ok) in [
        (&b"Subject: a\nb\r\n"[..], false),
        (&b"Subject: a\r\n\r\nb\0c\r\n"[..], false),
        ("Subject: caf\u{e9}\r\n\r\n8-bit\r\n".as_bytes(), true),
        (&b"no header at all\r\n"[..], true),
    ] {
        c.expect_cmd("MAIL FROM:<x@example.net>", "250").await;
        c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
        c.expect_cmd("DATA", "354").await;
        c.send_bytes(body).await;
        let r = c.cmd(".").await;
        assert_eq!(r[0].starts_with("250"), ok, "{body:?}: {r:?}");
    }
    // A message over SIZE is refused after its data, and nothing is stored.
    c.expect_cmd("MAIL FROM:<x@example.net>", "250").await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
    c.expect_cmd("DATA", "354").await;
    let line = "y".repeat(998);
    for _ in 0..20 {
        c.send(&format!("{line}\r\n")).await;
    }
    c.expect_cmd(".", "552 5.3.4").await;
    c.expect_cmd("NOOP", "250").await;
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 2);
    // A "." after a bare LF does not end the data (no smuggling).
    c.expect_cmd("MAIL FROM:<x@example.net>", "250").await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
    c.expect_cmd("DATA", "354").await;
    c.send("a\r\n\n.\nMAIL FROM:<y@example.net>\r\n").await;
    let r = c.cmd(".").await;
    assert!(r[0].starts_with("554 5.6.0"), "{r:?}");
    c.expect_cmd("QUIT", "221").await;
}

#[tokio::test]
async fn split_at_every_byte_is_the_same_conversation() {
    let s = start(&["alice@example.org"]).await;
    let script = format!(
        "LHLO c\r\nMAIL FROM:<x@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n{}.\r\nQUIT\r\n",
        common::dot_stuff(&message("x@example.net", "alice@example.org", "split"))
    );
    let mut c = Client::connect(s.lmtp).await;
    c.expect(220).await;
    for b in script.as_bytes() {
        c.send_bytes(&[*b]).await;
    }
    let mut codes = Vec::new();
    for _ in 0..6 {
        codes.push(c.reply().await.last().unwrap()[..3].to_string());
    }
    assert_eq!(codes, ["250", "250", "250", "354", "250", "221"]);
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
}
