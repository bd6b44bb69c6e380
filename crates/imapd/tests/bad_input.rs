//! What a client may send that it should not: bare LF, NUL, deep nesting,
//! oversized literals (refused before they arrive, their bytes skipped),
//! unknown commands and commands in the wrong state. The connection goes on.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Server};

async fn logged_in(server: &Server) -> Client {
    let mut c = server.client().await;
    c.login().await;
    c
}

fn tagged_bad_or_no(lines: &[String], tag: &str) {
    let last = lines.last().unwrap();
    assert!(
        last.starts_with(&format!("{tag} BAD")) || last.starts_with(&format!("{tag} NO")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn garbage_lines_get_bad_and_the_session_goes_on() {
    let server = Server::start().await;
    let mut c = logged_in(&server).await;
    c.send_raw(b"a1 NOOP\n").await;
    let l = c.line().await.unwrap();
    assert!(l.contains("BAD"), "{l}");
    c.send_raw(b"a2 NO\0OP\r\n").await;
    let l = c.line().await.unwrap();
    assert!(l.contains("BAD"), "{l}");
    let r = c.cmd("a3", "FROBNICATE").await;
    tagged_bad_or_no(&r, "a3");
    let deep = format!(
        "a4 FETCH 1 {}FLAGS{}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let r = c.cmd("a4", &deep).await;
    tagged_bad_or_no(&r, "a4");
    let r = c.cmd("a5", "SEARCH ALL").await;
    tagged_bad_or_no(&r, "a5");
    assert_eq!(c.cmd("a6", "NOOP").await, vec!["a6 OK NOOP completed"]);
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_literal_is_refused_before_it_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.limits.max_literal_size = 1000;
    let server = Server::start_with(dir, config, true).await;
    let mut c = logged_in(&server).await;
    // Synchronising: NO at once, no continuation.
    c.send("a1 APPEND INBOX {5000}").await;
    let l = c.line().await.unwrap();
    assert!(l.starts_with("a1 NO"), "{l}");
    // Non-synchronising: its bytes arrive anyway and are skipped, never run.
    let mut payload = b"a2 APPEND INBOX {2000+}\r\n".to_vec();
    let mut body = b"x3 LOGOUT\r\n".repeat(180);
    body.resize(2000, b'x');
    payload.extend_from_slice(&body);
    payload.extend_from_slice(b"\r\n");
    c.send_raw(&payload).await;
    let r = c.until_tagged("a2").await;
    tagged_bad_or_no(&r, "a2");
    assert_eq!(c.cmd("a3", "NOOP").await, vec!["a3 OK NOOP completed"]);
    let r = c.cmd("a4", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 0)");
    server.stop().await;
}

#[tokio::test]
async fn commands_in_the_wrong_state() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.line().await.unwrap();
    assert_eq!(
        c.cmd("a1", "FETCH 1 FLAGS").await,
        vec!["a1 BAD [CLIENTBUG] Log in first"]
    );
    c.cmd("a2", "LOGIN alice@example.org secret").await;
    assert_eq!(
        c.cmd("a3", "EXPUNGE").await,
        vec!["a3 BAD [CLIENTBUG] Select a mailbox first"]
    );
    let r = c.cmd("a4", "SELECT \"bad\u{7f}name\"").await;
    tagged_bad_or_no(&r, "a4");
    assert_eq!(c.cmd("a5", "NOOP").await, vec!["a5 OK NOOP completed"]);
    server.stop().await;
}

/// Pseudo-random command-like garbage (fixed seed), then a well-formed
/// command on a fresh connection: nothing a client sends stops the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_garbage_never_stops_the_server() {
    // A panic in a connection task would only end that task: count them.
    static PANICS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        previous(info);
    }));
    let server = Server::start().await;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let pieces: [&[u8]; 16] = [
        b"a1 ",
        b"FETCH ",
        b"1:* ",
        b"(",
        b")",
        b"BODY[",
        b"]",
        b"{5}\r\n",
        b"{3+}\r\n",
        b"\r\n",
        b"\"",
        b"\\",
        b"UID ",
        b"SEARCH ",
        b"\0",
        b"\xff",
    ];
    for round in 0..20 {
        let mut c = server.client().await;
        c.line().await.unwrap();
        if round % 2 == 1 {
            c.cmd("l", "LOGIN alice@example.org secret").await;
            c.cmd("s", "SELECT INBOX").await;
        }
        let mut junk = Vec::new();
        for _ in 0..200 {
            junk.extend_from_slice(pieces[(next() % 16) as usize]);
        }
        junk.extend_from_slice(b"\r\n");
        c.send_raw(&junk).await;
        drop(c);
    }
    let mut c = server.client().await;
    c.login().await;
    assert_eq!(c.cmd("z", "NOOP").await, vec!["z OK NOOP completed"]);
    server.stop().await;
    assert_eq!(PANICS.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test]
