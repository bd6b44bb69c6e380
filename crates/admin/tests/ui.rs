//! The web UI over real HTTP against a real temp store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn login_sets_a_strict_httponly_cookie_and_logout_ends_the_session() {
    let s = start().await;
    let mut b = Browser::new(&s);
    let anon = b.get("/").await;
    assert_eq!(anon.status, StatusCode::SEE_OTHER);
    assert_eq!(anon.location(), "/login");

    let r = b.try_login(ADMIN, PASSWORD).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let cookie = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("zest_session="))
        .unwrap();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Strict"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");

    let dash = b.get("/").await;
    assert_eq!(dash.status, StatusCode::OK);
    assert!(dash.body.contains("<h1>Dashboard</h1>"));
    assert!(dash.body.contains("_dmarc.example.org."));
    assert_eq!(
        dash.headers
            .get("x-frame-options")
            .unwrap()
            .to_str()
            .unwrap(),
        "DENY"
    );
    let session = b.cookies["zest_session"].clone();
    let csrf = dash.csrf();
    let out = b.post("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(!b.cookies.contains_key("zest_session"));
    // The old cookie is dead on the server too.
    b.cookies.insert("zest_session".into(), session);
    assert_eq!(b.get("/").await.location(), "/login");
}

#[tokio::test]
async fn wrong_passwords_are_refused_then_rate_limited() {
    let s = start().await;
    let mut b = Browser::new(&s);
    let r = b.try_login(ALICE, "wrong").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Wrong address or password."));
    let mut last = r.status;
    for _ in 0..10 {
        last = b.try_login(ALICE, "wrong").await.status;
        if last == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // Even the right password waits out the lockout.
    let r = b.try_login(ALICE, PASSWORD).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn a_user_lands_on_their_own_page() {
    let s = start().await;
    let mut b = Browser::login(&s, ALICE).await;
    let r = b.get("/").await;
    assert_eq!(r.location(), "/u/alice@example.org");
    let home = b.get("/u/alice@example.org").await;
    assert!(home.body.contains(":addrbook:default"));
    // Admin pages do not exist for a user.
    for p in [
        "/users",
        "/domains",
        "/aliases",
        "/queue",
        "/tokens",
        "/users/bob@example.org",
    ] {
        assert_eq!(b.get(p).await.status, StatusCode::NOT_FOUND, "{p}");
    }
}

#[tokio::test]
async fn admin_manages_domains_users_and_aliases() {
    let s = start().await;
    let mut b = Browser::login(&s, ADMIN).await;
    let r = b.submit("/domains", &[("name", "example.net")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.get("/domains").await.body.contains("example.net"));

    let r = b
        .submit(
            "/users",
            &[
                ("address", "carol@example.net"),
                ("password", "carols password"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location(),
        "/users/carol@example.net?notice=Created%20carol@example.net."
    );
    let page = b.get(r.location()).await;
    assert!(page.body.contains("Created carol@example.net."));

    let r = b
        .submit(
            "/users",
            &[("address", "dave@example.net"), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    let r = b
        .submit("/users/carol@example.net/quota", &[("quota", "2G")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let carol = s
        .store
        .account(&addr("carol@example.net"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carol.quota_bytes, Some(2 << 30));

    b.submit("/users/carol@example.net/admin", &[("admin", "on")])
        .await;
    assert!(
        s.store
            .account(&addr("carol@example.net"))
            .await
            .unwrap()
            .unwrap()
            .is_admin
    );

    let r = b
        .submit(
            "/users/carol@example.net/password",
            &[("password", "a new password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        s.store
            .verify_password("carol@example.net", "a new password")
            .await
            .unwrap()
            .is_some()
    );

    let r = b
        .submit(
            "/aliases",
            &[
                ("alias", "sales@example.net"),
                ("target", "carol@example.net"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(b.get("/aliases").await.body.contains("sales@example.net"));

    // Deleting says what will be lost, and needs the address typed.
    let confirm = b.get("/users/carol@example.net/delete").await;
    assert!(confirm.body.contains("6 mailboxes"), "{}", confirm.body);
    assert!(confirm.body.contains("sales@example.net"));
    let r = b
        .submit("/users/carol@example.net/delete", &[("confirm", "nope")])
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .submit(
            "/users/carol@example.net/delete",
            &[("confirm", "carol@example.net")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        s.store
            .account(&addr("carol@example.net"))
            .await
            .unwrap()
            .is_none()
    );
    let r = b.submit("/aliases/sales@example.net/delete", &[]).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "the alias went with its user"
    );

    let r = b.submit("/domains/example.net/delete", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn address_book_add_search_edit_delete_import_export() {
    let s = start().await;
    let mut b = Browser::login(&s, ALICE).await;
    let book = "/u/alice@example.org/books/default";
    let r = b
        .submit(
            &format!("{book}/contacts"),
            &[
                ("name", "<script>alert(1)</script>"),
                ("emails", "x1@example.com\nx2@example.com"),
                ("note", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    b.submit(
        &format!("{book}/contacts"),
        &[("name", "Jane Doe"), ("emails", "jane@example.com")],
    )
    .await;

    let page = b.get(book).await;
    // minijinja also escapes the slash.
    assert!(
        page.body
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"));
    assert!(page.body.contains("x2@example.com"));
    assert!(
        page.body.contains(
            r#"if address :list "from" ":addrbook:default""#.replace('"', "&quot;").as_str()
        ) || page
            .body
            .contains(r#"if address :list "from" ":addrbook:default""#)
    );

    let found = b.get(&format!("{book}?q=jane&partial=1")).await;
    assert!(found.body.contains("jane@example.com"));
    assert!(!found.body.contains("x1@example.com"));
    assert!(!found.body.contains("<html"), "partial: only the table");

    let alice = s.store.account(&addr(ALICE)).await.unwrap().unwrap();
    let jane = s
        .store
        .contacts(alice.id, "default", Some("jane"), 10, 0)
        .await
        .unwrap()[0]
        .clone();
    let edit = format!("{book}/contacts/{}", jane.id);
    assert!(b.get(&edit).await.body.contains("Jane Doe"));
    let r = b
        .submit(
            &edit,
            &[
                ("name", "Jane Q. Doe"),
                ("emails", "jane@example.com\njq@example.com"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        s.store
            .addrbook_contains(alice.id, "default", "jq@example.com")
            .await
            .unwrap()
    );

    let vcf = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Imported One\r\nEMAIL:one@example.com\r\nEND:VCARD\r\n\
               BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No Mail\r\nEND:VCARD\r\n\
               BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bad\r\nEMAIL:not-an-address\r\nEND:VCARD\r\n";
    let csrf = b.csrf.clone();
    let r = b
        .upload(
            &format!("{book}/import"),
            "c.vcf",
            vcf.as_bytes(),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<dt>Imported</dt><dd>1</dd>"), "{}", r.body);
    // Each problem at the line its card starts on.
    assert!(
        r.body
            .contains("<td>6</td><td>vCard &quot;No Mail&quot; has no email address</td>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("<td>10</td>"), "{}", r.body);
    assert!(
        s.store
            .addrbook_contains(alice.id, "default", "one@example.com")
            .await
            .unwrap()
    );

    let csv = "Name,Email\nCsv Person,csv@example.com\nBroken,\"unterminated\n";
    let r = b
        .upload(
            &format!("{book}/import"),
            "c.csv",
            csv.as_bytes(),
            Some(&csrf),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("<dt>Imported</dt><dd>1</dd>"), "{}", r.body);

    let export = b.get(&format!("{book}/export")).await;
    assert_eq!(export.headers["content-type"], "text/vcard; charset=utf-8");
    assert!(export.body.contains("EMAIL:jq@example.com"));
    assert!(export.body.contains("FN:Imported One"));

    let r = b.submit(&format!("{edit}/delete"), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !s.store
            .addrbook_contains(alice.id, "default", "jane@example.com")
            .await
            .unwrap()
    );

    // Other books.
    let r = b
        .submit("/u/alice@example.org/books", &[("name", "work")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        b.get("/u/alice@example.org/books")
            .await
            .body
            .contains(":addrbook:work")
    );
    let r = b
        .submit("/u/alice@example.org/books/work/delete", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b
        .submit("/u/alice@example.org/books/default/delete", &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn lists_by_short_name_with_bulk_paste_and_export() {
    let s = start().await;
    let mut b = Browser::login(&s, ADMIN).await;
    let r = b
        .submit("/lists", &[("name", "staff"), ("owner", "")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = b
        .submit(
            "/lists/staff/members",
            &[(
                "members",
                "a@example.com, b@example.com\nc@example.com d@example.com\na@example.com",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get("/lists/staff").await;
    assert!(page.body.contains("4 members"), "{}", page.body);
    assert!(
        page.body.contains("tag:localhost,"),
        "the URI is shown for Sieve"
    );
    let r = b
        .submit(
            "/lists/staff/remove",
            &[("member", "a@example.com"), ("member", "b@example.com")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let export = b.get("/lists/staff/export").await;
    assert_eq!(export.body, "c@example.com\nd@example.com\n");

    // A list owned by alice: she manages it, and sees the server list only by name.
    b.submit("/lists", &[("name", "friends"), ("owner", ALICE)])
        .await;
    let mut a = Browser::login(&s, ALICE).await;
    assert_eq!(a.get("/lists/friends").await.status, StatusCode::OK);
    assert_eq!(a.get("/lists/staff").await.status, StatusCode::NOT_FOUND);
    let r = a
        .submit("/lists/friends/members", &[("members", "pal@example.com")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = a.submit("/lists", &[("name", "mine"), ("owner", "")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let lists = s.store.lists(store::ListVisibility::All).await.unwrap();
    let mine = lists.iter().find(|l| l.name == "mine").unwrap();
    assert_eq!(
        mine.owner.as_ref().map(|o| o.as_str()),
        Some(ALICE),
        "a user owns what they create"
    );

    let r = b.submit("/lists/staff/delete", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sieve_errors_show_their_line_and_valid_scripts_activate() {
    let s = start().await;
    let mut b = Browser::login(&s, ALICE).await;
    let r = b
        .submit("/u/alice@example.org/scripts", &[("name", "main")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = b.get("/u/alice@example.org/scripts/main").await;
    assert!(page.body.contains(":addrbook:default"));

    let bad = "require \"fileinto\";\nkeep;\nfileinto \"x\"\nbogus;\n";
    let r = b
        .submit("/u/alice@example.org/scripts/main", &[("content", bad)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("(line "), "{}", r.body);
    assert!(r.body.contains("Nothing was saved."));

    let good =
        "require \"fileinto\";\nif header :contains \"subject\" \"x\" { fileinto \"Junk\"; }\n";
    let r = b
        .submit(
            "/u/alice@example.org/scripts/main",
            &[("content", good), ("activate", "on")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let alice = s.store.account(&addr(ALICE)).await.unwrap().unwrap();
    let active = s.store.active_script(alice.id).await.unwrap().unwrap();
    assert_eq!(active.name, "main");
    assert_eq!(active.content, good.as_bytes());

    // The simple form writes and activates its own script.
    let r = b
        .submit(
            "/u/alice@example.org/filter",
            &[
                ("sort", "on"),
                ("folder", "Strangers"),
                ("vacation", "on"),
                ("subject", "Away"),
                ("body", "Back soon"),
                ("days", "3"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let active = s.store.active_script(alice.id).await.unwrap().unwrap();
    assert_eq!(active.name, "zest-filter");
    let text = String::from_utf8(active.content).unwrap();
    assert!(
        text.contains("if address :list \"from\" \":addrbook:default\""),
        "{text}"
    );
    assert!(text.contains("fileinto :create \"Strangers\";"), "{text}");
    assert!(text.contains("vacation :days 3"), "{text}");
    let form = b.get("/u/alice@example.org/filter").await;
    assert!(
        form.body.contains("value=\"Strangers\""),
        "the form reads its settings back"
    );

    let r = b.submit("/u/alice@example.org/sieve/deactivate", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(s.store.active_script(alice.id).await.unwrap().is_none());
    let r = b
        .submit("/u/alice@example.org/scripts/main/activate", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // RFC 5804 2.10: the active script cannot be deleted.
    let r = b
        .submit("/u/alice@example.org/scripts/main/delete", &[])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    b.submit("/u/alice@example.org/sieve/deactivate", &[]).await;
    let r = b
        .submit("/u/alice@example.org/scripts/main/delete", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn own_password_needs_the_current_one() {
    let s = start().await;
    let mut b = Browser::login(&s, BOB).await;
    let r = b
        .submit(
            "/u/bob@example.org/password",
            &[("current", "wrong"), ("password", "brand new password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = b
        .submit(
            "/u/bob@example.org/password",
            &[("current", PASSWORD), ("password", "brand new password")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        s.store
            .verify_password(BOB, "brand new password")
            .await
            .unwrap()
            .is_some()
    );
    // The session that changed it goes on.
    assert_eq!(b.get("/u/bob@example.org").await.status, StatusCode::OK);
}

#[tokio::test]
async fn static_files_are_served() {
    let s = start().await;
    let mut b = Browser::new(&s);
    let css = b.get("/static/style.css").await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert_eq!(b.get("/static/nope.js").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_upload_with_a_mixed_case_boundary_passes_the_csrf_check() {
    // Browsers send boundaries like ----WebKitFormBoundaryAbC; case matters.
    let s = start().await;
    let mut b = Browser::login(&s, ALICE).await;
    let boundary = "----WebKitFormBoundaryAbCdEf";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.vcf\"\r\n\
         Content-Type: text/vcard\r\n\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Mixed\r\nEMAIL:mixed@example.com\r\nEND:VCARD\r\n\r\n\
         --{boundary}--\r\n",
        csrf = b.csrf
    );
    let cookie = format!("zest_session={}", b.cookies["zest_session"]);
    let r = reqwest::Client::new()
        .post(format!(
            "{}/u/alice@example.org/books/default/import",
            s.base
        ))
        .header("cookie", cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let _ = b.get("/").await;
}
