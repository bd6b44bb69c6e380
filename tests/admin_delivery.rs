//! What a user does in the admin web UI decides where the next message goes:
//! the rule builder writes a script with `:addrbook:default`, a contact is
//! added through the address book form, and the MDA's next LMTP delivery
//! from that sender stays in the Inbox. The admin and MDA daemons share one
//! store and are spoken to only over their sockets, the UI as a browser
//! would (session cookie, CSRF token from the page, form posts).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use store::{EmailAddress, Store};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";
const WAIT: Duration = Duration::from_secs(30);

/// A browser: keeps cookies, follows no redirects, reads the CSRF token
/// from the form it was given.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: HashMap<String, String>,
}

struct Page {
    status: u16,
    location: String,
    body: String,
}

impl Page {
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a CSRF field") + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        self.body[start..end].to_string()
    }
}

impl Browser {
    fn new(addr: SocketAddr) -> Browser {
        Browser {
            base: format!("http://{addr}"),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
        }
    }

    fn cookie(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn page(&mut self, r: reqwest::RequestBuilder) -> Page {
        let r = r.header("cookie", self.cookie()).send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (k, val) = v.split(';').next().unwrap().split_once('=').unwrap();
            self.cookies.insert(k.to_string(), val.to_string());
        }
        Page {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string())
                .unwrap_or_default(),
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&mut self, path: &str) -> Page {
        let r = self.http.get(format!("{}{path}", self.base));
        self.page(r).await
    }

    /// Submits a form the way a browser does: url-encoded fields, the token
    /// taken from the page the form is on.
    async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(form_page).await.csrf();
        let mut body = form_urlencoded::Serializer::new(String::new());
        body.append_pair("csrf", &csrf);
        for (k, v) in fields {
            body.append_pair(k, v);
        }
        let r = self
            .http
            .post(format!("{}{action}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish());
        self.page(r).await
    }
}

/// Sends `send` (if any) and checks the reply's first line starts with `code`.
async fn step(c: &mut BufReader<TcpStream>, send: Option<String>, code: &str) {
    if let Some(s) = send {
        c.get_mut().write_all(s.as_bytes()).await.unwrap();
    }
    let mut line = String::new();
    tokio::time::timeout(WAIT, c.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert!(line.starts_with(code), "expected {code}, got {line:?}");
}

async fn lmtp(addr: SocketAddr, from: &str, to: &str, subject: &str) {
    let mut c = BufReader::new(TcpStream::connect(addr).await.unwrap());
    step(&mut c, None, "220").await;
    c.get_mut()
        .write_all(b"LHLO client.example.net\r\n")
        .await
        .unwrap();
    loop {
        let mut line = String::new();
        tokio::time::timeout(WAIT, c.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert!(line.starts_with("250"), "{line:?}");
        if line.starts_with("250 ") {
            break;
        }
    }
    step(&mut c, Some(format!("MAIL FROM:<{from}>\r\n")), "250").await;
    step(&mut c, Some(format!("RCPT TO:<{to}>\r\n")), "250").await;
    step(&mut c, Some("DATA\r\n".into()), "354").await;
    let msg = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@example.net>\r\n\r\nHi.\r\n.\r\n"
    );
    step(&mut c, Some(msg), "250").await;
}

async fn subjects(store: &Store, account: store::AccountId, mailbox: &str) -> Vec<String> {
    let Ok(status) = store.mailbox_status(account, mailbox).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in store.entries(account, status.id).await.unwrap() {
        let raw = store.read_message(account, status.id, e.uid).await.unwrap();
        let text = String::from_utf8_lossy(&raw).to_string();
        out.push(
            text.lines()
                .find_map(|l| l.strip_prefix("Subject: "))
                .unwrap_or_default()
                .to_string(),
        );
    }
    out
}

#[tokio::test]
async fn a_contact_added_in_the_web_ui_is_known_to_the_next_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut config = Config {
        hostname: "mail.example.org".into(),
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    config.admin.listen = Listen::new(vec![any]);
    config.admin.listen_tls = Listen::new(vec![]);
    config.mda.lmtp_listen = Listen::new(vec![any]);
    config.mda.smtp_listen = Listen::new(vec![]);
    let config = Arc::new(config);
    let store = Store::open(&config.db_path()).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    let alice = store
        .create_account(&EmailAddress::parse(USER).unwrap(), PASS, false)
        .await
        .unwrap();

    let shutdown = Shutdown::new();
    let admin = admin::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
        .await
        .unwrap();
    let web = admin.local_addrs()[0].1;
    let mda = mda::Daemon::bind(config.clone(), store.clone(), shutdown.clone())
        .await
        .unwrap();
    let lmtp_at = mda.local_addrs()[0].1;
    tokio::spawn(admin.run());
    tokio::spawn(mda.run());

    // Log in as alice, as a browser does.
    let mut b = Browser::new(web);
    let login = b
        .submit("/login", "/login", &[("address", USER), ("password", PASS)])
        .await;
    assert_eq!(login.status, 303, "{}", login.body);

    // The rule builder: known senders to the Inbox, everyone else to "Unknown".
    let filter = "/u/alice@example.org/filter";
    let saved = b
        .submit(filter, filter, &[("sort", "on"), ("folder", "Unknown")])
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let script = store.active_script(alice.id).await.unwrap().unwrap();
    assert!(
        String::from_utf8_lossy(&script.content).contains("\":addrbook:default\""),
        "the active script tests the address book"
    );

    // A stranger's mail is filed away.
    lmtp(lmtp_at, "jane@example.com", USER, "before").await;
    assert_eq!(subjects(&store, alice.id, "Unknown").await, ["before"]);

    // Jane is added to the default address book in the UI (another case:
    // the address book compares addresses case-insensitively).
    let book = "/u/alice@example.org/books/default";
    let added = b
        .submit(
            book,
            &format!("{book}/contacts"),
            &[
                ("name", "Jane Doe"),
                ("emails", "Jane@Example.com"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert!(added.location.starts_with(book), "{}", added.location);

    // The very next delivery from her stays in the Inbox.
    lmtp(lmtp_at, "jane@example.com", USER, "after").await;
    assert_eq!(subjects(&store, alice.id, "INBOX").await, ["after"]);
    assert_eq!(subjects(&store, alice.id, "Unknown").await, ["before"]);

    // Without a valid token the form changes nothing.
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.append_pair("csrf", "forged");
    body.append_pair("name", "Mallory");
    body.append_pair("emails", "mallory@example.com");
    let r = b
        .page(
            b.http
                .post(format!("{}{book}/contacts", b.base))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.finish()),
        )
        .await;
    assert!(r.status >= 400, "{}", r.status);
    lmtp(lmtp_at, "mallory@example.com", USER, "mallory").await;
    assert_eq!(
        subjects(&store, alice.id, "Unknown").await,
        ["before", "mallory"]
    );
    shutdown.trigger();
}
