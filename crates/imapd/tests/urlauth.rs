//! CATENATE (RFC 4469) and URLAUTH (RFC 4467) over sockets: the submission
//! server's session, URLs into another user's mailbox, forged and expired
//! verifiers, overlapping partial ranges, and ten thousand URL parts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{Client, Server};
use zest_core::submit::{SUBMIT_USER, SubmitIdentity};

const BOB: &str = "bob@example.org";

/// `tag URLFETCH "url"`: the data, or None for NIL.
async fn urlfetch(c: &mut Client, tag: &str, url: &str) -> Option<Vec<u8>> {
    c.send(&format!("{tag} URLFETCH \"{url}\"")).await;
    let line = c.line().await.unwrap();
    assert!(line.starts_with("* URLFETCH "), "{line}");
    let data = if line.ends_with(" NIL") {
        None
    } else if line.ends_with(" \"\"") {
        Some(Vec::new())
    } else if let Some(open) = line.rfind('{') {
        let n: usize = line[open + 1..line.len() - 1].parse().unwrap();
        let data = c.read_exact(n).await;
        assert_eq!(c.line().await.unwrap(), "");
        Some(data)
    } else {
        let q = line.trim_end_matches('"');
        Some(q.as_bytes()[q.rfind('"').unwrap() + 1..].to_vec())
    };
    let done = c.line().await.unwrap();
    assert_eq!(done, format!("{tag} OK URLFETCH completed"));
    data
}

/// `tag GENURLAUTH "rump" INTERNAL`: the authorized URL.
async fn genurlauth(c: &mut Client, tag: &str, rump: &str) -> String {
    let r = c.cmd(tag, &format!("GENURLAUTH \"{rump}\" INTERNAL")).await;
    assert_eq!(r.len(), 2, "{r:?}");
    assert!(r[1].starts_with(&format!("{tag} OK")), "{r:?}");
    let url = r[0].strip_prefix("* GENURLAUTH \"").unwrap();
    url.strip_suffix('"').unwrap().to_string()
}

async fn login_as(server: &Server, user: &str, pass: &str) -> Client {
    let mut c = server.client().await;
    c.line().await.unwrap();
    let r = c.cmd("l", &format!("LOGIN \"{user}\" \"{pass}\"")).await;
    assert!(r.last().unwrap().starts_with("l OK"), "{r:?}");
    c
}

/// The body of message `uid` in INBOX, and its flags line.
async fn read_back(c: &mut Client, uid: u32) -> (String, Vec<u8>) {
    c.send(&format!("f UID FETCH {uid} (FLAGS BODY.PEEK[])"))
        .await;
    let line = c.line().await.unwrap();
    let open = line.rfind('{').unwrap();
    let n: usize = line[open + 1..line.len() - 1].parse().unwrap();
    let data = c.read_exact(n).await;
    let rest = c.until_tagged("f").await;
    assert!(rest.last().unwrap().starts_with("f OK"), "{rest:?}");
    (line, data)
}

async fn with_bob(server: &Server) {
    let bob = store::EmailAddress::parse(BOB).unwrap();
    server
        .store
        .create_account(&bob, "bobpw", false)
        .await
        .unwrap();
}

/// A CATENATE TEXT part as a non-synchronising literal.
fn text(s: &str) -> String {
    format!("TEXT {{{}+}}\r\n{s}", s.len())
}

const BODY: &[u8] = b"0123456789abcdefghij";

