//! Temporary in-process imapd, MDA and submission daemons over one store, and
//! a plain client connection for driving them, shared by the benchmarks.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

pub const ALICE: &str = "alice@example.org";
pub const BOB: &str = "bob@example.org";
pub const PASS: &str = "bench-password";
pub const TIMEOUT: Duration = Duration::from_secs(300);

/// What the temporary system is set up with beyond its defaults.
#[derive(Default)]
pub struct SystemSpec {
    /// `[submission] routes`: domain to host:port.
    pub routes: BTreeMap<String, String>,
    /// A Sieve script made bob's active script.
    pub bob_sieve: Option<String>,
}

/// A client connection that counts the bytes it moves.
pub struct Conn {
    io: BufReader<TcpStream>,
    pub sent: u64,
    pub received: u64,
}

impl Conn {
    pub async fn connect(addr: SocketAddr) -> Result<Conn> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        Ok(Conn {
            io: BufReader::with_capacity(256 * 1024, tcp),
            sent: 0,
            received: 0,
        })
    }

    pub async fn send(&mut self, data: &[u8]) -> Result<()> {
        self.io.get_mut().write_all(data).await?;
        self.sent += data.len() as u64;
        Ok(())
    }

    pub async fn line(&mut self) -> Result<String> {
        let mut buf = Vec::new();
        let n = tokio::time::timeout(TIMEOUT, self.io.read_until(b'\n', &mut buf))
            .await
            .context("server too slow")??;
        if n == 0 {
            bail!("connection closed");
        }
        self.received += n as u64;
        Ok(String::from_utf8_lossy(&buf)
            .trim_end_matches(['\r', '\n'])
            .to_string())
    }

    pub async fn exact(&mut self, n: usize) -> Result<Vec<u8>> {
        let mut buf = vec![0; n];
        tokio::time::timeout(TIMEOUT, self.io.read_exact(&mut buf))
            .await
            .context("server too slow")??;
        self.received += n as u64;
        Ok(buf)
    }

    pub async fn tagged(&mut self, tag: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        loop {
            let l = self.line().await?;
            let done = l.starts_with(&format!("{tag} "));
            out.push(l);
            if done {
                return Ok(out);
            }
        }
    }

    pub async fn imap(&mut self, tag: &str, cmd: &str) -> Result<Vec<String>> {
        self.send(format!("{tag} {cmd}\r\n").as_bytes()).await?;
        let r = self.tagged(tag).await?;
        match r.last() {
            Some(l) if l.starts_with(&format!("{tag} OK")) => Ok(r),
            _ => bail!("{cmd}: {r:?}"),
        }
    }

    pub async fn reply(&mut self) -> Result<String> {
        let mut lines = Vec::new();
        loop {
            let l = self.line().await?;
            let last = l.as_bytes().get(3) != Some(&b'-');
            lines.push(l);
            if last {
                return Ok(lines.join("\n"));
            }
        }
    }

    pub async fn expect_2xx(&mut self, cmd: &str) -> Result<String> {
        self.send(format!("{cmd}\r\n").as_bytes()).await?;
        let r = self.reply().await?;
        if !r.starts_with('2') {
            bail!("{cmd}: {r}");
        }
        Ok(r)
    }
}

/// imapd, MDA and submission over one temporary store.
pub struct System {
    pub store: store::Store,
    shutdown: Shutdown,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    pub imap: SocketAddr,
    pub submission: SocketAddr,
    _dir: tempfile::TempDir,
}

impl System {
    pub async fn start(spec: &SystemSpec) -> Result<System> {
        let dir = tempfile::tempdir().context("creating a temporary data directory")?;
        let any = || Listen::new(vec![SocketAddr::from(([127, 0, 0, 1], 0))]);
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
        c.auth.allow_plaintext_on_loopback = true;
        c.submission.routes = spec.routes.clone();
        let base = Arc::new(c.clone());
        let store = store::Store::open(&base.db_path()).await?;
        store.create_domain("example.org").await?;
        for user in [ALICE, BOB] {
            store
                .create_account(&store::EmailAddress::parse(user)?, PASS, false)
                .await?;
        }
        if let Some(script) = &spec.bob_sieve {
            let bob = store
                .account(&store::EmailAddress::parse(BOB)?)
                .await?
                .context("no bob")?;
            store
                .put_script(bob.id, "bench", script.as_bytes().to_vec())
                .await?;
            store.activate_script(bob.id, Some("bench")).await?;
        }
        let shutdown = Shutdown::new();
        let find = |addrs: Vec<(&'static str, SocketAddr)>, name: &str| {
            addrs
                .into_iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| a)
                .with_context(|| format!("no {name} listener"))
        };
        let imap_d = imapd::Daemon::bind(base.clone(), store.clone(), shutdown.clone()).await?;
        let mda_d = mda::Daemon::bind(base.clone(), store.clone(), shutdown.clone()).await?;
        let imap = find(imap_d.local_addrs(), "imap")?;
        let lmtp = find(mda_d.local_addrs(), "lmtp")?;
        c.imap.listen = Listen::new(vec![imap]);
        c.mda.lmtp_listen = Listen::new(vec![lmtp]);
        c.submission.listen = any();
        let sub_d = submission::Daemon::bind(Arc::new(c), store.clone(), shutdown.clone()).await?;
        let submission = find(sub_d.local_addrs(), "submission")?;
        let tasks = vec![
            tokio::spawn(async move {
                let _ = imap_d.run().await;
            }),
            tokio::spawn(async move {
                let _ = mda_d.run().await;
            }),
            tokio::spawn(async move {
                let _ = sub_d.run().await;
            }),
        ];
        Ok(System {
            store,
            shutdown,
            tasks,
            imap,
            submission,
            _dir: dir,
        })
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(30), t).await;
        }
        self.store.close().await;
    }

    pub async fn imap_login(&self) -> Result<Conn> {
        let mut c = Conn::connect(self.imap).await?;
        c.line().await?;
        c.imap("l", &format!("LOGIN {ALICE} {PASS}")).await?;
        Ok(c)
    }

    pub async fn smtp_login(&self) -> Result<Conn> {
        let mut c = Conn::connect(self.submission).await?;
        c.reply().await?;
        c.expect_2xx("EHLO client.example.org").await?;
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("\0{ALICE}\0{PASS}").as_bytes());
        c.expect_2xx(&format!("AUTH PLAIN {token}")).await?;
        Ok(c)
    }

    /// Waits until bob's INBOX holds `n` messages.
    pub async fn delivered(&self, n: u64) -> Result<()> {
        let bob = store::EmailAddress::parse(BOB)?;
        let account = self.store.account(&bob).await?.context("no bob")?;
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Ok(Some(mb)) = self.store.mailbox(account.id, "INBOX").await
                    && mb.messages >= n
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .context("not every message reached the mailbox")
    }
}
