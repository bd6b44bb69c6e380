//! CSRF on every state-changing route, no reaching another user's data by
//! editing URLs, and cookies marked Secure over TLS.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::*;
use reqwest::StatusCode;
use store::NewContact;

/// Every state-changing route of the UI, with paths that exist.
const POST_ROUTES: &[&str] = &[
    "/logout",
    "/domains",
    "/domains/example.org/delete",
    "/users",
    "/users/bob@example.org/password",
    "/users/bob@example.org/quota",
    "/users/bob@example.org/admin",
    "/users/bob@example.org/delete",
    "/aliases",
    "/aliases/info@example.org/delete",
    "/u/bob@example.org/password",
    "/u/bob@example.org/books",
    "/u/bob@example.org/books/work/delete",
    "/u/bob@example.org/books/default/contacts",
    "/u/bob@example.org/books/default/contacts/1",
    "/u/bob@example.org/books/default/contacts/1/delete",
    "/u/bob@example.org/books/default/import",
    "/lists",
    "/lists/staff/members",
    "/lists/staff/remove",
    "/lists/staff/delete",
    "/u/bob@example.org/scripts",
    "/u/bob@example.org/sieve/deactivate",
    "/u/bob@example.org/scripts/main",
    "/u/bob@example.org/scripts/main/activate",
    "/u/bob@example.org/scripts/main/delete",
    "/u/bob@example.org/filter",
    "/queue/1/retry",
    "/queue/1/delete",
    "/tokens",
    "/tokens/1/delete",
    "/login",
];

#[test]
fn the_route_list_covers_every_post_route() {
    let app = include_str!("../src/app.rs");
    let posts = app.matches("post(").count();
    // `post(` appears once per route with a POST handler.
    assert_eq!(
        posts,
        POST_ROUTES.len(),
        "a POST route is missing from POST_ROUTES"
    );
}

async fn fixtures(s: &Server) {
    let bob = s.store.account(&addr(BOB)).await.unwrap().unwrap();
    s.store
        .create_alias(&addr("info@example.org"), &addr(BOB))
        .await
        .unwrap();
    s.store.create_addrbook(bob.id, "work").await.unwrap();
    s.store
        .add_contact(
            bob.id,
            "default",
            NewContact {
                name: "Secret Friend".into(),
                emails: vec!["friend@example.com".into()],
                note: String::new(),
            },
        )
        .await
        .unwrap();
    s.store
        .put_script(bob.id, "main", b"keep;\n".to_vec())
        .await
        .unwrap();
    let staff = s.store.list_uri("staff").await.unwrap();
    s.store.create_list(&staff, Some(bob.id)).await.unwrap();
    s.store
        .add_list_members(&staff, vec!["m@example.com".into()])
        .await
        .unwrap();
}

