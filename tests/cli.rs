//! The `zest` command line, through the real binary: every command's success
//! and error paths, and that a failed command changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Zest {
    dir: tempfile::TempDir,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Zest {
    /// A config whose listeners are on free loopback ports, so that daemons
    /// started by a test never collide with anything else on the machine.
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "hostname = \"mail.example.org\"\ndata_dir = \"{}\"\n",
            dir.path().join("data").display()
        );
        for (section, keys) in [
            ("imap", &["listen", "listen_tls"][..]),
            ("submission", &["listen", "listen_tls"]),
            ("mda", &["lmtp_listen", "smtp_listen"]),
            ("managesieve", &["listen"]),
            ("admin", &["listen"]),
        ] {
            config.push_str(&format!("[{section}]\n"));
            for key in keys {
                config.push_str(&format!("{key} = \"127.0.0.1:{}\"\n", free_port()));
            }
        }
        std::fs::write(dir.path().join("zest.toml"), config).unwrap();
        Zest { dir }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn command(&self, args: &[&str]) -> Command {
        common::zest(&self.path("zest.toml"), self.dir.path(), args)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.command(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
            .into()
    }

    fn run_stdin(&self, args: &[&str], input: &[u8]) -> Run {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap().into()
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 0, "zest {args:?} failed: {}", r.stderr);
        r.stdout
    }

    /// Runs and expects a one-line error on stderr and exit code 1.
    fn fails(&self, args: &[&str]) -> String {
        let r = self.run(args);
        assert_eq!(r.code, 1, "zest {args:?} should fail; stdout: {}", r.stdout);
        assert_eq!(r.stderr.lines().count(), 1, "one line: {:?}", r.stderr);
        assert!(r.stderr.starts_with("zest: "), "{:?}", r.stderr);
        r.stderr.trim_end().to_string()
    }

    fn with_user(&self) -> &Self {
        self.ok(&["domain", "add", "example.org"]);
        self.ok(&["user", "add", "alice@example.org", "--password", "pw-alice"]);
        self
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn domains() {
    let z = Zest::new();
    assert_eq!(
        z.ok(&["domain", "add", "Example.ORG"]),
        "added domain example.org\n"
    );
    assert_eq!(
        z.fails(&["domain", "add", "example.org"]),
        "zest: domain example.org already exists"
    );
    assert!(
        z.fails(&["domain", "add", "bad domain"])
            .starts_with("zest: invalid domain: ")
    );
    z.ok(&["domain", "add", "example.net"]);
    assert_eq!(
        lines(&z.ok(&["domain", "list"])),
        [
            "example.net\t0 users\t0 aliases",
            "example.org\t0 users\t0 aliases"
        ]
    );
    z.ok(&["user", "add", "a@example.net", "--password", "x"]);
    assert_eq!(
        z.fails(&["domain", "del", "example.net"]),
        "zest: domain example.net still has 1 user(s) and 0 alias(es); delete them first"
    );
    assert_eq!(
        z.fails(&["domain", "del", "nowhere.org"]),
        "zest: domain nowhere.org not found"
    );
    z.ok(&["domain", "del", "example.org"]);
    assert_eq!(
        lines(&z.ok(&["domain", "list"])),
        ["example.net\t1 users\t0 aliases"]
    );
}

#[test]
fn users() {
    let z = Zest::new();
    z.ok(&["domain", "add", "example.org"]);
    assert_eq!(
        z.run_stdin(
            &[
                "user",
                "add",
                "Bob@Example.org",
                "--password-stdin",
                "--admin"
            ],
            b"s3cret\n"
        )
        .stdout,
        "added user bob@example.org (admin)\n"
    );
    z.ok(&["user", "add", "carol@example.org", "--password", "pw"]);
    assert_eq!(
        z.fails(&["user", "add", "bob@example.org", "--password", "x"]),
        "zest: address bob@example.org already exists"
    );
    assert_eq!(
        z.fails(&["user", "add", "x@nowhere.org", "--password", "x"]),
        "zest: unknown domain nowhere.org"
    );
    assert!(
        z.fails(&["user", "add", "not-an-address", "--password", "x"])
            .starts_with("zest: invalid address: ")
    );
    assert_eq!(
        z.fails(&["user", "add", "d@example.org", "--password", ""]),
        "zest: the password is empty"
    );
    assert_eq!(
        z.run_stdin(&["user", "add", "d@example.org", "--password-stdin"], b"")
            .code,
        1
    );
    // Both or neither password flag is a usage error.
    assert_eq!(z.run(&["user", "add", "d@example.org"]).code, 2);
    assert_eq!(
        lines(&z.ok(&["user", "list"])),
        [
            "bob@example.org\tadmin\t0 messages\t0 B used",
            "carol@example.org\tuser\t0 messages\t0 B used"
        ]
    );
    z.ok(&["user", "admin", "bob@example.org", "off"]);
    z.ok(&["user", "admin", "carol@example.org", "on"]);
    z.ok(&["user", "quota", "carol@example.org", "2G"]);
    assert_eq!(
        lines(&z.ok(&["user", "list", "example.org"])),
        [
            "bob@example.org\tuser\t0 messages\t0 B used",
            "carol@example.org\tadmin\t0 messages\t0 B/2.0 GiB"
        ]
    );
    assert_eq!(
        z.fails(&["user", "quota", "carol@example.org", "lots"]),
        "zest: invalid size \"lots\": use e.g. 500M, 2G or none"
    );
    assert_eq!(
        z.ok(&["user", "passwd", "carol@example.org", "--password", "new"]),
        "password of carol@example.org changed\n"
    );
    assert_eq!(
        z.fails(&["user", "passwd", "nobody@example.org", "--password", "new"]),
        "zest: user nobody@example.org not found"
    );
    assert_eq!(
        z.fails(&["user", "admin", "nobody@example.org", "on"]),
        "zest: user nobody@example.org not found"
    );
    z.ok(&["user", "del", "bob@example.org"]);
    assert_eq!(
        z.fails(&["user", "del", "bob@example.org"]),
        "zest: user bob@example.org not found"
    );
    assert_eq!(lines(&z.ok(&["user", "list"])).len(), 1);
}

#[test]
fn aliases() {
    let z = Zest::new();
    z.with_user();
    assert_eq!(
        z.ok(&["alias", "add", "Info@example.org", "alice@example.org"]),
        "added alias info@example.org -> alice@example.org\n"
    );
    assert_eq!(
        z.fails(&["alias", "add", "info@example.org", "alice@example.org"]),
        "zest: address info@example.org already exists"
    );
    assert_eq!(
        z.fails(&["alias", "add", "alice@example.org", "alice@example.org"]),
        "zest: address alice@example.org already exists"
    );
    assert_eq!(
        z.fails(&["alias", "add", "x@example.org", "nobody@example.org"]),
        "zest: user nobody@example.org not found"
    );
    assert_eq!(
        z.fails(&["alias", "add", "x@other.org", "alice@example.org"]),
        "zest: unknown domain other.org"
    );
    assert_eq!(
        lines(&z.ok(&["alias", "list"])),
        ["info@example.org\talice@example.org"]
    );
    assert_eq!(
        z.ok(&["alias", "list", "example.org"]),
        "info@example.org\talice@example.org\n"
    );
    z.ok(&["alias", "del", "info@example.org"]);
    assert_eq!(
        z.fails(&["alias", "del", "info@example.org"]),
        "zest: alias info@example.org not found"
    );
    assert_eq!(z.ok(&["alias", "list"]), "");
}

#[test]
fn address_books() {
    let z = Zest::new();
    z.with_user();
    z.ok(&[
        "addrbook",
        "add",
        "alice@example.org",
        "Bob@Example.net",
        "--name",
        "Bob B",
    ]);
    z.ok(&["addrbook", "add", "alice@example.org", "carol@example.net"]);
    assert_eq!(
        z.fails(&["addrbook", "add", "alice@example.org", "bob@example.net"]),
        "zest: contact bob@example.net already exists"
    );
    assert!(
        z.fails(&["addrbook", "add", "alice@example.org", "not an address"])
            .starts_with("zest: invalid address")
    );
    assert_eq!(
        z.fails(&["addrbook", "add", "nobody@example.org", "x@y.org"]),
        "zest: no user nobody@example.org"
    );
    assert_eq!(
        z.fails(&[
            "addrbook",
            "add",
            "alice@example.org",
            "x@y.org",
            "--book",
            "work"
        ]),
        "zest: address book work not found"
    );
    assert_eq!(
        lines(&z.ok(&["addrbook", "list", "alice@example.org"])),
        ["\tcarol@example.net", "Bob B\tBob@Example.net"]
    );
    assert_eq!(
        lines(&z.ok(&["addrbook", "list", "alice@example.org", "--search", "bob"])),
        ["Bob B\tBob@Example.net"]
    );

    z.ok(&["addrbook", "book", "add", "alice@example.org", "work"]);
    assert_eq!(
        z.fails(&["addrbook", "book", "add", "alice@example.org", "work"]),
        "zest: address book work already exists"
    );
    z.ok(&[
        "addrbook",
        "add",
        "alice@example.org",
        "boss@corp.example",
        "--book",
        "work",
    ]);
    assert_eq!(
        lines(&z.ok(&["addrbook", "book", "list", "alice@example.org"])),
        ["default\t2 contacts", "work\t1 contacts"]
    );
    assert_eq!(
        z.fails(&["addrbook", "book", "del", "alice@example.org", "Default"]),
        "zest: the default address book cannot be deleted"
    );
    z.ok(&["addrbook", "book", "del", "alice@example.org", "work"]);

    z.ok(&["addrbook", "del", "alice@example.org", "BOB@example.net"]);
    assert_eq!(
        z.fails(&["addrbook", "del", "alice@example.org", "bob@example.net"]),
        "zest: contact bob@example.net not found"
    );
    assert_eq!(
        lines(&z.ok(&["addrbook", "list", "alice@example.org", "--book", "DEFAULT"])),
        ["\tcarol@example.net"]
    );
}

#[test]
fn address_book_import() {
    let z = Zest::new();
    z.with_user();
    let vcf = z.path("contacts.vcf");
    std::fs::write(
        &vcf,
        "\u{feff}BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dana\r\n  Scully\r\nEMAIL;TYPE=WORK:dana@fbi.example\r\nEMAIL:scully@home.example\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:4.0\r\nFN:No Mail\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carol\r\nEMAIL:carol@example.net\r\nEND:VCARD\r\n",
    )
    .unwrap();
    z.ok(&["addrbook", "add", "alice@example.org", "carol@example.net"]);
    let r = z.run(&[
        "addrbook",
        "import",
        "alice@example.org",
        vcf.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        format!(
            "imported 1 contacts into alice@example.org's address book default from {} (vCard); skipped 2 (1 already there, 1 without an email); 0 errors\n",
            vcf.display()
        )
    );
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!("{}:8: ", vcf.display())),
        "{}",
        r.stderr
    );
    assert_eq!(
        lines(&z.ok(&["addrbook", "list", "alice@example.org"])),
        [
            "\tcarol@example.net",
            "Dana Scully\tdana@fbi.example, scully@home.example"
        ]
    );

    let csv = z.path("contacts.csv");
    std::fs::write(&csv, "Name,E-mail Address\n\"Doe, John\",john@example.com\n\"Bad\",not-an-address\nJane,jane@example.com\n").unwrap();
    let r = z.run(&[
        "addrbook",
        "import",
        "alice@example.org",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("imported 2 contacts"), "{}", r.stdout);
    assert!(
        r.stderr.contains(&format!("{}:3: ", csv.display())),
        "{}",
        r.stderr
    );

    // Unreadable file, unknown user, unknown book: errors that change nothing.
    let before = z.ok(&["addrbook", "list", "alice@example.org"]);
    assert!(
        z.fails(&[
            "addrbook",
            "import",
            "alice@example.org",
            "/nonexistent.vcf"
        ])
        .starts_with("zest: reading /nonexistent.vcf: ")
    );
    assert_eq!(
        z.fails(&[
            "addrbook",
            "import",
            "bob@example.org",
            vcf.to_str().unwrap()
        ]),
        "zest: no user bob@example.org"
    );
    assert_eq!(
        z.fails(&[
            "addrbook",
            "import",
            "alice@example.org",
            vcf.to_str().unwrap(),
            "--book",
            "nope"
        ]),
        "zest: alice@example.org has no address book nope"
    );
    let garbage = z.path("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 1, 2, 3]).unwrap();
    assert!(
        z.fails(&[
            "addrbook",
            "import",
            "alice@example.org",
            garbage.to_str().unwrap()
        ])
        .starts_with("zest: ")
    );
    assert_eq!(z.ok(&["addrbook", "list", "alice@example.org"]), before);
}

#[test]
fn lists() {
    let z = Zest::new();
    z.with_user();
    let prefix = {
        let out = z.ok(&["list", "create", "staff"]);
        let uri = out
            .trim()
            .strip_prefix("created list ")
            .unwrap()
            .to_string();
        assert!(
            uri.starts_with("tag:mail.example.org,") && uri.ends_with(":staff"),
            "{uri}"
        );
        uri.trim_end_matches("staff").to_string()
    };
    assert_eq!(
        z.fails(&["list", "create", "staff"]),
        format!("zest: list {prefix}staff already exists")
    );
    assert!(
        z.fails(&["list", "create", "tag:other.org,2020:x"])
            .contains("lists of this server are named")
    );
    assert!(
        z.fails(&["list", "create", "bad name"])
            .starts_with("zest: invalid list URI")
    );
    z.ok(&[
        "list",
        "create",
        &format!("{prefix}friends"),
        "--owner",
        "alice@example.org",
    ]);
    assert_eq!(
        z.fails(&["list", "create", "x", "--owner", "nobody@example.org"]),
        "zest: no user nobody@example.org"
    );

    assert_eq!(
        z.ok(&[
            "list",
            "add",
            "staff",
            "A@example.org",
            "b@example.org",
            "a@example.org"
        ]),
        format!("{prefix}staff: added 2 of 3 (the rest were members already)\n")
    );
    assert_eq!(
        lines(&z.ok(&["list", "show", "staff"])),
        ["A@example.org", "b@example.org"]
    );
    // A value that is not a member fails the whole removal.
    assert_eq!(
        z.fails(&["list", "del", "staff", "b@example.org", "zed@example.org"]),
        "zest: list member zed@example.org not found"
    );
    assert_eq!(
        lines(&z.ok(&["list", "show", "staff"])),
        ["A@example.org", "b@example.org"]
    );
    z.ok(&["list", "del", "staff", "B@EXAMPLE.ORG"]);
    assert_eq!(lines(&z.ok(&["list", "show", "staff"])), ["A@example.org"]);
    assert_eq!(
        lines(&z.ok(&["list", "list"])),
        [
            format!("friends\t{prefix}friends\talice@example.org\t0 members"),
            format!("staff\t{prefix}staff\tserver\t1 members")
        ]
    );
    assert_eq!(
        lines(&z.ok(&["list", "list", "--owner", "alice@example.org"])).len(),
        1
    );
    z.ok(&["list", "delete", "friends"]);
    assert_eq!(
        z.fails(&["list", "show", "friends"]),
        format!("zest: list {prefix}friends not found")
    );
    assert_eq!(z.run(&["list", "add", "staff"]).code, 2);
}

#[test]
fn sieve_scripts() {
    let z = Zest::new();
    z.with_user();
    let script = "require \"fileinto\";\nif address :is \"from\" \"boss@corp.example\" { fileinto \"Work\"; }\n";
    std::fs::write(z.path("work.sieve"), script).unwrap();
    let f = z.path("work.sieve");
    let f = f.to_str().unwrap();
    assert_eq!(
        z.ok(&["sieve", "put", "alice@example.org", "work", f, "--activate"]),
        "stored script work of alice@example.org (active)\n"
    );
    assert_eq!(
        z.run_stdin(
            &["sieve", "put", "alice@example.org", "spare", "-"],
            b"keep;\n"
        )
        .stdout,
        "stored script spare of alice@example.org\n"
    );
    assert_eq!(
        lines(&z.ok(&["sieve", "list", "alice@example.org"])),
        ["spare", "work\t*"]
    );
    // A script the MDA could not run is refused, with where it went wrong.
    let bad = z.run_stdin(
        &["sieve", "put", "alice@example.org", "bad", "-"],
        b"require \"extlists\";\nif address :list \"from\" \"ldap://x\" { keep; }\n",
    );
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("line 2"), "{}", bad.stderr);
    assert!(bad.stderr.contains("not supported"), "{}", bad.stderr);
    assert_eq!(z.ok(&["sieve", "get", "alice@example.org", "work"]), script);
    assert_eq!(
        z.fails(&["sieve", "del", "alice@example.org", "work"]),
        "zest: script work is active; deactivate it first"
    );
    z.ok(&["sieve", "activate", "alice@example.org", "spare"]);
    assert_eq!(
        lines(&z.ok(&["sieve", "list", "alice@example.org"])),
        ["spare\t*", "work"]
    );
    z.ok(&["sieve", "del", "alice@example.org", "work"]);
    z.ok(&["sieve", "deactivate", "alice@example.org"]);
    assert_eq!(
        lines(&z.ok(&["sieve", "list", "alice@example.org"])),
        ["spare"]
    );
    assert_eq!(
        z.fails(&["sieve", "get", "alice@example.org", "work"]),
        "zest: script work not found"
    );
    assert_eq!(
        z.fails(&["sieve", "activate", "alice@example.org", "work"]),
        "zest: script work not found"
    );
    std::fs::write(z.path("bad.sieve"), [b'k', 0xff, b';']).unwrap();
    assert_eq!(
        z.fails(&[
            "sieve",
            "put",
            "alice@example.org",
            "bad",
            z.path("bad.sieve").to_str().unwrap()
        ]),
        "zest: the script is not valid UTF-8 (RFC 5228 2.2)"
    );
    assert!(
        z.fails(&["sieve", "put", "alice@example.org", "x", "/nonexistent"])
            .starts_with("zest: reading /nonexistent: ")
    );
    assert_eq!(
        z.fails(&["sieve", "list", "nobody@example.org"]),
        "zest: no user nobody@example.org"
    );
    assert_eq!(
        lines(&z.ok(&["sieve", "list", "alice@example.org"])),
        ["spare"]
    );
}

#[test]
fn check_and_config() {
    let z = Zest::new();
    z.with_user();
    let out = z.ok(&["check"]);
    assert_eq!(
        lines(&out),
        [
            format!("config: {} ok", z.path("zest.toml").display()),
            format!(
                "database: {} (schema version {})",
                z.path("data/zest.db").display(),
                store::SCHEMA_VERSION
            ),
            "integrity: ok".to_string(),
            "1 domains, 1 users".to_string(),
        ]
    );
    // Nothing is running: every probe fails.
    assert_eq!(z.run(&["check", "--health"]).code, 1);

    // An unknown key is a start-up error naming the key and the file.
    let bad = z.path("bad.toml");
    std::fs::write(
        &bad,
        "hostname = \"x\"\n[imap]\nlisten = \"127.0.0.1:1143\"\nlisten_tsl = \"\"\n",
    )
    .unwrap();
    let r: Run = Command::new(env!("CARGO_BIN_EXE_zest"))
        .args(["--config", bad.to_str().unwrap(), "check"])
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("listen_tsl") && r.stderr.contains("bad.toml"),
        "{}",
        r.stderr
    );

    // Environment overrides: the data directory moves.
    let other = z.path("elsewhere");
    let r: Run = z
        .command(&["domain", "add", "env.example"])
        .env("ZEST_DATA_DIR", &other)
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(other.join("zest.db").exists());
    let r: Run = z
        .command(&["check"])
        .env("ZEST_IMAP_LISTN", "x")
        .output()
        .unwrap()
        .into();
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("ZEST_IMAP_LISTN"), "{}", r.stderr);
}

