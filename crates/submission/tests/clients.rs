//! Real clients: swaks and Python's smtplib submit over STARTTLS and
//! implicit TLS, and the message reaches the remote sink.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use common::*;

/// Whether `program` can run; without it the test is skipped, unless CI
/// demands real clients.
fn available(program: &str, probe: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(probe)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("REQUIRE_REAL_CLIENTS").as_deref() == Ok("1") {
            panic!("{program} is required (REQUIRE_REAL_CLIENTS=1) but not installed");
        }
        println!("skipped: {program} not installed");
    }
    ok
}

async fn setup(dir: &std::path::Path) -> (Server, Sink) {
    let lmtp = Sink::lmtp().await;
    let remote = Sink::start(Behaviour::default()).await;
    let s = Server::start(dir, config(dir, lmtp.addr, &[("remote.test", remote.addr)])).await;
    // Keep the LMTP sink alive for the test's length.
    std::mem::forget(lmtp);
    (s, remote)
}

async fn run(cmd: &mut Command) -> std::process::Output {
    let mut cmd = std::mem::replace(cmd, Command::new("true"));
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swaks_submits_over_starttls_and_implicit_tls() {
    if !available("swaks", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (s, mut remote) = setup(dir.path()).await;
    for (addr, tls) in [(s.submission, "--tls"), (s.submissions, "--tls-on-connect")] {
        let out = run(Command::new("swaks").args([
            "--server",
            &addr.to_string(),
            "--ehlo",
            "swaks.test",
            "--from",
            ALICE,
            "--to",
            "x@remote.test",
            "--auth",
            "PLAIN",
            "--auth-user",
            ALICE,
            "--auth-password",
            PASSWORD,
            tls,
            "--header",
            "Subject: from swaks",
            "--body",
            "Sent by swaks.",
        ]))
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("<~  250 2.0.0 OK queued as"), "{stdout}");
        let got = remote.next().await;
        assert_eq!(got.mail, "MAIL FROM:<alice@example.org>");
        let text = got.text();
        assert!(text.contains("Subject: from swaks\r\n"), "{text}");
        assert!(
            text.contains("\r\n\tby mail.example.org (Zest) with ESMTPSA;"),
            "{text}"
        );
        assert!(text.contains("Sent by swaks."), "{text}");
    }
    // A sender she does not own is refused.
    let out = run(Command::new("swaks").args([
        "--server",
        &s.submission.to_string(),
        "--from",
        "bob@example.org",
        "--to",
        "x@remote.test",
        "--auth",
        "PLAIN",
        "--auth-user",
        ALICE,
        "--auth-password",
        PASSWORD,
        "--tls",
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("<~* 550 5.7.1 Sender address not owned by alice@example.org"),
        "{stdout}"
    );
    // Without AUTH nothing is relayed.
    let out = run(Command::new("swaks").args([
        "--server",
        &s.submission.to_string(),
        "--from",
        ALICE,
        "--to",
        "x@remote.test",
        "--tls",
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("<~* 530 5.7.0 Authentication required"),
        "{stdout}"
    );
    s.stop().await;
}

const PYTHON: &str = r#"
import smtplib, ssl, sys
from email.message import EmailMessage
host, port, tls_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
msg = EmailMessage()
msg["From"] = "Alice <al@example.org>"
msg["To"] = "x@remote.test"
msg["Subject"] = "from python"
msg.set_content("Grüße aus Python.\n")
with smtplib.SMTP(host, port) as s:
    s.starttls(context=ctx)
    s.login("alice@example.org", "secret-pw")
    s.send_message(msg, "al@example.org", ["x@remote.test"])
with smtplib.SMTP_SSL(host, tls_port, context=ctx) as s:
    s.login("alice@example.org", "secret-pw")
    s.send_message(msg, "al@example.org", ["x@remote.test"])
    try:
        s.sendmail("bob@example.org", ["x@remote.test"], "From: bob@example.org\r\n\r\nx\r\n")
        print("forged sender accepted")
        sys.exit(1)
    except smtplib.SMTPSenderRefused as e:
        assert e.smtp_code == 550, e
print("ok")
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_smtplib_submits_over_starttls_and_implicit_tls() {
    if !available("python3", &["-c", "import smtplib, ssl"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (s, mut remote) = setup(dir.path()).await;
    let out = run(Command::new("python3").args([
        "-c",
        PYTHON,
        "127.0.0.1",
        &s.submission.port().to_string(),
        &s.submissions.port().to_string(),
    ]))
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.trim(), "ok");
    for _ in 0..2 {
        let got = remote.next().await;
        assert!(
            got.mail.starts_with("MAIL FROM:<al@example.org>"),
            "{}",
            got.mail
        );
        let text = got.text();
        assert!(text.contains("Subject: from python\r\n"), "{text}");
        assert!(text.contains("Gr\u{fc}\u{df}e aus Python."), "{text}");
    }
    s.stop().await;
}
