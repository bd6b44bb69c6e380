//! Real ManageSieve clients against the server, over STARTTLS with the
//! server's generated certificate: `sieve-connect` (Debian package) and the
//! Python `sievelib` client (PyPI). A missing client skips its test unless
//! `REQUIRE_REAL_CLIENTS=1`, which makes it fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{PASS, Server, USER, WAIT};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

const SCRIPT: &str = "require [\"fileinto\", \"extlists\", \"envelope\"];\r\n\
    # Mail from people I know stays in the inbox.\r\n\
    if envelope :list \"from\" \":addrbook:default\" {\r\n    keep;\r\n}\r\n\
    elsif header :contains \"subject\" \"[zest]\" {\r\n    fileinto \"Lists/Zest\";\r\n}\r\n";

fn required() -> bool {
    std::env::var("REQUIRE_REAL_CLIENTS").is_ok_and(|v| v == "1")
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// The program's path, or None after printing why the test is skipped.
fn program_or_skip(name: &str, what: &str) -> Option<PathBuf> {
    match find_program(name) {
        Some(p) => Some(p),
        None if required() => {
            panic!("{what} is required (REQUIRE_REAL_CLIENTS=1) but not installed")
        }
        None => {
            println!("skipped: {what} not installed");
            None
        }
    }
}

/// Runs a program with the password on stdin; returns stdout, failing the
/// test with its output when it does not succeed.
async fn run(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{PASS}\n").as_bytes())
        .await
        .unwrap();
    drop(stdin);
    let out = tokio::time::timeout(WAIT * 3, child.wait_with_output())
        .await
        .expect("client finished")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} {args:?} failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        program.display(),
        out.status
    );
    stdout + &stderr
}

async fn tls_only_server() -> Server {
    Server::start_with(|c| c.auth.allow_plaintext_on_loopback = false).await
}

#[tokio::test]
async fn sieve_connect_uploads_lists_activates_and_downloads() {
    let Some(sc) = program_or_skip("sieve-connect", "sieve-connect") else {
        return;
    };
    let server = tls_only_server().await;
    let cert = server.cert_path();
    let port = server.addr.port().to_string();
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("filters.sieve");
    std::fs::write(&local, SCRIPT).unwrap();
    let downloaded = work.path().join("downloaded.sieve");
    let base = [
        "--server",
        "127.0.0.1",
        "--port",
        &port,
        "--tlshostname",
        "localhost",
        "--tlscafile",
        cert.to_str().unwrap(),
        "--user",
        USER,
        "--passwordfd",
        "0",
        "--authmech",
        "PLAIN",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let sieve_connect = |args: Vec<String>| {
        let sc = sc.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&sc, &args, &[]).await
        }
    };

    sieve_connect(with(&[
        "--upload",
        "--localsieve",
        local.to_str().unwrap(),
        "--remotesieve",
        "filters",
    ]))
    .await;

    let out = sieve_connect(with(&["--list"])).await;
    assert!(out.lines().any(|l| l.trim() == "\"filters\""), "{out}");

    sieve_connect(with(&["--activate", "--remotesieve", "filters"])).await;
    let out = sieve_connect(with(&["--list"])).await;
    assert!(
        out.lines().any(|l| l.trim() == "\"filters\" ACTIVE"),
        "{out}"
    );

    sieve_connect(with(&[
        "--download",
        "--remotesieve",
        "filters",
        "--localsieve",
        downloaded.to_str().unwrap(),
    ]))
    .await;
    assert_eq!(std::fs::read(&downloaded).unwrap(), SCRIPT.as_bytes());

    let active = server
        .store
        .active_script(server.account().await.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.name, "filters");
    assert_eq!(active.content, SCRIPT.as_bytes());
    server.stop().await;
}

#[tokio::test]
async fn sievelib_uploads_lists_activates_and_downloads() {
    let Some(python) = program_or_skip("python3", "python3") else {
        return;
    };
    let probe = std::process::Command::new(&python)
        .args(["-c", "import sievelib.managesieve"])
        .output()
        .unwrap();
    if !probe.status.success() {
        if required() {
            panic!(
                "the Python sievelib package is required (REQUIRE_REAL_CLIENTS=1) but not installed"
            );
        }
        println!("skipped: Python sievelib not installed (pip install sievelib)");
        return;
    }
    let server = tls_only_server().await;
    let cert = server.cert_path();
    let work = tempfile::tempdir().unwrap();
    let local = work.path().join("filters.sieve");
    std::fs::write(&local, SCRIPT).unwrap();
    let client = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/sievelib_client.py");
    let port = server.addr.port().to_string();
    let out = run(
        &python,
        &[
            client.to_str().unwrap(),
            "127.0.0.1",
            &port,
            USER,
            local.to_str().unwrap(),
        ],
        &[("SSL_CERT_FILE", &cert)],
    )
    .await;
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"active from-sievelib"), "{out}");
    let want = format!("downloaded {} lines", SCRIPT.lines().count());
    assert!(lines.contains(&want.as_str()), "{out}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("refused line 1, column 9: unsupported extension")),
        "{out}"
    );
    assert!(lines.contains(&"done"), "{out}");
    let extensions = lines
        .iter()
        .find_map(|l| l.strip_prefix("extensions "))
        .unwrap();
    assert_eq!(extensions, zest_core::sieve::extensions().join(" "));
    // Everything the client made, it also removed.
    assert!(
        server
            .store
            .scripts(server.account().await.id)
            .await
            .unwrap()
            .is_empty()
    );
    server.stop().await;
}
