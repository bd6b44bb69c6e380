//! `zest bench imap-scale`: the size targets of the IMAP server, measured on
//! a temporary Zest imapd in this process: SELECT of a large mailbox (first
//! after a restart, then again), FETCH (FLAGS ENVELOPE) of 1,000 messages, and
//! the resident memory of many idle authenticated connections. The idle
//! clients run in a child process so that only the server's memory is read.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::local::{LocalImap, LocalSpec};
use crate::cli::ImapScaleArgs;

const USER: &str = "testuser1@example.org";
const PASSWORD: &str = "pass";
const TIMEOUT: Duration = Duration::from_secs(120);

pub async fn run(args: ImapScaleArgs) -> Result<()> {
    let spec = LocalSpec {
        user: USER,
        password: PASSWORD,
        users: 1,
        max_connections_per_ip: args.idle as u64 + 100,
    };
    let mut server = LocalImap::start(&spec).await?;
    let account = server
        .store
        .account(&store::EmailAddress::parse(USER)?)
        .await?
        .context("the benchmark account")?;
    let started = Instant::now();
    fill(&server.store, account.id, args.messages).await?;
    println!(
        "filled INBOX with {} messages in {:.1} s",
        args.messages,
        started.elapsed().as_secs_f64()
    );
    server = server.restart().await?;
    let inbox = server
        .store
        .mailbox(account.id, "INBOX")
        .await?
        .context("the benchmark INBOX")?
        .id;
    for round in 0..2 {
        let t = Instant::now();
        let n = server.store.entries(account.id, inbox).await?.len();
        println!(
            "store: every entry of {n} messages read in {:.2} ms{}",
            ms(t.elapsed()),
            if round == 0 {
                " (first after restart)"
            } else {
                ""
            }
        );
    }
    server = server.restart().await?;
    let mut c = Conn::connect(&server.addr.to_string()).await?;
    c.command(&format!("LOGIN {USER} {PASSWORD}")).await?;
    let fetch_to = args.fetch.min(args.messages).max(1);
    for round in 0..args.rounds.max(1) {
        let t = Instant::now();
        let lines = c.command("SELECT INBOX").await?;
        let select = t.elapsed();
        if !lines
            .iter()
            .any(|l| l.ends_with(&format!(" {} EXISTS", args.messages)))
        {
            bail!("SELECT did not report {} messages", args.messages);
        }
        let t = Instant::now();
        let lines = c
            .command(&format!("FETCH 1:{fetch_to} (FLAGS ENVELOPE)"))
            .await?;
        let fetch = t.elapsed();
        if lines.len() != fetch_to {
            bail!("FETCH answered {} of {fetch_to} messages", lines.len());
        }
        println!(
            "round {}{}: SELECT of {} messages {:.2} ms; FETCH 1:{fetch_to} (FLAGS ENVELOPE) {:.2} ms",
            round + 1,
            if round == 0 {
                " (first after restart)"
            } else {
                ""
            },
            args.messages,
            ms(select),
            ms(fetch)
        );
    }
    c.command("LOGOUT").await?;
    if args.idle > 0 {
        idle_memory(&server, args.idle).await?;
    }
    server.stop().await;
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Appends `count` varied messages, many at a time so that they share commits.
async fn fill(store: &store::Store, account: store::AccountId, count: usize) -> Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .append(account, "INBOX", message(n), store::Flags::default(), None)
                .await
        });
        if tasks.len() >= 512
            && let Some(r) = tasks.join_next().await
        {
            r.context("an append task failed")??;
        }
    }
    while let Some(r) = tasks.join_next().await {
        r.context("an append task failed")??;
    }
    Ok(())
}

fn message(n: usize) -> Vec<u8> {
    format!(
        "From: Sender {s} <sender{s}@example.net>\r\n\
         To: Test User <testuser1@example.org>\r\n\
         Cc: list{l}@lists.example.com\r\n\
         Subject: Message number {n} about topic {t}\r\n\
         Date: Mon, 23 Nov 2026 10:{m:02}:{sec:02} +0000\r\n\
         Message-ID: <{n}.bench@example.net>\r\n\
         \r\n\
         Body of message {n}.\r\n",
        s = n % 97,
        l = n % 7,
        t = n % 13,
        m = (n / 60) % 60,
        sec = n % 60,
    )
    .into_bytes()
}

/// Resident memory of this process in KiB, from /proc.
fn rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("reading /proc")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/self/status")
}

