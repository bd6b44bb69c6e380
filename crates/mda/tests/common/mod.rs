//! What the MDA tests share: a real store in a temp dir, the daemon on
//! 127.0.0.1 port 0, and a plain SMTP/LMTP client over a real socket.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use store::{Account, EmailAddress, Flags, Store};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

pub struct Server {
    pub dir: TempDir,
    pub store: Store,
    pub lmtp: SocketAddr,
    pub smtp: SocketAddr,
    pub accounts: Vec<Account>,
    pub config: Arc<Config>,
    shutdown: Shutdown,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.trigger();
    }
}

pub fn config(dir: &std::path::Path) -> Config {
    let mut c = Config {
        hostname: "mx.example.org".into(),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    c.mda.lmtp_listen = Listen::new(vec![any]);
    c.mda.smtp_listen = Listen::new(vec![any]);
    c.mda.verify_auth = false;
    c
}

/// Starts the MDA over a new store with domain example.org and `users`.
pub async fn start(users: &[&str]) -> Server {
    start_with(users, |_| {}).await
}

pub async fn start_with(users: &[&str], tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("zest.db")).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    let mut accounts = Vec::new();
    for u in users {
        accounts.push(
            store
                .create_account(&addr(u), "secret", false)
                .await
                .unwrap(),
        );
    }
    let mut c = config(dir.path());
    tweak(&mut c);
    let config = Arc::new(c);
    let shutdown = Shutdown::new();
    let daemon = mda::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
        .await
        .unwrap();
    let addrs = daemon.local_addrs();
    let lmtp = addrs.iter().find(|(k, _)| *k == "lmtp").unwrap().1;
    let smtp = addrs.iter().find(|(k, _)| *k == "smtp").unwrap().1;
    tokio::spawn(daemon.run());
    Server {
        dir,
        store,
        lmtp,
        smtp,
        accounts,
        config,
        shutdown,
    }
}

impl Server {
    pub fn account(&self, address: &str) -> &Account {
        self.accounts
            .iter()
            .find(|a| a.address.as_str() == address)
            .unwrap()
    }

    /// Stores `script` as the active script of `user`.
    pub async fn script(&self, user: &str, script: &str) {
        let a = self.account(user).id;
        self.store
            .put_script(a, "main", script.as_bytes().to_vec())
            .await
            .unwrap();
        self.store.activate_script(a, Some("main")).await.unwrap();
    }

    /// The messages of `user`'s `mailbox`: flags and bytes, in UID order.
    pub async fn messages(&self, user: &str, mailbox: &str) -> Vec<(Flags, Vec<u8>)> {
        let a = self.account(user).id;
        let Ok(status) = self.store.mailbox_status(a, mailbox).await else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in self.store.entries(a, status.id).await.unwrap() {
            let raw = self.store.read_message(a, status.id, e.uid).await.unwrap();
            out.push((e.flags, raw));
        }
        out
    }

    /// Queue entries: (source, sender, recipients, raw).
    pub async fn queue(&self) -> Vec<(String, String, Vec<String>, Vec<u8>)> {
        let mut out = Vec::new();
        for q in self.store.list_queue().await.unwrap() {
            let raw = self.store.queue_message_raw(q.id).await.unwrap();
            out.push((
                q.source.to_string(),
                q.sender.clone(),
                q.recipients.iter().map(|r| r.address.clone()).collect(),
                raw,
            ));
        }
        out
    }

    /// Sends one message over LMTP; returns the reply to each recipient.
    pub async fn lmtp(&self, from: &str, rcpts: &[&str], message: &str) -> Vec<String> {
        let mut c = Client::connect(self.lmtp).await;
        c.expect(220).await;
        c.cmd("LHLO client.example.net").await;
        assert!(c.cmd(&format!("MAIL FROM:<{from}>")).await[0].starts_with("250"));
        let mut ok = 0;
        let mut replies = Vec::new();
        for r in rcpts {
            let reply = c.cmd(&format!("RCPT TO:<{r}>")).await;
            if reply[0].starts_with("250") {
                ok += 1;
            }
            replies.push(reply[0].clone());
        }
        if ok == 0 {
            return replies;
        }
        assert!(c.cmd("DATA").await[0].starts_with("354"));
        c.send(&dot_stuff(message)).await;
        c.send(".\r\n").await;
        let mut out = Vec::new();
        for r in &replies {
            if r.starts_with("250") {
                out.push(c.reply().await.pop().unwrap());
            } else {
                out.push(r.clone());
            }
        }
        c.cmd("QUIT").await;
        out
    }

