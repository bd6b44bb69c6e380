//! The submission server as clients see it: EHLO, AUTH, sender ownership,
//! DATA and BDAT, FUTURERELEASE and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use store::{BodyType, QueueSource};

const MESSAGE: &str =
    "From: Alice <alice@example.org>\r\nTo: x@remote.test\r\nSubject: hi\r\n\r\nHello.\r\n";

async fn server(dir: &std::path::Path) -> Server {
    // Nothing listens on the LMTP address: the queue keeps what is queued.
    let c = config(
        dir,
        "127.0.0.1:9".parse().unwrap(),
        &[("remote.test", "127.0.0.1:9".parse().unwrap())],
    );
    Server::start(dir, c).await
}

/// A server whose queue runner finds nothing listening, so tests can look
/// at queued messages; flushing is never needed because nothing is due to
/// succeed.
async fn queued(server: &Server) -> Vec<store::QueuedMessage> {
    server.store.list_queue().await.unwrap()
}

#[tokio::test]
async fn ehlo_advertises_the_lemonade_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    let r = c.cmd("EHLO client.test").await;
    let lines: Vec<&str> = r.lines().map(|l| &l[4..]).collect();
    let release = lines
        .iter()
        .find(|l| l.starts_with("FUTURERELEASE "))
        .unwrap();
    let want = vec![
        "mail.example.org",
        "PIPELINING",
        "SIZE 52428800",
        "8BITMIME",
        "BINARYMIME",
        "CHUNKING",
        "DSN",
        "ENHANCEDSTATUSCODES",
        "SMTPUTF8",
        release,
        "STARTTLS",
        "AUTH PLAIN LOGIN",
        // RFC 4468 3.1: BURL is there; its "imap" comes after AUTH.
        "BURL",
        "HELP",
    ];
    assert_eq!(lines, want);
    assert!(release.starts_with("FUTURERELEASE 604800 20"), "{release}");
    drop(c);
    s.stop().await;
}

#[tokio::test]
async fn mail_needs_auth_and_an_owned_sender() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "503 5.5.1 Send EHLO first"
    );
    c.cmd("EHLO client.test").await;
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "530 5.7.0 Authentication required"
    );
    assert_eq!(
        c.cmd("RCPT TO:<x@remote.test>").await,
        "503 5.5.1 Need MAIL before RCPT"
    );
    let bad = base64_encode(b"\0alice@example.org\0wrong");
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {bad}")).await,
        "535 5.7.8 Authentication credentials invalid"
    );
    // AUTH LOGIN with challenges.
    assert_eq!(c.cmd("AUTH LOGIN").await, "334 VXNlcm5hbWU6");
    assert_eq!(
        c.cmd(&base64_encode(ALICE.as_bytes())).await,
        "334 UGFzc3dvcmQ6"
    );
    assert_eq!(
        c.cmd(&base64_encode(PASSWORD.as_bytes())).await,
        "235 2.7.0 Authentication successful"
    );
    assert_eq!(c.cmd("AUTH PLAIN").await, "503 5.5.1 Already authenticated");

    assert_eq!(
        c.cmd("MAIL FROM:<bob@example.org>").await,
        "550 5.7.1 Sender address not owned by alice@example.org"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<>").await,
        "550 5.7.1 Sender address not owned by alice@example.org"
    );
    // Own address, alias, and +detail are all hers.
    for from in [
        "alice@example.org",
        "AL@example.org",
        "alice+list@example.org",
    ] {
        assert_eq!(
            c.cmd(&format!("MAIL FROM:<{from}>")).await,
            "250 2.1.0 Sender OK"
        );
        assert_eq!(c.cmd("RSET").await, "250 2.0.0 Reset");
    }
    // The From: header is checked too.
    let forged = "From: bob@example.org\r\n\r\nhi\r\n";
    assert_eq!(
        c.submit(ALICE, &["x@remote.test"], forged).await,
        "550 5.7.1 From: address not owned by alice@example.org"
    );
    let no_from = "Subject: x\r\n\r\nhi\r\n";
    assert_eq!(
        c.submit(ALICE, &["x@remote.test"], no_from).await,
        "550 5.6.0 Message has no From: address"
    );
    assert!(queued(&s).await.is_empty());
    s.stop().await;
}

