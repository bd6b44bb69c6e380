//! `zest bench imap`: a mixed IMAP load in the manner of imaptest's default
//! profile, run against each named server in turn with the same arguments, so
//! that figures from one run can be compared as ratios.
//!
//! Each client repeats: LOGIN, LIST (half the time), STATUS (half the time),
//! SELECT, FETCH of every message's flags, FETCH of one whole message, STORE
//! of flags on a range (half the time), STORE \Deleted on one message and
//! EXPUNGE (when the mailbox is above its fill level), APPEND, LOGOUT.
//!
//! Clients run flat out, so a faster server also carries more load while its
//! latencies are measured. With `--same-load` every server is then measured
//! again with sessions started on one fixed schedule, at the slowest server's
//! rate, which gives latencies at equal load.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::local::{LocalImap, LocalSpec};
use crate::cli::ImapBenchArgs;

/// The longest a single command may take before the run is abandoned.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn run(args: ImapBenchArgs) -> Result<()> {
    let messages = read_mbox(&args.mbox)?;
    if messages.is_empty() {
        bail!("{}: no messages in the mbox", args.mbox.display());
    }
    let mut servers = args
        .servers
        .iter()
        .map(|s| {
            s.split_once('=')
                .map(|(n, a)| (n.to_string(), a.to_string()))
                .with_context(|| format!("--server {s}: expected NAME=HOST:PORT"))
        })
        .collect::<Result<Vec<_>>>()?;
    let local = if args.zest {
        let spec = LocalSpec {
            user: &args.user,
            password: &args.password,
            users: args.users.max(1),
            max_connections_per_ip: 10_000,
        };
        let local = LocalImap::start(&spec).await?;
        servers.insert(0, ("zest".to_string(), local.addr.to_string()));
        Some(local)
    } else {
        None
    };
    if servers.is_empty() {
        bail!("nothing to measure: give --zest or --server NAME=HOST:PORT");
    }
    let result = measure(&args, &servers, &messages).await;
    if let Some(local) = local {
        local.stop().await;
    }
    result
}