#[test]
fn backup_and_restore() {
    let z = Zest::new();
    z.with_user();
    let backup = z.path("backup");
    let b = backup.to_str().unwrap();
    let out = z.ok(&["backup", b]);
    assert!(out.contains("verified"), "{out}");
    assert!(out.contains("1 domains, 1 users"), "{out}");
    let users = z.ok(&["user", "list"]);
    // Not into a directory that holds a backup; not over a database with data.
    assert!(z.fails(&["backup", b]).contains("already holds a backup"));
    assert!(z.fails(&["restore", b]).contains("--force"));
    // Over it when told: the users are back, the old database kept beside it.
    z.ok(&["user", "del", "alice@example.org"]);
    let out = z.ok(&["restore", b, "--force"]);
    assert!(out.contains("verified"), "{out}");
    assert_eq!(z.ok(&["user", "list"]), users);
    let kept = std::fs::read_dir(z.path("data"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("zest.db.before-restore-")
        });
    assert!(kept);
    // A damaged backup is refused before anything is written.
    let db = backup.join("zest.db");
    let mut bytes = std::fs::read(&db).unwrap();
    bytes[100] ^= 0x01;
    std::fs::write(&db, bytes).unwrap();
    assert!(
        z.fails(&["restore", b, "--force"])
            .contains("does not match the manifest")
    );
    assert_eq!(z.ok(&["user", "list"]), users);
    assert!(
        z.fails(&["restore", z.path("nothing").to_str().unwrap()])
            .contains("manifest")
    );
}

