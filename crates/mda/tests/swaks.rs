//! A real client: swaks against the LMTP and the SMTP (MX) ports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::start;

/// swaks, or None (skipped) unless REQUIRE_REAL_CLIENTS=1 demands it.
fn swaks() -> Option<&'static str> {
    let found = std::process::Command::new("swaks")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("swaks");
    }
    if std::env::var("REQUIRE_REAL_CLIENTS").as_deref() == Ok("1") {
        panic!("swaks is not installed and REQUIRE_REAL_CLIENTS=1");
    }
    println!("skipped: swaks not installed");
    None
}

async fn run(args: Vec<String>) -> (bool, String) {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("swaks")
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

#[tokio::test]
async fn swaks_over_lmtp_and_smtp() {
    let Some(_) = swaks() else { return };
    let s = start(&["alice@example.org"]).await;
    let (ok, out) = run(vec![
        "--protocol".into(),
        "LMTP".into(),
        "--server".into(),
        s.lmtp.to_string(),
        "--from".into(),
        "bob@example.net".into(),
        "--to".into(),
        "alice@example.org".into(),
        "--pipeline".into(),
        "--header".into(),
        "Subject: over lmtp".into(),
    ])
    .await;
    assert!(ok, "{out}");
    let (ok, out) = run(vec![
        "--server".into(),
        s.smtp.to_string(),
        "--ehlo".into(),
        "client.example.net".into(),
        "--from".into(),
        "bob@example.net".into(),
        "--to".into(),
        "alice@example.org".into(),
        "--header".into(),
        "Subject: over smtp".into(),
    ])
    .await;
    assert!(ok, "{out}");
    // Relaying is refused.
    let (ok, out) = run(vec![
        "--server".into(),
        s.smtp.to_string(),
        "--from".into(),
        "bob@example.net".into(),
        "--to".into(),
        "carol@elsewhere.example".into(),
    ])
    .await;
    assert!(!ok);
    assert!(out.contains("550 5.7.1"), "{out}");
    let inbox = s.messages("alice@example.org", "INBOX").await;
    let subjects: Vec<bool> = ["over lmtp", "over smtp"]
        .iter()
        .map(|sub| {
            inbox
                .iter()
                .any(|(_, m)| String::from_utf8_lossy(m).contains(&format!("Subject: {sub}")))
        })
        .collect();
    assert_eq!(subjects, [true, true]);
}