async fn measure(
    args: &ImapBenchArgs,
    servers: &[(String, String)],
    messages: &[Vec<u8>],
) -> Result<()> {
    let profile = Profile {
        user: args.user.clone(),
        password: args.password.clone(),
        users: args.users.max(1),
        fill: args.fill,
    };
    println!(
        "imap load: {} messages in {}, {} users, fill {} per mailbox, {} s per step",
        messages.len(),
        args.mbox.display(),
        profile.users,
        profile.fill,
        args.secs
    );
    for (name, addr) in servers {
        let started = Instant::now();
        fill(addr, &profile, messages)
            .await
            .with_context(|| format!("filling mailboxes on {name} ({addr})"))?;
        println!(
            "{name}: mailboxes filled in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    for &clients in &args.clients {
        let mut totals = Vec::new();
        for (name, addr) in servers {
            let tally = load(addr, &profile, messages, clients, args.secs, None)
                .await
                .with_context(|| format!("load on {name} ({addr})"))?;
            print_tally(name, clients, args.secs, &tally);
            totals.push((name.clone(), tally));
        }
        compare(&format!("{clients} clients"), &totals);
        if !args.same_load {
            continue;
        }
        // Sessions per second: every session starts with LOGIN.
        let rate = totals
            .iter()
            .map(|(_, t)| t.latencies.get("LOGIN").map_or(0, Vec::len) as f64)
            .fold(f64::INFINITY, f64::min)
            / args.secs as f64;
        if !(rate.is_finite() && rate > 0.0) {
            continue;
        }
        println!("{clients} clients at the same load: {rate:.0} sessions/s on every server");
        let mut paced = Vec::new();
        for (name, addr) in servers {
            let tally = load(addr, &profile, messages, clients, args.secs, Some(rate))
                .await
                .with_context(|| format!("paced load on {name} ({addr})"))?;
            print_tally(name, clients, args.secs, &tally);
            paced.push((name.clone(), tally));
        }
        compare(
            &format!("{clients} clients at {rate:.0} sessions/s"),
            &paced,
        );
    }
    Ok(())
}

/// The first server's figures against each other's.
fn compare(label: &str, totals: &[(String, Tally)]) {
    if let Some(((first, base), rest)) = totals.split_first() {
        for (other, tally) in rest {
            let ratio = base.commands() as f64 / tally.commands().max(1) as f64;
            println!("{label}: {first} / {other} commands/s = {ratio:.2}");
            print_ratios(first, base, other, tally);
        }
    }
}

/// Servers are measured one after another on one machine: before each
/// phase, what the last one left for the disk (dirty pages, freed blocks) is
/// written out, so that it does not land on this phase's first syncs.
async fn settle() {
    let _ = tokio::task::spawn_blocking(rustix::fs::sync).await;
}

/// Session starts on one schedule shared by all clients: the n-th session
/// starts no earlier than `n / rate` seconds after the load began.
struct Pace {
    started: Instant,
    rate: f64,
    next: AtomicU64,
}

impl Pace {
    /// Waits for this client's next slot; false once that is past `deadline`.
    async fn wait(&self, deadline: Instant) -> bool {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let at = self.started + Duration::from_secs_f64(n as f64 / self.rate);
        if at >= deadline {
            return false;
        }
        tokio::time::sleep_until(at.into()).await;
        true
    }
}

struct Profile {
    user: String,
    password: String,
    users: usize,
    fill: usize,
}

impl Profile {
    fn login(&self, n: usize) -> String {
        self.user.replace("%d", &n.to_string())
    }
}

/// Splits an mbox into messages with CRLF line endings, dropping the `From `
/// separator lines.
fn read_mbox(path: &Path) -> Result<Vec<Vec<u8>>> {
    let data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"From ") {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let body = line
            .strip_suffix(b"\n")
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .unwrap_or(line);
        current.extend_from_slice(body);
        current.extend_from_slice(b"\r\n");
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Per command name: latencies in microseconds, and failures (NO/BAD).
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<u64>>,
    failures: BTreeMap<&'static str, u64>,
}

impl Tally {
    fn commands(&self) -> usize {
        self.latencies.values().map(Vec::len).sum()
    }

    fn merge(&mut self, other: Tally) {
        for (k, mut v) in other.latencies {
            self.latencies.entry(k).or_default().append(&mut v);
        }
        for (k, v) in other.failures {
            *self.failures.entry(k).or_default() += v;
        }
    }
}

fn print_tally(name: &str, clients: usize, secs: u64, tally: &Tally) {
    let total = tally.commands();
    println!(
        "{name}, {clients} clients: {total} commands in {secs} s = {:.0} commands/s",
        total as f64 / secs as f64
    );
    println!("  command      count    mean ms   p50 ms   p95 ms   p99 ms   max ms  failed");
    for (cmd, lat) in &tally.latencies {
        let mut sorted = lat.clone();
        sorted.sort_unstable();
        let mean = sorted.iter().sum::<u64>() as f64 / sorted.len().max(1) as f64 / 1000.0;
        let pct = |p: f64| {
            let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
            sorted.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        println!(
            "  {cmd:<10} {:>7} {mean:>10.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            sorted.len(),
            pct(0.5),
            pct(0.95),
            pct(0.99),
            pct(1.0),
            tally.failures.get(cmd).copied().unwrap_or(0)
        );
    }
}

/// Per command type: how many times each server ran it, and the ratio of
/// their mean latencies (below 1 means the first server answered faster).
fn print_ratios(first: &str, base: &Tally, other: &str, tally: &Tally) {
    println!("  command    {first:>8}/s {other:>8}/s   ratio  mean ms {first} / {other}");
    for (cmd, lat) in &base.latencies {
        let Some(theirs) = tally.latencies.get(cmd) else {
            continue;
        };
        let mean = |v: &Vec<u64>| v.iter().sum::<u64>() as f64 / v.len().max(1) as f64 / 1000.0;
        let (a, b) = (mean(lat), mean(theirs));
        println!(
            "  {cmd:<10} {:>10} {:>10} {:>7.2}  {a:.2} / {b:.2} = {:.2}",
            lat.len(),
            theirs.len(),
            lat.len() as f64 / theirs.len().max(1) as f64,
            a / b.max(f64::MIN_POSITIVE)
        );
    }
}

/// Brings every user's INBOX to at least `fill` messages.
async fn fill(addr: &str, profile: &Profile, messages: &[Vec<u8>]) -> Result<()> {
    let mut next = 0usize;
    for n in 1..=profile.users {
        let mut c = Client::connect(addr).await?;
        c.expect_ok("LOGIN", &login_command(profile, n)).await?;
        let lines = c.expect_ok("SELECT", "SELECT INBOX").await?;
        let exists = exists(&lines).unwrap_or(0);
        for _ in exists..profile.fill {
            let msg = &messages[next % messages.len()];
            next += 1;
            c.append(msg).await?;
        }
        c.expect_ok("LOGOUT", "LOGOUT").await?;
    }
    Ok(())
}

fn login_command(profile: &Profile, n: usize) -> String {
    format!(
        "LOGIN {} {}",
        quote(&profile.login(n)),
        quote(&profile.password)
    )
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

async fn load(
    addr: &str,
    profile: &Profile,
    messages: &[Vec<u8>],
    clients: usize,
    secs: u64,
    rate: Option<f64>,
) -> Result<Tally> {
    settle().await;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let pace = rate.map(|rate| {
        Arc::new(Pace {
            started,
            rate,
            next: AtomicU64::new(0),
        })
    });
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..clients {
        let addr = addr.to_string();
        let profile = Profile {
            user: profile.user.clone(),
            password: profile.password.clone(),
            users: profile.users,
            fill: profile.fill,
        };
        let messages = messages.to_vec();
        let pace = pace.clone();
        tasks.spawn(async move {
            client_loop(&addr, &profile, &messages, i, deadline, pace.as_deref()).await
        });
    }
    let mut tally = Tally::default();
    while let Some(r) = tasks.join_next().await {
        tally.merge(r.context("a load client panicked")??);
    }
    Ok(tally)
}

/// A small deterministic generator; the load needs variety, not secrecy.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn half(&mut self) -> bool {
        self.next() & 1 == 0
    }
}

async fn client_loop(
    addr: &str,
    profile: &Profile,
    messages: &[Vec<u8>],
    client: usize,
    deadline: Instant,
    pace: Option<&Pace>,
) -> Result<Tally> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (client as u64 + 1).wrapping_mul(0x2545_F491));
    let mut tally = Tally::default();
    let mut next_msg = client;
    while Instant::now() < deadline {
        if let Some(pace) = pace
            && !pace.wait(deadline).await
        {
            break;
        }
        let mut c = Client::connect(addr).await?;
        let mut t = Timed {
            client: &mut c,
            tally: &mut tally,
            deadline,
        };
        let user = 1 + rng.below(profile.users);
        if !t.run("LOGIN", &login_command(profile, user)).await?.0 {
            continue;
        }
        if rng.half() {
            t.run("LIST", "LIST \"\" \"*\"").await?;
        }
        if rng.half() {
            t.run("STATUS", "STATUS INBOX (MESSAGES UNSEEN UIDNEXT)")
                .await?;
        }
        let (ok, lines) = t.run("SELECT", "SELECT INBOX").await?;
        let n = if ok { exists(&lines).unwrap_or(0) } else { 0 };
        if ok && n > 0 {
            t.run("FETCH", &format!("FETCH 1:{n} (UID FLAGS)")).await?;
            let k = 1 + rng.below(n);
            t.run(
                "FETCH2",
                &format!("FETCH {k} (UID RFC822.SIZE BODY.PEEK[])"),
            )
            .await?;
            if rng.half() {
                let a = 1 + rng.below(n);
                let b = (a + rng.below(5)).min(n);
                let (op, flag) = match rng.below(4) {
                    0 => ("+", "\\Seen"),
                    1 => ("-", "\\Seen"),
                    2 => ("+", "\\Flagged"),
                    _ => ("-", "\\Flagged"),
                };
                t.run("STORE", &format!("STORE {a}:{b} {op}FLAGS ({flag})"))
                    .await?;
            }
            if n > profile.fill {
                let k = 1 + rng.below(n);
                t.run("DELETE", &format!("STORE {k} +FLAGS.SILENT (\\Deleted)"))
                    .await?;
                t.run("EXPUNGE", "EXPUNGE").await?;
            }
        }
        let msg = &messages[next_msg % messages.len()];
        next_msg += 1;
        let started = Instant::now();
        let ok = c.append(msg).await?;
        record(&mut tally, "APPEND", started, ok, deadline);
        let started = Instant::now();
        let ok = c.command("LOGOUT").await?.0;
        record(&mut tally, "LOGOUT", started, ok, deadline);
    }
    Ok(tally)
}

