//! BURL (RFC 4468) against a scripted IMAP server that answers URLFETCH from
//! a table: splicing, mixing with BDAT, refusals that fetch nothing, size
//! limits, an unreachable imapd, $SubmitPending → $Submitted, and bad input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use common::*;
use store::{EmailAddress, Flags, ModSeq};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const BOB: &str = "bob@example.org";

/// An IMAP server that knows LOGIN (as the submit identity only), URLFETCH
/// and LOGOUT.
struct FakeImap {
    addr: SocketAddr,
    urls: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    /// Every URL asked for, in order.
    fetched: Arc<Mutex<Vec<String>>>,
    logins: Arc<Mutex<Vec<bool>>>,
}

impl FakeImap {
    async fn start(data_dir: &Path) -> FakeImap {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let urls = Arc::new(Mutex::new(HashMap::new()));
        let fetched = Arc::new(Mutex::new(Vec::new()));
        let logins = Arc::new(Mutex::new(Vec::new()));
        let (u, f, l) = (urls.clone(), fetched.clone(), logins.clone());
        let secret_file = data_dir.join("submit-secret");
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                let (u, f, l, p) = (u.clone(), f.clone(), l.clone(), secret_file.clone());
                tokio::spawn(async move {
                    let _ = fake_session(s, u, f, l, p).await;
                });
            }
        });
        FakeImap {
            addr,
            urls,
            fetched,
            logins,
        }
    }

    fn serve(&self, url: &str, data: &[u8]) {
        self.urls
            .lock()
            .unwrap()
            .insert(url.to_string(), data.to_vec());
    }

    fn fetched(&self) -> Vec<String> {
        self.fetched.lock().unwrap().clone()
    }
}

async fn fake_session(
    s: tokio::net::TcpStream,
    urls: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    fetched: Arc<Mutex<Vec<String>>>,
    logins: Arc<Mutex<Vec<bool>>>,
    secret_file: PathBuf,
) -> std::io::Result<()> {
    let mut r = BufReader::new(s);
    r.get_mut()
        .write_all(b"* OK [CAPABILITY IMAP4rev1 URLAUTH] ready\r\n")
        .await?;
    let mut logged_in = false;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end();
        let (tag, rest) = line.split_once(' ').unwrap();
        let (cmd, args) = rest.split_once(' ').unwrap_or((rest, ""));
        let out = match cmd.to_ascii_uppercase().as_str() {
            "LOGIN" => {
                let secret = std::fs::read_to_string(&secret_file).unwrap();
                let want = format!("\"$submit\" \"{}\"", secret.trim());
                logged_in = args == want;
                logins.lock().unwrap().push(logged_in);
                if logged_in {
                    format!("{tag} OK logged in\r\n").into_bytes()
                } else {
                    format!("{tag} NO wrong\r\n").into_bytes()
                }
            }
            "URLFETCH" if logged_in => {
                let url = args.trim_matches('"').to_string();
                fetched.lock().unwrap().push(url.clone());
                let data = urls.lock().unwrap().get(&url).cloned();
                let mut out = match data {
                    Some(d) => {
                        let mut o =
                            format!("* URLFETCH \"{url}\" {{{}}}\r\n", d.len()).into_bytes();
                        o.extend_from_slice(&d);
                        o.extend_from_slice(b"\r\n");
                        o
                    }
                    None => format!("* URLFETCH \"{url}\" NIL\r\n").into_bytes(),
                };
                out.extend_from_slice(format!("{tag} OK URLFETCH completed\r\n").as_bytes());
                out
            }
            "LOGOUT" => {
                r.get_mut()
                    .write_all(format!("* BYE\r\n{tag} OK\r\n").as_bytes())
                    .await?;
                return Ok(());
            }
            _ => format!("{tag} BAD no\r\n").into_bytes(),
        };
        r.get_mut().write_all(&out).await?;
    }
}

const MESSAGE: &str = "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: by reference\r\n\r\nThe body, fetched from IMAP.\r\n";

fn url(user: &str, mailbox: &str, uid: u32) -> String {
    format!(
        "imap://{}@mail.example.org/{mailbox};UIDVALIDITY=1/;UID={uid};urlauth=submit+{}:internal:0123456789abcdef0123456789abcdef",
        user.replace('@', "%40"),
        user.replace('@', "%40")
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    server: Server,
    imap: FakeImap,
    lmtp: Sink,
}

async fn setup(max_message_size: Option<u64>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::lmtp().await;
    let imap = FakeImap::start(dir.path()).await;
    let mut c = config(dir.path(), lmtp.addr, &[]);
    c.submission.imap_address = imap.addr.to_string();
    if let Some(m) = max_message_size {
        c.limits.max_message_size = m;
    }
    let server = Server::start(dir.path(), c).await;
    Setup {
        _dir: dir,
        server,
        imap,
        lmtp,
    }
}

async fn transaction(c: &mut Client) {
    c.login(ALICE, PASSWORD).await;
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "250 2.1.0 Sender OK"
    );
    assert!(c.cmd(&format!("RCPT TO:<{BOB}>")).await.starts_with("250"));
}

