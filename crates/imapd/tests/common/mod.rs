//! A real server on 127.0.0.1 port 0 over a temp store, and a line-based
//! client (plain or TLS) that tests drive like any IMAP client.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use imapd::Daemon;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

pub const USER: &str = "alice@example.org";
pub const PASS: &str = "secret";
/// How long a test waits for any one expected event before failing.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Server {
    pub dir: tempfile::TempDir,
    pub store: store::Store,
    pub plain: SocketAddr,
    pub tls: SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<()>,
    pub config: Arc<Config>,
}

pub fn config(dir: &Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    let any = || Listen::new(vec!["127.0.0.1:0".parse().unwrap()]);
    c.imap.listen = any();
    c.imap.listen_tls = any();
    c
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let c = config(dir.path());
        Server::start_with(dir, c, true).await
    }

    /// Starts on `dir` (an existing store is reused); `seed` adds the domain and user.
    pub async fn start_with(dir: tempfile::TempDir, c: Config, seed: bool) -> Server {
        let store = store::Store::open(&dir.path().join("zest.db"))
            .await
            .unwrap();
        if seed {
            store.create_domain("example.org").await.unwrap();
            let a = store::EmailAddress::parse(USER).unwrap();
            store.create_account(&a, PASS, false).await.unwrap();
        }
        let config = Arc::new(c);
        let shutdown = Shutdown::new();
        let daemon = Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let addrs = daemon.local_addrs();
        let find = |n: &str| addrs.iter().find(|(name, _)| *name == n).unwrap().1;
        let (plain, tls) = (find("imap"), find("imaps"));
        let task = tokio::spawn(async move {
            daemon.run().await.unwrap();
        });
        Server {
            dir,
            store,
            plain,
            tls,
            shutdown,
            task,
            config,
        }
    }

    pub async fn stop(self) -> tempfile::TempDir {
        self.shutdown.trigger();
        let _ = tokio::time::timeout(WAIT, self.task).await;
        self.store.close().await;
        self.dir
    }

    pub async fn client(&self) -> Client {
        Client::plain(self.plain).await
    }

    pub async fn account(&self) -> store::Account {
        let a = store::EmailAddress::parse(USER).unwrap();
        self.store.account(&a).await.unwrap().unwrap()
    }

    pub fn cert_path(&self) -> PathBuf {
        zest_core::tls::self_signed_paths(self.dir.path()).0
    }
}

trait Io: tokio::io::AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub struct Client {
    io: BufReader<Box<dyn Io>>,
}

pub fn tls_connector(cert: &Path) -> tokio_rustls::TlsConnector {
    let pem = std::fs::read(cert).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut pem.as_slice()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

impl Client {
    pub async fn plain(addr: SocketAddr) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        Client {
            io: BufReader::new(Box::new(tcp)),
        }
    }

    pub async fn tls(addr: SocketAddr, cert: &Path) -> Client {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tls_connector(cert).connect(name, tcp).await.unwrap();
        Client {
            io: BufReader::new(Box::new(tls)),
        }
    }

    /// STARTTLS on this connection (the command's OK already read).
    pub async fn upgrade(self, cert: &Path) -> Client {
        assert!(self.io.buffer().is_empty());
        // The boxed stream is a TcpStream here; rebuild from its raw parts.
        let inner = self.io.into_inner();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tls_connector(cert).connect(name, inner).await.unwrap();
        Client {
            io: BufReader::new(Box::new(tls)),
        }
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
    }

    pub async fn send(&mut self, line: &str) {
        self.send_raw(format!("{line}\r\n").as_bytes()).await;
    }

    /// One line without CRLF; None at EOF.
    pub async fn line(&mut self) -> Option<String> {
        let mut buf = Vec::new();
        let n = tokio::time::timeout(WAIT, self.io.read_until(b'\n', &mut buf))
            .await
            .expect("a line from the server")
            .unwrap_or(0);
        if n == 0 {
            return None;
        }
        let s = String::from_utf8_lossy(&buf).into_owned();
        Some(s.trim_end_matches('\n').trim_end_matches('\r').to_string())
    }

    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        tokio::time::timeout(WAIT, self.io.read_exact(&mut buf))
            .await
            .unwrap()
            .unwrap();
        buf
    }

    /// Lines up to and including the tagged response for `tag`.
    pub async fn until_tagged(&mut self, tag: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await.expect("connection open");
            let done = l.starts_with(&format!("{tag} "));
            out.push(l);
            if done {
                return out;
            }
        }
    }

    /// Sends `tag cmd` and returns every line through the tagged response.
    pub async fn cmd(&mut self, tag: &str, cmd: &str) -> Vec<String> {
        self.send(&format!("{tag} {cmd}")).await;
        self.until_tagged(tag).await
    }

    /// Reads the greeting and logs in.
    pub async fn login(&mut self) {
        let greeting = self.line().await.unwrap();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        let r = self.cmd("l1", &format!("LOGIN {USER} {PASS}")).await;
        assert!(r.last().unwrap().starts_with("l1 OK"), "{r:?}");
    }

    /// APPEND with a synchronising literal.
    pub async fn append(
        &mut self,
        tag: &str,
        mailbox: &str,
        flags: &str,
        msg: &[u8],
    ) -> Vec<String> {
        self.send(&format!(
            "{tag} APPEND {mailbox} ({flags}) {{{}}}",
            msg.len()
        ))
        .await;
        let cont = self.line().await.unwrap();
        assert!(cont.starts_with('+'), "{cont}");
        self.send_raw(msg).await;
        self.send_raw(b"\r\n").await;
        self.until_tagged(tag).await
    }
}

pub fn message(subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Joe Example <joe@example.com>\r\nTo: alice@example.org\r\nSubject: {subject}\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\nMessage-ID: <{subject}@example.com>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}
