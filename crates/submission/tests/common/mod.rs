//! What the submission tests share: a daemon on port 0 over a real store,
//! a line-oriented client, and an SMTP/LMTP sink whose answers a test
//! chooses (to see retries, bounces and what was delivered).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use store::{EmailAddress, Store};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

/// How long a test waits for something that should happen at once.
pub const WAIT: Duration = Duration::from_secs(60);

pub const ALICE: &str = "alice@example.org";
pub const PASSWORD: &str = "secret-pw";

pub fn loopback0() -> Listen {
    Listen::new(vec!["127.0.0.1:0".parse().unwrap()])
}

/// Opens (and sets up, the first time) a store in `dir`: domain example.org,
/// alice with the alias al@example.org, and bob.
pub async fn open_store(dir: &Path) -> Store {
    let store = Store::open(&dir.join("zest.db")).await.unwrap();
    if !store.is_local_domain("example.org").await.unwrap() {
        store.create_domain("example.org").await.unwrap();
        let alice = EmailAddress::parse(ALICE).unwrap();
        store.create_account(&alice, PASSWORD, false).await.unwrap();
        store
            .create_alias(&EmailAddress::parse("al@example.org").unwrap(), &alice)
            .await
            .unwrap();
        let bob = EmailAddress::parse("bob@example.org").unwrap();
        store.create_account(&bob, "bob-pw", false).await.unwrap();
    }
    store
}

pub fn config(dir: &Path, lmtp: SocketAddr, routes: &[(&str, SocketAddr)]) -> Config {
    let mut c = Config {
        hostname: "mail.example.org".into(),
        data_dir: dir.to_path_buf(),
        ..Config::default()
    };
    c.submission.listen = loopback0();
    c.submission.listen_tls = loopback0();
    c.mda.lmtp_listen = Listen::new(vec![lmtp]);
    c.submission.routes = routes
        .iter()
        .map(|(d, a)| (d.to_string(), a.to_string()))
        .collect::<BTreeMap<_, _>>();
    c
}

pub struct Server {
    pub dir: PathBuf,
    pub store: Store,
    pub submission: SocketAddr,
    pub submissions: SocketAddr,
    pub shutdown: Shutdown,
    pub task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub async fn start(dir: &Path, config: Config) -> Server {
        let store = open_store(dir).await;
        let shutdown = Shutdown::new();
        let daemon = submission::Daemon::bind(Arc::new(config), store.clone(), shutdown.clone())
            .await
            .unwrap();
        let addrs = daemon.local_addrs();
        let get = |n: &str| addrs.iter().find(|(name, _)| *name == n).unwrap().1;
        let (submission, submissions) = (get("submission"), get("submissions"));
        let task = tokio::spawn(async move {
            daemon.run().await.unwrap();
        });
        Server {
            dir: dir.to_path_buf(),
            store,
            submission,
            submissions,
            shutdown,
            task,
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::timeout(WAIT, self.task)
            .await
            .unwrap()
            .unwrap();
    }

    /// Waits until the queue is empty.
    pub async fn queue_drained(&self) {
        tokio::time::timeout(WAIT, async {
            loop {
                if self.store.list_queue().await.unwrap().is_empty() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("queue did not drain");
    }
}

/// A plain-text SMTP client that shows replies as the server sent them.
pub struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect(addr).await.unwrap();
        let mut c = Client {
            reader: BufReader::new(s),
        };
        let greeting = c.reply().await;
        assert!(greeting.starts_with("220 "), "{greeting}");
        c
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).await.unwrap();
    }

    /// One whole reply, lines joined with "\n" (CRLF removed); "" at EOF.
    pub async fn reply(&mut self) -> String {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .unwrap()
                .unwrap();
            if n == 0 {
                return lines.join("\n");
            }
            let line = line.trim_end_matches(['\r', '\n']).to_string();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                return lines.join("\n");
            }
        }
    }

    pub async fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    pub async fn login(&mut self, user: &str, password: &str) {
        let r = self.cmd("EHLO client.test").await;
        assert!(r.starts_with("250-"), "{r}");
        let token = base64_encode(format!("\0{user}\0{password}").as_bytes());
        let r = self.cmd(&format!("AUTH PLAIN {token}")).await;
        assert_eq!(r, "235 2.7.0 Authentication successful");
    }

    /// MAIL, RCPTs, DATA and the message; returns the final reply.
    pub async fn submit(&mut self, from: &str, to: &[&str], message: &str) -> String {
        self.submit_with(&format!("MAIL FROM:<{from}>"), to, message)
            .await
    }

    /// `submit`, which must be accepted.
    pub async fn submit_ok(&mut self, from: &str, to: &[&str], message: &str) {
        let r = self.submit(from, to, message).await;
        assert!(r.starts_with("250"), "{r}");
    }

    /// Like `submit` with the MAIL command line given.
    pub async fn submit_with(&mut self, mail: &str, to: &[&str], message: &str) -> String {
        let r = self.cmd(mail).await;
        if !r.starts_with("250") {
            return r;
        }
        for t in to {
            let r = self.cmd(&format!("RCPT TO:<{t}>")).await;
            assert!(r.starts_with("250"), "{r}");
        }
        let r = self.cmd("DATA").await;
        assert!(r.starts_with("354"), "{r}");
        self.send(message.as_bytes()).await;
        self.send(b".\r\n").await;
        self.reply().await
    }
}

