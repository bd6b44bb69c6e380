//! A real ManageSieve server on 127.0.0.1 port 0 over a temp store, and a
//! line-based client (plain, or TLS after STARTTLS) that tests drive like any
//! ManageSieve client.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use managesieve::Daemon;
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
    pub addr: SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<()>,
    pub config: Arc<Config>,
}

pub fn config(dir: &Path) -> Config {
    let mut c = Config {
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    c.managesieve.listen = Listen::new(vec!["127.0.0.1:0".parse().unwrap()]);
    c
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(|_| {}).await
    }

    /// Starts with the default test config changed by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut c = config(dir.path());
        tweak(&mut c);
        let store = store::Store::open(&c.db_path()).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let a = store::EmailAddress::parse(USER).unwrap();
        store.create_account(&a, PASS, false).await.unwrap();
        let config = Arc::new(c);
        let shutdown = Shutdown::new();
        let daemon = Daemon::bind(config.clone(), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let addr = daemon.local_addrs()[0].1;
        let task = tokio::spawn(async move {
            daemon.run().await.unwrap();
        });
        Server {
            dir,
            store,
            addr,
            shutdown,
            task,
            config,
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = tokio::time::timeout(WAIT, self.task).await;
        self.store.close().await;
    }

    pub async fn client(&self) -> Client {
        let mut c = Client::plain(self.addr).await;
        c.response().await;
        c
    }

    /// A client logged in as USER (plaintext on loopback, allowed by default).
    pub async fn login(&self) -> Client {
        let mut c = self.client().await;
        let r = c
            .cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, PASS)))
            .await;
        assert_eq!(r, vec!["OK \"Authenticated\""]);
        c
    }

    pub async fn account(&self) -> store::Account {
        let a = store::EmailAddress::parse(USER).unwrap();
        self.store.account(&a).await.unwrap().unwrap()
    }

    pub fn cert_path(&self) -> PathBuf {
        zest_core::tls::self_signed_paths(self.dir.path()).0
    }
}

/// SASL PLAIN's message in base64.
pub fn plain(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"))
}

pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
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

    /// TLS on this connection (STARTTLS's OK already read).
    pub async fn upgrade(self, cert: &Path) -> Client {
        assert!(self.io.buffer().is_empty());
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

    /// One line, None at EOF, Err when nothing came within WAIT.
    pub async fn try_line(&mut self) -> Result<Option<String>, ()> {
        let mut buf = Vec::new();
        match tokio::time::timeout(WAIT, self.io.read_until(b'\n', &mut buf)).await {
            Err(_) => Err(()),
            Ok(Err(_)) | Ok(Ok(0)) => Ok(None),
            Ok(Ok(_)) => {
                let s = String::from_utf8_lossy(&buf).into_owned();
                Ok(Some(
                    s.trim_end_matches('\n').trim_end_matches('\r').to_string(),
                ))
            }
        }
    }

    pub async fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut buf = vec![0; n];
        tokio::time::timeout(WAIT, self.io.read_exact(&mut buf))
            .await
            .unwrap()
            .unwrap();
        buf
    }

    /// Lines through the next OK, NO or BYE.
    pub async fn response(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await.expect("connection open");
            let done = ["OK", "NO", "BYE"]
                .iter()
                .any(|s| l == *s || l.starts_with(&format!("{s} ")));
            out.push(l);
            if done {
                return out;
            }
        }
    }

    /// Sends a command line and returns every line through its response.
    pub async fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(line).await;
        self.response().await
    }

    /// EOF from the server (after BYE or LOGOUT).
    pub async fn closed(&mut self) -> bool {
        self.line().await.is_none()
    }
}