#[tokio::test]
async fn an_accepted_message_is_queued_with_date_and_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    let r = c
        .cmd("MAIL FROM:<al@example.org> BODY=8BITMIME RET=HDRS ENVID=abc+2Bd")
        .await;
    assert_eq!(r, "250 2.1.0 Sender OK");
    assert_eq!(
        c.cmd("RCPT TO:<x@remote.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;X@remote.test")
            .await,
        "250 2.1.5 Recipient OK"
    );
    assert_eq!(
        c.cmd("RCPT TO:<y@remote.test> NOTIFY=NEVER").await,
        "250 2.1.5 Recipient OK"
    );
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    c.send("From: al@example.org\r\nSubject: caf\u{e9}\r\n\r\n..dot\r\n".as_bytes())
        .await;
    c.send(b".\r\n").await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 OK queued as "), "{r}");
    let q = queued(&s).await;
    assert_eq!(q.len(), 1);
    let m = &q[0];
    assert_eq!(m.sender, "al@example.org");
    assert_eq!(m.source, QueueSource::Submission);
    assert_eq!(m.body_type, BodyType::EightBitMime);
    assert_eq!(m.env_id.as_deref(), Some("abc+d"));
    assert_eq!(m.dsn_ret, Some(store::DsnRet::Hdrs));
    let rc: Vec<_> = m
        .recipients
        .iter()
        .map(|r| (r.address.as_str(), r.notify.as_deref(), r.orcpt.as_deref()))
        .collect();
    assert_eq!(
        rc,
        vec![
            (
                "x@remote.test",
                Some("SUCCESS,FAILURE"),
                Some("rfc822;X@remote.test")
            ),
            ("y@remote.test", Some("NEVER"), None)
        ]
    );
    let raw = String::from_utf8(s.store.queue_message_raw(m.id).await.unwrap()).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    assert!(
        head.starts_with(
            "Received: from client.test (127.0.0.1)\r\n\tby mail.example.org (Zest) with ESMTPA;"
        ),
        "{head}"
    );
    assert_eq!(head.matches("\r\nDate: ").count(), 1, "{head}");
    assert_eq!(head.matches("\r\nMessage-ID: <").count(), 1, "{head}");
    assert!(
        head.ends_with("From: al@example.org\r\nSubject: caf\u{e9}"),
        "{head}"
    );
    assert_eq!(body, ".dot\r\n");
    s.stop().await;
}

#[tokio::test]
async fn bdat_takes_binary_and_eight_bit_bodies_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    let head = b"From: alice@example.org\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n";
    let body: Vec<u8> = (0..=255u8)
        .chain([0, b'\n', b'.', b'\r', b'\n', b'.'])
        .collect();
    c.send(b"MAIL FROM:<alice@example.org> BODY=BINARYMIME\r\nRCPT TO:<x@remote.test>\r\n")
        .await;
    assert_eq!(c.reply().await, "250 2.1.0 Sender OK");
    assert_eq!(c.reply().await, "250 2.1.5 Recipient OK");
    assert_eq!(
        c.cmd("DATA").await,
        "503 5.5.1 BODY=BINARYMIME and BDAT require BDAT, not DATA"
    );
    let mut chunk = format!("BDAT {}\r\n", head.len()).into_bytes();
    chunk.extend_from_slice(head);
    c.send(&chunk).await;
    assert_eq!(
        c.reply().await,
        format!("250 2.0.0 {} octets received", head.len())
    );
    let mut chunk = format!("BDAT {} LAST\r\n", body.len()).into_bytes();
    chunk.extend_from_slice(&body);
    c.send(&chunk).await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");

    // 8-bit text in one chunk, and an empty last chunk.
    c.send(b"MAIL FROM:<alice@example.org> BODY=8BITMIME\r\nRCPT TO:<x@remote.test>\r\n")
        .await;
    c.reply().await;
    c.reply().await;
    let text = "From: alice@example.org\r\n\r\nGr\u{fc}\u{df}e\n".as_bytes();
    let mut chunk = format!("BDAT {}\r\n", text.len()).into_bytes();
    chunk.extend_from_slice(text);
    chunk.extend_from_slice(b"BDAT 0 LAST\r\n");
    c.send(&chunk).await;
    c.reply().await;
    assert!(c.reply().await.starts_with("250 2.0.0 OK queued as"));

    let q = queued(&s).await;
    assert_eq!(q.len(), 2);
    let raw = s.store.queue_message_raw(q[0].id).await.unwrap();
    let mut want = head.to_vec();
    want.extend_from_slice(&body);
    assert!(raw.ends_with(&want), "binary body changed");
    assert_eq!(q[0].body_type, BodyType::BinaryMime);
    let raw = s.store.queue_message_raw(q[1].id).await.unwrap();
    assert!(raw.ends_with(text), "BDAT content is never rewritten");
    s.stop().await;
}