#[tokio::test]
async fn ehlo_says_burl_imap_only_after_auth() {
    let t = setup(None).await;
    let mut c = Client::connect(t.server.submission).await;
    let before = c.cmd("EHLO client.test").await;
    assert!(before.lines().any(|l| &l[4..] == "BURL"), "{before}");
    c.login(ALICE, PASSWORD).await;
    let after = c.cmd("EHLO client.test").await;
    assert!(after.lines().any(|l| &l[4..] == "BURL imap"), "{after}");
    t.server.stop().await;
}

#[tokio::test]
async fn a_whole_message_by_reference_is_delivered_byte_for_byte() {
    let mut t = setup(None).await;
    let u = url(ALICE, "Drafts", 7);
    t.imap.serve(&u, MESSAGE.as_bytes());
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    let r = c.cmd(&format!("BURL {u} LAST")).await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    let got = t.lmtp.next().await;
    assert!(got.text().starts_with("Received: "), "{}", got.text());
    assert!(got.data.ends_with(MESSAGE.as_bytes()));
    assert_eq!(t.imap.fetched(), vec![u.clone()]);
    assert_eq!(*t.imap.logins.lock().unwrap(), vec![true]);
    // A second transaction reuses the connection.
    assert_eq!(
        c.cmd("MAIL FROM:<alice@example.org>").await,
        "250 2.1.0 Sender OK"
    );
    c.cmd(&format!("RCPT TO:<{BOB}>")).await;
    let r = c.cmd(&format!("BURL {u} LAST")).await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    assert_eq!(t.imap.logins.lock().unwrap().len(), 1);
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    t.server.stop().await;
}

#[tokio::test]
async fn burl_and_bdat_interleave() {
    let mut t = setup(None).await;
    let head = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: mixed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n";
    let part = b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n";
    let tail = "--b--\r\n";
    let u = url(ALICE, "INBOX", 3);
    t.imap.serve(&u, part);
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    c.send(format!("BDAT {}\r\n{head}", head.len()).as_bytes())
        .await;
    assert!(c.reply().await.starts_with("250"));
    let r = c.cmd(&format!("BURL {u}")).await;
    assert!(r.starts_with("250 2.5.0 "), "{r}");
    c.send(format!("BDAT {} LAST\r\n{tail}", tail.len()).as_bytes())
        .await;
    let r = c.reply().await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    let got = t.lmtp.next().await;
    let mut want = head.as_bytes().to_vec();
    want.extend_from_slice(part);
    want.extend_from_slice(tail.as_bytes());
    assert!(got.data.ends_with(&want), "{}", got.text());
    // DATA may not follow BURL in a transaction.
    c.cmd("MAIL FROM:<alice@example.org>").await;
    c.cmd(&format!("RCPT TO:<{BOB}>")).await;
    assert!(c.cmd(&format!("BURL {u}")).await.starts_with("250 2.5.0"));
    assert!(c.cmd("DATA").await.starts_with("503 "));
    t.server.stop().await;
}

