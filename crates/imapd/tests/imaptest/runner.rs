//! Runs one script against a server: sets up the mailbox the header asks for, sends each
//! command group over its connection and checks the replies.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::matcher::{Vars, match_tagged, match_untagged, substitute};
use super::script::{Arg, Existence, Script, State, read_mbox, read_mbox_dates, tokenize};

/// How long one reply may take before the script counts as failed.
const WAIT: Duration = Duration::from_secs(5);
pub const MAILBOX: &str = "imaptest";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed { commands: usize },
    Failed { commands: usize, reason: String },
    Skipped(String),
}

struct Conn {
    io: BufReader<TcpStream>,
    /// Untagged replies read but not yet checked against a group.
    backlog: Vec<Vec<u8>>,
    next_tag: u32,
    /// Messages in the selected mailbox as the replies processed so far say.
    exists: u32,
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let l = line.strip_suffix(b"}")?;
    let open = l.iter().rposition(|&c| c == b'{')?;
    std::str::from_utf8(&l[open + 1..])
        .ok()?
        .trim_end_matches('+')
        .parse()
        .ok()
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Result<Conn, String> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let mut c = Conn {
            io: BufReader::new(tcp),
            backlog: Vec::new(),
            next_tag: 1,
            exists: 0,
        };
        let greeting = c.response().await?;
        c.backlog.push(greeting);
        Ok(c)
    }

    /// One response, literals included, without the final CRLF.
    async fn response(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            let n = tokio::time::timeout(WAIT, self.io.read_until(b'\n', &mut line))
                .await
                .map_err(|_| "timed out waiting for a reply".to_string())?
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("connection closed".into());
            }
            let body = line.strip_suffix(b"\n").unwrap_or(&line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            out.extend_from_slice(body);
            if std::env::var_os("IMAPTEST_TRACE").is_some() {
                println!("S: {}", show(body));
            }
            match literal_len(body) {
                Some(len) => {
                    out.extend_from_slice(b"\r\n");
                    let mut data = vec![0; len];
                    tokio::time::timeout(WAIT, self.io.read_exact(&mut data))
                        .await
                        .map_err(|_| "timed out in a literal".to_string())?
                        .map_err(|e| e.to_string())?;
                    out.extend_from_slice(&data);
                }
                None => return Ok(out),
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        if std::env::var_os("IMAPTEST_TRACE").is_some() {
            println!("C: {}", show(bytes));
        }
        self.io
            .get_mut()
            .write_all(bytes)
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends `tag text`, waiting for `+` before each synchronising literal. Returns the
    /// tagged reply if it came early (a refused literal).
    async fn send(&mut self, tag: &str, text: &[u8]) -> Result<Option<Vec<u8>>, String> {
        let mut rest = text.to_vec();
        let mut first = true;
        loop {
            // Find the next `{n}\r\n`.
            let cut = (0..rest.len()).find_map(|i| {
                if rest[i] != b'{' {
                    return None;
                }
                let close = rest[i..].iter().position(|&c| c == b'}')? + i;
                let digits = &rest[i + 1..close];
                if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                if rest.get(close + 1..close + 3) != Some(b"\r\n") {
                    return None;
                }
                let n: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
                Some((close + 3, n))
            });
            let mut out = Vec::new();
            if first {
                out.extend_from_slice(format!("{tag} ").as_bytes());
                first = false;
            }
            let Some((header_end, n)) = cut else {
                out.extend_from_slice(&rest);
                out.extend_from_slice(b"\r\n");
                self.write(&out).await?;
                return Ok(None);
            };
            out.extend_from_slice(&rest[..header_end]);
            self.write(&out).await?;
            loop {
                let r = self.response().await?;
                if r.starts_with(b"+") {
                    break;
                }
                if r.starts_with(format!("{tag} ").as_bytes()) {
                    return Ok(Some(r));
                }
                self.backlog.push(r);
            }
            let end = (header_end + n).min(rest.len());
            self.write(&rest[header_end..end]).await?;
            rest = rest[end..].to_vec();
        }
    }

    /// Runs a command outside the script (setup) and returns its tagged reply.
    async fn setup(&mut self, text: &[u8]) -> Result<Vec<u8>, String> {
        let tag = format!("s{}", self.next_tag);
        self.next_tag += 1;
        if let Some(r) = self.send(&tag, text).await? {
            return Ok(r);
        }
        loop {
            let r = self.response().await?;
            if r.starts_with(format!("{tag} ").as_bytes()) {
                return Ok(r);
            }
            self.backlog.push(r);
        }
    }
}

/// `N EXISTS` or `N EXPUNGE` in an untagged reply.
fn counted(args: &[Arg]) -> Option<(u32, bool)> {
    let (Some(Arg::Atom(n)), Some(Arg::Atom(what))) = (args.first(), args.get(1)) else {
        return None;
    };
    let n = n.parse().ok()?;
    if what.eq_ignore_ascii_case("exists") {
        Some((n, true))
    } else if what.eq_ignore_ascii_case("expunge") {
        Some((n, false))
    } else {
        None
    }
}

impl Conn {
    /// Takes in what an untagged reply says about the message count.
    fn observe(&mut self, args: &[Arg]) {
        match counted(args) {
            Some((n, true)) => self.exists = n,
            Some((_, false)) => self.exists = self.exists.saturating_sub(1),
            None => {}
        }
    }
}

/// imaptest's relative sequence numbers: `$N` names the message that had
/// number N when the group started; each EXPUNGE read renumbers the rest.
struct SeqMap(Vec<u32>);

impl SeqMap {
    fn new(count: u32) -> SeqMap {
        SeqMap((1..=count).collect())
    }

    fn expunge(&mut self, seq: u32) {
        for s in &mut self.0 {
            if *s == seq {
                *s = 0;
            } else if *s > seq {
                *s -= 1;
            }
        }
    }

    /// `vars` with `$1`, `$2`, ... bound to the current numbers.
    fn bind(&self, vars: &Vars) -> Vars {
        let mut v = vars.clone();
        for (i, s) in self.0.iter().enumerate() {
            let value = if *s == 0 {
                "<expunged>".to_string()
            } else {
                s.to_string()
            };
            v.insert((i + 1).to_string(), value.into_bytes());
        }
        v
    }
}

fn unbind_numbers(vars: &mut Vars) {
    vars.retain(|k, _| !k.bytes().all(|c| c.is_ascii_digit()));
}

fn ok(reply: &[u8]) -> bool {
    reply
        .split(|&c| c == b' ')
        .nth(1)
        .is_some_and(|w| w.eq_ignore_ascii_case(b"OK"))
}

fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let s: String = s.chars().take(200).collect();
    s.replace("\r\n", "\\r\\n")
}