async fn idle_memory(server: &LocalImap, count: usize) -> Result<()> {
    let before = rss_kib()?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(std::env::current_exe()?)
        .args(["bench", "imap-idle-clients"])
        .arg(server.addr.to_string())
        .arg(count.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the process of idle clients")?;
    let stdout = child.stdout.take().context("child stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(600), lines.next_line())
        .await
        .context("the idle clients did not connect in time")??
        .context("the idle-client process stopped early")?;
    if line.trim() != "ready" {
        bail!("idle clients: {line}");
    }
    let connected = started.elapsed();
    // Let allocations settle (freed buffers returned) before reading.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib()?;
    println!(
        "{count} idle authenticated connections (opened in {:.1} s): server RSS {:.1} MiB \
         (before {:.1} MiB, {:.1} KiB per connection)",
        connected.as_secs_f64(),
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        after.saturating_sub(before) as f64 / count.max(1) as f64
    );
    drop(child.stdin.take());
    let _ = tokio::time::timeout(Duration::from_secs(60), child.wait()).await;
    Ok(())
}

/// The child side: opens `count` connections, logs each in, prints `ready`
/// and keeps them open until stdin closes.
pub async fn idle_clients(addr: String, count: usize) -> Result<()> {
    let mut conns = Vec::with_capacity(count);
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..count {
        let addr = addr.clone();
        pending.spawn(async move { open_idle(&addr, n).await });
        if pending.len() >= 64
            && let Some(r) = pending.join_next().await
        {
            conns.push(r.context("an idle client failed")??);
        }
    }
    while let Some(r) = pending.join_next().await {
        conns.push(r.context("an idle client failed")??);
    }
    println!("ready");
    let mut sink = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    drop(conns);
    Ok(())
}

async fn open_idle(addr: &str, n: usize) -> Result<TcpStream> {
    let mut s = tokio::time::timeout(TIMEOUT, TcpStream::connect(addr))
        .await
        .context("connect timed out")?
        .with_context(|| format!("connection {n}"))?;
    s.write_all(format!("a LOGIN {USER} {PASSWORD}\r\n").as_bytes())
        .await?;
    let mut got = Vec::new();
    let mut chunk = [0u8; 1024];
    while !got.windows(4).any(|w| w == b"a OK") {
        if got.windows(5).any(|w| w == b"a NO " || w == b"a BAD") || got.len() > 64 * 1024 {
            bail!("connection {n}: login refused");
        }
        let k = tokio::time::timeout(TIMEOUT, s.read(&mut chunk))
            .await
            .context("login timed out")??;
        if k == 0 {
            bail!(
                "connection {n}: closed by the server: {}",
                String::from_utf8_lossy(&got)
            );
        }
        got.extend_from_slice(&chunk[..k]);
    }
    Ok(s)
}

/// A plain connection that sends tagged commands and collects the untagged
/// lines of the answer (literals inlined).
struct Conn {
    r: BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: tokio::net::tcp::OwnedWriteHalf,
    tag: u64,
}

impl Conn {
    async fn connect(addr: &str) -> Result<Conn> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        let mut c = Conn {
            r: BufReader::new(r),
            w,
            tag: 0,
        };
        c.line().await?;
        Ok(c)
    }

    async fn line(&mut self) -> Result<String> {
        let mut line = Vec::new();
        loop {
            let start = line.len();
            let n = tokio::time::timeout(TIMEOUT, self.r.read_until(b'\n', &mut line))
                .await
                .context("no answer in time")??;
            if n == 0 {
                bail!("the server closed the connection");
            }
            let part = String::from_utf8_lossy(&line[start..]).into_owned();
            let size = part
                .trim_end()
                .strip_suffix('}')
                .and_then(|p| p.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok());
            let Some(size) = size else { break };
            let at = line.len();
            line.resize(at + size, 0);
            self.r.read_exact(&mut line[at..]).await?;
        }
        Ok(String::from_utf8_lossy(&line).trim_end().to_string())
    }

    async fn command(&mut self, cmd: &str) -> Result<Vec<String>> {
        self.tag += 1;
        let tag = format!("s{}", self.tag);
        self.w
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await?;
        let mut out = Vec::new();
        loop {
            let l = self.line().await?;
            if let Some(rest) = l.strip_prefix(&format!("{tag} ")) {
                if !rest.starts_with("OK") {
                    bail!("{cmd}: {rest}");
                }
                return Ok(out);
            }
            out.push(l);
        }
    }
}
