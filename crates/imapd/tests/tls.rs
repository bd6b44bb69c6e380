//! Implicit TLS and STARTTLS with the generated certificate, and the
//! plaintext rules: LOGINDISABLED and no AUTH=PLAIN without TLS when
//! plaintext is not allowed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, PASS, Server, USER};

#[tokio::test]
async fn implicit_tls_logs_in_with_sasl_ir() {
    let server = Server::start().await;
    let mut c = Client::tls(server.tls, &server.cert_path()).await;
    let greeting = c.line().await.unwrap();
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 IMAP4rev2 AUTH=PLAIN"),
        "{greeting}"
    );
    assert!(!greeting.contains("STARTTLS"), "{greeting}");
    let ir = base64_plain(USER, PASS);
    let r = c.cmd("a1", &format!("AUTHENTICATE PLAIN {ir}")).await;
    assert!(r[0].starts_with("a1 OK [CAPABILITY IMAP4rev1 "), "{r:?}");
    let r = c.cmd("a2", "SELECT INBOX").await;
    assert!(r.last().unwrap().starts_with("a2 OK [READ-WRITE]"), "{r:?}");
    server.stop().await;
}

fn base64_plain(user: &str, pass: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"))
}

#[tokio::test]
async fn starttls_then_authenticate_with_continuations() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.auth.allow_plaintext_on_loopback = false;
    let server = Server::start_with(dir, config, true).await;
    let mut c = Client::plain(server.plain).await;
    let greeting = c.line().await.unwrap();
    assert!(greeting.contains(" STARTTLS "), "{greeting}");
    assert!(greeting.contains(" LOGINDISABLED "), "{greeting}");
    assert!(!greeting.contains("AUTH=PLAIN"), "{greeting}");
    let r = c.cmd("a1", &format!("LOGIN {USER} {PASS}")).await;
    assert_eq!(
        r,
        vec!["a1 NO [PRIVACYREQUIRED] LOGIN needs TLS: use STARTTLS first"]
    );
    let r = c.cmd("a2", "STARTTLS").await;
    assert_eq!(r, vec!["a2 OK Begin TLS negotiation now"]);
    let mut c = c.upgrade(&server.cert_path()).await;
    let r = c.cmd("a3", "CAPABILITY").await;
    assert!(r[0].contains(" AUTH=PLAIN "), "{r:?}");
    assert!(
        !r[0].contains("STARTTLS") && !r[0].contains("LOGINDISABLED"),
        "{r:?}"
    );
    c.send("a4 AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await.unwrap(), "+ ");
    c.send(&base64_plain(USER, PASS)).await;
    let r = c.until_tagged("a4").await;
    assert!(r[0].starts_with("a4 OK [CAPABILITY"), "{r:?}");
    server.stop().await;
}

#[tokio::test]
async fn authenticate_login_and_cancel() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let server = Server::start().await;
    let mut c = server.client().await;
    c.line().await.unwrap();
    c.send("a1 AUTHENTICATE PLAIN").await;
    assert_eq!(c.line().await.unwrap(), "+ ");
    c.send("*").await;
    assert_eq!(
        c.until_tagged("a1").await,
        vec!["a1 BAD Authentication cancelled"]
    );
    c.send("a2 AUTHENTICATE LOGIN").await;
    assert!(c.line().await.unwrap().starts_with("+ "));
    c.send(&b64(USER)).await;
    assert!(c.line().await.unwrap().starts_with("+ "));
    c.send(&b64(PASS)).await;
    let r = c.until_tagged("a2").await;
    assert!(r[0].starts_with("a2 OK [CAPABILITY"), "{r:?}");
    server.stop().await;
}
