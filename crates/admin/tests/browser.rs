//! The UI in a real browser: Debian's Chromium driven over WebDriver
//! (chromedriver). Screenshots go to target/screenshots/ for review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use common::*;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn installed(cmd: &str) -> bool {
    std::process::Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

struct WebDriver {
    http: reqwest::Client,
    session: String,
    shots: PathBuf,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

impl WebDriver {
    async fn start() -> WebDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        // Wait (bounded) until the driver answers.
        let ready = async {
            loop {
                if let Ok(r) = http.get(format!("{base}/status")).send().await
                    && r.status().is_success()
                {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .expect("chromedriver did not start");
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1200,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let r: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("{r}"));
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        WebDriver {
            session: format!("{base}/session/{id}"),
            http,
            shots,
            _driver: driver,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        if v["value"].get("error").is_some() {
            panic!("WebDriver {path}: {v}");
        }
        v["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{css}: {v}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/clear"),
            Some(json!({})),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let e = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{e}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    async fn source(&self) -> String {
        self.cmd(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Waits (bounded) until the page contains `text`.
    async fn wait_for(&self, text: &str) -> String {
        let found = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let s = self.source().await;
                if s.contains(text) {
                    return s;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        match found {
            Ok(s) => s,
            Err(_) => panic!("the page never showed {text:?}:\n{}", self.source().await),
        }
    }

    async fn screenshot(&self, name: &str) {
        let b64 = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(b64.as_str().unwrap())
            .unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn login(&self, base: &str, address: &str, password: &str) {
        self.go(&format!("{base}/login")).await;
        self.type_into("#address", address).await;
        self.type_into("#password", password).await;
        self.click("main form button[type=submit]").await;
    }

    async fn quit(&self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

#[tokio::test]
async fn admin_and_user_in_chromium() {
    if !installed("chromedriver") || !installed("chromium") {
        if std::env::var("REQUIRE_REAL_CLIENTS").as_deref() == Ok("1") {
            panic!("chromium and chromium-driver are required (REQUIRE_REAL_CLIENTS=1)");
        }
        println!("skipped: chromium or chromedriver not installed");
        return;
    }
    let s = start().await;
    let base = s.base.clone();
    let wd = WebDriver::start().await;

    wd.login(&base, ADMIN, PASSWORD).await;
    wd.wait_for("<h1>Dashboard</h1>").await;
    wd.screenshot("01-admin-dashboard").await;

    // Create a user.
    wd.go(&format!("{base}/users")).await;
    wd.type_into("#address", "carol@example.org").await;
    wd.type_into("#password", "carols password").await;
    wd.click("main form button[type=submit]").await;
    wd.wait_for("Created carol@example.org.").await;
    wd.screenshot("02-user-created").await;

    // Add a contact to her address book.
    wd.go(&format!("{base}/u/carol@example.org/books/default"))
        .await;
    wd.type_into("#cname", "Friendly Person").await;
    wd.type_into("#cemails", "friend@example.com\nfriend@example.net")
        .await;
    wd.click("form[action$='/contacts'] button[type=submit]")
        .await;
    wd.wait_for("Added Friendly Person.").await;

    // Upload a vCard (with the upload-progress script).
    let vcf = s.dir.path().join("contacts.vcf");
    std::fs::write(
        &vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Uploaded Uma\r\nEMAIL:uma@example.com\r\nEND:VCARD\r\n\
         BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Nobody\r\nEND:VCARD\r\n",
    )
    .unwrap();
    wd.type_into("#file", vcf.to_str().unwrap()).await;
    wd.click("form[data-upload-progress] button[type=submit]")
        .await;
    let report = wd.wait_for("Import of contacts.vcf").await;
    assert!(report.contains("<dt>Imported</dt><dd>1</dd>"), "{report}");
    wd.screenshot("03-import-report").await;

    // Search as you type.
    wd.go(&format!("{base}/u/carol@example.org/books/default"))
        .await;
    wd.type_into("#q", "uma").await;
    wd.wait_for("matching “uma”").await;
    wd.screenshot("04-search").await;

    // A list owned by carol, with members pasted in bulk.
    wd.go(&format!("{base}/lists")).await;
    wd.type_into("#name", "team").await;
    wd.select("#owner", "carol@example.org").await;
    wd.click("main form button[type=submit]").await;
    wd.wait_for("Created the list team.").await;
    wd.type_into(
        "#members",
        "one@example.com\ntwo@example.com, three@example.com",
    )
    .await;
    wd.click("form[action$='/members'] button[type=submit]")
        .await;
    wd.wait_for("3 members").await;
    wd.screenshot("05-list").await;

    // Log out; log in as carol: her data, and nobody else's.
    wd.click("header form.logout button").await;
    wd.wait_for("Log in with your full address").await;
    wd.login(&base, "carol@example.org", "carols password")
        .await;
    let home = wd.wait_for("<h1>carol@example.org</h1>").await;
    assert!(home.contains("(2 contacts)"), "{home}");
    assert!(home.contains(">team</a>"), "{home}");
    assert!(!home.contains("Dashboard"), "no admin menu");
    wd.screenshot("06-user-home").await;
    wd.go(&format!("{base}/u/carol@example.org/books/default"))
        .await;
    let book = wd.wait_for("friend@example.net").await;
    assert!(book.contains("uma@example.com"));
    // The same page at a phone's width.
    wd.cmd(
        reqwest::Method::POST,
        "/window/rect",
        Some(json!({ "width": 390, "height": 844 })),
    )
    .await;
    wd.screenshot("07-phone-address-book").await;
    wd.go(&format!("{base}/u/alice@example.org/books/default"))
        .await;
    wd.wait_for("<h1>404</h1>").await;
    wd.go(&format!("{base}/users")).await;
    wd.wait_for("<h1>404</h1>").await;
    wd.screenshot("08-user-not-found").await;
    wd.quit().await;
}