    /// Delivers over LMTP to one recipient and asserts it was accepted.
    pub async fn deliver(&self, from: &str, to: &str, message: &str) {
        let r = self.lmtp(from, &[to], message).await;
        assert!(r[0].starts_with("250"), "{r:?}");
    }
}

/// CRLF line ends and RFC 5321 4.5.2 dot-stuffing.
pub fn dot_stuff(message: &str) -> String {
    let mut out = String::new();
    for line in message.replace("\r\n", "\n").split_inclusive('\n') {
        let line = line.strip_suffix('\n').unwrap_or(line);
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

pub fn message(from: &str, to: &str, subject: &str) -> String {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}.{n}@example.net>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello.\r\n",
        n = std::process::id()
    )
}

pub struct Client {
    stream: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let s = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
            .await
            .unwrap()
            .unwrap();
        Client {
            stream: BufReader::new(s),
        }
    }

    pub async fn send(&mut self, data: &str) {
        self.send_bytes(data.as_bytes()).await;
    }

    pub async fn send_bytes(&mut self, data: &[u8]) {
        self.stream.get_mut().write_all(data).await.unwrap();
    }

    /// One reply, all its lines.
    pub async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(TIMEOUT, self.stream.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "connection closed; got {lines:?}");
            let line = line.trim_end().to_string();
            let last = line.len() < 4 || line.as_bytes()[3] == b' ';
            lines.push(line);
            if last {
                return lines;
            }
        }
    }

    pub async fn expect(&mut self, code: u16) -> Vec<String> {
        let r = self.reply().await;
        assert!(
            r[0].starts_with(&code.to_string()),
            "expected {code}, got {r:?}"
        );
        r
    }

    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(&format!("{line}\r\n")).await;
        self.reply().await
    }

    /// Reads to the end of the stream.
    pub async fn closed(&mut self) -> bool {
        let mut line = String::new();
        matches!(
            tokio::time::timeout(TIMEOUT, self.stream.read_line(&mut line)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    /// Sends a command and asserts the reply starts with `prefix`.
    pub async fn expect_cmd(&mut self, line: &str, prefix: &str) -> Vec<String> {
        let r = self.cmd(line).await;
        assert!(
            r[0].starts_with(prefix),
            "{line:?}: expected {prefix}, got {r:?}"
        );
        r
    }

    pub fn into_inner(self) -> TcpStream {
        self.stream.into_inner()
    }
}

/// The same conversation over TLS.
pub struct TlsClient {
    stream: BufReader<tokio_rustls::client::TlsStream<TcpStream>>,
}

impl TlsClient {
    pub fn new(s: tokio_rustls::client::TlsStream<TcpStream>) -> TlsClient {
        TlsClient {
            stream: BufReader::new(s),
        }
    }

    pub async fn send(&mut self, data: &str) {
        self.stream
            .get_mut()
            .write_all(data.as_bytes())
            .await
            .unwrap();
    }

    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(&format!("{line}\r\n")).await;
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            let n = tokio::time::timeout(TIMEOUT, self.stream.read_line(&mut l))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "closed after {lines:?}");
            let l = l.trim_end().to_string();
            let last = l.len() < 4 || l.as_bytes()[3] == b' ';
            lines.push(l);
            if last {
                return lines;
            }
        }
    }

    pub async fn expect_cmd(&mut self, line: &str, prefix: &str) -> Vec<String> {
        let r = self.cmd(line).await;
        assert!(
            r[0].starts_with(prefix),
            "{line:?}: expected {prefix}, got {r:?}"
        );
        r
    }
}