fn show_args(args: &[Arg]) -> String {
    fn one(a: &Arg) -> String {
        match a {
            Arg::Atom(s) => s.clone(),
            Arg::Str(b) => format!("\"{}\"", show(b)),
            Arg::Nil => "NIL".into(),
            Arg::List(l) => format!("({})", l.iter().map(one).collect::<Vec<_>>().join(" ")),
        }
    }
    args.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// Replays `script` against the server at `addr`, logging in as `user`.
pub async fn run(script: &Script, addr: SocketAddr, user: &str, pass: &str) -> Outcome {
    match run_inner(script, addr, user, pass).await {
        Ok(o) => o,
        Err((commands, reason)) => Outcome::Failed { commands, reason },
    }
}

async fn run_inner(
    script: &Script,
    addr: SocketAddr,
    user: &str,
    pass: &str,
) -> Result<Outcome, (usize, String)> {
    let fail = |r: String| (0usize, r);
    let mut conns = Vec::new();
    for _ in 0..script.connections {
        conns.push(Conn::connect(addr).await.map_err(fail)?);
    }
    let mut vars = Vars::new();
    vars.insert("mailbox".into(), MAILBOX.as_bytes().to_vec());
    // In IMAP URLs (RFC 5092) the user is percent-encoded: `@` is `%40`.
    let url_user = user.replace('%', "%25").replace('@', "%40");
    vars.insert("username".into(), url_user.as_bytes().to_vec());
    vars.insert("user".into(), url_user.as_bytes().to_vec());
    let domain = user.split_once('@').map(|(_, d)| d).unwrap_or("");
    vars.insert("domain".into(), domain.as_bytes().to_vec());
    // The mailbox as it appears in a URL's path (imaptest's `$mailbox_url`).
    vars.insert("mailbox_url".into(), MAILBOX.as_bytes().to_vec());
    let login = format!("LOGIN \"{user}\" \"{pass}\"");
    // Capabilities and the hierarchy separator, from a connection of its own.
    let mut probe = Conn::connect(addr).await.map_err(fail)?;
    let r = probe.setup(login.as_bytes()).await.map_err(fail)?;
    if !ok(&r) {
        return Err(fail(format!("login failed: {}", show(&r))));
    }
    probe.backlog.clear();
    probe.setup(b"CAPABILITY").await.map_err(fail)?;
    let caps: Vec<String> = probe
        .backlog
        .iter()
        .filter(|l| l.to_ascii_uppercase().starts_with(b"* CAPABILITY "))
        .flat_map(|l| {
            String::from_utf8_lossy(&l[13..])
                .split(' ')
                .map(|c| c.to_ascii_uppercase())
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<&String> = script
        .capabilities
        .iter()
        .filter(|c| !caps.contains(&c.to_ascii_uppercase()))
        .collect();
    if !missing.is_empty() {
        return Ok(Outcome::Skipped(format!("missing {missing:?}")));
    }
    probe.backlog.clear();
    probe.setup(b"LIST \"\" \"\"").await.map_err(fail)?;
    let sep = probe
        .backlog
        .iter()
        .find_map(|l| match tokenize(l).ok()?.get(3) {
            Some(Arg::Str(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_else(|| b"/".to_vec());
    vars.insert("sep".into(), sep);
    if script.state != State::NonAuth {
        for c in &mut conns {
            let r = c.setup(login.as_bytes()).await.map_err(fail)?;
            if !ok(&r) {
                return Err(fail(format!("login failed: {}", show(&r))));
            }
        }
    }
    // imaptest starts the mbox over at its end.
    let messages = read_mbox(&script.mbox);
    let in_mbox = messages.len();
    let mut dates = read_mbox_dates(&script.mbox).into_iter().cycle();
    let mut mbox = messages.into_iter().cycle();
    if matches!(
        script.state,
        State::Created | State::Appended | State::Selected
    ) {
        let r = probe
            .setup(format!("CREATE {MAILBOX}").as_bytes())
            .await
            .map_err(fail)?;
        if !ok(&r) {
            return Err(fail(format!("CREATE failed: {}", show(&r))));
        }
    }
    if matches!(script.state, State::Appended | State::Selected) {
        let count = script.messages.unwrap_or(in_mbox);
        for _ in 0..count {
            let Some(m) = mbox.next() else { break };
            // The INTERNALDATE from the mbox `From ` line, as imaptest appends.
            let date = dates
                .next()
                .flatten()
                .map(|d| format!("\"{d}\" "))
                .unwrap_or_default();
            let mut cmd = format!("APPEND {MAILBOX} {date}{{{}}}\r\n", m.len()).into_bytes();
            cmd.extend_from_slice(&m);
            let r = probe.setup(&cmd).await.map_err(fail)?;
            if !ok(&r) {
                return Err(fail(format!("APPEND failed: {}", show(&r))));
            }
        }
    }
    if script.state == State::Selected {
        for c in &mut conns {
            let r = c
                .setup(format!("SELECT {MAILBOX}").as_bytes())
                .await
                .map_err(fail)?;
            if !ok(&r) {
                return Err(fail(format!("SELECT failed: {}", show(&r))));
            }
        }
    }
    if script.state != State::NonAuth {
        for c in &mut conns {
            for l in std::mem::take(&mut c.backlog) {
                if let Some(args) = l.strip_prefix(b"* ").and_then(|l| tokenize(l).ok()) {
                    c.observe(&args);
                }
            }
        }
    }
    let mut commands = 0;
    for group in &script.groups {
        let Some(conn) = conns.get_mut(group.conn.saturating_sub(1)) else {
            return Err((commands, format!("no connection {}", group.conn)));
        };
        // Send every command of the group (pipelined), then read until each has its
        // tagged reply.
        let mut tags = Vec::new();
        let mut replies: Vec<Option<Vec<u8>>> = Vec::new();
        let mut seqmap = SeqMap::new(conn.exists);
        for cmd in &group.commands {
            let tag = format!("{}.{}", script.name.replace(['.', ' '], "-"), conn.next_tag);
            conn.next_tag += 1;
            vars.insert("tag".into(), tag.as_bytes().to_vec());
            let mut text = substitute(&cmd.text, &seqmap.bind(&vars));
            let lower = String::from_utf8_lossy(&text).to_ascii_lowercase();
            // imaptest: `append` without a message appends the next one from the mbox.
            if lower == "append" || (lower.starts_with("append ") && !lower.contains('{')) {
                if lower == "append" {
                    text = format!("append {MAILBOX}").into_bytes();
                }
                let m = mbox
                    .next()
                    .unwrap_or_else(|| b"Subject: x\r\n\r\nx\r\n".to_vec());
                dates.next();
                text.extend_from_slice(format!(" {{{}}}\r\n", m.len()).as_bytes());
                text.extend_from_slice(&m);
            }
            let early = conn.send(&tag, &text).await.map_err(|e| (commands, e))?;
            tags.push(tag);
            replies.push(early);
            commands += 1;
        }
        while replies.iter().any(Option::is_none) {
            let r = conn
                .response()
                .await
                .map_err(|e| (commands, format!("line {}: {e}", group.commands[0].line)))?;
            match tags
                .iter()
                .position(|t| r.starts_with(format!("{t} ").as_bytes()))
            {
                Some(i) => replies[i] = Some(r),
                None => conn.backlog.push(r),
            }
        }
        for (cmd, (tag, reply)) in group.commands.iter().zip(tags.iter().zip(&replies)) {
            let reply = reply.as_deref().unwrap_or_default();
            let args = tokenize(&reply[tag.len() + 1..]).unwrap_or_default();
            if let Some(exp) = &cmd.reply
                && !match_tagged(exp, &args, &mut vars)
            {
                return Ok(Outcome::Failed {
                    commands,
                    reason: format!(
                        "line {}: {} -> expected {}, got {}",
                        cmd.line,
                        show(&cmd.text),
                        show_args(exp),
                        show(reply)
                    ),
                });
            }
        }
        let got: Vec<Vec<Arg>> = conn
            .backlog
            .drain(..)
            .filter_map(|l| l.strip_prefix(b"* ").and_then(|l| tokenize(l).ok()))
            .collect();
        let line = group.commands.first().map_or(0, |c| c.line);
        // As imaptest does: each reply, in the order it came, is matched
        // against the expected replies not found yet (one reply may satisfy
        // several), then its EXPUNGE renumbers the messages after it.
        let mut found = vec![false; group.untagged.len()];
        for a in &got {
            let mut v = seqmap.bind(&vars);
            for (i, u) in group.untagged.iter().enumerate() {
                if found[i] {
                    continue;
                }
                let mut t = v.clone();
                if !match_untagged(&u.args, a, &mut t) {
                    continue;
                }
                if u.existence == Existence::MustNot {
                    return Ok(Outcome::Failed {
                        commands,
                        reason: format!(
                            "line {line}: unexpected `* {}`: got `* {}`",
                            show_args(&u.args),
                            show_args(a)
                        ),
                    });
                }
                found[i] = true;
                if u.existence == Existence::Must {
                    v = t;
                }
            }
            unbind_numbers(&mut v);
            vars = v;
            if let Some((seq, false)) = counted(a) {
                seqmap.expunge(seq);
            }
            conn.observe(a);
        }
        let missing = group
            .untagged
            .iter()
            .zip(&found)
            .find(|(u, f)| u.existence == Existence::Must && !**f);
        if let Some((u, _)) = missing {
            let got: Vec<String> = got.iter().map(|a| show_args(a)).collect();
            return Ok(Outcome::Failed {
                commands,
                reason: format!(
                    "line {line}: missing `* {}`; got {got:?}",
                    show_args(&u.args)
                ),
            });
        }
    }
    Ok(Outcome::Passed { commands })
}
