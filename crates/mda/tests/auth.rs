//! SPF, DKIM and DMARC of inbound SMTP mail against a DNS server the config
//! names (`[dns] servers`), answering from a fixed zone: pass, fail and none
//! for each, the Authentication-Results field that records them, and the
//! optional refusal of mail failing a DMARC p=reject policy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Server, dot_stuff, start_with};
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use zest_core::dns::fixture::ZoneServer;

async fn server(zone: &ZoneServer, reject_dmarc: bool) -> Server {
    let dns = zone.addr();
    start_with(&["alice@example.org"], move |c| {
        c.mda.verify_auth = true;
        c.mda.reject_dmarc = reject_dmarc;
        c.dns.servers = vec![dns];
    })
    .await
}

fn message(from: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: alice@example.org\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.net>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n"
    )
}

/// A DKIM key for `domain` with selector "s1": published in the zone, and
/// the signature of `raw` it makes.
fn sign(zone: &ZoneServer, domain: &str, raw: &str) -> String {
    sign_with(zone, domain, raw, false)
}

/// As [`sign`]; `forged` publishes a different key than the one signing.
fn sign_with(zone: &ZoneServer, domain: &str, raw: &str, forged: bool) -> String {
    let key = zest_core::dkim::generate("ed25519", "s1").unwrap();
    let published = if forged {
        zest_core::dkim::generate("ed25519", "s1").unwrap()
    } else {
        key.clone()
    };
    zone.txt(
        &format!("s1._domainkey.{domain}"),
        &zest_core::dkim::txt_value(&published).unwrap(),
    );
    let der = zest_core::dkim::der(&key).unwrap();
    let sig = DkimSigner::from_key(Ed25519Key::from_pkcs8_der(&der).unwrap())
        .domain(domain)
        .selector("s1")
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(raw.as_bytes())
        .unwrap();
    let mut out = Vec::new();
    sig.write_header(&mut out);
    String::from_utf8(out).unwrap()
}

/// Sends `raw` from `sender` over SMTP; the reply to the end of DATA.
async fn send(s: &Server, sender: &str, raw: &str) -> String {
    let mut c = Client::connect(s.smtp).await;
    c.expect(220).await;
    c.expect_cmd("EHLO relay.example.net", "250").await;
    c.expect_cmd(&format!("MAIL FROM:<{sender}>"), "250").await;
    c.expect_cmd("RCPT TO:<alice@example.org>", "250").await;
    c.expect_cmd("DATA", "354").await;
    c.send(&format!("{}.\r\n", dot_stuff(raw))).await;
    let r = c.reply().await;
    c.cmd("QUIT").await;
    r[0].clone()
}

