//! A script uploaded over ManageSieve is the one the MDA runs on the next
//! delivery: ManageSieve, LMTP and IMAP daemons over one store, spoken to
//! only through their sockets (the address book is filled through the store,
//! as the admin UI would).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

const USER: &str = "alice@example.org";
const PASS: &str = "secret";
const WAIT: Duration = Duration::from_secs(20);

struct Conn {
    io: BufReader<TcpStream>,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Conn {
        Conn {
            io: BufReader::new(TcpStream::connect(addr).await.unwrap()),
        }
    }

    async fn send(&mut self, data: &str) {
        self.io.get_mut().write_all(data.as_bytes()).await.unwrap();
    }

    async fn line(&mut self) -> String {
        let mut buf = String::new();
        let n = tokio::time::timeout(WAIT, self.io.read_line(&mut buf))
            .await
            .expect("a line from the server")
            .unwrap();
        assert!(n > 0, "connection closed");
        buf.trim_end_matches(['\r', '\n']).to_string()
    }

    /// Lines through the first one `last` accepts.
    async fn until(&mut self, last: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await;
            let done = last(&l);
            out.push(l);
            if done {
                return out;
            }
        }
    }
}

fn final_sieve(l: &str) -> bool {
    l.starts_with("OK") || l.starts_with("NO") || l.starts_with("BYE")
}

async fn sieve(c: &mut Conn, command: &str) -> Vec<String> {
    c.send(command).await;
    c.until(final_sieve).await
}

async fn put_and_activate(addr: SocketAddr, script: &str) {
    let mut c = Conn::connect(addr).await;
    c.until(final_sieve).await;
    let plain = base64_plain();
    assert_eq!(
        sieve(&mut c, &format!("AUTHENTICATE \"PLAIN\" \"{plain}\"\r\n")).await,
        vec!["OK \"Authenticated\""]
    );
    let put = format!("PUTSCRIPT \"main\" {{{}+}}\r\n{script}\r\n", script.len());
    assert_eq!(sieve(&mut c, &put).await, vec!["OK \"Script stored\""]);
    assert_eq!(
        sieve(&mut c, "SETACTIVE \"main\"\r\n").await,
        vec!["OK \"Script activated\""]
    );
    sieve(&mut c, "LOGOUT\r\n").await;
}

fn base64_plain() -> String {
    // "\0alice@example.org\0secret"
    "AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==".to_string()
}

async fn lmtp(addr: SocketAddr, from: &str, subject: &str) {
    let mut c = Conn::connect(addr).await;
    let reply = |l: &str| l.len() >= 4 && l.as_bytes()[3] == b' ';
    c.until(reply).await;
    c.send("LHLO client.example.net\r\n").await;
    c.until(reply).await;
    for cmd in [format!("MAIL FROM:<{from}>"), format!("RCPT TO:<{USER}>")] {
        c.send(&format!("{cmd}\r\n")).await;
        let r = c.until(reply).await;
        assert!(r.last().unwrap().starts_with("250"), "{cmd}: {r:?}");
    }
    c.send("DATA\r\n").await;
    assert!(c.until(reply).await.last().unwrap().starts_with("354"));
    c.send(&format!(
        "From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.net>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n.\r\n"
    ))
    .await;
    let r = c.until(reply).await;
    assert!(r.last().unwrap().starts_with("250"), "{r:?}");
    c.send("QUIT\r\n").await;
}