async fn before_login_a_non_synchronising_literal_is_held_to_4096_octets() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let greeting = c.line().await.unwrap();
    assert!(greeting.contains(" LITERAL- "), "{greeting}");
    assert!(!greeting.contains("LITERAL+"), "{greeting}");
    // Over 4096 (RFC 7888 4): BAD, and the bytes that follow are dropped,
    // never run as commands.
    let mut payload = b"a1 LOGIN {5000+}\r\n".to_vec();
    let mut body = b"x2 LOGOUT\r\n".repeat(460);
    body.resize(5000, b'x');
    payload.extend_from_slice(&body);
    payload.extend_from_slice(b" secret\r\n");
    c.send_raw(&payload).await;
    let r = c.until_tagged("a1").await;
    assert!(r.last().unwrap().starts_with("a1 BAD"), "{r:?}");
    assert_eq!(c.cmd("a2", "NOOP").await, vec!["a2 OK NOOP completed"]);
    // Up to 4096 is taken without a continuation request.
    let user = common::USER;
    let r = c
        .cmd(
            "a3",
            &format!("LOGIN {{{}+}}\r\n{user} {}", user.len(), common::PASS),
        )
        .await;
    let last = r.last().unwrap();
    assert!(last.starts_with("a3 OK [CAPABILITY "), "{r:?}");
    // After login LITERAL+ replaces LITERAL-: a large one is taken too.
    assert!(
        last.contains(" LITERAL+ ") && !last.contains("LITERAL-"),
        "{last}"
    );
    let mut msg = b"Subject: big\r\n\r\n".to_vec();
    msg.resize(6000, b'y');
    let mut payload = format!("a4 APPEND INBOX {{{}+}}\r\n", msg.len()).into_bytes();
    payload.extend_from_slice(&msg);
    payload.extend_from_slice(b"\r\n");
    c.send_raw(&payload).await;
    let r = c.until_tagged("a4").await;
    assert!(r.last().unwrap().starts_with("a4 OK [APPENDUID"), "{r:?}");
    server.stop().await;
}

#[tokio::test]
async fn with_utf8_on_a_quoted_string_must_be_utf8() {
    let server = Server::start().await;
    let mut c = logged_in(&server).await;
    let r = c.cmd("a1", "ENABLE UTF8=ACCEPT").await;
    assert_eq!(r, vec!["* ENABLED UTF8=ACCEPT", "a1 OK ENABLE completed"]);
    // A lone continuation byte, a truncated sequence and an overlong one.
    for (i, bad) in [&b"\x80"[..], b"\xc3", b"\xc0\xaf"].iter().enumerate() {
        let tag = format!("b{i}");
        let mut line = format!("{tag} CREATE \"x").into_bytes();
        line.extend_from_slice(bad);
        line.extend_from_slice(b"\"\r\n");
        c.send_raw(&line).await;
        let r = c.until_tagged(&tag).await;
        assert!(
            r.last().unwrap().starts_with(&format!("{tag} BAD")),
            "{r:?}"
        );
    }
    // Nothing was created.
    let r = c.cmd("a2", "LIST \"\" x*").await;
    assert_eq!(r, vec!["a2 OK LIST completed"]);
    server.stop().await;
}