fn record(tally: &mut Tally, name: &'static str, started: Instant, ok: bool, deadline: Instant) {
    if Instant::now() > deadline {
        return;
    }
    tally
        .latencies
        .entry(name)
        .or_default()
        .push(started.elapsed().as_micros() as u64);
    if !ok {
        *tally.failures.entry(name).or_default() += 1;
    }
}

struct Timed<'a> {
    client: &'a mut Client,
    tally: &'a mut Tally,
    deadline: Instant,
}

impl Timed<'_> {
    async fn run(&mut self, name: &'static str, command: &str) -> Result<(bool, Vec<Vec<u8>>)> {
        let started = Instant::now();
        let (ok, lines) = self.client.command(command).await?;
        record(self.tally, name, started, ok, self.deadline);
        Ok((ok, lines))
    }
}

fn exists(lines: &[Vec<u8>]) -> Option<usize> {
    lines.iter().rev().find_map(|l| {
        let s = std::str::from_utf8(l).ok()?;
        let rest = s.strip_prefix("* ")?;
        let (n, word) = rest.split_once(' ')?;
        (word.trim_end().eq_ignore_ascii_case("EXISTS"))
            .then(|| n.parse().ok())
            .flatten()
    })
}

/// A minimal IMAP client: sends tagged commands and collects the response
/// lines (with literals inlined) up to the tagged reply.
struct Client {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    tag: u64,
}