#[tokio::test]
async fn refusals_fetch_nothing_and_leak_nothing() {
    let mut t = setup(None).await;
    let secret_text = "TOP SECRET CONTENT";
    let bobs = url(BOB, "INBOX", 1);
    t.imap.serve(&bobs, secret_text.as_bytes());
    let mut c = Client::connect(t.server.submission).await;

    // Before AUTH.
    c.cmd("EHLO client.test").await;
    assert_eq!(
        c.cmd(&format!("BURL {bobs} LAST")).await,
        "530 5.7.0 Authentication required"
    );
    c.login(ALICE, PASSWORD).await;
    // Without a transaction, or without a recipient.
    assert_eq!(
        c.cmd(&format!("BURL {bobs} LAST")).await,
        "503 5.5.1 Need MAIL command"
    );
    c.cmd("MAIL FROM:<alice@example.org>").await;
    assert_eq!(
        c.cmd(&format!("BURL {bobs} LAST")).await,
        "554 5.5.0 No recipients have been specified"
    );
    assert!(c.cmd(&format!("RCPT TO:<{BOB}>")).await.starts_with("250"));
    // A URL for another user's submission.
    assert_eq!(
        c.cmd(&format!("BURL {bobs} LAST")).await,
        "554 5.7.0 IMAP URL authorization failed"
    );
    // The transaction is over (RFC 4468 3.2).
    assert_eq!(c.cmd("BURL x LAST").await, "503 5.5.1 Need MAIL command");

    // A URL naming another server, or without URLAUTH.
    for (u, want) in [
        (
            "imap://alice%40example.org@imap.elsewhere.test/INBOX;UIDVALIDITY=1/;UID=1;urlauth=submit+alice%40example.org:internal:0123456789abcdef0123456789abcdef".to_string(),
            "554 5.7.8 URL resolution requires trust relationship",
        ),
        (
            "imap://alice%40example.org@mail.example.org/INBOX;UIDVALIDITY=1/;UID=1".to_string(),
            "554 5.7.0 IMAP URL authorization failed",
        ),
        (
            "imap://alice%40example.org@mail.example.org/INBOX;UIDVALIDITY=1/;UID=1;urlauth=user+alice%40example.org:internal:0123456789abcdef0123456789abcdef".to_string(),
            "554 5.7.0 IMAP URL authorization failed",
        ),
    ] {
        c.cmd("MAIL FROM:<alice@example.org>").await;
        c.cmd(&format!("RCPT TO:<{BOB}>")).await;
        assert_eq!(c.cmd(&format!("BURL {u} LAST")).await, want, "{u}");
    }
    assert!(t.imap.fetched().is_empty(), "{:?}", t.imap.fetched());

    // A forged URL: imapd answers NIL.
    let forged = url(ALICE, "Drafts", 9);
    c.cmd("MAIL FROM:<alice@example.org>").await;
    c.cmd(&format!("RCPT TO:<{BOB}>")).await;
    assert_eq!(
        c.cmd(&format!("BURL {forged} LAST")).await,
        "554 5.7.0 IMAP URL authorization failed"
    );
    assert_eq!(t.imap.fetched(), vec![forged]);
    assert!(t.server.store.list_queue().await.unwrap().is_empty());
    t.lmtp
        .nothing_within(std::time::Duration::from_millis(200))
        .await;
    drop(c);
    t.server.stop().await;
}

#[tokio::test]
async fn the_size_limit_covers_the_spliced_total() {
    let t = setup(Some(1000)).await;
    let u = url(ALICE, "Drafts", 1);
    t.imap.serve(&u, &vec![b'a'; 600]);
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    assert!(c.cmd(&format!("BURL {u}")).await.starts_with("250 2.5.0"));
    assert_eq!(
        c.cmd(&format!("BURL {u} LAST")).await,
        "554 5.3.4 Message too big for system"
    );
    // The next transaction works on a fresh connection.
    let small = url(ALICE, "Drafts", 2);
    t.imap.serve(&small, MESSAGE.as_bytes());
    c.cmd("MAIL FROM:<alice@example.org>").await;
    c.cmd(&format!("RCPT TO:<{BOB}>")).await;
    let r = c.cmd(&format!("BURL {small} LAST")).await;
    assert!(r.starts_with("250 2.0.0 OK queued"), "{r}");
    t.server.stop().await;
}

#[tokio::test]
async fn an_unreachable_imap_server_is_a_temporary_failure() {
    let dir = tempfile::tempdir().unwrap();
    let lmtp = Sink::start(Behaviour::default()).await;
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let mut cfg = config(dir.path(), lmtp.addr, &[]);
    cfg.submission.imap_address = addr.to_string();
    let s = Server::start(dir.path(), cfg).await;
    let mut c = Client::connect(s.submission).await;
    transaction(&mut c).await;
    assert_eq!(
        c.cmd(&format!("BURL {} LAST", url(ALICE, "Drafts", 1)))
            .await,
        "451 4.4.1 IMAP server unavailable"
    );
    s.stop().await;
}

