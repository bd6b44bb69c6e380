//! A running admin daemon over a real temp store, and a small browser-like
//! client that keeps cookies and finds CSRF tokens in pages.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use store::{EmailAddress, Store};
use zest_core::config::{Config, Listen};
use zest_core::shutdown::Shutdown;

pub const ADMIN: &str = "admin@example.org";
pub const ALICE: &str = "alice@example.org";
pub const BOB: &str = "bob@example.org";
pub const PASSWORD: &str = "correct horse battery";

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    pub https: Option<SocketAddr>,
    pub store: Store,
    pub dir: tempfile::TempDir,
    /// The DNS the dashboard asks (`[dns] servers`); empty until a test adds records.
    pub zone: zest_core::dns::fixture::ZoneServer,
    shutdown: Shutdown,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

pub async fn start() -> Server {
    start_with(false).await
}

/// A store with example.org, an admin and two users, and the daemon on port 0.
pub async fn start_with(tls: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    config.admin.listen = Listen::new(vec![any]);
    config.admin.listen_tls = Listen::new(if tls { vec![any] } else { vec![] });
    // Nothing else listens in these tests.
    for l in [
        &mut config.imap.listen,
        &mut config.imap.listen_tls,
        &mut config.submission.listen,
        &mut config.submission.listen_tls,
        &mut config.mda.lmtp_listen,
        &mut config.mda.smtp_listen,
        &mut config.managesieve.listen,
    ] {
        *l = Listen::new(vec![]);
    }
    let zone = zest_core::dns::fixture::ZoneServer::start().await.unwrap();
    config.dns.servers = vec![zone.addr()];
    let store = Store::open(&config.db_path()).await.unwrap();
    store.create_domain("example.org").await.unwrap();
    for (a, admin) in [(ADMIN, true), (ALICE, false), (BOB, false)] {
        store
            .create_account(&EmailAddress::parse(a).unwrap(), PASSWORD, admin)
            .await
            .unwrap();
    }
    let shutdown = Shutdown::new();
    let daemon = admin::Daemon::bind(Arc::new(config), store.clone(), shutdown.clone())
        .await
        .unwrap();
    let addrs = daemon.local_addrs();
    let addr = addrs.iter().find(|(k, _)| *k == "http").unwrap().1;
    let https = addrs.iter().find(|(k, _)| *k == "https").map(|(_, a)| *a);
    let task = tokio::spawn(async move {
        daemon.run().await.unwrap();
    });
    Server {
        base: format!("http://{addr}"),
        addr,
        https,
        store,
        dir,
        zone,
        shutdown,
        task: Some(task),
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Response {
    pub fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The first CSRF token in the page.
    pub fn csrf(&self) -> String {
        csrf_in(&self.body).unwrap_or_else(|| panic!("no csrf field in:\n{}", self.body))
    }
}

pub fn csrf_in(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// A client that keeps cookies like a browser and never follows redirects.
pub struct Browser {
    pub base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
    pub csrf: String,
}

impl Browser {
    pub fn new(server: &Server) -> Browser {
        Browser {
            base: server.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            csrf: String::new(),
        }
    }

    /// Logged in as `address`; `csrf` holds the session's token.
    pub async fn login(server: &Server, address: &str) -> Browser {
        let mut b = Browser::new(server);
        let r = b.try_login(address, PASSWORD).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let home = b.get("/").await;
        let page = if home.status == StatusCode::SEE_OTHER {
            b.get(home.location()).await
        } else {
            home
        };
        b.csrf = page.csrf();
        b
    }

    pub async fn try_login(&mut self, address: &str, password: &str) -> Response {
        let form = self.get("/login").await;
        let csrf = form.csrf();
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("address", address),
                ("password", password),
            ],
        )
        .await
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(&mut self, r: reqwest::Response) -> Response {
        for v in r.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            let first = v.split(';').next().unwrap();
            let (k, val) = first.split_once('=').unwrap();
            if v.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
        }
        Response {
            status: r.status(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(encode(fields))
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }

    /// A form post carrying the session's CSRF token.
    pub async fn submit(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let csrf = self.csrf.clone();
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    pub async fn upload(
        &mut self,
        path: &str,
        file_name: &str,
        data: &[u8],
        csrf: Option<&str>,
    ) -> Response {
        let mut form = reqwest::multipart::Form::new();
        if let Some(c) = csrf {
            form = form.text("csrf", c.to_string());
        }
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(data.to_vec()).file_name(file_name.to_string()),
        );
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.finish(r).await
    }
}

pub fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

pub fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn addr(a: &str) -> EmailAddress {
    EmailAddress::parse(a).unwrap()
}