#[tokio::test]
async fn future_release_holds_the_message() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    c.login(ALICE, PASSWORD).await;
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org> HOLDFOR=999999999")
            .await,
        "501 5.5.4 HOLDFOR exceeds the maximum interval"
    );
    let r = c
        .submit_with(
            "MAIL FROM:<alice@example.org> HOLDFOR=3600",
            &["x@remote.test"],
            MESSAGE,
        )
        .await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    let q = queued(&s).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let hold = q[0].hold_until.unwrap();
    assert!((now + 3590..=now + 3610).contains(&hold), "{hold} vs {now}");
    assert_eq!(q[0].recipients[0].next_attempt, hold);
    assert_eq!(q[0].recipients[0].attempts, 0);
    s.stop().await;
}

#[tokio::test]
async fn plaintext_auth_is_refused_without_tls_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "127.0.0.1:9".parse().unwrap(), &[]);
    cfg.auth.allow_plaintext_on_loopback = false;
    let s = Server::start(dir.path(), cfg).await;
    let mut c = Client::connect(s.submission).await;
    let r = c.cmd("EHLO client.test").await;
    assert!(!r.contains("AUTH"), "{r}");
    assert_eq!(
        c.cmd(&format!(
            "AUTH PLAIN {}",
            base64_encode(b"\0alice@example.org\0secret-pw")
        ))
        .await,
        "538 5.7.11 Encryption required for requested authentication mechanism"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "530 5.7.0 Must issue a STARTTLS command first"
    );
    s.stop().await;
}

#[tokio::test]
async fn bad_input_gets_errors_and_the_session_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), "127.0.0.1:9".parse().unwrap(), &[]);
    cfg.limits.max_message_size = 10_000;
    let s = Server::start(dir.path(), cfg).await;
    let mut c = Client::connect(s.submission).await;
    // Bare LF ends a command line too.
    c.send(b"EHLO client.test\n").await;
    assert!(c.reply().await.starts_with("250-mail.example.org"));
    // A 1 MB line.
    let mut long = vec![b'x'; 1 << 20];
    long.extend_from_slice(b"\r\n");
    c.send(&long).await;
    assert_eq!(c.reply().await, "500 5.5.2 Line too long");
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 OK");
    c.send(b"NO\0OP\r\n").await;
    assert_eq!(c.reply().await, "500 5.5.2 NUL is not allowed in commands");
    assert_eq!(c.cmd("FOO bar").await, "500 5.5.1 Unknown command");
    let token = base64_encode(format!("\0{ALICE}\0{PASSWORD}").as_bytes());
    assert_eq!(
        c.cmd(&format!("AUTH PLAIN {token}")).await,
        "235 2.7.0 Authentication successful"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org> SIZE=20000").await,
        "552 5.3.4 Message size exceeds fixed maximum message size"
    );
    assert_eq!(
        c.cmd("MAIL FROM:alice").await,
        "501 5.5.4 Syntax: MAIL FROM:<reverse-path> [parameters]"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "250 2.1.0 Sender OK"
    );
    assert_eq!(
        c.cmd("RCPT TO:<nodomain>").await,
        "501 5.1.3 Bad recipient address syntax"
    );
    assert_eq!(
        c.cmd("RCPT TO:<ü@remote.test>").await,
        "553 5.6.7 Non-ASCII address requires SMTPUTF8"
    );
    assert_eq!(c.cmd("DATA").await, "554 5.5.1 No valid recipients");
    assert_eq!(
        c.cmd("RCPT TO:<x@remote.test>").await,
        "250 2.1.5 Recipient OK"
    );
    // DATA over SIZE: read to the end, then refused.
    assert_eq!(c.cmd("DATA").await, "354 End data with <CR><LF>.<CR><LF>");
    let big = format!(
        "From: alice@example.org\r\n\r\n{}\r\n.\r\n",
        "y".repeat(50_000)
    );
    c.send(big.as_bytes()).await;
    assert_eq!(
        c.reply().await,
        "552 5.3.4 Message size exceeds fixed maximum message size"
    );
    // NUL in DATA, and a bare-LF message that is mended.
    let r = c
        .submit(
            ALICE,
            &["x@remote.test"],
            "From: alice@example.org\r\n\r\na\0b\r\n",
        )
        .await;
    assert_eq!(
        r,
        "554 5.6.0 NUL in message; send it with BDAT and BODY=BINARYMIME"
    );
    let r = c
        .submit(
            ALICE,
            &["x@remote.test"],
            "From: alice@example.org\n\nbare\nlf\r\n",
        )
        .await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    let q = queued(&s).await;
    let raw = s.store.queue_message_raw(q[0].id).await.unwrap();
    assert!(raw.ends_with(b"From: alice@example.org\r\n\r\nbare\r\nlf\r\n"));
    // "\n.\n" does not end the data (no smuggling).
    let r = c
        .submit(
            ALICE,
            &["x@remote.test"],
            "From: alice@example.org\r\n\r\nx\n.\nMAIL FROM:<bob@example.org>\r\n",
        )
        .await;
    assert!(r.starts_with("250 2.0.0"), "{r}");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    s.stop().await;
}