pub fn base64_encode(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(data)
}

// ---------------------------------------------------------------------------
// The sink

/// One message the sink accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The MAIL command line as sent.
    pub mail: String,
    /// The RCPT command lines of accepted recipients.
    pub rcpts: Vec<String>,
    pub data: Vec<u8>,
    /// "DATA" or "BDAT".
    pub via: &'static str,
}

impl Received {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// How the sink answers.
#[derive(Default)]
pub struct Behaviour {
    pub lmtp: bool,
    /// Extra EHLO keywords.
    pub ehlo: Vec<String>,
    /// Replies to RCPT by address (default "250 2.1.5 ok").
    pub rcpt: BTreeMap<String, String>,
    /// Replies to the data, used up in order (then "250 2.0.0 ok").
    pub data: VecDeque<String>,
    /// Before answering the data: tell `data_arrived`, then wait for `release`.
    pub hold_data: bool,
    /// Decoded AUTH PLAIN messages received (each answered 235).
    pub auth_seen: Vec<String>,
}

pub struct Sink {
    pub addr: SocketAddr,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub received: mpsc::UnboundedReceiver<Received>,
    pub data_arrived: Arc<Notify>,
    pub release: Arc<Notify>,
    pub connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl Sink {
    /// A sink that speaks LMTP, standing in for the MDA.
    pub async fn lmtp() -> Sink {
        Sink::start(Behaviour {
            lmtp: true,
            ..Behaviour::default()
        })
        .await
    }

    pub async fn start(behaviour: Behaviour) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let behaviour = Arc::new(Mutex::new(behaviour));
        let (tx, rx) = mpsc::unbounded_channel();
        let data_arrived = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (b, a, r, n) = (
            behaviour.clone(),
            data_arrived.clone(),
            release.clone(),
            connections.clone(),
        );
        tokio::spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    return;
                };
                n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (b, tx, a, r) = (b.clone(), tx.clone(), a.clone(), r.clone());
                tokio::spawn(async move {
                    let _ = sink_session(s, b, tx, a, r).await;
                });
            }
        });
        Sink {
            addr,
            behaviour,
            received: rx,
            data_arrived,
            release,
            connections,
        }
    }

    pub async fn next(&mut self) -> Received {
        tokio::time::timeout(WAIT, self.received.recv())
            .await
            .expect("nothing arrived at the sink")
            .unwrap()
    }

    /// Nothing more arrives within a short while (for "not sent twice").
    pub async fn nothing_within(&mut self, d: Duration) {
        if let Ok(Some(r)) = tokio::time::timeout(d, self.received.recv()).await {
            panic!("unexpected delivery: {r:?}");
        }
    }
}