#[test]
fn serve_prepares_data_and_stops_on_sigterm() {
    let z = Zest::new();
    let mut child = z
        .command(&["serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    use std::io::BufRead;
    loop {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "serve ended early: {seen}"
        );
        seen.push_str(&line);
        if line.contains("daemons running") {
            break;
        }
    }
    assert!(seen.contains("No users yet"), "{seen}");
    assert!(!seen.contains("not built yet"), "{seen}");
    let health = z.run(&["check", "--health"]);
    assert_eq!(health.code, 0, "{}{}", health.stdout, health.stderr);
    assert!(z.path("data/zest.db").exists());
    assert!(z.path("data/tls/cert.pem").exists());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn domain_dns_and_the_queue() {
    let z = Zest::new();
    z.with_user();
    let out = z.ok(&["domain", "dns", "example.org"]);
    let records = lines(&out);
    assert_eq!(records[0], "example.org.\tIN\tMX\t10 mail.example.org.");
    assert_eq!(records[1], "example.org.\tIN\tTXT\t\"v=spf1 mx -all\"");
    // An RSA 2048 key does not fit one string: it is split at 255 bytes.
    let dkim = records[2];
    assert!(
        dkim.starts_with("zest._domainkey.example.org.\tIN\tTXT\t\"v=DKIM1; k=rsa; p="),
        "{dkim}"
    );
    let strings: Vec<&str> = dkim.split('\t').nth(3).unwrap().split("\" \"").collect();
    assert!(strings.len() >= 2, "{dkim}");
    assert!(strings.iter().all(|s| s.trim_matches('"').len() <= 255));
    assert!(records[3].starts_with("_dmarc.example.org.\tIN\tTXT\t\"v=DMARC1; "));
    assert!(records[4].starts_with("_mta-sts.example.org.\tIN\tTXT\t\"v=STSv1; id="));
    assert!(records[5].starts_with("_smtp._tls.example.org.\tIN\tTXT\t\"v=TLSRPTv1; "));
    assert_eq!(
        z.fails(&["domain", "dns", "other.example"]),
        "zest: no domain other.example"
    );

    assert_eq!(z.ok(&["queue", "list"]), "the queue is empty\n");
    assert_eq!(z.ok(&["queue", "flush"]), "0 recipients due now\n");
    assert_eq!(
        z.fails(&["queue", "del", "7"]),
        "zest: queue entry 7 not found"
    );
    assert_eq!(
        z.fails(&["queue", "retry", "x"]),
        "zest: \"x\" is not a queue id (see zest queue list)"
    );
}
