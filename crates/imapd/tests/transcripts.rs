//! Golden transcripts, one file per command family in tests/transcripts/:
//! `C:` lines are sent (CRLF added), `S:` lines must match what the server
//! sends, line by line; `<*>` in an `S:` line matches any text. Each file
//! runs against a fresh server whose user has an empty mailbox set. On a
//! mismatch the conversation as it happened is written to `NAME.actual`.
//! In a `C:` line, `<uidvalidity>` stands for the last UIDVALIDITY the
//! server sent (it is chosen at random when a mailbox is made), and
//! `<genurlauth>` for the last URL a `* GENURLAUTH` response carried.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Client, Server};

/// Matches `pattern`, where `<*>` stands for any text.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split("<*>").collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(p) => rest = &rest[p + part.len()..],
                None => return false,
            }
        }
    }
    true
}

async fn replay(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).unwrap();
    let server = Server::start().await;
    let mut client = Client::plain(server.plain).await;
    let mut actual = String::new();
    let mut failure: Option<String> = None;
    let mut uidvalidity = String::new();
    let mut genurlauth = String::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(c) = line.strip_prefix("C: ").or_else(|| line.strip_prefix("C:")) {
            let c = &c
                .replace("<uidvalidity>", &uidvalidity)
                .replace("<genurlauth>", &genurlauth);
            client.send(c).await;
            actual.push_str(&format!("C: {c}\n"));
        } else if let Some(expected) = line.strip_prefix("S: ").or_else(|| line.strip_prefix("S:"))
        {
            let got = if failure.is_some() {
                tokio::time::timeout(Duration::from_secs(2), client.line())
                    .await
                    .ok()
                    .flatten()
            } else {
                client.line().await
            };
            let got = got.unwrap_or_else(|| "<connection closed>".into());
            if let Some((_, rest)) = got.split_once("[UIDVALIDITY ") {
                uidvalidity = rest.split(']').next().unwrap_or_default().to_string();
            }
            if let Some(rest) = got.strip_prefix("* GENURLAUTH \"") {
                genurlauth = rest.split('"').next().unwrap_or_default().to_string();
            }
            if failure.is_none() && !glob(expected, &got) {
                failure = Some(format!(
                    "{}:{}: expected {expected:?}\n got {got:?}",
                    path.display(),
                    n + 1
                ));
            }
            actual.push_str(&format!("S: {got}\n"));
        } else {
            actual.push_str(line);
            actual.push('\n');
        }
    }
    server.stop().await;
    let out = path.with_extension("actual");
    match failure {
        Some(f) => {
            std::fs::write(&out, actual).unwrap();
            Err(format!("{f}\n(conversation written to {})", out.display()))
        }
        None => {
            let _ = std::fs::remove_file(out);
            Ok(())
        }
    }
}

fn transcripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        // `TRANSCRIPTS=a,b` replays only a.txt and b.txt.
        .filter(|p| {
            std::env::var("TRANSCRIPTS").map_or(true, |only| {
                let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
                only.split(',').any(|o| Some(o) == stem.as_deref())
            })
        })
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transcript_replays() {
    let mut failures = Vec::new();
    let files = transcripts();
    assert!(!files.is_empty());
    for f in files {
        if let Err(e) = replay(&f).await {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn globs() {
    assert!(glob("a <*> c", "a b c"));
    assert!(glob("<*>", "x"));
    assert!(!glob("a <*> c", "a b d"));
    assert!(glob("x", "x"));
}