/// The Authentication-Results field of the last message in alice's INBOX,
/// unfolded, and its method results in order ("dkim=pass", ...).
async fn results(s: &Server) -> (String, Vec<String>) {
    let msgs = s.messages("alice@example.org", "INBOX").await;
    let raw = String::from_utf8(msgs.last().unwrap().1.clone()).unwrap();
    let start = raw
        .find("Authentication-Results: ")
        .expect("the field is there");
    let mut field = String::new();
    for (i, line) in raw[start..].split("\r\n").enumerate() {
        if i > 0 && !line.starts_with([' ', '\t']) {
            break;
        }
        field.push_str(line.trim_start_matches(['\t']));
        field.push(' ');
    }
    let field = field.trim_end().to_string();
    let methods = field
        .split(';')
        .skip(1)
        .map(|m| m.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    (field, methods)
}

#[tokio::test]
async fn spf_dkim_and_dmarc_pass() {
    let zone = ZoneServer::start().await.unwrap();
    zone.txt("example.net", "v=spf1 ip4:127.0.0.1 -all");
    zone.txt("_dmarc.example.net", "v=DMARC1; p=reject");
    let s = server(&zone, true).await;
    let m = message("Sender <a@example.net>", "pass");
    let signed = format!("{}{m}", sign(&zone, "example.net", &m));
    assert!(send(&s, "a@example.net", &signed).await.starts_with("250 "));
    let (field, methods) = results(&s).await;
    assert_eq!(methods, ["dkim=pass", "spf=pass", "dmarc=pass"], "{field}");
    assert!(
        field.starts_with("Authentication-Results: mx.example.org;"),
        "{field}"
    );
    assert!(field.contains("header.d=example.net"), "{field}");
    assert!(field.contains("smtp.mailfrom=a@example.net"), "{field}");
    assert!(field.contains("header.from=example.net"), "{field}");
    // The field comes after the trace fields, before the message.
    let raw = &s.messages("alice@example.org", "INBOX").await[0].1;
    let text = String::from_utf8_lossy(raw);
    assert!(text.starts_with("Return-Path: <a@example.net>\r\nReceived: "));
    assert!(text.find("Authentication-Results").unwrap() < text.find("DKIM-Signature").unwrap());
}

#[tokio::test]
async fn spf_dkim_and_dmarc_fail_but_the_message_is_delivered() {
    let zone = ZoneServer::start().await.unwrap();
    zone.txt("example.net", "v=spf1 ip4:192.0.2.1 -all");
    zone.txt("_dmarc.example.net", "v=DMARC1; p=reject");
    let s = server(&zone, false).await;
    let m = message("a@example.net", "fail");
    // Signed with a key other than the one the domain publishes.
    let forged = format!("{}{m}", sign_with(&zone, "example.net", &m, true));
    assert!(send(&s, "a@example.net", &forged).await.starts_with("250 "));
    let (field, methods) = results(&s).await;
    assert_eq!(methods, ["dkim=fail", "spf=fail", "dmarc=fail"], "{field}");
    assert!(field.contains("policy.dmarc=reject"), "{field}");

    // Changed after signing: the body hash no longer matches (mail-auth
    // calls that "neutral"; RFC 6376 6.1 leaves it to the verifier).
    let s2 = server(&zone, false).await;
    let sig = sign(&zone, "example.net", &m);
    let zone_key_changed = format!("{sig}{}", m.replace("Hello.", "Hello!"));
    assert!(
        send(&s2, "a@example.net", &zone_key_changed)
            .await
            .starts_with("250 ")
    );
    let (field, methods) = results(&s2).await;
    assert!(
        methods[0] == "dkim=neutral" || methods[0] == "dkim=fail",
        "{field}"
    );
    assert_eq!(methods[1..], ["spf=fail", "dmarc=fail"], "{field}");
}

#[tokio::test]
async fn nothing_published_is_none_for_each() {
    let zone = ZoneServer::start().await.unwrap();
    let s = server(&zone, true).await;
    let m = message("a@unpublished.example", "none");
    assert!(
        send(&s, "a@unpublished.example", &m)
            .await
            .starts_with("250 ")
    );
    let (field, methods) = results(&s).await;
    assert_eq!(methods, ["dkim=none", "spf=none", "dmarc=none"], "{field}");
}

#[tokio::test]
async fn dmarc_reject_policy_is_honoured_only_when_configured() {
    let zone = ZoneServer::start().await.unwrap();
    zone.txt("example.net", "v=spf1 ip4:192.0.2.1 -all");
    zone.txt("_dmarc.example.net", "v=DMARC1; p=reject");
    let m = message("a@example.net", "forged");

    let strict = server(&zone, true).await;
    assert_eq!(
        send(&strict, "a@example.net", &m).await,
        "550 5.7.1 rejected by the sender domain's DMARC policy"
    );
    assert!(
        strict
            .messages("alice@example.org", "INBOX")
            .await
            .is_empty()
    );
    assert!(strict.queue().await.is_empty());

    // p=quarantine is not p=reject: delivered, and recorded as a failure.
    let zone2 = ZoneServer::start().await.unwrap();
    zone2.txt("example.net", "v=spf1 ip4:192.0.2.1 -all");
    zone2.txt("_dmarc.example.net", "v=DMARC1; p=quarantine");
    let quarantine = server(&zone2, true).await;
    assert!(
        send(&quarantine, "a@example.net", &m)
            .await
            .starts_with("250 ")
    );
    assert_eq!(results(&quarantine).await.1[2], "dmarc=fail");

    let lenient = server(&zone, false).await;
    assert!(
        send(&lenient, "a@example.net", &m)
            .await
            .starts_with("250 ")
    );
    let (field, methods) = results(&lenient).await;
    assert_eq!(methods, ["dkim=none", "spf=fail", "dmarc=fail"], "{field}");
}
