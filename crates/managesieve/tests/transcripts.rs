//! Golden transcripts: each `tests/transcripts/*.txt` is a conversation of
//! `C:` lines (sent with CRLF) and `S:` lines (expected, exactly) replayed
//! against a fresh server on loopback. `#` lines are comments. On a mismatch
//! the conversation as it happened is written beside it as `.actual`.
//! `{VERSION}` stands for the crate version in IMPLEMENTATION.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use common::{Client, Server};

async fn replay(name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let path = dir.join(format!("{name}.txt"));
    let text = std::fs::read_to_string(&path).unwrap();
    let server = Server::start().await;
    let mut client = Client::plain(server.addr).await;
    let mut actual = String::new();
    let mut ok = true;
    let mut broken = false;
    for line in text.lines() {
        if let Some(c) = line.strip_prefix("C:") {
            let c = c.strip_prefix(' ').unwrap_or(c);
            actual.push_str(line);
            actual.push('\n');
            if !broken {
                client.send(c).await;
            }
        } else if let Some(want) = line.strip_prefix("S: ") {
            let got = if broken {
                "<not read>".to_string()
            } else {
                match client.try_line().await {
                    Ok(Some(l)) => l.replace(env!("CARGO_PKG_VERSION"), "{VERSION}"),
                    Ok(None) => "<EOF>".to_string(),
                    Err(()) => {
                        broken = true;
                        "<nothing>".to_string()
                    }
                }
            };
            ok &= got == want;
            actual.push_str(&format!("S: {got}\n"));
        } else {
            actual.push_str(line);
            actual.push('\n');
        }
    }
    let actual_path = dir.join(format!("{name}.actual"));
    if ok {
        let _ = std::fs::remove_file(&actual_path);
    } else {
        std::fs::write(&actual_path, &actual).unwrap();
        panic!("transcript {name} differs; see {}", actual_path.display());
    }
    server.stop().await;
}

#[tokio::test]
async fn capability() {
    replay("capability").await;
}

#[tokio::test]
async fn authenticate() {
    replay("authenticate").await;
}

#[tokio::test]
async fn before_authentication() {
    replay("before_authentication").await;
}

#[tokio::test]
async fn scripts() {
    replay("scripts").await;
}

#[tokio::test]
async fn checkscript() {
    replay("checkscript").await;
}

#[tokio::test]
async fn bad_commands() {
    replay("bad_commands").await;
}