fn small_message() -> Vec<u8> {
    let mut m = b"Subject: digits\r\n\r\n".to_vec();
    m.extend_from_slice(BODY);
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submission_identity_fetches_submit_urls_only() {
    let server = Server::start().await;
    let mut alice = server.client().await;
    alice.login().await;
    let r = alice.append("a", "INBOX", "", &small_message()).await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");
    let base = "imap://alice%40example.org@localhost/INBOX/;uid=1";
    let submit_url = genurlauth(
        &mut alice,
        "g1",
        &format!("{base};urlauth=submit+alice%40example.org"),
    )
    .await;
    let user_url = genurlauth(
        &mut alice,
        "g2",
        &format!("{base};urlauth=user+alice%40example.org"),
    )
    .await;
    let auth_url = genurlauth(
        &mut alice,
        "g3",
        &format!("{base}/;section=TEXT/;partial=10.5;urlauth=authuser"),
    )
    .await;
    // A user's session does not get submit+ URLs.
    assert_eq!(urlfetch(&mut alice, "u1", &submit_url).await, None);

    let id = SubmitIdentity::load_or_create(server.dir.path()).unwrap();
    let mut wrong = server.client().await;
    wrong.line().await.unwrap();
    let r = wrong
        .cmd("s", &format!("LOGIN \"{SUBMIT_USER}\" \"not-the-secret\""))
        .await;
    assert!(r[0].starts_with("s NO [AUTHENTICATIONFAILED]"), "{r:?}");

    let mut submit = login_as(&server, SUBMIT_USER, id.secret()).await;
    assert_eq!(
        urlfetch(&mut submit, "s1", &submit_url).await,
        Some(small_message())
    );
    assert_eq!(urlfetch(&mut submit, "s2", &user_url).await, None);
    assert_eq!(
        urlfetch(&mut submit, "s3", &auth_url).await,
        Some(b"abcde".to_vec())
    );
    // Without URLAUTH a URL is nobody's but the owner's.
    assert_eq!(urlfetch(&mut submit, "s4", base).await, None);
    assert_eq!(urlfetch(&mut submit, "s5", "/INBOX/;uid=1").await, None);
    // Only CAPABILITY, NOOP, LOGOUT and URLFETCH.
    for (tag, cmd) in [
        ("x1", "SELECT INBOX"),
        ("x2", "LIST \"\" *"),
        (
            "x3",
            "GENURLAUTH \"imap://x/INBOX/;uid=1;urlauth=anonymous\" INTERNAL",
        ),
        ("x4", "RESETKEY"),
        ("x5", "APPEND INBOX {1+}\r\nx"),
        ("x6", "STATUS INBOX (MESSAGES)"),
        ("x7", "LOGIN alice@example.org secret"),
    ] {
        let r = submit.cmd(tag, cmd).await;
        assert!(
            r.last().unwrap().starts_with(&format!("{tag} BAD")),
            "{cmd}: {r:?}"
        );
    }
    let r = submit.cmd("n", "NOOP").await;
    assert_eq!(r, vec!["n OK NOOP completed".to_string()]);
    let r = submit.cmd("c", "CAPABILITY").await;
    assert!(r[0].contains(" URLAUTH "), "{r:?}");
    // URLFETCH left the message unread.
    alice.send("f FETCH 1 FLAGS").await;
    let r = alice.until_tagged("f").await;
    assert!(!r.iter().any(|l| l.contains("\\Seen")), "{r:?}");

    // AUTHENTICATE PLAIN works the same way.
    use base64::Engine;
    let ir = base64::engine::general_purpose::STANDARD
        .encode(format!("\0{SUBMIT_USER}\0{}", id.secret()));
    let mut c = server.client().await;
    c.line().await.unwrap();
    let r = c.cmd("p", &format!("AUTHENTICATE PLAIN {ir}")).await;
    assert!(r.last().unwrap().starts_with("p OK"), "{r:?}");
    assert_eq!(
        urlfetch(&mut c, "s6", &submit_url).await,
        Some(small_message())
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_submission_identity_follows_the_plaintext_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.auth.allow_plaintext_on_loopback = false;
    let server = Server::start_with(dir, config, true).await;
    let id = SubmitIdentity::load_or_create(server.dir.path()).unwrap();
    let mut c = server.client().await;
    c.line().await.unwrap();
    let r = c
        .cmd("s", &format!("LOGIN \"{SUBMIT_USER}\" \"{}\"", id.secret()))
        .await;
    assert!(r[0].starts_with("s NO [PRIVACYREQUIRED]"), "{r:?}");
    let mut t = Client::tls(server.tls, &server.cert_path()).await;
    t.line().await.unwrap();
    let r = t
        .cmd("s", &format!("LOGIN \"{SUBMIT_USER}\" \"{}\"", id.secret()))
        .await;
    assert!(r.last().unwrap().starts_with("s OK"), "{r:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_mailbox_needs_a_valid_urlauth() {
    let server = Server::start().await;
    with_bob(&server).await;
    let mut bob = login_as(&server, BOB, "bobpw").await;
    let r = bob.append("a", "INBOX", "", &small_message()).await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");
    let base = "imap://bob%40example.org@localhost/INBOX/;uid=1/;section=TEXT";
    let good = genurlauth(&mut bob, "g1", &format!("{base};urlauth=authuser")).await;
    let for_alice = genurlauth(
        &mut bob,
        "g2",
        &format!("{base};urlauth=user+alice%40example.org"),
    )
    .await;
    let for_carol = genurlauth(
        &mut bob,
        "g3",
        &format!("{base};urlauth=user+carol%40example.org"),
    )
    .await;
    let expired = genurlauth(
        &mut bob,
        "g4",
        &format!("{base};expire=2020-01-01T00:00:00Z;urlauth=authuser"),
    )
    .await;
    // Forged: the right shape, another verifier; or the verifier of another URL.
    let forged = format!("{}{}", &good[..good.len() - 8], "00000000");
    let moved = good.replace("uid=1", "uid=2");
    let other_mailbox = good.replace("/INBOX/", "/Drafts/");

    let mut alice = server.client().await;
    alice.login().await;
    let r = alice
        .append("a", "INBOX", "", b"Subject: mine\r\n\r\nmine")
        .await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");
    for (i, url) in [
        base.to_string(),
        for_carol.clone(),
        expired.clone(),
        forged.clone(),
        moved.clone(),
        other_mailbox.clone(),
    ]
    .iter()
    .enumerate()
    {
        let tag = format!("b{i}");
        let r = alice
            .cmd(
                &tag,
                &format!("APPEND INBOX CATENATE (TEXT {{10+}}\r\nSubject: x URL \"{url}\")"),
            )
            .await;
        assert_eq!(
            r.last().unwrap(),
            &format!("{tag} NO [BADURL {url}] The URL names nothing this session may read"),
        );
        assert_eq!(urlfetch(&mut alice, &format!("u{i}"), url).await, None);
    }
    for (i, url) in [&good, &for_alice].iter().enumerate() {
        let tag = format!("c{i}");
        let r = alice
            .cmd(
                &tag,
                &format!(
                    "APPEND INBOX CATENATE ({} URL \"{url}\")",
                    text("Subject: fwd\r\n\r\n> ")
                ),
            )
            .await;
        assert!(
            r.last()
                .unwrap()
                .starts_with(&format!("{tag} OK [APPENDUID ")),
            "{r:?}"
        );
        assert_eq!(
            urlfetch(&mut alice, &format!("v{i}"), url).await,
            Some(BODY.to_vec())
        );
    }
    alice.cmd("s", "SELECT INBOX").await;
    let (_, data) = read_back(&mut alice, 2).await;
    assert_eq!(data, [&b"Subject: fwd\r\n\r\n> "[..], BODY].concat());
    // Of all those APPENDs only the two with good URLs stored a message.
    let r = alice.cmd("st", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 3)");
    // RESETKEY by the owner ends them all.
    let r = bob.cmd("r", "RESETKEY").await;
    assert_eq!(r, vec!["r OK All keys removed".to_string()]);
    assert_eq!(urlfetch(&mut alice, "w", &good).await, None);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_and_out_of_range_partials() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    c.append("a", "INBOX", "", &small_message()).await;
    let r = c
        .cmd(
            "c",
            &format!("APPEND INBOX CATENATE ({} URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=0.10\" URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=5.10\" URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=15.100\" URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL=4000.1\" URL \"/INBOX/;UID=1/;PARTIAL=0.9\")", text("Subject: p\r\n\r\n")),
        )
        .await;
    assert!(r.last().unwrap().starts_with("c OK [APPENDUID "), "{r:?}");
    c.cmd("s", "SELECT INBOX").await;
    let (_, data) = read_back(&mut c, 2).await;
    assert_eq!(
        String::from_utf8(data).unwrap(),
        "Subject: p\r\n\r\n012345678956789abcdefghijSubject: "
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_url_parts_in_one_catenate() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    c.append("a", "INBOX", "", &small_message()).await;
    let mut cmd = format!(
        "big APPEND INBOX CATENATE ({}",
        text("Subject: many\r\n\r\n")
    )
    .into_bytes();
    let mut expected = b"Subject: many\r\n\r\n".to_vec();
    for i in 0..10_000usize {
        let at = i % BODY.len();
        cmd.extend_from_slice(
            format!(" URL \"/INBOX/;UID=1/;SECTION=TEXT/;PARTIAL={at}.1\"").as_bytes(),
        );
        expected.push(BODY[at]);
    }
    cmd.extend_from_slice(b")\r\n");
    let started = Instant::now();
    c.send_raw(&cmd).await;
    let r = c.until_tagged("big").await;
    println!(
        "10,000 URL parts: {} bytes of command, {:?}",
        cmd.len(),
        started.elapsed()
    );
    assert!(r.last().unwrap().starts_with("big OK [APPENDUID "), "{r:?}");
    c.cmd("s", "SELECT INBOX").await;
    let (_, data) = read_back(&mut c, 2).await;
    assert_eq!(data.len(), expected.len());
    assert!(data == expected);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_big_results_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.limits.max_message_size = 1000;
    let server = Server::start_with(dir, config, true).await;
    let mut c = server.client().await;
    c.login().await;
    c.append("a", "INBOX", "", &small_message()).await;
    let mut cmd = b"big APPEND INBOX CATENATE (".to_vec();
    for i in 0..10_000 {
        if i > 0 {
            cmd.push(b' ');
        }
        cmd.extend_from_slice(b"URL \"/INBOX/;UID=1\"");
    }
    cmd.extend_from_slice(b")\r\n");
    c.send_raw(&cmd).await;
    let r = c.until_tagged("big").await;
    assert_eq!(r.last().unwrap(), "big NO [TOOBIG] Message too large");
    // In MULTIAPPEND nothing is stored when one message is too big.
    let r = c
        .cmd("m", "APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\") CATENATE (URL \"/INBOX/;UID=1\" URL \"/INBOX/;UID=1\")")
        .await;
    assert!(r.last().unwrap().starts_with("m OK"), "{r:?}");
    let mut many = b"m2 APPEND INBOX CATENATE (URL \"/INBOX/;UID=1\") CATENATE (".to_vec();
    many.extend_from_slice(&b"URL \"/INBOX/;UID=1\" ".repeat(60));
    many.extend_from_slice(b"TEXT {1+}\r\nx)\r\n");
    c.send_raw(&many).await;
    let r = c.until_tagged("m2").await;
    assert_eq!(r.last().unwrap(), "m2 NO [TOOBIG] Message too large");
    let r = c.cmd("st", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 3)");
    let r = c.cmd("n", "NOOP").await;
    assert!(r.last().unwrap().starts_with("n OK"), "{r:?}");
    // Nothing was lost or left half-written.
    let r = c
        .cmd(
            "bad",
            "APPEND INBOX CATENATE (URL \"not a url\" URL \"/INBOX/;UID=99\")",
        )
        .await;
    assert_eq!(
        r.last().unwrap(),
        "bad NO [BADURL not a url] The URL names nothing this session may read"
    );
    server.stop().await;
}

/// A 20 MB message: a short text part and a base64 attachment.
fn big_message() -> (Vec<u8>, usize) {
    let mut m = b"From: Joe <joe@example.com>\r\nTo: alice@example.org\r\nSubject: the report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nThe report is attached.\r\n--b1\r\nContent-Type: application/octet-stream; name=\"report.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let mut x: u32 = 12345;
    let mut line = Vec::with_capacity(78);
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    while m.len() < 20 * 1024 * 1024 {
        line.clear();
        for _ in 0..76 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            line.push(B64[(x >> 16) as usize % 64]);
        }
        m.extend_from_slice(&line);
        m.extend_from_slice(b"\r\n");
    }
    let attachment_end = m.len() - 2;
    m.extend_from_slice(b"--b1--\r\n");
    (m, attachment_end)
}

/// Forwarding a 20 MB message by reference (CATENATE, then GENURLAUTH for
/// BURL) against downloading and uploading it again: the bytes on the client's
/// link and the time of each. Run with `--ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark"]
async fn forwarding_by_reference_moves_under_one_percent() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    let (big, att_end) = big_message();
    let r = c.append("a", "INBOX", "", &big).await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");

    // By reference: the new draft's header and text, then the attachment by URL.
    let started = Instant::now();
    let intro = "From: Alice <alice@example.org>\r\nTo: carol@example.org\r\nSubject: Fwd: the report\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"f1\"\r\n\r\n--f1\r\nContent-Type: text/plain\r\n\r\nHere is the report.\r\n--f1\r\n";
    let cmd = format!(
        "f APPEND Drafts ($SubmitPending) CATENATE ({} URL \"/INBOX/;UID=1/;SECTION=2.MIME\" URL \"/INBOX/;UID=1/;SECTION=2\" {})\r\n",
        text(intro),
        text("\r\n--f1--\r\n")
    );
    let mut link = cmd.len();
    c.send_raw(cmd.as_bytes()).await;
    let r = c.until_tagged("f").await;
    assert!(r.last().unwrap().starts_with("f OK [APPENDUID "), "{r:?}");
    link += r.iter().map(|l| l.len() + 2).sum::<usize>();
    let g = "g GENURLAUTH \"imap://alice%40example.org@localhost/Drafts/;uid=1;urlauth=submit+alice%40example.org\" INTERNAL\r\n";
    c.send_raw(g.as_bytes()).await;
    let r = c.until_tagged("g").await;
    assert!(r.last().unwrap().starts_with("g OK"), "{r:?}");
    link += g.len() + r.iter().map(|l| l.len() + 2).sum::<usize>();
    let by_reference = started.elapsed();

    // Download and upload again.
    let started = Instant::now();
    c.cmd("s", "SELECT INBOX").await;
    c.send("d FETCH 1 BODY.PEEK[]").await;
    let first = c.line().await.unwrap();
    let open = first.rfind('{').unwrap();
    let n: usize = first[open + 1..first.len() - 1].parse().unwrap();
    let data = c.read_exact(n).await;
    let rest = c.until_tagged("d").await;
    let mut round_trip = 20 + first.len() + 2 + n + rest.iter().map(|l| l.len() + 2).sum::<usize>();
    let r = c.append("u", "Drafts", "$SubmitPending", &data).await;
    assert!(r.last().unwrap().starts_with("u OK"), "{r:?}");
    round_trip += 40 + data.len() + r.iter().map(|l| l.len() + 2).sum::<usize>();
    let downloaded = started.elapsed();

    println!(
        "forward of a {} byte message: by reference {link} bytes in {by_reference:?}; download and upload {round_trip} bytes in {downloaded:?}; {:.4}%",
        big.len(),
        link as f64 * 100.0 / round_trip as f64
    );
    assert!(link * 100 < round_trip);
    // The draft holds the attachment's exact bytes.
    c.cmd("s2", "SELECT Drafts").await;
    let (_, draft) = read_back(&mut c, 1).await;
    let part2_header = big.windows(5).rposition(|w| w == b"--b1\r").unwrap() + 6;
    assert!(draft.starts_with(intro.as_bytes()));
    assert!(draft.ends_with(b"\r\n--f1--\r\n"));
    assert_eq!(
        &draft[intro.len()..draft.len() - 10],
        &big[part2_header..att_end]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_urls_get_nil_or_badurl_and_the_session_goes_on() {
    let server = Server::start().await;
    let mut c = server.client().await;
    c.login().await;
    c.append("a", "INBOX", "", &small_message()).await;
    let huge = format!("/INBOX/;UID=1/;SECTION={}", "1.".repeat(20_000));
    for (i, url) in [
        huge.as_str(),
        "/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(%0D%0A)",
        "/INBOX/;UID=4294967295",
        "/INBOX;UIDVALIDITY=1/;UID=1",
        "/INBOX/;UID=1;URLAUTH=anonymous:internal:",
        "imap://%ff@h/INBOX/;UID=1",
        "/INBOX/;UID=1/;SECTION=99.HEADER",
        "/%2e%2e/;UID=1",
        "/INBOX?ALL",
        "",
    ]
    .iter()
    .enumerate()
    {
        let r = c
            .cmd(
                &format!("c{i}"),
                &format!("APPEND INBOX CATENATE (URL \"{url}\")"),
            )
            .await;
        assert!(
            r.last().unwrap().starts_with(&format!("c{i} NO [BADURL")),
            "{url}: {r:?}"
        );
        if url.len() > 1000 {
            // A long URL comes back as a literal, then NIL.
            c.send(&format!("u{i} URLFETCH \"{url}\"")).await;
            assert_eq!(
                c.line().await.unwrap(),
                format!("* URLFETCH {{{}}}", url.len())
            );
            assert_eq!(c.read_exact(url.len()).await, url.as_bytes());
            assert_eq!(c.line().await.unwrap(), " NIL");
            let done = c.until_tagged(&format!("u{i}")).await;
            assert!(done[0].starts_with(&format!("u{i} OK")), "{done:?}");
        } else if !url.is_empty() {
            assert_eq!(urlfetch(&mut c, &format!("u{i}"), url).await, None, "{url}");
        }
    }
    // A partial range past the end is empty, not an error; but an empty
    // message is not stored.
    let r = c
        .cmd(
            "e",
            "APPEND INBOX CATENATE (URL \"/INBOX/;UID=1/;PARTIAL=4294967295.4294967295\")",
        )
        .await;
    assert_eq!(
        r.last().unwrap(),
        "e NO [CANNOT] the message would be empty"
    );
    assert_eq!(
        urlfetch(&mut c, "p", "/INBOX/;UID=1/;PARTIAL=4294967295.1").await,
        Some(Vec::new())
    );
    let r = c.cmd("st", "STATUS INBOX (MESSAGES)").await;
    assert_eq!(r[0], "* STATUS INBOX (MESSAGES 1)");
    server.stop().await;
}

/// A message whose second part is base64 of bytes that include NUL and 8-bit.
fn base64_message() -> (Vec<u8>, Vec<u8>) {
    let payload: Vec<u8> = (0u8..=255).chain(*b"\r\nend").collect();
    let encoded = {
        use std::fmt::Write;
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for (i, c) in payload.chunks(3).enumerate() {
            if i > 0 && i % 19 == 0 {
                s.push_str("\r\n");
            }
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (k, &b)| n | u32::from(b) << (16 - 8 * k));
            for k in 0..4 {
                if k <= c.len() {
                    s.push(ABC[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        let _ = write!(s, "\r\n");
        s
    };
    let m = format!(
        "Subject: bin\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
         --b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n\
         {encoded}--b--\r\n"
    );
    (m.into_bytes(), payload)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urlfetch_binary_decodes_base64_and_forged_urls_get_nil() {
    let server = Server::start().await;
    let mut alice = server.client().await;
    alice.login().await;
    let (message, payload) = base64_message();
    let r = alice.append("a", "INBOX", "", &message).await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");
    let url = genurlauth(
        &mut alice,
        "g1",
        "imap://alice%40example.org@localhost/INBOX/;uid=1/;section=2;urlauth=anonymous",
    )
    .await;

    alice
        .send(&format!("f1 URLFETCH (\"{url}\" BODYPARTSTRUCTURE BINARY)"))
        .await;
    let line = alice.line().await.unwrap();
    let head = format!(
        "* URLFETCH \"{url}\" (BODYPARTSTRUCTURE (\"application\" \"octet-stream\" NIL NIL NIL \"base64\" {} ",
        payload.len()
    );
    assert!(line.starts_with(&head), "{line}");
    // The decoded bytes hold NUL: a literal8.
    let suffix = format!(" BINARY ~{{{}}}", payload.len());
    assert!(line.ends_with(&suffix), "{line}");
    assert_eq!(alice.read_exact(payload.len()).await, payload);
    assert_eq!(alice.line().await.unwrap(), ")");
    assert_eq!(alice.line().await.unwrap(), "f1 OK URLFETCH completed");

    // BODY returns the part as stored; the plain form is unchanged.
    let stored = urlfetch(&mut alice, "f2", &url).await.unwrap();
    assert!(stored.starts_with(b"AAECAwQF"), "{stored:?}");

    // A forged verifier: NIL for the whole URL, and the next URL still answered.
    let forged = format!("{}0", &url[..url.len() - 1]);
    let forged = if forged == url {
        format!("{}1", &url[..url.len() - 1])
    } else {
        forged
    };
    alice
        .send(&format!(
            "f3 URLFETCH (\"{forged}\" BINARY) (\"{url}\" BODY)"
        ))
        .await;
    assert_eq!(
        alice.line().await.unwrap(),
        format!("* URLFETCH \"{forged}\" NIL")
    );
    let line = alice.line().await.unwrap();
    assert!(
        line.starts_with(&format!("* URLFETCH \"{url}\" (BODY {{")),
        "{line}"
    );
    let n: usize = line[line.rfind('{').unwrap() + 1..line.len() - 1]
        .parse()
        .unwrap();
    assert_eq!(alice.read_exact(n).await, stored);
    assert_eq!(alice.line().await.unwrap(), ")");
    assert_eq!(alice.line().await.unwrap(), "f3 OK URLFETCH completed");

    // The whole message: BODYPARTSTRUCTURE of the root, BINARY with the part decoded.
    let whole = genurlauth(
        &mut alice,
        "g2",
        "imap://alice%40example.org@localhost/INBOX/;uid=1;urlauth=anonymous",
    )
    .await;
    alice
        .send(&format!("f4 URLFETCH (\"{whole}\" BINARY)"))
        .await;
    let line = alice.line().await.unwrap();
    let n: usize = line[line.rfind('{').unwrap() + 1..line.len() - 1]
        .parse()
        .unwrap();
    let data = alice.read_exact(n).await;
    assert!(line.ends_with(&format!("(BINARY ~{{{n}}}")), "{line}");
    assert!(
        data.windows(payload.len()).any(|w| w == payload.as_slice()),
        "decoded payload missing"
    );
    assert!(
        data.windows(33)
            .any(|w| w == b"Content-Transfer-Encoding: binary"),
        "CTE not rewritten"
    );
    assert_eq!(alice.line().await.unwrap(), ")");
    assert_eq!(alice.line().await.unwrap(), "f4 OK URLFETCH completed");
    server.stop().await;
}
