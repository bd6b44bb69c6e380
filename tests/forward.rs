//! Forward without download (RFC 5550 8.4.1): a 20 MB message with a binary
//! attachment is APPENDed; a draft is built on the server by CATENATE from a
//! new text and the attachment by URL, marked $SubmitPending, authorised with
//! GENURLAUTH, and submitted with BURL. imapd, the submission daemon and the
//! MDA run over one store and talk only through their sockets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const PASS: &str = "secret";
const WAIT: Duration = Duration::from_secs(60);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A line-based client (IMAP or SMTP) that counts the bytes it moves.
struct Conn {
    io: BufReader<Box<dyn Io>>,
    sent: u64,
    received: u64,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Conn {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Conn {
            io: BufReader::new(Box::new(tcp)),
            sent: 0,
            received: 0,
        }
    }

    /// Implicit TLS, taking the server's self-signed certificate.
    async fn connect_tls(addr: SocketAddr) -> Conn {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCert(provider)))
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("mail.example.org").unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .unwrap();
        Conn {
            io: BufReader::new(Box::new(tls)),
            sent: 0,
            received: 0,
        }
    }

    async fn send(&mut self, data: &[u8]) {
        self.io.get_mut().write_all(data).await.unwrap();
        self.sent += data.len() as u64;
    }

    async fn line(&mut self) -> String {
        let mut buf = Vec::new();
        let n = tokio::time::timeout(WAIT, self.io.read_until(b'\n', &mut buf))
            .await
            .expect("a line from the server")
            .unwrap();
        assert!(n > 0, "connection closed");
        self.received += n as u64;
        String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_string()
    }

    /// IMAP: lines through the tagged response.
    async fn tagged(&mut self, tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            let done = l.starts_with(&format!("{tag} "));
            out.push(l);
            if done {
                return out;
            }
        }
    }

    async fn imap(&mut self, tag: &str, cmd: &str) -> Vec<String> {
        self.send(format!("{tag} {cmd}\r\n").as_bytes()).await;
        let r = self.tagged(tag).await;
        assert!(
            r.last().unwrap().starts_with(&format!("{tag} OK")),
            "{cmd}: {r:?}"
        );
        r
    }

    /// SMTP: one whole reply.
    async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await;
            let last = l.as_bytes().get(3) != Some(&b'-');
            lines.push(l);
            if last {
                return lines.join("\n");
            }
        }
    }

    async fn smtp(&mut self, cmd: &str) -> String {
        self.send(format!("{cmd}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// SMTP: MAIL FROM and one RCPT TO, both accepted.
    async fn envelope(&mut self, from: &str, to: &str) {
        let r = self.smtp(&format!("MAIL FROM:<{from}>")).await;
        assert!(r.starts_with("250"), "MAIL: {r}");
        let r = self.smtp(&format!("RCPT TO:<{to}>")).await;
        assert!(r.starts_with("250"), "RCPT: {r}");
    }
}

#[derive(Debug)]
struct AnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &rustls::pki_types::CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// imapd, the MDA and the submission daemon on one store.
struct System {
    store: store::Store,
    shutdown: Shutdown,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    imap: SocketAddr,
    submission: SocketAddr,
    /// Implicit TLS submission, when the system runs without plaintext on loopback.
    submissions: Option<SocketAddr>,
    _dir: tempfile::TempDir,
}

impl System {
    async fn start() -> System {
        System::start_with(true).await
    }

    /// `plaintext`: whether the submission daemon may log in without TLS on
    /// loopback (to its clients and to imapd alike).
    async fn start_with(plaintext: bool) -> System {
        let dir = tempfile::tempdir().unwrap();
        let any = || Listen::new(vec!["127.0.0.1:0".parse().unwrap()]);
        let off = || Listen::new(Vec::new());
        let mut c = Config {
            hostname: "mail.example.org".into(),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        c.imap.listen = any();
        c.imap.listen_tls = off();
        c.mda.lmtp_listen = any();
        c.mda.smtp_listen = off();
        c.mda.verify_auth = false;
        c.submission.listen = off();
        c.submission.listen_tls = off();
        let base = Arc::new(c.clone());

        let store = store::Store::open(&base.db_path()).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        for user in [ALICE, BOB] {
            let a = store::EmailAddress::parse(user).unwrap();
            store.create_account(&a, PASS, false).await.unwrap();
        }
        let shutdown = Shutdown::new();
        let find = |addrs: Vec<(&'static str, SocketAddr)>, name: &str| {
            addrs.into_iter().find(|(n, _)| *n == name).unwrap().1
        };
        let imap_d = imapd::Daemon::bind(base.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let mda_d = mda::Daemon::bind(base.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let imap = find(imap_d.local_addrs(), "imap");
        let lmtp = find(mda_d.local_addrs(), "lmtp");
        // The submission daemon finds imapd and the MDA where they listen.
        c.imap.listen = Listen::new(vec![imap]);
        c.mda.lmtp_listen = Listen::new(vec![lmtp]);
        c.submission.listen = any();
        if !plaintext {
            c.submission.listen_tls = any();
            c.auth.allow_plaintext_on_loopback = false;
        }
        let sub_d = submission::Daemon::bind(Arc::new(c), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let submission = find(sub_d.local_addrs(), "submission");
        let submissions = (!plaintext).then(|| find(sub_d.local_addrs(), "submissions"));
        let tasks = vec![
            tokio::spawn(async move { imap_d.run().await.unwrap() }),
            tokio::spawn(async move { mda_d.run().await.unwrap() }),
            tokio::spawn(async move { sub_d.run().await.unwrap() }),
        ];
        System {
            store,
            shutdown,
            tasks,
            imap,
            submission,
            submissions,
            _dir: dir,
        }
    }

    async fn stop(self) {
        self.shutdown.trigger();
        for t in self.tasks {
            let _ = tokio::time::timeout(WAIT, t).await;
        }
        self.store.close().await;
    }

    async fn imap_login(&self, user: &str) -> Conn {
        let mut c = Conn::connect(self.imap).await;
        assert!(c.line().await.starts_with("* OK"));
        c.imap("l", &format!("LOGIN {user} {PASS}")).await;
        c
    }

    async fn smtp_login(&self, user: &str) -> Conn {
        use base64::Engine;
        let mut c = match self.submissions {
            Some(tls) => Conn::connect_tls(tls).await,
            None => Conn::connect(self.submission).await,
        };
        assert!(c.reply().await.starts_with("220"));
        c.smtp("EHLO client.example.org").await;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{user}\0{PASS}").as_bytes());
        assert!(
            c.smtp(&format!("AUTH PLAIN {token}"))
                .await
                .starts_with("235")
        );
        c
    }

    /// The messages of `user`'s INBOX, waiting for `n` of them.
    async fn inbox(&self, user: &str, n: usize) -> Vec<Vec<u8>> {
        let a = store::EmailAddress::parse(user).unwrap();
        let account = self.store.account(&a).await.unwrap().unwrap();
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(mb) = self.store.mailbox(account.id, "INBOX").await.unwrap()
                    && mb.messages as usize >= n
                {
                    let (entries, _, _) = self
                        .store
                        .changes_since(account.id, mb.id, store::ModSeq(0))
                        .await
                        .unwrap();
                    let mut out = Vec::new();
                    for e in entries {
                        out.push(
                            self.store
                                .read_message(account.id, mb.id, e.uid)
                                .await
                                .unwrap(),
                        );
                    }
                    return out;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the message was not delivered")
    }
}

/// Deterministic bytes that are not text.
fn binary(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// base64 in 76-character lines joined by CRLF (no CRLF after the last).
fn base64_lines(data: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(data);
    let lines: Vec<&[u8]> = text.as_bytes().chunks(76).collect();
    lines.join(&b"\r\n"[..])
}

const ATTACHMENT_MIME: &str = "Content-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\n\r\n";

/// The original message: a text part and `size` bytes of binary attachment.
fn original(attachment: &[u8]) -> Vec<u8> {
    let mut m = format!(
        "From: Bob <{BOB}>\r\nTo: {ALICE}\r\nSubject: The figures\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <figures@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"orig\"\r\n\r\n--orig\r\nContent-Type: text/plain\r\n\r\nThe figures are attached.\r\n--orig\r\n{ATTACHMENT_MIME}"
    )
    .into_bytes();
    m.extend_from_slice(&base64_lines(attachment));
    m.extend_from_slice(b"\r\n--orig--\r\n");
    m
}

const DRAFT_HEAD: &str = "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: Fwd: The figures\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"fwd\"\r\n\r\n--fwd\r\nContent-Type: text/plain\r\n\r\nHere they are again.\r\n--fwd\r\n";
const DRAFT_TAIL: &str = "\r\n--fwd--\r\n";

/// `* NAME "value"` → value.
fn quoted_after(lines: &[String], prefix: &str) -> String {
    let l = lines.iter().find(|l| l.starts_with(prefix)).unwrap();
    let start = l.find('"').unwrap() + 1;
    let end = l.rfind('"').unwrap();
    l[start..end].to_string()
}

fn appenduid(lines: &[String]) -> (u32, u32) {
    let l = lines.last().unwrap();
    let rest = &l[l.find("[APPENDUID ").unwrap() + 11..];
    let mut it = rest.split([' ', ']']);
    (
        it.next().unwrap().parse().unwrap(),
        it.next().unwrap().parse().unwrap(),
    )
}

/// APPEND with a non-synchronising literal.
async fn append(c: &mut Conn, tag: &str, mailbox: &str, flags: &str, msg: &[u8]) -> Vec<String> {
    c.send(format!("{tag} APPEND {mailbox} ({flags}) {{{}+}}\r\n", msg.len()).as_bytes())
        .await;
    c.send(msg).await;
    c.send(b"\r\n").await;
    c.tagged(tag).await
}

#[tokio::test]
async fn a_20_mb_attachment_is_forwarded_without_download() {
    let sys = System::start().await;
    let attachment = binary(15_000_000);
    let orig = original(&attachment);
    assert!(orig.len() > 20_000_000, "{}", orig.len());

    // The original arrives in alice's INBOX.
    let mut imap = sys.imap_login(ALICE).await;
    let r = append(&mut imap, "a1", "INBOX", "", &orig).await;
    assert!(r.last().unwrap().starts_with("a1 OK"), "{r:?}");
    let (uv, uid) = appenduid(&r);

    // From here on, count what the client moves.
    let mut imap = sys.imap_login(ALICE).await;
    let (sent0, recv0) = (imap.sent, imap.received);
    let cat = format!(
        "a2 APPEND Drafts (\\Draft $SubmitPending) CATENATE (TEXT {{{}+}}\r\n{DRAFT_HEAD} URL \"/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION=2.MIME\" URL \"/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION=2\" TEXT {{{}+}}\r\n{DRAFT_TAIL})\r\n",
        DRAFT_HEAD.len(),
        DRAFT_TAIL.len()
    );
    imap.send(cat.as_bytes()).await;
    let r = imap.tagged("a2").await;
    assert!(r.last().unwrap().starts_with("a2 OK"), "{r:?}");
    let (duv, duid) = appenduid(&r);
    let r = imap
        .imap(
            "a3",
            &format!(
                "GENURLAUTH \"imap://alice%40example.org@mail.example.org/Drafts;UIDVALIDITY={duv}/;UID={duid};urlauth=submit+alice%40example.org\" INTERNAL"
            ),
        )
        .await;
    let url = quoted_after(&r, "* GENURLAUTH ");
    assert!(url.contains(":internal:"), "{url}");

    let mut smtp = sys.smtp_login(ALICE).await;
    let ehlo = smtp.smtp("EHLO client.example.org").await;
    assert!(ehlo.lines().any(|l| &l[4..] == "BURL imap"), "{ehlo}");
    smtp.envelope(ALICE, BOB).await;
    let r = smtp.smtp(&format!("BURL {url} LAST")).await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    let client_bytes = imap.sent + imap.received - sent0 - recv0 + smtp.sent + smtp.received;

    // The recipient gets the exact bytes of the draft.
    let mut draft = DRAFT_HEAD.as_bytes().to_vec();
    draft.extend_from_slice(ATTACHMENT_MIME.as_bytes());
    draft.extend_from_slice(&base64_lines(&attachment));
    draft.extend_from_slice(DRAFT_TAIL.as_bytes());
    let got = sys.inbox(BOB, 1).await;
    assert_eq!(got.len(), 1);
    assert!(
        got[0].ends_with(&draft),
        "delivered message differs from the draft"
    );
    assert!(got[0].len() < draft.len() + 4096);

    // The draft is marked submitted.
    let r = imap.imap("a4", "SELECT Drafts").await;
    assert!(r.iter().any(|l| l.contains(&format!("UIDVALIDITY {duv}"))));
    let r = imap.imap("a5", &format!("UID FETCH {duid} (FLAGS)")).await;
    let flags = r.iter().find(|l| l.contains("FLAGS (")).unwrap();
    assert!(flags.contains("$Submitted"), "{flags}");
    assert!(!flags.contains("$SubmitPending"), "{flags}");
    assert!(
        client_bytes * 100 < orig.len() as u64,
        "{client_bytes} bytes on the client's links"
    );

    // The same URL submitted by another user is refused, and leaks nothing.
    let mut other = sys.smtp_login(BOB).await;
    other.envelope(BOB, ALICE).await;
    assert_eq!(
        other.smtp(&format!("BURL {url} LAST")).await,
        "554 5.7.0 IMAP URL authorization failed"
    );
    // A forged token: imapd answers NIL.
    let forged = format!("{}{}", &url[..url.len() - 8], "00000000");
    smtp.envelope(ALICE, BOB).await;
    assert_eq!(
        smtp.smtp(&format!("BURL {forged} LAST")).await,
        "554 5.7.0 IMAP URL authorization failed"
    );
    // A URL naming bob's mailbox with alice's access: imapd answers NIL.
    let bobs = url.replacen(
        "imap://alice%40example.org@",
        "imap://bob%40example.org@",
        1,
    );
    smtp.envelope(ALICE, BOB).await;
    assert_eq!(
        smtp.smtp(&format!("BURL {bobs} LAST")).await,
        "554 5.7.0 IMAP URL authorization failed"
    );
    assert_eq!(sys.inbox(BOB, 1).await.len(), 1);
    assert_eq!(sys.inbox(ALICE, 1).await.len(), 1);
    sys.stop().await;
}

#[tokio::test]
async fn burl_parts_and_bdat_chunks_make_one_message() {
    let sys = System::start().await;
    let attachment = binary(3000);
    let orig = original(&attachment);
    let mut imap = sys.imap_login(ALICE).await;
    let r = append(&mut imap, "a1", "INBOX", "", &orig).await;
    let (uv, uid) = appenduid(&r);
    let mut urls = Vec::new();
    for section in ["2.MIME", "2"] {
        let r = imap
            .imap(
                "a2",
                &format!(
                    "GENURLAUTH \"imap://alice%40example.org@mail.example.org/INBOX;UIDVALIDITY={uv}/;UID={uid}/;SECTION={section};urlauth=submit+alice%40example.org\" INTERNAL"
                ),
            )
            .await;
        urls.push(quoted_after(&r, "* GENURLAUTH "));
    }
    let mut smtp = sys.smtp_login(ALICE).await;
    smtp.envelope(ALICE, BOB).await;
    smtp.send(format!("BDAT {}\r\n{DRAFT_HEAD}", DRAFT_HEAD.len()).as_bytes())
        .await;
    assert!(smtp.reply().await.starts_with("250"));
    for u in &urls {
        let r = smtp.smtp(&format!("BURL {u}")).await;
        assert!(r.starts_with("250 2.5.0"), "{r}");
    }
    smtp.send(format!("BDAT {} LAST\r\n{DRAFT_TAIL}", DRAFT_TAIL.len()).as_bytes())
        .await;
    let r = smtp.reply().await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    let mut want = DRAFT_HEAD.as_bytes().to_vec();
    want.extend_from_slice(ATTACHMENT_MIME.as_bytes());
    want.extend_from_slice(&base64_lines(&attachment));
    want.extend_from_slice(DRAFT_TAIL.as_bytes());
    let got = sys.inbox(BOB, 1).await;
    assert!(got[0].ends_with(&want));
    // The INBOX message was not pending: no $Submitted on it.
    let r = imap.imap("a3", "SELECT INBOX").await;
    assert!(!r.iter().any(|l| l.contains("$Submitted")), "{r:?}");
    let r = imap.imap("a4", &format!("UID FETCH {uid} (FLAGS)")).await;
    assert!(!r.iter().any(|l| l.contains("$Submitted")), "{r:?}");
    sys.stop().await;
}

#[tokio::test]
async fn without_plaintext_the_submission_server_reaches_imapd_over_starttls() {
    let sys = System::start_with(false).await;
    let msg = original(&binary(1000));
    let mut imap = sys.imap_login(ALICE).await;
    let r = append(&mut imap, "a1", "Drafts", "$SubmitPending", &msg).await;
    let (uv, uid) = appenduid(&r);
    let r = imap
        .imap(
            "a2",
            &format!(
                "GENURLAUTH \"imap://alice%40example.org@mail.example.org/Drafts;UIDVALIDITY={uv}/;UID={uid};urlauth=submit+alice%40example.org\" INTERNAL"
            ),
        )
        .await;
    let url = quoted_after(&r, "* GENURLAUTH ");
    let mut smtp = sys.smtp_login(ALICE).await;
    smtp.envelope(ALICE, BOB).await;
    let r = smtp.smtp(&format!("BURL {url} LAST")).await;
    // The message's From: is bob's, which alice does not own.
    assert_eq!(r, "550 5.7.1 From: address not owned by alice@example.org");
    let mut own = DRAFT_HEAD.as_bytes().to_vec();
    own.extend_from_slice(b"Content-Type: text/plain\r\n\r\nhello\r\n");
    own.extend_from_slice(DRAFT_TAIL.as_bytes());
    let r = append(&mut imap, "a3", "Drafts", "$SubmitPending", &own).await;
    let (_, uid) = appenduid(&r);
    let r = imap
        .imap(
            "a4",
            &format!(
                "GENURLAUTH \"imap://alice%40example.org@mail.example.org/Drafts;UIDVALIDITY={uv}/;UID={uid};urlauth=submit+alice%40example.org\" INTERNAL"
            ),
        )
        .await;
    let url = quoted_after(&r, "* GENURLAUTH ");
    smtp.envelope(ALICE, BOB).await;
    let r = smtp.smtp(&format!("BURL {url} LAST")).await;
    assert!(r.starts_with("250 2.0.0 OK queued as"), "{r}");
    assert!(sys.inbox(BOB, 1).await[0].ends_with(&own));
    imap.imap("a5", "SELECT Drafts").await;
    let r = imap.imap("a6", &format!("UID FETCH {uid} (FLAGS)")).await;
    assert!(r.iter().any(|l| l.contains("$Submitted")), "{r:?}");
    sys.stop().await;
}
