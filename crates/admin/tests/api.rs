//! The JSON API over real HTTP: bearer tokens, the same access rules as the
//! UI, the OpenAPI document matching the router, and schemathesis against it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A token created the way an admin does it: in the UI.
async fn token_for(s: &Server, acts_as: &str) -> String {
    let mut b = Browser::login(s, ADMIN).await;
    let r = b
        .submit("/tokens", &[("name", "tests"), ("account", acts_as)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = r.body.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let end = r.body[start..].find('<').unwrap() + start;
    r.body[start..end].to_string()
}

struct Api {
    base: String,
    token: String,
    client: reqwest::Client,
}

impl Api {
    fn new(s: &Server, token: &str) -> Api {
        Api {
            base: format!("{}/api/v1", s.base),
            token: token.to_string(),
            client: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let s = start().await;
    let client = reqwest::Client::new();
    let r = client
        .get(format!("{}/api/v1/users", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"zest\"");
    let bad = Api::new(&s, "zest_not-a-token");
    assert_eq!(bad.get("/users").await.0, StatusCode::UNAUTHORIZED);
    // A browser session is no API credential.
    let b = Browser::login(&s, ADMIN).await;
    let r = client
        .get(format!("{}/api/v1/users", s.base))
        .header(
            "cookie",
            format!("zest_session={}", b.cookies["zest_session"]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_admin_token_does_what_the_ui_does() {
    let s = start().await;
    let api = Api::new(&s, &token_for(&s, ADMIN).await);
    let (st, v) = api.post("/users", json!({ "address": "carol@example.org", "password": "carols password", "quota_bytes": 1000 })).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["address"], "carol@example.org");
    assert_eq!(v["quota_bytes"], 1000);
    let (st, _) = api
        .post(
            "/users",
            json!({ "address": "carol@example.org", "password": "carols password" }),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT);

    let (st, v) = api
        .post(
            "/users/carol@example.org/books/default/contacts",
            json!({ "name": "Pat", "emails": ["pat@example.com", "p@example.net"] }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["id"].as_i64().unwrap();
    let (st, v) = api
        .get("/users/carol@example.org/books/default/contacts?q=example.net")
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v[0]["emails"], json!(["pat@example.com", "p@example.net"]));
    let (st, v) = api
        .call(
            reqwest::Method::PUT,
            &format!("/users/carol@example.org/books/default/contacts/{id}"),
            Some(json!({ "name": "Pat B", "emails": ["pat@example.com"] })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["name"], "Pat B");

    let vcf = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Vee\r\nEMAIL:vee@example.com\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:4.0\r\nFN:None\r\nEND:VCARD\r\n";
    let r = api
        .client
        .post(format!(
            "{}/users/carol@example.org/books/default/import",
            api.base
        ))
        .bearer_auth(&api.token)
        .header("content-type", "text/vcard")
        .body(vcf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["imported"], 1);
    assert_eq!(v["skipped"][0]["line"], 6);

    let (st, v) = api
        .post(
            "/lists",
            json!({ "name": "vip", "owner": "carol@example.org" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(v["owner"], "carol@example.org");
    let (st, v) = api
        .post(
            "/lists/vip/members",
            json!({ "members": ["a@x.org", "b@x.org", "a@x.org"] }),
        )
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!({ "added": 2 })));
    let (_, v) = api.get("/lists/vip/members").await;
    assert_eq!(v, json!(["a@x.org", "b@x.org"]));

    let (st, v) = api
        .call(
            reqwest::Method::PUT,
            "/users/carol@example.org/scripts/s",
            Some(json!({ "content": "keep;\nbogus;\n", "active": true })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["line"], 2, "{v}");
    let (st, v) = api
        .call(
            reqwest::Method::PUT,
            "/users/carol@example.org/scripts/s",
            Some(json!({ "content": "keep;\n", "active": true })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, v) = api.get("/users/carol@example.org/scripts").await;
    assert_eq!(v[0]["active"], true);

    let (st, v) = api
        .call(
            reqwest::Method::PATCH,
            "/users/carol@example.org",
            Some(json!({ "admin": true, "quota_bytes": null })),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(
        (v["is_admin"].clone(), v["quota_bytes"].clone()),
        (json!(true), Value::Null)
    );

    let (st, v) = api.get("/queue").await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
    assert_eq!(api.get("/queue/999").await.0, StatusCode::NOT_FOUND);

    let (st, v) = api
        .call(reqwest::Method::DELETE, "/users/carol@example.org", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["contacts"], 2);
    assert_eq!(v["lists"][0]["name"], "vip");
    assert_eq!(
        api.get("/users/carol@example.org").await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_user_token_reaches_only_its_users_data() {
    let s = start().await;
    let admin = Api::new(&s, &token_for(&s, ADMIN).await);
    admin
        .post(
            "/users/bob@example.org/books/default/contacts",
            json!({ "emails": ["secret@example.com"] }),
        )
        .await;
    admin
        .post("/lists", json!({ "name": "bobs", "owner": BOB }))
        .await;
    let alice = Api::new(&s, &token_for(&s, ALICE).await);
    for p in [
        "/users",
        "/domains",
        "/aliases",
        "/queue",
        "/users/bob@example.org",
        "/users/bob@example.org/books",
        "/users/bob@example.org/books/default/contacts",
        "/users/bob@example.org/scripts",
        "/lists/bobs",
        "/lists/bobs/members",
    ] {
        assert_eq!(alice.get(p).await.0, StatusCode::NOT_FOUND, "GET {p}");
    }
    let (st, _) = alice
        .post(
            "/lists/bobs/members",
            json!({ "members": ["x@example.com"] }),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = alice
        .call(
            reqwest::Method::PATCH,
            "/users/alice@example.org",
            Some(json!({ "admin": true })),
        )
        .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a user cannot make themselves admin"
    );
    let (st, v) = alice
        .get("/users/alice@example.org/books/default/contacts")
        .await;
    assert_eq!((st, v), (StatusCode::OK, json!([])));
    let (st, v) = alice.post("/lists", json!({ "name": "alices" })).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(v["owner"], ALICE);
}

/// The paths the router serves, read from its source.
fn routed_paths() -> BTreeSet<String> {
    let src = include_str!("../src/api/mod.rs");
    src.split(".route(")
        .skip(1)
        .filter_map(|rest| {
            let start = rest.find('"')? + 1;
            let end = rest[start..].find('"')? + start;
            Some(rest[start..end].to_string())
        })
        .filter(|p| p != "/openapi.json")
        .collect()
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let s = start().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", s.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(documented, routed_paths());
    // Each documented operation answers something other than 404/405 for its method.
    let api = Api::new(&s, &token_for(&s, ADMIN).await);
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{address}", ADMIN)
                .replace("{book}", "default")
                .replace("{id}", "1")
                .replace("{name}", "nothing")
                .replace("{alias}", "nobody@example.org");
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = api
                .client
                .request(m, format!("{}{concrete}", api.base))
                .bearer_auth(&api.token)
                .send()
                .await
                .unwrap();
            assert_ne!(
                r.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
        }
    }
}

#[tokio::test]
async fn schemathesis_finds_no_server_errors() {
    let Some(st) = ["schemathesis", "st"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        if std::env::var("REQUIRE_REAL_CLIENTS").as_deref() == Ok("1") {
            panic!("schemathesis is required (REQUIRE_REAL_CLIENTS=1) but not installed");
        }
        println!("skipped: schemathesis not installed");
        return;
    };
    let s = start().await;
    let token = token_for(&s, ADMIN).await;
    let url = format!("{}/api/v1/openapi.json", s.base);
    let out = tokio::process::Command::new(st)
        .args([
            "run",
            &url,
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--seed",
            "1",
        ])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .args(["--url", &format!("{}/api/v1", s.base)])
        .env("NO_COLOR", "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis failed:\n{stdout}\n{stderr}"
    );
}
