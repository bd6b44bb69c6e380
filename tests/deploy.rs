//! deploy/docker-compose.yml, run without a container engine: each service's
//! command is started as its own process with that service's environment
//! (listen ports remapped to free loopback ports, the data volume, the
//! certificate mount and the secret mapped to temp dirs), and then driven the
//! way clients drive a real installation: the init service creates the first
//! domain and admin, a user is added from the command line, a message
//! submitted on the submission process reaches the MDA process over LMTP and
//! an IMAP IDLE on the imapd process sees it, a script uploaded to the
//! managesieve process files the next delivery, and the admin process lists
//! the user. Then SIGHUP reloads every process's certificate without
//! dropping an open connection, `zest backup` copies the live system,
//! SIGTERM ends every process cleanly within 10 s, and `zest restore` brings
//! back the same users and mail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_yaml::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const ZEST: &str = env!("CARGO_BIN_EXE_zest");
const COMPOSE: &str = include_str!("../deploy/docker-compose.yml");
const HOSTNAME: &str = "mail.example.org";
const DOMAIN: &str = "example.org";
const ADMIN: &str = "admin@example.org";
const ADMIN_PASS: &str = "admin-pass-1";
const USER: &str = "alice@example.org";
const USER_PASS: &str = "alice-pass-1";
/// How long to wait for an event before failing.
const WAIT: Duration = Duration::from_secs(30);
const DAEMONS: [&str; 5] = ["mda", "submission", "imapd", "managesieve", "admin"];

// --- docker-compose.yml ------------------------------------------------------

/// One service as the test runs it.
#[derive(Debug, Clone)]
struct Service {
    entrypoint: Vec<String>,
    command: Vec<String>,
    env: BTreeMap<String, String>,
    ports: Vec<String>,
    volumes: Vec<String>,
    health: Vec<String>,
    restart: String,
}

/// `${VAR}`, `${VAR:-default}`, `${VAR:?message}` and `$$`, as compose does.
fn interpolate(s: &str, vars: &BTreeMap<&str, &str>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(r) = rest.strip_prefix("$$") {
            out.push('$');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("${") {
            let end = r.find('}').expect("an unclosed ${");
            let expr = &r[..end];
            let (name, fallback) = match expr.find([':', '-', '?']) {
                Some(j) => (&expr[..j], Some(&expr[j..])),
                None => (expr, None),
            };
            match (vars.get(name), fallback) {
                (Some(v), _) => out.push_str(v),
                (None, Some(f)) if f.starts_with(":-") => out.push_str(&f[2..]),
                (None, _) => panic!("compose variable {name} is not set"),
            }
            rest = &r[end + 1..];
        } else {
            panic!("a bare $ in {s:?}: compose would interpolate it");
        }
    }
    out.push_str(rest);
    out
}

/// Applies YAML merge keys (`<<: *anchor`) everywhere; the mapping's own keys win.
fn merge_keys(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            for (_, child) in m.iter_mut() {
                merge_keys(child);
            }
            if let Some(base) = m.remove("<<") {
                let bases = match base {
                    Value::Sequence(s) => s,
                    other => vec![other],
                };
                for b in bases {
                    let Value::Mapping(b) = b else {
                        panic!("<< needs a mapping")
                    };
                    for (k, val) in b {
                        if !m.contains_key(&k) {
                            m.insert(k, val);
                        }
                    }
                }
            }
        }
        Value::Sequence(s) => s.iter_mut().for_each(merge_keys),
        _ => {}
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        None => Vec::new(),
        Some(Value::Sequence(s)) => s.iter().map(scalar).collect(),
        Some(other) => vec![scalar(other)],
    }
}

