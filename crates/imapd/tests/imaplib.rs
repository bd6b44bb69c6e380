//! Python's imaplib as a real client: tests/clients/imaplib_session.py runs a
//! whole session (plain and implicit TLS) against the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{PASS, Server, USER};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_imaplib_session() {
    if which("python3").is_none() {
        assert!(
            std::env::var("REQUIRE_REAL_CLIENTS").as_deref() != Ok("1"),
            "python3 is required"
        );
        println!("skipped: python3 not installed");
        return;
    }
    let server = Server::start().await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/imaplib_session.py");
    let cert = server.cert_path();
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg("127.0.0.1")
        .arg(server.plain.port().to_string())
        .arg(server.tls.port().to_string())
        .arg(&cert)
        .arg(USER)
        .arg(PASS)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "imaplib failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("imaplib session ok"), "{stdout}");
    server.stop().await;
}

/// Resynchronisation after another client's expunges and flag changes
/// (tests/clients/imaplib_qresync.py).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_imaplib_qresync_resync() {
    if which("python3").is_none() {
        assert!(
            std::env::var("REQUIRE_REAL_CLIENTS").as_deref() != Ok("1"),
            "python3 is required"
        );
        println!("skipped: python3 not installed");
        return;
    }
    let server = Server::start().await;
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/imaplib_qresync.py");
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg("127.0.0.1")
        .arg(server.plain.port().to_string())
        .arg(USER)
        .arg(PASS)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "imaplib failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("imaplib qresync ok"), "{stdout}");
    server.stop().await;
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