async fn sink_session(
    s: TcpStream,
    behaviour: Arc<Mutex<Behaviour>>,
    tx: mpsc::UnboundedSender<Received>,
    arrived: Arc<Notify>,
    release: Arc<Notify>,
) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    let mut r = BufReader::new(s);
    r.get_mut().write_all(b"220 sink.test ESMTP\r\n").await?;
    let mut mail = String::new();
    let mut rcpts: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let line = line.trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        let lmtp = behaviour.lock().unwrap().lmtp;
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("LHLO") {
            let mut ext = vec![
                "sink.test".to_string(),
                "PIPELINING".into(),
                "8BITMIME".into(),
                "ENHANCEDSTATUSCODES".into(),
            ];
            ext.extend(behaviour.lock().unwrap().ehlo.iter().cloned());
            let n = ext.len();
            ext.iter()
                .enumerate()
                .map(|(i, e)| format!("250{}{e}\r\n", if i + 1 == n { ' ' } else { '-' }))
                .collect()
        } else if upper.starts_with("MAIL") {
            mail = line.clone();
            rcpts.clear();
            "250 2.1.0 ok\r\n".into()
        } else if upper.starts_with("RCPT") {
            let addr = line
                .split('<')
                .nth(1)
                .and_then(|s| s.split('>').next())
                .unwrap_or("")
                .to_string();
            let reply = behaviour
                .lock()
                .unwrap()
                .rcpt
                .get(&addr)
                .cloned()
                .unwrap_or_else(|| "250 2.1.5 ok".into());
            if reply.starts_with('2') {
                rcpts.push(line.clone());
            }
            format!("{reply}\r\n")
        } else if upper == "DATA" || upper.starts_with("BDAT") {
            let (via, data) = if upper == "DATA" {
                r.get_mut().write_all(b"354 go ahead\r\n").await?;
                let mut data = Vec::new();
                loop {
                    let mut l = Vec::new();
                    if r.read_until(b'\n', &mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == b".\r\n" {
                        break;
                    }
                    if l.starts_with(b"..") {
                        l.remove(0);
                    }
                    data.extend_from_slice(&l);
                }
                ("DATA", data)
            } else {
                let n: usize = upper.split_whitespace().nth(1).unwrap().parse().unwrap();
                let mut data = vec![0; n];
                r.read_exact(&mut data).await?;
                ("BDAT", data)
            };
            let hold = behaviour.lock().unwrap().hold_data;
            if hold {
                arrived.notify_one();
                release.notified().await;
            }
            let replies: Vec<String> = {
                let mut b = behaviour.lock().unwrap();
                let n = if lmtp { rcpts.len() } else { 1 };
                (0..n)
                    .map(|_| b.data.pop_front().unwrap_or_else(|| "250 2.0.0 ok".into()))
                    .collect()
            };
            if replies.iter().any(|r| r.starts_with('2')) {
                let _ = tx.send(Received {
                    mail: mail.clone(),
                    rcpts: rcpts.clone(),
                    data,
                    via,
                });
            }
            replies.iter().map(|r| format!("{r}\r\n")).collect()
        } else if upper.starts_with("AUTH PLAIN ") {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(line[11..].trim())
                .unwrap_or_default();
            behaviour
                .lock()
                .unwrap()
                .auth_seen
                .push(String::from_utf8_lossy(&decoded).into_owned());
            "235 2.7.0 ok\r\n".into()
        } else if upper == "RSET" {
            rcpts.clear();
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            r.get_mut().write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.1 unknown\r\n".into()
        };
        r.get_mut().write_all(reply.as_bytes()).await?;
    }
}