fn parse_compose(vars: &BTreeMap<&str, &str>) -> (Value, BTreeMap<String, Service>) {
    let mut doc: Value = serde_yaml::from_str(COMPOSE).unwrap();
    merge_keys(&mut doc);
    let mut services = BTreeMap::new();
    for (name, s) in doc["services"].as_mapping().unwrap() {
        let i = |v: Vec<String>| v.iter().map(|x| interpolate(x, vars)).collect::<Vec<_>>();
        let env = s["environment"]
            .as_mapping()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (scalar(k), interpolate(&scalar(v), vars)))
                    .collect()
            })
            .unwrap_or_default();
        services.insert(
            scalar(name),
            Service {
                entrypoint: i(strings(s.get("entrypoint"))),
                command: i(strings(s.get("command"))),
                env,
                ports: strings(s.get("ports")),
                volumes: strings(s.get("volumes")),
                health: strings(s.get("healthcheck").and_then(|h| h.get("test"))),
                restart: s.get("restart").map(scalar).unwrap_or_default(),
            },
        );
    }
    (doc, services)
}

// --- the processes -------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Container paths and ports mapped onto this machine.
struct Host {
    dir: PathBuf,
    ports: BTreeMap<u16, u16>,
}

impl Host {
    fn path(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }

    /// A service's environment as its process gets it.
    fn env(&mut self, service: &Service) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (k, v) in &service.env {
            let v = if k.contains("LISTEN") {
                self.listen(v)
            } else if k.starts_with("ZEST_") && k.ends_with("_ADDRESS") {
                self.service_addr(v)
            } else {
                self.container_path(v)
            };
            env.insert(k.clone(), v);
        }
        env
    }

    fn listen(&mut self, value: &str) -> String {
        let addrs: Vec<String> = if value.trim_start().starts_with('[') {
            value
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(|a| a.trim().trim_matches('"').to_string())
                .filter(|a| !a.is_empty())
                .collect()
        } else {
            vec![value.to_string()]
        };
        let mapped: Vec<String> = addrs
            .iter()
            .map(|a| {
                let port: u16 = a.rsplit_once(':').unwrap().1.parse().unwrap();
                let local = *self.ports.entry(port).or_insert_with(free_port);
                format!("\"127.0.0.1:{local}\"")
            })
            .collect();
        format!("[{}]", mapped.join(", "))
    }

    /// `service:port` of another container: where that service's process listens.
    fn service_addr(&mut self, value: &str) -> String {
        let port: u16 = value.rsplit_once(':').unwrap().1.parse().unwrap();
        let local = *self.ports.entry(port).or_insert_with(free_port);
        format!("127.0.0.1:{local}")
    }

    fn container_path(&self, v: &str) -> String {
        for (inside, outside) in [
            ("/data", "data"),
            ("/certs", "certs"),
            ("/run/secrets", "secrets"),
        ] {
            if v == inside || v.starts_with(&format!("{inside}/")) {
                return format!("{}{}", self.path(outside).display(), &v[inside.len()..]);
            }
        }
        v.to_string()
    }

    /// Where the process of a container port listens.
    fn addr(&self, container_port: u16) -> SocketAddr {
        let port = self.ports[&container_port];
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    fn command(&self, program: &str, args: &[String], env: &BTreeMap<String, String>) -> Command {
        let mut c = Command::new(program);
        let bin_dir = Path::new(ZEST).parent().unwrap();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.args(args)
            .env_clear()
            .env("PATH", path)
            .envs(env)
            .current_dir(&self.dir);
        c
    }

    /// Runs a service's command the way the image's entrypoint would.
    fn service_command(&mut self, service: &Service) -> Command {
        let env = self.env(service);
        match service.entrypoint.split_first() {
            Some((program, args)) => {
                let mut all = args.to_vec();
                all.extend(service.command.iter().cloned());
                self.command(program, &all, &env)
            }
            None => self.command(ZEST, &service.command, &env),
        }
    }

    /// `zest ARGS` in a one-off container of `service`.
    fn zest(&mut self, service: &Service, args: &[&str]) -> Output {
        let env = self.env(service);
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        self.command(ZEST, &args, &env).output().unwrap()
    }
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "{:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A running daemon process: its output lines as they come, and a copy of
/// all of them for failure messages.
struct Proc {
    name: String,
    child: Option<Child>,
    lines: mpsc::UnboundedReceiver<String>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    fn spawn(name: &str, mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let out: Box<dyn std::io::Read + Send> = Box::new(child.stdout.take().unwrap());
        let err: Box<dyn std::io::Read + Send> = Box::new(child.stderr.take().unwrap());
        for stream in [out, err] {
            let (tx, log) = (tx.clone(), log.clone());
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    log.lock().unwrap().push(line.clone());
                    let _ = tx.send(line);
                }
            });
        }
        Proc {
            name: name.to_string(),
            child: Some(child),
            lines,
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Waits for an output line containing `text`.
    async fn wait_for(&mut self, text: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.lines.recv()).await {
                Ok(Some(line)) if line.contains(text) => return line,
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => panic!(
                    "{}: no line with {text:?}; output:\n{}",
                    self.name,
                    self.log.lock().unwrap().join("\n")
                ),
            }
        }
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([&format!("-{sig}"), &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGTERM, then how long the process took to exit and its exit code.
    async fn terminate(&mut self) -> (Duration, Option<i32>) {
        let start = Instant::now();
        self.signal("TERM");
        let mut child = self.child.take().unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        (start.elapsed(), status.code())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

// --- clients -------------------------------------------------------------------

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The certificates the clients trust: the one mounted first and its replacement.
#[derive(Clone)]
struct Trust {
    roots: Vec<CertificateDer<'static>>,
}

impl Trust {
    fn connector(&self) -> tokio_rustls::TlsConnector {
        let mut store = rustls::RootCertStore::empty();
        for r in &self.roots {
            store.add(r.clone()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(store)
            .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }
}

struct Conn {
    io: BufReader<Box<dyn Io>>,
    /// The certificate the server presented, once TLS is on.
    cert: Option<CertificateDer<'static>>,
}

impl Conn {
    async fn plain(addr: SocketAddr) -> Conn {
        let s = TcpStream::connect(addr).await.unwrap();
        Conn {
            io: BufReader::new(Box::new(s)),
            cert: None,
        }
    }

    async fn tls(addr: SocketAddr, trust: &Trust) -> Conn {
        Conn::plain(addr).await.starttls(trust).await
    }

    async fn starttls(self, trust: &Trust) -> Conn {
        assert!(
            self.io.buffer().is_empty(),
            "bytes after the STARTTLS reply"
        );
        let inner = self.io.into_inner();
        let name = ServerName::try_from(HOSTNAME).unwrap();
        let s = trust.connector().connect(name, inner).await.unwrap();
        let cert = s.get_ref().1.peer_certificates().unwrap()[0].clone();
        Conn {
            io: BufReader::new(Box::new(s)),
            cert: Some(cert),
        }
    }

    async fn send(&mut self, data: &str) {
        self.io.get_mut().write_all(data.as_bytes()).await.unwrap();
        self.io.get_mut().flush().await.unwrap();
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

    /// An SMTP/LMTP reply; returns its last line.
    async fn reply(&mut self) -> String {
        let r = self.until(|l| l.len() < 4 || l.as_bytes()[3] == b' ').await;
        r.last().unwrap().clone()
    }

    async fn smtp(&mut self, cmd: &str, code: &str) {
        self.send(&format!("{cmd}\r\n")).await;
        let r = self.reply().await;
        assert!(r.starts_with(code), "{cmd}: {r}");
    }

    /// An IMAP command's lines through its tagged reply, which must be OK.
    async fn imap(&mut self, tag: &str, cmd: &str) -> Vec<String> {
        self.send(&format!("{tag} {cmd}\r\n")).await;
        let prefix = format!("{tag} ");
        let r = self.until(|l| l.starts_with(&prefix)).await;
        assert!(
            r.last().unwrap().starts_with(&format!("{tag} OK")),
            "{cmd}: {r:?}"
        );
        r
    }
}

fn plain_auth(user: &str, pass: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{pass}"))
}

/// Submits a message from `USER` to `USER` over implicit TLS.
async fn submit(addr: SocketAddr, trust: &Trust, subject: &str) {
    let mut c = Conn::tls(addr, trust).await;
    assert!(c.reply().await.starts_with("220"));
    c.smtp("EHLO client.example.net", "250").await;
    c.smtp(
        &format!("AUTH PLAIN {}", plain_auth(USER, USER_PASS)),
        "235",
    )
    .await;
    c.smtp(&format!("MAIL FROM:<{USER}>"), "250").await;
    c.smtp(&format!("RCPT TO:<{USER}>"), "250").await;
    c.smtp("DATA", "354").await;
    let msg = format!(
        "From: Alice <{USER}>\r\nTo: {USER}\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n\
         Hello from the deploy test.\r\n.\r\n"
    );
    c.send(&msg).await;
    let r = c.reply().await;
    assert!(r.starts_with("250"), "DATA: {r}");
    c.smtp("QUIT", "221").await;
}

/// An IMAP session of `USER` over implicit TLS, IDLE in `mailbox`.
async fn idle_in(addr: SocketAddr, trust: &Trust, mailbox: &str) -> Conn {
    let mut c = Conn::tls(addr, trust).await;
    assert!(c.line().await.starts_with("* OK"));
    c.imap("a", &format!("LOGIN {USER} {USER_PASS}")).await;
    c.imap("b", &format!("SELECT {mailbox}")).await;
    c.send("c IDLE\r\n").await;
    assert!(c.line().await.starts_with('+'));
    c
}

/// Waits in IDLE for `* N EXISTS` with N >= `count`, then ends the IDLE.
async fn wait_exists(c: &mut Conn, count: u32) {
    loop {
        let l = c.line().await;
        let n = l
            .strip_prefix("* ")
            .and_then(|r| r.strip_suffix(" EXISTS"))
            .and_then(|n| n.parse::<u32>().ok());
        if n.is_some_and(|n| n >= count) {
            break;
        }
    }
    c.send("DONE\r\n").await;
    c.until(|l| l.starts_with("c ")).await;
}

fn sieve_done(l: &str) -> bool {
    l.starts_with("OK") || l.starts_with("NO") || l.starts_with("BYE")
}

async fn sieve_ok(c: &mut Conn, command: &str) {
    c.send(command).await;
    let r = c.until(sieve_done).await;
    assert!(r.last().unwrap().starts_with("OK"), "{command}: {r:?}");
}

/// Uploads and activates a script over ManageSieve after STARTTLS; returns
/// the certificate the server presented.
async fn upload_script(addr: SocketAddr, trust: &Trust, script: &str) -> CertificateDer<'static> {
    let mut c = Conn::plain(addr).await;
    c.until(sieve_done).await;
    c.send("STARTTLS\r\n").await;
    assert!(c.until(sieve_done).await.last().unwrap().starts_with("OK"));
    let mut c = c.starttls(trust).await;
    c.until(sieve_done).await;
    sieve_ok(
        &mut c,
        &format!(
            "AUTHENTICATE \"PLAIN\" \"{}\"\r\n",
            plain_auth(USER, USER_PASS)
        ),
    )
    .await;
    sieve_ok(
        &mut c,
        &format!("PUTSCRIPT \"deploy\" {{{}+}}\r\n{script}\r\n", script.len()),
    )
    .await;
    sieve_ok(&mut c, "SETACTIVE \"deploy\"\r\n").await;
    c.send("LOGOUT\r\n").await;
    c.cert.unwrap()
}

/// One HTTPS request with `Connection: close`: status, headers, body.
async fn https(addr: SocketAddr, trust: &Trust, request: &str) -> (u16, Vec<String>, String) {
    let c = Conn::tls(addr, trust).await;
    let mut io = c.io;
    io.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, io.read_to_end(&mut raw))
        .await
        .expect("an HTTP response")
        .ok();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    (
        status,
        lines.map(str::to_string).collect(),
        body.to_string(),
    )
}

fn cookie(headers: &[String], name: &str) -> String {
    headers
        .iter()
        .filter_map(|h| h.split_once(':'))
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
        .next()
        .unwrap_or_else(|| panic!("no cookie {name} in {headers:?}"))
}

/// Logs in to the admin UI and returns the users page.
async fn admin_users_page(addr: SocketAddr, trust: &Trust) -> String {
    let host = format!("Host: {HOSTNAME}\r\nConnection: close\r\n");
    let (status, headers, _) =
        https(addr, trust, &format!("GET /login HTTP/1.1\r\n{host}\r\n")).await;
    assert_eq!(status, 200);
    let login = cookie(&headers, "zest_login");
    let form = format!(
        "csrf={login}&address={}&password={ADMIN_PASS}",
        ADMIN.replace('@', "%40")
    );
    let (status, headers, body) = https(
        addr,
        trust,
        &format!(
            "POST /login HTTP/1.1\r\n{host}Cookie: zest_login={login}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    assert!(status == 303 || status == 302, "login: {status} {body}");
    let session = cookie(&headers, "zest_session");
    let (status, _, body) = https(
        addr,
        trust,
        &format!("GET /users HTTP/1.1\r\n{host}Cookie: zest_session={session}\r\n\r\n"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn write_cert(dir: &Path) -> CertificateDer<'static> {
    let ck =
        rcgen::generate_simple_self_signed(vec![HOSTNAME.to_string(), "localhost".to_string()])
            .unwrap();
    std::fs::create_dir_all(dir).unwrap();
    // Written under other names and renamed, as a renewal tool does.
    std::fs::write(dir.join("fullchain.pem.new"), ck.cert.pem()).unwrap();
    std::fs::write(dir.join("privkey.pem.new"), ck.signing_key.serialize_pem()).unwrap();
    std::fs::rename(dir.join("privkey.pem.new"), dir.join("privkey.pem")).unwrap();
    std::fs::rename(dir.join("fullchain.pem.new"), dir.join("fullchain.pem")).unwrap();
    ck.cert.der().clone()
}

// --- the test ------------------------------------------------------------------

/// The compose file's shape: what the issue asks of each service.
fn check_compose(doc: &Value, services: &BTreeMap<String, Service>) {
    assert!(doc["volumes"].get("zest-data").is_some());
    let mut published = BTreeSet::new();
    for name in DAEMONS {
        let s = &services[name];
        assert_eq!(s.command, vec![name.to_string()], "{name}");
        assert_eq!(s.restart, "unless-stopped", "{name}");
        assert!(s.volumes.contains(&"zest-data:/data".to_string()), "{name}");
        assert!(
            s.volumes.iter().any(|v| v.ends_with(":/certs:ro")),
            "{name}"
        );
        assert_eq!(s.env["ZEST_AUTH_ALLOW_PLAINTEXT_ON_LOOPBACK"], "false");
        assert_eq!(s.env["ZEST_HOSTNAME"], HOSTNAME);
        assert!(s.env["ZEST_TLS_CERT_FILE"].starts_with("/certs/"));
        assert_eq!(
            s.health,
            ["CMD", "zest", "check", "--health", "--daemon", name],
            "{name}"
        );
        // Every published port is one the daemon listens on.
        let listens: String = s
            .env
            .iter()
            .filter(|(k, _)| k.contains("LISTEN") && !(name != "mda" && k.starts_with("ZEST_MDA")))
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        for p in &s.ports {
            let (host, inside) = p.split_once(':').unwrap();
            assert!(
                listens.contains(&format!(":{inside}")),
                "{name}: {p} vs {listens}"
            );
            published.insert(host.parse::<u16>().unwrap());
        }
    }
    assert_eq!(
        published,
        BTreeSet::from([25, 143, 443, 465, 587, 993, 4190])
    );
    assert_eq!(services["init"].restart, "no");
}

/// Starts every daemon's process at once and waits until each listens on all
/// the addresses its service gives it.
async fn start_daemons(host: &mut Host, services: &BTreeMap<String, Service>) -> Vec<Proc> {
    let mut procs: Vec<Proc> = DAEMONS
        .iter()
        .map(|name| Proc::spawn(name, host.service_command(&services[*name])))
        .collect();
    for p in &mut procs {
        let name = p.name.clone();
        for (k, v) in host.env(&services[&name]) {
            let ours = !k.starts_with("ZEST_MDA") || name == "mda";
            if k.contains("LISTEN") && ours {
                for addr in v
                    .trim_matches(['[', ']'])
                    .split(", ")
                    .filter(|a| !a.is_empty())
                {
                    p.wait_for(&format!("on {}", addr.trim_matches('"'))).await;
                }
            }
        }
    }
    procs
}

fn compose_vars() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([
        ("MAIL_HOSTNAME", HOSTNAME),
        ("MAIL_DOMAIN", DOMAIN),
        ("ADMIN_ADDRESS", ADMIN),
    ])
}

/// Without the init service, all daemons opening a new database at the same
/// moment: the migrations run once (in one immediate transaction, so the
/// others wait and then find nothing to do) and every daemon comes up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemons_starting_at_once_migrate_a_new_database_once() {
    let (_, services) = parse_compose(&compose_vars());
    let tmp = tempfile::tempdir().unwrap();
    let mut host = Host {
        dir: tmp.path().to_path_buf(),
        ports: BTreeMap::new(),
    };
    write_cert(&host.path("certs"));
    let mut procs = start_daemons(&mut host, &services).await;
    let imapd = services["imapd"].clone();
    let check = ok(&host.zest(&imapd, &["check"]));
    assert!(check.contains("integrity: ok"), "{check}");
    assert!(check.contains("0 domains, 0 users"), "{check}");
    for p in &mut procs {
        let (_, code) = p.terminate().await;
        assert_eq!(code, Some(0), "{}", p.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn compose_services_run_as_separate_processes_over_one_database() {
    let (doc, services) = parse_compose(&compose_vars());
    check_compose(&doc, &services);

    let tmp = tempfile::tempdir().unwrap();
    let mut host = Host {
        dir: tmp.path().to_path_buf(),
        ports: BTreeMap::new(),
    };
    std::fs::create_dir_all(host.path("data")).unwrap();
    std::fs::create_dir_all(host.path("secrets")).unwrap();
    std::fs::write(
        host.path("secrets/admin_password"),
        format!("{ADMIN_PASS}\n"),
    )
    .unwrap();
    let first_cert = write_cert(&host.path("certs"));

    // The one-shot init service: migrations, first domain and admin; a second
    // run changes nothing.
    let init = ok(&host.service_command(&services["init"]).output().unwrap());
    assert!(
        init.contains(&format!("created {DOMAIN} and its admin {ADMIN}")),
        "{init}"
    );
    let again = ok(&host.service_command(&services["init"]).output().unwrap());
    assert!(again.contains("already initialised"), "{again}");

    // Every daemon in its own process.
    let mut procs = start_daemons(&mut host, &services).await;
    // Each container's health check passes against its own daemon.
    for name in DAEMONS {
        let s = &services[name];
        let args: Vec<&str> = s.health[2..].iter().map(String::as_str).collect();
        let out = ok(&host.zest(s, &args));
        assert!(out.contains("up") && !out.contains("DOWN"), "{name}: {out}");
    }

    // A user added from the command line while the daemons run (another
    // writer process on the same database).
    let imapd = services["imapd"].clone();
    let env = host.env(&imapd);
    let mut add = host.command(
        ZEST,
        &["user", "add", USER, "--password-stdin"].map(String::from),
        &env,
    );
    let mut child = add
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(USER_PASS.as_bytes())
            .unwrap();
    }
    ok(&child.wait_with_output().unwrap());

    let trust = Trust {
        roots: vec![first_cert.clone()],
    };
    let imaps = host.addr(1993);
    let submissions = host.addr(1465);
    let sieve = host.addr(4190);
    let admin = host.addr(8443);

    // Submission process → queue → LMTP on the MDA process → IMAP IDLE on imapd.
    let mut idle = idle_in(imaps, &trust, "INBOX").await;
    submit(submissions, &trust, "first").await;
    wait_exists(&mut idle, 1).await;
    let header = idle
        .imap("c1", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (RECEIVED)])")
        .await;
    assert!(
        header
            .iter()
            .any(|l| l.contains(&format!("by {HOSTNAME} with LMTP"))),
        "not delivered over LMTP: {header:?}"
    );

    // A script uploaded on the managesieve process files the next delivery.
    let script = "require \"fileinto\";\r\nif header :contains \"subject\" \"to-archive\" {\r\n  fileinto \"Archive\";\r\n}\r\n";
    assert_eq!(upload_script(sieve, &trust, script).await, first_cert);
    let mut archive = idle_in(imaps, &trust, "Archive").await;
    submit(submissions, &trust, "to-archive").await;
    wait_exists(&mut archive, 1).await;
    let status = idle.imap("d", "STATUS INBOX (MESSAGES)").await;
    assert!(
        status.iter().any(|l| l.contains("(MESSAGES 1)")),
        "{status:?}"
    );

    // The admin process shows the user.
    let users = admin_users_page(admin, &trust).await;
    assert!(users.contains(USER), "{users}");

    // SIGHUP: new certificate for new connections, open ones keep going.
    let second_cert = write_cert(&host.path("certs"));
    let trust = Trust {
        roots: vec![first_cert.clone(), second_cert.clone()],
    };
    let mut open = Conn::tls(imaps, &trust).await;
    assert!(open.line().await.starts_with("* OK"));
    for p in &mut procs {
        p.signal("HUP");
        p.wait_for("SIGHUP: TLS certificates reloaded").await;
    }
    open.imap("e", "NOOP").await;
    idle.imap("f", "NOOP").await;
    assert_eq!(open.cert.as_ref(), Some(&first_cert));
    for addr in [imaps, submissions, admin] {
        assert_eq!(
            Conn::tls(addr, &trust).await.cert,
            Some(second_cert.clone()),
            "{addr}"
        );
    }
    assert_eq!(upload_script(sieve, &trust, script).await, second_cert);
    let mut mx = Conn::plain(host.addr(2525)).await;
    assert!(mx.reply().await.starts_with("220"));
    mx.smtp("EHLO client.example.net", "250").await;
    mx.smtp("STARTTLS", "220").await;
    assert_eq!(mx.starttls(&trust).await.cert, Some(second_cert.clone()));

    // A backup of the live system.
    let backup = host.path("backup");
    let out = ok(&host.zest(&imapd, &["backup", backup.to_str().unwrap()]));
    assert!(out.contains("verified"), "{out}");
    let live_users = ok(&host.zest(&imapd, &["user", "list"]));

    // SIGTERM: every process exits cleanly within 10 s, with an IDLE open.
    let mut idle_again = idle_in(imaps, &trust, "INBOX").await;
    // Clients that say nothing more: mid-session on every other daemon.
    let mut lingering = Vec::new();
    let mut smtp = Conn::tls(submissions, &trust).await;
    assert!(smtp.reply().await.starts_with("220"));
    smtp.smtp("EHLO client.example.net", "250").await;
    smtp.smtp(&format!("MAIL FROM:<{USER}>"), "530").await;
    lingering.push(smtp);
    let mut lmtp = Conn::plain(host.addr(2424)).await;
    assert!(lmtp.reply().await.starts_with("220"));
    lmtp.smtp("LHLO client.example.net", "250").await;
    lmtp.smtp(&format!("MAIL FROM:<{USER}>"), "250").await;
    lingering.push(lmtp);
    let mut managesieve = Conn::plain(sieve).await;
    managesieve.until(sieve_done).await;
    lingering.push(managesieve);
    let mut web = Conn::tls(admin, &trust).await;
    web.send(&format!("GET /login HTTP/1.1\r\nHost: {HOSTNAME}\r\n\r\n"))
        .await;
    assert!(web.line().await.contains("200"));
    lingering.push(web);
    for p in &mut procs {
        let (took, code) = p.terminate().await;
        assert_eq!(code, Some(0), "{}", p.name);
        assert!(took <= Duration::from_secs(10), "{} took {took:?}", p.name);
        eprintln!("{}: exited {took:?} after SIGTERM", p.name);
    }
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(WAIT, idle_again.io.read_to_end(&mut rest)).await;
    let rest = String::from_utf8_lossy(&rest);
    assert!(rest.contains("* BYE"), "{rest}");

    // Restore: refused over live data, then into a fresh data directory the
    // same users and mail come back.
    let refused = host.zest(&imapd, &["restore", backup.to_str().unwrap()]);
    assert!(!refused.status.success());
    let mut restored = imapd.clone();
    restored
        .env
        .insert("ZEST_DATA_DIR".into(), "/data/restored".into());
    let out = ok(&host.zest(&restored, &["restore", backup.to_str().unwrap()]));
    assert!(out.contains("verified"), "{out}");
    assert_eq!(ok(&host.zest(&restored, &["user", "list"])), live_users);
    assert!(
        live_users.contains(&format!("{USER}\tuser\t2 messages")),
        "{live_users}"
    );
}
