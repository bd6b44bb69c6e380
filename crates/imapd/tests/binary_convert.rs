//! BINARY (RFC 3516) and CONVERT (RFC 5259) over real sockets: literal8 both ways with
//! every byte value, TLS, a command sent one byte at a time, and bad input (malformed
//! base64, broken charsets) answered without ending the session.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, Server};

/// A multipart message whose second part is `payload` sent as `binary`.
fn binary_message(payload: &[u8]) -> Vec<u8> {
    let mut m = b"From: Joe Example <joe@example.com>\r\nSubject: bin\r\n\
Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n\
--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    m.extend_from_slice(payload);
    m.extend_from_slice(b"\r\n--zz--\r\n");
    m
}

/// Reads a FETCH/CONVERTED line ending in a literal header, then the literal.
async fn literal(c: &mut Client, expect_head: &str) -> Vec<u8> {
    let head = c.line().await.unwrap();
    assert!(head.starts_with(expect_head), "{head}");
    let open = head.rfind('{').unwrap();
    let n: usize = head[open + 1..head.len() - 1].parse().unwrap();
    c.read_exact(n).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn literal8_round_trip_over_tls() {
    let server = Server::start().await;
    let mut c = Client::tls(server.tls, &server.cert_path()).await;
    c.login().await;
    let payload: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
    let msg = binary_message(&payload);

    // A synchronising literal8.
    c.send(&format!("a1 APPEND INBOX ~{{{}}}", msg.len())).await;
    assert!(c.line().await.unwrap().starts_with('+'));
    c.send_raw(&msg).await;
    c.send_raw(b"\r\n").await;
    let r = c.until_tagged("a1").await;
    assert!(r.last().unwrap().starts_with("a1 OK [APPENDUID"), "{r:?}");
    // A non-synchronising one (LITERAL+).
    let mut cmd = format!("a2 APPEND INBOX ~{{{}+}}\r\n", msg.len()).into_bytes();
    cmd.extend_from_slice(&msg);
    cmd.extend_from_slice(b"\r\n");
    c.send_raw(&cmd).await;
    let r = c.until_tagged("a2").await;
    assert!(r.last().unwrap().starts_with("a2 OK [APPENDUID"), "{r:?}");
    // NUL outside a literal8 is refused and the session goes on.
    c.send_raw(b"a3 APPEND INBOX {3+}\r\na\0b\r\n").await;
    let r = c.until_tagged("a3").await;
    assert!(r.last().unwrap().starts_with("a3 BAD"), "{r:?}");

    let r = c.cmd("s", "SELECT INBOX").await;
    assert!(r.iter().any(|l| l == "* 2 EXISTS"), "{r:?}");
    for seq in [1, 2] {
        c.send(&format!(
            "f{seq} FETCH {seq} (BINARY.SIZE[2] BINARY.PEEK[2])"
        ))
        .await;
        let data = literal(
            &mut c,
            &format!("* {seq} FETCH (BINARY.SIZE[2] 512 BINARY[2] ~{{512}}"),
        )
        .await;
        assert_eq!(data, payload);
        assert_eq!(c.line().await.unwrap(), ")");
        assert_eq!(
            c.line().await.unwrap(),
            format!("f{seq} OK FETCH completed")
        );
    }
    // BODY[] stays within IMAP4rev1: the binary part was stored as base64.
    let r = c.cmd("b1", "FETCH 1 BODYSTRUCTURE").await;
    assert!(
        r[0].contains("\"octet-stream\" NIL NIL NIL \"base64\""),
        "{r:?}"
    );
    c.send("b2 FETCH 1 BODY.PEEK[2]").await;
    let body = literal(&mut c, "* 1 FETCH (BODY[2] {").await;
    assert!(!body.contains(&0));
    assert!(
        body.starts_with(b"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEy")
    );
    c.until_tagged("b2").await;
    // A partial counts decoded bytes; a literal without NUL is a plain literal.
    c.send("p1 FETCH 1 BINARY.PEEK[2]<65.26>").await;
    let part = literal(&mut c, "* 1 FETCH (BINARY[2]<65> {26}").await;
    assert_eq!(part, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    c.until_tagged("p1").await;
    // CONVERT's identity conversion returns the same bytes, and never sets \Seen.
    c.send("c1 CONVERT 1 (NIL) (BINARY.SIZE[2] BINARY[2])")
        .await;
    let data = literal(
        &mut c,
        "* 1 CONVERTED (TAG \"c1\") (BINARY.SIZE[2] 512 BINARY[2] ~{512}",
    )
    .await;
    assert_eq!(data, payload);
    assert_eq!(c.line().await.unwrap(), ")");
    assert_eq!(c.line().await.unwrap(), "c1 OK CONVERT COMPLETED");
    let r = c.cmd("fl", "FETCH 1 FLAGS").await;
    assert_eq!(r[0], "* 1 FETCH (FLAGS (\\Recent))");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_and_the_session_goes_on() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    let msg = b"Subject: bad\r\nContent-Type: multipart/mixed; boundary=q\r\n\r\n\
--q\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVs*G8=\r\n\
--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =FF =ZZ=\r\n\r\n\
--q\r\nContent-Type: text/plain; charset=\"\\\"\x01\"\r\n\r\nabc\r\n\
--q\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x-gzip64\r\n\r\nabc\r\n--q--\r\n";
    let r = c.append("a1", "INBOX", "", msg).await;
    assert!(r.last().unwrap().starts_with("a1 OK"), "{r:?}");
    c.cmd("s", "SELECT INBOX").await;

    let r = c.cmd("b1", "FETCH 1 BINARY.PEEK[1]").await;
    assert_eq!(
        r,
        vec!["b1 NO [UNKNOWN-CTE] Invalid base64 data in MIME part"]
    );
    let r = c.cmd("b2", "FETCH 1 BINARY.SIZE[4]").await;
    assert_eq!(
        r,
        vec!["b2 NO [UNKNOWN-CTE] Unknown content-transfer-encoding x-gzip64"]
    );
    // Broken quoted-printable escapes are kept as they are (RFC 2045 6.7 note 1).
    c.send("b3 FETCH 1 BINARY.PEEK[2]").await;
    assert_eq!(
        literal(&mut c, "* 1 FETCH (BINARY[2] {").await,
        b"bad \xff =ZZ"
    );
    c.until_tagged("b3").await;
    // CONVERT of malformed text and of a charset name that is garbage.
    let r = c
        .cmd("c1", "CONVERT 1 (NIL) (BINARY[2] BINARY[3] BINARY[1])")
        .await;
    assert_eq!(
        r,
        vec![
            "* 1 CONVERTED (TAG \"c1\") (BINARY[2] (ERROR \"Source text is not valid utf-8\" BADPARAMETERS \"text/plain\" \"text/plain\") \
             BINARY[3] (ERROR \"Unknown source charset \\\"\\\"\u{1}\\\"\" BADPARAMETERS \"text/plain\" \"text/plain\") \
             BINARY[1] (ERROR \"Invalid base64 data in MIME part\" BADPARAMETERS \"text/plain\" \"text/plain\"))",
            "c1 NO All conversions failed",
        ]
    );
    let r = c
        .cmd(
            "c2",
            "CONVERT 1 (\"text/plain\" (\"charset\" \"\\\"\")) BINARY[2]",
        )
        .await;
    assert!(
        r[0].contains("(ERROR \"Cannot convert to charset \\\"\""),
        "{r:?}"
    );
    // Garbage CONVERT syntax is BAD; the connection stays usable.
    for (tag, garbage) in [
        ("g1", "CONVERT 1 (NIL (\"a\")) BINARY[1]"),
        ("g2", "CONVERT 1 \"text/plain\" BINARY[1]"),
        ("g3", "CONVERSIONS \"a/b\""),
        ("g4", "CONVERT 1:* (NIL) BODY[TEXT]"),
    ] {
        let r = c.cmd(tag, garbage).await;
        assert!(
            r.last().unwrap().starts_with(&format!("{tag} BAD")),
            "{r:?}"
        );
    }
    // A command that arrives one byte at a time.
    let cmd = b"x1 UID CONVERT 1 (\"text/plain\" ({7}\r\ncharset \"utf-8\" \"unknown-character-replacement\" \"?\")) BINARY[2]\r\n";
    for (i, b) in cmd.iter().enumerate() {
        c.send_raw(&[*b]).await;
        if cmd[..=i].ends_with(b"{7}\r\n") {
            assert!(c.line().await.unwrap().starts_with('+'));
        }
    }
    assert_eq!(
        literal(&mut c, "* 1 CONVERTED (TAG \"x1\") (UID 1 BINARY[2] {").await,
        b"bad ? =ZZ"
    );
    assert_eq!(c.line().await.unwrap(), ")");
    assert_eq!(c.line().await.unwrap(), "x1 OK UID CONVERT COMPLETED");
    let r = c.cmd("n", "NOOP").await;
    assert_eq!(r.last().unwrap(), "n OK NOOP completed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_base64_attachment_decodes_exactly() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    // 3 MB of pseudo-random bytes, base64 with CRLF every 76 characters.
    let mut x: u32 = 0x1234_5678;
    let payload: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let mut msg = b"Subject: big\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&payload);
    for chunk in b64.as_bytes().chunks(76) {
        msg.extend_from_slice(chunk);
        msg.extend_from_slice(b"\r\n");
    }
    let r = c.append("a1", "INBOX", "", &msg).await;
    assert!(r.last().unwrap().starts_with("a1 OK"), "{r:?}");
    c.cmd("s", "SELECT INBOX").await;
    c.send("f1 FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])").await;
    let data = literal(
        &mut c,
        &format!("* 1 FETCH (BINARY.SIZE[1] {} BINARY[1] ~{{", payload.len()),
    )
    .await;
    assert!(data == payload, "decoded bytes differ");
    c.until_tagged("f1").await;
    c.send("f2 FETCH 1 BINARY.PEEK[1]<1000000.16>").await;
    let data = literal(&mut c, "* 1 FETCH (BINARY[1]<1000000> ").await;
    assert_eq!(data, payload[1_000_000..1_000_016]);
    c.until_tagged("f2").await;
    server.stop().await;
}
