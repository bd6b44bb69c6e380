//! `zest deliver` through the real binary, as an MTA's local delivery agent
//! runs it: the recipient's Sieve script files the message, the exit codes
//! follow sysexits.h (CONTRACT.md), and what was delivered is read back over
//! IMAP from `zest imapd`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

struct Zest {
    dir: tempfile::TempDir,
    imap_port: u16,
    lmtp_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Zest {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let imap_port = free_port();
        let lmtp_port = free_port();
        let config = format!(
            "hostname = \"mail.example.org\"\ndata_dir = \"{}\"\n\
             [imap]\nlisten = \"127.0.0.1:{imap_port}\"\nlisten_tls = []\n\
             [mda]\nlmtp_listen = \"127.0.0.1:{lmtp_port}\"\nsmtp_listen = []\n",
            dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("zest.toml"), config).unwrap();
        Zest {
            dir,
            imap_port,
            lmtp_port,
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        common::zest(&self.path("zest.toml"), self.dir.path(), args)
    }

    fn ok(&self, args: &[&str]) {
        let out = self.command(args).stdin(Stdio::null()).output().unwrap();
        assert!(
            out.status.success(),
            "zest {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `zest deliver` with `message` on stdin: exit code and stderr.
    fn deliver(&self, args: &[&str], message: &str) -> (i32, String) {
        let mut all = vec!["deliver"];
        all.extend_from_slice(args);
        let mut child = self
            .command(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts `zest imapd` and waits until it says it is listening.
    fn imapd(&self) -> Daemon {
        self.daemon(self.command(&["imapd"]), "imapd: imap on ")
    }

    /// Runs `command` (a daemon) until it prints a line starting with `ready`.
    fn daemon(&self, mut command: Command, ready: &str) -> Daemon {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            assert!(
                out.read_line(&mut line).unwrap() > 0,
                "the daemon ended early: {seen}"
            );
            seen.push_str(&line);
            if line.starts_with(ready) {
                break;
            }
        }
        Daemon { child }
    }
}

/// A daemon this test started; stopped with SIGTERM when dropped.
struct Daemon {
    child: Child,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

struct Imap {
    r: BufReader<TcpStream>,
    n: usize,
}

impl Imap {
    fn connect(port: u16) -> Imap {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut i = Imap {
            r: BufReader::new(s),
            n: 0,
        };
        let greeting = i.line();
        assert!(greeting.starts_with("* OK"), "{greeting}");
        i
    }

    fn line(&mut self) -> String {
        let mut l = String::new();
        assert!(self.r.read_line(&mut l).unwrap() > 0, "connection closed");
        l
    }

    /// Sends a command; returns everything up to and including its tagged
    /// reply, literals included.
    fn cmd(&mut self, command: &str) -> String {
        self.n += 1;
        let tag = format!("a{}", self.n);
        write!(self.r.get_mut(), "{tag} {command}\r\n").unwrap();
        let mut out = String::new();
        loop {
            let l = self.line();
            out.push_str(&l);
            if let Some(size) = l
                .trim_end()
                .strip_suffix('}')
                .and_then(|s| s.rsplit_once('{'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
            {
                let mut lit = vec![0u8; size];
                self.r.read_exact(&mut lit).unwrap();
                out.push_str(&String::from_utf8_lossy(&lit));
                continue;
            }
            if l.starts_with(&format!("{tag} ")) {
                assert!(l.starts_with(&format!("{tag} OK")), "{command}: {out}");
                return out;
            }
        }
    }
}

fn message(subject: &str) -> String {
    // LF line ends, as a local MTA hands a message over.
    format!(
        "From: x@example.net\nTo: alice@example.org\nSubject: {subject}\n\
         Message-ID: <{}@example.net>\nDate: Mon, 23 Nov 2026 10:00:00 +0000\n\nHello.\n",
        subject.replace(|c: char| !c.is_ascii_alphanumeric(), "")
    )
}

#[test]
fn deliver_runs_the_users_sieve_script_and_imap_sees_the_result() {
    let z = Zest::new();
    z.ok(&["domain", "add", "example.org"]);
    z.ok(&["user", "add", "alice@example.org", "--password", "pw-alice"]);
    std::fs::write(
        z.path("main.sieve"),
        "require [\"fileinto\", \"mailbox\"];\n\
         if header :contains \"subject\" \"[list]\" {\n  fileinto :create \"Lists\";\n}\n",
    )
    .unwrap();
    z.ok(&[
        "sieve",
        "put",
        "alice@example.org",
        "main",
        z.path("main.sieve").to_str().unwrap(),
        "--activate",
    ]);

    let to = ["--to", "alice@example.org", "--from", "x@example.net"];
    assert_eq!(z.deliver(&to, &message("[list] weekly news")).0, 0);
    assert_eq!(z.deliver(&to, &message("hello alice")).0, 0);

    // Unknown user: EX_NOUSER. A bad sender: EX_DATAERR. Over quota:
    // EX_TEMPFAIL, so the MTA keeps the message and retries.
    let (code, err) = z.deliver(&["--to", "nobody@example.org"], &message("lost"));
    assert_eq!(code, 67, "{err}");
    let (code, err) = z.deliver(
        &["--to", "alice@example.org", "--from", "not an address"],
        &message("bad"),
    );
    assert_eq!(code, 65, "{err}");
    z.ok(&["user", "quota", "alice@example.org", "10"]);
    let (code, err) = z.deliver(&to, &message("too much"));
    assert_eq!(code, 75, "{err}");
    assert!(err.contains("over quota"), "{err}");
    z.ok(&["user", "quota", "alice@example.org", "none"]);

    let _imapd = z.imapd();
    let mut imap = Imap::connect(z.imap_port);
    imap.cmd("LOGIN alice@example.org pw-alice");
    let lists = imap.cmd("SELECT Lists");
    assert!(lists.contains("* 1 EXISTS"), "{lists}");
    let fetched = imap.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT RETURN-PATH)]");
    assert!(
        fetched.contains("Return-Path: <x@example.net>\r\nSubject: [list] weekly news\r\n"),
        "{fetched}"
    );
    let inbox = imap.cmd("SELECT INBOX");
    assert!(
        inbox.contains("* 1 EXISTS"),
        "only the unfiled one: {inbox}"
    );
    let fetched = imap.cmd("FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]");
    assert!(fetched.contains("Subject: hello alice\r\n"), "{fetched}");
    // Line ends were made CRLF on the way in.
    let text = imap.cmd("FETCH 1 BODY.PEEK[TEXT]");
    assert!(text.contains("{8}\r\nHello.\r\n"), "{text}");
    imap.cmd("LOGOUT");
}

/// `command` run by bash with a file size limit of `kib` KiB, as a full disk
/// looks to the process (writes past it fail with EFBIG; the signal that
/// would kill it is ignored).
fn limited(z: &Zest, kib: u32, args: &[&str]) -> Command {
    let inner = z.command(args);
    let mut script = format!("trap '' XFSZ; ulimit -f {kib}; exec");
    for a in std::iter::once(inner.get_program()).chain(inner.get_args()) {
        script.push_str(&format!(" '{}'", a.to_str().unwrap()));
    }
    let mut c = Command::new("bash");
    c.arg("-c").arg(script).current_dir(z.dir.path());
    for (k, _) in std::env::vars() {
        if k.starts_with("ZEST_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

fn big_message() -> String {
    let mut m = message("big");
    for _ in 0..4000 {
        m.push_str(&"x".repeat(70));
        m.push('\n');
    }
    m
}

fn messages_of_alice(z: &Zest) -> String {
    let out = z
        .command(&["user", "list"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_full_disk_is_a_temporary_failure_and_nothing_is_half_stored() {
    let z = Zest::new();
    z.ok(&["domain", "add", "example.org"]);
    z.ok(&["user", "add", "alice@example.org", "--password", "pw-alice"]);
    let big = big_message();

    // zest deliver: EX_TEMPFAIL.
    let mut child = limited(&z, 40, &["deliver", "--to", "alice@example.org"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(big.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(75), "{err}");
    assert!(err.contains("the disk is full"), "{err}");
    assert!(messages_of_alice(&z).contains("0 messages"));

    // LMTP from `zest mda`: 452 4.3.1 for the recipient.
    {
        let _mda = z.daemon(limited(&z, 40, &["mda"]), "mda: lmtp on ");
        let s = TcpStream::connect(("127.0.0.1", z.lmtp_port)).unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut c = BufReader::new(s);
        let reply = |c: &mut BufReader<TcpStream>, send: &str| {
            c.get_mut().write_all(send.as_bytes()).unwrap();
            let mut last = String::new();
            loop {
                let mut l = String::new();
                assert!(c.read_line(&mut l).unwrap() > 0, "closed");
                if l.as_bytes().get(3) != Some(&b'-') {
                    last = l;
                    break;
                }
                last.push_str(&l);
            }
            last.trim_end().to_string()
        };
        assert!(reply(&mut c, "").starts_with("220"));
        assert!(reply(&mut c, "LHLO client\r\n").starts_with("250"));
        assert!(reply(&mut c, "MAIL FROM:<x@example.net>\r\n").starts_with("250"));
        assert!(reply(&mut c, "RCPT TO:<alice@example.org>\r\n").starts_with("250"));
        assert!(reply(&mut c, "DATA\r\n").starts_with("354"));
        let data = format!("{}.\r\n", big.replace('\n', "\r\n"));
        assert_eq!(
            reply(&mut c, &data),
            "452 4.3.1 insufficient system storage"
        );
    }
    assert!(messages_of_alice(&z).contains("0 messages"));

    // With room again, the retry is delivered once.
    assert_eq!(
        z.deliver(&["--to", "alice@example.org"], &big).0,
        0,
        "delivered after the disk has room"
    );
    assert!(messages_of_alice(&z).contains("1 messages"));
}

#[test]
fn several_recipients_one_over_quota_are_delivered_or_queued_never_retried() {
    let z = Zest::new();
    z.ok(&["domain", "add", "example.org"]);
    z.ok(&["user", "add", "alice@example.org", "--password", "pw-alice"]);
    z.ok(&["user", "add", "bob@example.org", "--password", "pw-bob"]);
    z.ok(&["user", "quota", "bob@example.org", "10"]);
    let (code, err) = z.deliver(
        &[
            "--to",
            "alice@example.org",
            "--to",
            "bob@example.org",
            "--from",
            "x@example.net",
        ],
        &message("for both"),
    );
    // Exit 0: the caller must not retry alice, who has the message.
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("bob@example.org: cannot take it now; queued for redelivery"),
        "{err}"
    );
    let users = messages_of_alice(&z);
    assert!(
        users.contains("alice@example.org\tuser\t1 messages"),
        "{users}"
    );
    assert!(
        users.contains("bob@example.org\tuser\t0 messages"),
        "{users}"
    );
    let queue = z
        .command(&["queue", "list"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let queue = String::from_utf8_lossy(&queue.stdout);
    assert!(queue.contains("bob@example.org"), "{queue}");
}