/// The subjects in `mailbox`, read over IMAP.
async fn subjects(addr: SocketAddr, mailbox: &str) -> Vec<String> {
    let mut c = Conn::connect(addr).await;
    c.line().await;
    let tagged = |tag: &'static str| move |l: &str| l.starts_with(&format!("{tag} "));
    c.send(&format!("a LOGIN {USER} {PASS}\r\n")).await;
    let r = c.until(tagged("a")).await;
    assert!(r.last().unwrap().starts_with("a OK"), "{r:?}");
    c.send(&format!("b SELECT \"{mailbox}\"\r\n")).await;
    let r = c.until(tagged("b")).await;
    if !r.last().unwrap().starts_with("b OK") {
        return Vec::new();
    }
    c.send("c FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
        .await;
    let r = c.until(tagged("c")).await;
    assert!(r.last().unwrap().starts_with("c OK"), "{r:?}");
    c.send("d LOGOUT\r\n").await;
    r.iter()
        .filter_map(|l| l.strip_prefix("Subject: "))
        .map(str::to_string)
        .collect()
}

/// The three daemons on one store, and their addresses.
struct System {
    store: store::Store,
    shutdown: Shutdown,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    sieve: SocketAddr,
    lmtp: SocketAddr,
    imap: SocketAddr,
    _dir: tempfile::TempDir,
}

impl System {
    async fn start() -> System {
        let dir = tempfile::tempdir().unwrap();
        let any = || Listen::new(vec!["127.0.0.1:0".parse().unwrap()]);
        let mut c = Config {
            hostname: "mx.example.org".into(),
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        c.managesieve.listen = any();
        c.mda.lmtp_listen = any();
        c.mda.smtp_listen = Listen::new(Vec::new());
        c.mda.verify_auth = false;
        c.imap.listen = any();
        c.imap.listen_tls = Listen::new(Vec::new());
        let config = Arc::new(c);

        let store = store::Store::open(&config.db_path()).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let alice = store::EmailAddress::parse(USER).unwrap();
        let account = store.create_account(&alice, PASS, false).await.unwrap();
        store
            .add_contact(
                account.id,
                "default",
                store::NewContact {
                    name: "Bob".into(),
                    emails: vec!["bob@example.net".into()],
                    note: String::new(),
                },
            )
            .await
            .unwrap();

        let shutdown = Shutdown::new();
        let sieve_d = managesieve::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let mda_d = mda::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let imap_d = imapd::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let find = |addrs: Vec<(&'static str, SocketAddr)>, name: &str| {
            addrs.into_iter().find(|(n, _)| *n == name).unwrap().1
        };
        let sieve_addr = find(sieve_d.local_addrs(), "managesieve");
        let lmtp_addr = find(mda_d.local_addrs(), "lmtp");
        let imap_addr = find(imap_d.local_addrs(), "imap");
        let tasks = vec![
            tokio::spawn(async move { sieve_d.run().await.unwrap() }),
            tokio::spawn(async move { mda_d.run().await.unwrap() }),
            tokio::spawn(async move { imap_d.run().await.unwrap() }),
        ];

        System {
            store,
            shutdown,
            tasks,
            sieve: sieve_addr,
            lmtp: lmtp_addr,
            imap: imap_addr,
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
}

const KNOWN_TO_FOLDER: &str = "require [\"fileinto\", \"mailbox\", \"extlists\"];\r\n\
     if address :list \"from\" \":addrbook:default\" {\r\n  fileinto :create \"Known\";\r\n}\r\n";

#[tokio::test]
async fn script_uploaded_over_managesieve_runs_on_the_next_delivery() {
    let s = System::start().await;
    // People in the address book go to "Known".
    put_and_activate(s.sieve, KNOWN_TO_FOLDER).await;
    lmtp(s.lmtp, "bob@example.net", "first-known").await;
    lmtp(s.lmtp, "eve@example.net", "first-stranger").await;
    assert_eq!(subjects(s.imap, "Known").await, vec!["first-known"]);
    assert_eq!(subjects(s.imap, "INBOX").await, vec!["first-stranger"]);
    s.stop().await;
}

#[tokio::test]
async fn replaced_script_runs_on_the_next_delivery() {
    let s = System::start().await;
    put_and_activate(s.sieve, KNOWN_TO_FOLDER).await;
    lmtp(s.lmtp, "bob@example.net", "first-known").await;
    assert_eq!(subjects(s.imap, "Known").await, vec!["first-known"]);
    // Replacing the script changes what the very next delivery does.
    put_and_activate(
        s.sieve,
        "require [\"fileinto\", \"mailbox\"];\r\nfileinto :create \"Everything\";\r\n",
    )
    .await;
    lmtp(s.lmtp, "bob@example.net", "second-known").await;
    assert_eq!(subjects(s.imap, "Everything").await, vec!["second-known"]);
    assert_eq!(subjects(s.imap, "Known").await, vec!["first-known"]);
    s.stop().await;
}