impl Client {
    async fn connect(addr: &str) -> Result<Client> {
        let stream = tokio::time::timeout(COMMAND_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (r, w) = stream.into_split();
        let mut c = Client {
            reader: BufReader::new(r),
            writer: w,
            tag: 0,
        };
        let greeting = c.read_line().await?;
        if !greeting.starts_with(b"* OK") && !greeting.starts_with(b"* PREAUTH") {
            bail!("greeting: {}", String::from_utf8_lossy(&greeting));
        }
        Ok(c)
    }

    /// One response line, with any literals it announces appended to it.
    async fn read_line(&mut self) -> Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            let start = line.len();
            let n = tokio::time::timeout(COMMAND_TIMEOUT, self.reader.read_until(b'\n', &mut line))
                .await
                .context("server did not answer in time")??;
            if n == 0 {
                bail!("server closed the connection");
            }
            let part = &line[start..];
            let Some(size) = literal_size(part) else {
                return Ok(line);
            };
            let at = line.len();
            line.resize(at + size, 0);
            tokio::time::timeout(COMMAND_TIMEOUT, self.reader.read_exact(&mut line[at..]))
                .await
                .context("server did not send a literal in time")??;
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.writer.write_all(bytes).await?;
        Ok(())
    }

    fn next_tag(&mut self) -> String {
        self.tag += 1;
        format!("b{}", self.tag)
    }

    async fn finish(&mut self, tag: &str) -> Result<(bool, Vec<Vec<u8>>)> {
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await?;
            if let Some(rest) = line
                .strip_prefix(tag.as_bytes())
                .and_then(|r| r.strip_prefix(b" "))
            {
                return Ok((rest.starts_with(b"OK"), lines));
            }
            lines.push(line);
        }
    }

    async fn command(&mut self, command: &str) -> Result<(bool, Vec<Vec<u8>>)> {
        let tag = self.next_tag();
        self.send(format!("{tag} {command}\r\n").as_bytes()).await?;
        self.finish(&tag).await
    }

    async fn expect_ok(&mut self, what: &str, command: &str) -> Result<Vec<Vec<u8>>> {
        let (ok, lines) = self.command(command).await?;
        if !ok {
            bail!("{what} failed");
        }
        Ok(lines)
    }

    /// APPEND with a synchronising literal, which every server accepts.
    async fn append(&mut self, message: &[u8]) -> Result<bool> {
        let tag = self.next_tag();
        self.send(format!("{tag} APPEND INBOX {{{}}}\r\n", message.len()).as_bytes())
            .await?;
        let line = self.read_line().await?;
        if !line.starts_with(b"+") {
            return Ok(false);
        }
        self.send(message).await?;
        self.send(b"\r\n").await?;
        Ok(self.finish(&tag).await?.0)
    }
}

/// `{123}\r\n` at the end of a line announces a literal of 123 bytes.
fn literal_size(line: &[u8]) -> Option<usize> {
    let line = line
        .strip_suffix(b"\r\n")
        .or_else(|| line.strip_suffix(b"\n"))?;
    let inner = line.strip_suffix(b"}")?;
    let open = inner.iter().rposition(|&b| b == b'{')?;
    std::str::from_utf8(&inner[open + 1..]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_sizes() {
        assert_eq!(literal_size(b"* 1 FETCH (BODY[] {12}\r\n"), Some(12));
        assert_eq!(literal_size(b"* 1 FETCH (FLAGS ())\r\n"), None);
        assert_eq!(literal_size(b"{x}\r\n"), None);
    }

    #[test]
    fn exists_is_found() {
        let lines = vec![b"* FLAGS ()\r\n".to_vec(), b"* 17 EXISTS\r\n".to_vec()];
        assert_eq!(exists(&lines), Some(17));
    }

    #[test]
    fn mbox_splits_and_keeps_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("m.mbox");
        std::fs::write(
            &p,
            b"From a\r\nSubject: 1\r\n\r\nx\r\nFrom b\nSubject: 2\n\ny\n",
        )
        .unwrap();
        let m = read_mbox(&p).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: 1\r\n\r\nx\r\n");
        assert_eq!(m[1], b"Subject: 2\r\n\r\ny\r\n");
    }
}