#[tokio::test]
async fn every_state_changing_route_needs_the_csrf_token() {
    let s = start().await;
    fixtures(&s).await;
    let mut b = Browser::login(&s, ADMIN).await;
    let before = (
        s.store.list_accounts(None).await.unwrap(),
        s.store.list_aliases(None, None).await.unwrap(),
        s.store.lists(store::ListVisibility::All).await.unwrap(),
    );
    let fields = [
        ("name", "x"),
        ("address", "new@example.org"),
        ("password", "a long password"),
        ("members", "z@example.com"),
        ("emails", "z@example.com"),
        ("content", "discard;"),
        ("confirm", BOB),
        ("alias", "a2@example.org"),
        ("target", BOB),
    ];
    for path in POST_ROUTES {
        // No token at all.
        let r = b.post(path, &fields).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} without a token: {}",
            r.body
        );
        // Someone else's token (a fresh login's).
        let mut with_wrong = fields.to_vec();
        with_wrong.push(("csrf", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
        let r = b.post(path, &with_wrong).await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "POST {path} with a wrong token"
        );
        // A multipart body without the field.
        let r = b
            .upload(path, "x.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n", None)
            .await;
        assert_eq!(
            r.status,
            StatusCode::FORBIDDEN,
            "multipart POST {path} without a token"
        );
    }
    let after = (
        s.store.list_accounts(None).await.unwrap(),
        s.store.list_aliases(None, None).await.unwrap(),
        s.store.lists(store::ListVisibility::All).await.unwrap(),
    );
    assert_eq!(before, after, "nothing changed");
    // And the session still works with its token.
    let r = b
        .submit("/lists/staff/members", &[("members", "ok@example.com")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_token_from_another_session_is_refused() {
    let s = start().await;
    let mut alice = Browser::login(&s, ALICE).await;
    let bob = Browser::login(&s, BOB).await;
    let r = alice
        .post(
            "/u/alice@example.org/books",
            &[("csrf", &bob.csrf), ("name", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_user_cannot_reach_another_users_data_by_editing_urls() {
    let s = start().await;
    fixtures(&s).await;
    let bob = s.store.account(&addr(BOB)).await.unwrap().unwrap();
    let contact = s
        .store
        .contacts(bob.id, "default", None, 10, 0)
        .await
        .unwrap()[0]
        .clone();
    let cid = contact.id.to_string();
    let mut a = Browser::login(&s, ALICE).await;

    let gets = [
        "/u/bob@example.org".to_string(),
        "/u/bob@example.org/books".into(),
        "/u/bob@example.org/books/default".into(),
        "/u/bob@example.org/books/default?q=friend&partial=1".into(),
        "/u/bob@example.org/books/default/export".into(),
        format!("/u/bob@example.org/books/default/contacts/{cid}"),
        format!("/u/alice@example.org/books/default/contacts/{cid}"),
        "/u/bob@example.org/scripts".into(),
        "/u/bob@example.org/scripts/main".into(),
        "/u/bob@example.org/filter".into(),
        "/lists/staff".into(),
        "/lists/staff/export".into(),
        "/users/bob@example.org".into(),
        "/users/bob@example.org/delete".into(),
    ];
    for p in &gets {
        let r = a.get(p).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "GET {p}");
        assert!(!r.body.contains("friend@example.com") && !r.body.contains("m@example.com"));
    }
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            format!("/u/alice@example.org/books/default/contacts/{cid}"),
            vec![("name", "Hacked"), ("emails", "h@example.com")],
        ),
        (
            format!("/u/alice@example.org/books/default/contacts/{cid}/delete"),
            vec![],
        ),
        (
            format!("/u/bob@example.org/books/default/contacts/{cid}/delete"),
            vec![],
        ),
        (
            "/u/bob@example.org/books/default/contacts".into(),
            vec![("emails", "h@example.com")],
        ),
        ("/u/bob@example.org/books/work/delete".into(), vec![]),
        (
            "/u/bob@example.org/scripts/main".into(),
            vec![("content", "discard;")],
        ),
        ("/u/bob@example.org/scripts/main/activate".into(), vec![]),
        ("/u/bob@example.org/scripts/main/delete".into(), vec![]),
        ("/u/bob@example.org/filter".into(), vec![("vacation", "on")]),
        (
            "/u/bob@example.org/password".into(),
            vec![("current", PASSWORD), ("password", "taken over!")],
        ),
        (
            "/lists/staff/members".into(),
            vec![("members", "h@example.com")],
        ),
        (
            "/lists/staff/remove".into(),
            vec![("member", "m@example.com")],
        ),
        ("/lists/staff/delete".into(), vec![]),
    ];
    for (p, fields) in &posts {
        let r = a.submit(p, fields).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "POST {p}: {}", r.body);
    }
    // Bob's data is as it was.
    let now = s
        .store
        .contacts(bob.id, "default", None, 10, 0)
        .await
        .unwrap();
    assert_eq!(now, vec![contact]);
    assert_eq!(
        s.store.script(bob.id, "main").await.unwrap().content,
        b"keep;\n"
    );
    assert!(s.store.active_script(bob.id).await.unwrap().is_none());
    let staff = s.store.list_uri("staff").await.unwrap();
    assert_eq!(
        s.store.list_members(None, &staff).await.unwrap(),
        vec!["m@example.com"]
    );
    assert_eq!(s.store.addrbooks(bob.id).await.unwrap().len(), 2);
    assert!(
        s.store
            .verify_password(BOB, PASSWORD)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn over_tls_the_session_cookie_is_secure() {
    let s = start_with(true).await;
    let https = s.https.unwrap();
    let cert = std::fs::read(zest_core::tls::self_signed_paths(s.dir.path()).0).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile_certs(&cert) {
        roots.add(c).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(https).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tls.write_all(b"GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    tls.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let cookie = response
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: zest_login=")
        })
        .unwrap();
    assert!(
        cookie.ends_with("; HttpOnly; SameSite=Strict; Secure"),
        "{cookie}"
    );
}

fn rustls_pemfile_certs(pem: &[u8]) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .map(|c| c.unwrap())
        .collect()
}

#[tokio::test]
async fn garbage_bodies_get_a_4xx_and_the_server_goes_on() {
    let s = start().await;
    let b = Browser::login(&s, ALICE).await;
    let client = reqwest::Client::new();
    let cookie = format!("zest_session={}", b.cookies["zest_session"]);
    let url = format!("{}/u/alice@example.org/books", s.base);
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "application/x-www-form-urlencoded",
            vec![0xff, 0xfe, b'%', b'=', b'&'],
        ),
        (
            "application/x-www-form-urlencoded",
            b"csrf=%ZZ&csrf".to_vec(),
        ),
        (
            "multipart/form-data; boundary=x",
            b"--x\r\ngarbage".to_vec(),
        ),
        ("multipart/form-data", b"no boundary".to_vec()),
        ("text/plain", vec![0; 10_000]),
        (
            "application/x-www-form-urlencoded",
            vec![b'a'; 21 * 1024 * 1024],
        ),
    ];
    for (ct, body) in bodies {
        let r = client
            .post(&url)
            .header("cookie", &cookie)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{ct}: {}", r.status());
    }
    // Truncated multipart with the right token: the handler refuses, nothing panics.
    let body = format!(
        "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.vcf\"\r\n\r\nBEGIN:VC",
        b.csrf
    );
    let r = client
        .post(format!(
            "{}/u/alice@example.org/books/default/import",
            s.base
        ))
        .header("cookie", &cookie)
        .header("content-type", "multipart/form-data; boundary=x")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let mut b2 = Browser::login(&s, ALICE).await;
    assert_eq!(b2.get("/u/alice@example.org").await.status, StatusCode::OK);
}