#[tokio::test]
async fn a_submitted_draft_trades_submit_pending_for_submitted() {
    let mut t = setup(None).await;
    let store = &t.server.store;
    let alice = store
        .account(&EmailAddress::parse(ALICE).unwrap())
        .await
        .unwrap()
        .unwrap();
    let pending = Flags::from_names(["\\Draft", "$SubmitPending"]).unwrap();
    let (uv, uid) = store
        .append(
            alice.id,
            "Drafts",
            MESSAGE.as_bytes().to_vec(),
            pending,
            None,
        )
        .await
        .unwrap();
    let (_, other) = store
        .append(
            alice.id,
            "Drafts",
            MESSAGE.as_bytes().to_vec(),
            Flags::default(),
            None,
        )
        .await
        .unwrap();
    let u = |uid: u32| {
        format!(
            "imap://alice%40example.org@mail.example.org/Drafts;UIDVALIDITY={}/;UID={uid};urlauth=submit+alice%40example.org:internal:0123456789abcdef0123456789abcdef",
            uv.0
        )
    };
    t.imap.serve(&u(uid.0), MESSAGE.as_bytes());
    t.imap.serve(&u(other.0), b"");
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    assert!(
        c.cmd(&format!("BURL {}", u(other.0)))
            .await
            .starts_with("250 2.5.0")
    );
    let r = c.cmd(&format!("BURL {} LAST", u(uid.0))).await;
    assert!(r.starts_with("250 2.0.0 OK queued"), "{r}");
    t.lmtp.next().await;
    let mbox = store.mailbox(alice.id, "Drafts").await.unwrap().unwrap();
    let (entries, _, _) = store
        .changes_since(alice.id, mbox.id, ModSeq(0))
        .await
        .unwrap();
    let flags = |u: store::Uid| entries.iter().find(|e| e.uid == u).unwrap().flags.names();
    assert_eq!(flags(uid), vec!["\\Draft", "$Submitted"]);
    assert!(flags(other).is_empty(), "{:?}", flags(other));
    t.server.stop().await;
}

#[tokio::test]
async fn bad_burl_commands_are_answered_and_the_session_goes_on() {
    let t = setup(None).await;
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    let long = format!(
        "BURL imap://mail.example.org/{}/;UID=1 LAST",
        "a".repeat(5000)
    );
    for bad in [
        "BURL",
        "BURL ",
        "BURL LAST",
        "BURL imap://mail.example.org/INBOX/;UID=1 LAST extra",
        "BURL imap://mail.example.org/INBOX/;UID=1 FIRST",
        "BURL \u{1}\u{2}\u{3}",
        "BURL imap://mail.example.org/INBOX/;UID=0 LAST",
        "BURL imap://mail.example.org/IN%ZZ/;UID=1 LAST",
        "BURL http://example.org/ LAST",
        "BURL imap://mail.example.org/INBOX/;UID=1;urlauth=submit+alice%40example.org:internal:0123456789abcdef0123456789abcdef\"x LAST",
        &long,
    ] {
        c.cmd("MAIL FROM:<alice@example.org>").await;
        c.cmd(&format!("RCPT TO:<{BOB}>")).await;
        let r = c.cmd(bad).await;
        assert!(r.starts_with('5'), "{bad:?} → {r}");
    }
    // A command line far over the limit, then truncated input: the session survives.
    c.send(format!("BURL {}\r\n", "x".repeat(20_000)).as_bytes())
        .await;
    assert!(c.reply().await.starts_with("500"));
    // The command sent one byte at a time.
    let u = url(ALICE, "Drafts", 5);
    t.imap.serve(&u, MESSAGE.as_bytes());
    c.cmd("MAIL FROM:<alice@example.org>").await;
    c.cmd(&format!("RCPT TO:<{BOB}>")).await;
    for b in format!("BURL {u} LAST\r\n").bytes() {
        c.send(&[b]).await;
    }
    assert!(c.reply().await.starts_with("250 2.0.0 OK queued"));
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 OK");
    assert!(
        t.imap.fetched().iter().all(|f| f == &u),
        "{:?}",
        t.imap.fetched()
    );
    // Truncated: the client goes away mid-command.
    c.send(b"BURL imap://mail.example.org/INB").await;
    drop(c);
    t.server.stop().await;
}

#[tokio::test]
async fn a_transaction_holds_a_bounded_number_of_burls() {
    let t = setup(None).await;
    let u = url(ALICE, "Drafts", 4);
    t.imap.serve(&u, b"");
    let mut c = Client::connect(t.server.submission).await;
    transaction(&mut c).await;
    let mut pipeline = String::new();
    for _ in 0..1001 {
        pipeline.push_str(&format!("BURL {u}\r\n"));
    }
    pipeline.push_str(&format!("BURL {u} LAST\r\n"));
    c.send(pipeline.as_bytes()).await;
    for i in 0..1000 {
        let r = c.reply().await;
        assert!(r.starts_with("250 2.5.0"), "{i}: {r}");
    }
    assert_eq!(c.reply().await, "554 5.5.3 Too many BURL commands");
    assert_eq!(c.reply().await, "554 5.5.3 Too many BURL commands");
    assert!(t.server.store.list_queue().await.unwrap().is_empty());
    assert_eq!(c.cmd("NOOP").await, "250 2.0.0 OK");
    t.server.stop().await;
}