#[tokio::test]
async fn pipelined_garbage_is_answered_in_order_then_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let mut c = Client::connect(s.submission).await;
    let mut junk = Vec::new();
    for i in 0..30 {
        junk.extend_from_slice(format!("GARBAGE {i}\r\n").as_bytes());
    }
    c.send(&junk).await;
    for _ in 0..20 {
        assert_eq!(c.reply().await, "500 5.5.1 Unknown command");
    }
    assert_eq!(c.reply().await, "421 4.7.0 Too many errors; closing");
    assert_eq!(c.reply().await, "");
    s.stop().await;
}

#[tokio::test]
async fn bytes_split_anywhere_make_the_same_conversation() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(dir.path()).await;
    let token = base64_encode(format!("\0{ALICE}\0{PASSWORD}").as_bytes());
    let script = format!(
        "EHLO c\r\nAUTH PLAIN {token}\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<x@remote.test>\r\nDATA\r\n{MESSAGE}.\r\nQUIT\r\n"
    );
    let mut c = Client::connect(s.submission).await;
    for b in script.as_bytes() {
        c.send(&[*b]).await;
    }
    let mut replies = Vec::new();
    loop {
        let r = c.reply().await;
        if r.is_empty() {
            break;
        }
        replies.push(r.lines().last().unwrap().to_string());
    }
    assert_eq!(replies.len(), 7, "{replies:?}");
    assert_eq!(replies[1], "235 2.7.0 Authentication successful");
    assert!(replies[5].starts_with("250 2.0.0 OK queued as"));
    assert_eq!(replies[6], "221 2.0.0 Bye");
    s.stop().await;
}

/// Random bytes, often shaped like commands, never panic a session and
/// never stop the server from serving the next client.
#[test]
fn random_input_never_panics_the_server() {
    use proptest::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = rt.block_on(server(dir.path()));
    let addr = s.submission;
    let token = base64_encode(format!("\0{ALICE}\0{PASSWORD}").as_bytes());
    let pieces: Vec<String> = [
        "EHLO x\r\n",
        &format!("AUTH PLAIN {token}\r\n"),
        "AUTH LOGIN\r\n",
        "MAIL FROM:<alice@example.org>",
        " BODY=BINARYMIME",
        " SIZE=99999999999999999999",
        " HOLDUNTIL=",
        "RCPT TO:<a@b.c>",
        " NOTIFY=",
        " ORCPT=rfc822;",
        "DATA\r\n",
        "BDAT ",
        "BDAT 5 LAST\r\n",
        "\r\n.\r\n",
        "\r\n",
        "\n",
        "\0",
        "RSET\r\n",
        "STARTTLS\r\n",
        "<",
        ">",
        "+",
        "=",
        "\u{e9}",
        "\r",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let piece = proptest::sample::select(pieces);
    let chunk = prop_oneof![
        piece.prop_map(|s| s.into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..64),
    ];
    let input = proptest::collection::vec(chunk, 0..40).prop_map(|v| v.concat());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(64));
    runner
        .run(&input, |bytes| {
            rt.block_on(async {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut t = tokio::net::TcpStream::connect(addr).await.unwrap();
                let _ = t.write_all(&bytes).await;
                let _ = t.shutdown().await;
                let mut sink = Vec::new();
                let _ = tokio::time::timeout(WAIT, t.read_to_end(&mut sink)).await;
            });
            Ok(())
        })
        .unwrap();
    rt.block_on(async {
        let mut c = Client::connect(addr).await;
        assert!(
            c.cmd("EHLO after.test")
                .await
                .starts_with("250-mail.example.org")
        );
        s.stop().await;
    });
    assert_eq!(PANICS.load(Ordering::SeqCst), 0);
}
