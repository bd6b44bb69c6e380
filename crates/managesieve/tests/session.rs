//! Sessions over real sockets: STARTTLS with real TLS, bad and oversized input,
//! quotas, a store that is down, rate limiting and shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Client, PASS, Server, USER, plain};

fn has(lines: &[String], line: &str) -> bool {
    lines.iter().any(|l| l == line)
}

#[tokio::test]
async fn starttls_then_authenticate() {
    let server = Server::start_with(|c| c.auth.allow_plaintext_on_loopback = false).await;
    let mut c = Client::plain(server.addr).await;
    let greeting = c.response().await;
    assert!(has(&greeting, "\"SASL\" \"\""), "{greeting:?}");
    assert!(has(&greeting, "\"STARTTLS\""), "{greeting:?}");

    let r = c
        .cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, PASS)))
        .await;
    assert_eq!(
        r,
        vec!["NO (ENCRYPT-NEEDED) \"Use STARTTLS before authenticating\""]
    );

    // A command sent along with STARTTLS is dropped, never run after TLS.
    c.send_raw(b"STARTTLS\r\nNOOP \"injected\"\r\n").await;
    assert_eq!(c.line().await.unwrap(), "OK \"Begin TLS negotiation now\"");
    let mut c = c.upgrade(&server.cert_path()).await;
    let caps = c.response().await;
    assert!(has(&caps, "\"SASL\" \"PLAIN LOGIN\""), "{caps:?}");
    assert!(!has(&caps, "\"STARTTLS\""), "{caps:?}");
    assert_eq!(caps.last().unwrap(), "OK \"Zest ManageSieve ready\"");
    assert_eq!(
        c.cmd("NOOP \"after\"").await,
        vec!["OK (TAG \"after\") \"Done\""]
    );

    let r = c
        .cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, PASS)))
        .await;
    assert_eq!(r, vec!["OK \"Authenticated\""]);
    assert_eq!(
        c.cmd("STARTTLS").await,
        vec!["NO \"STARTTLS is only allowed before authentication\""]
    );
    assert_eq!(
        c.cmd("PUTSCRIPT \"s\" \"keep;\"").await,
        vec!["OK \"Script stored\""]
    );
    assert_eq!(
        c.cmd("GETSCRIPT \"s\"").await,
        vec!["{5}", "keep;", "OK \"Getscript completed\""]
    );
    server.stop().await;
}

#[tokio::test]
async fn long_line_is_refused_and_the_session_goes_on() {
    let server = Server::start().await;
    let mut c = server.client().await;
    let mut line = b"NOOP \"".to_vec();
    line.extend(std::iter::repeat_n(b'x', 100 * 1024));
    line.extend_from_slice(b"\"\r\n");
    c.send_raw(&line).await;
    let r = c.response().await;
    assert_eq!(r.len(), 1);
    assert!(r[0].starts_with("NO \"line longer than "), "{r:?}");
    assert_eq!(c.cmd("NOOP").await, vec!["OK \"Done\""]);
    server.stop().await;
}

#[tokio::test]
async fn four_gigabyte_literal_announcement_ends_the_session() {
    let server = Server::start().await;
    let mut c = server.login().await;
    c.send_raw(b"PUTSCRIPT \"x\" {4294967296+}\r\n").await;
    assert_eq!(c.response().await, vec!["BYE \"Literal too large\""]);
    assert!(c.closed().await);
    // The server is fine.
    let mut c = server.login().await;
    assert_eq!(
        c.cmd("LISTSCRIPTS").await,
        vec!["OK \"Listscripts completed\""]
    );
    server.stop().await;
}

#[tokio::test]
async fn literal_over_the_size_quota_is_skipped_not_parsed() {
    let server = Server::start_with(|c| c.sieve.max_script_size = 1000).await;
    let mut c = server.login().await;
    // The literal's bytes look like commands; none of them may run.
    let mut input = b"PUTSCRIPT \"x\" {1001+}\r\n".to_vec();
    let fake = b"DELETESCRIPT \"a\"\r\n".repeat(60);
    input.extend_from_slice(&fake[..1001]);
    input.extend_from_slice(b"\r\n");
    c.send_raw(&input).await;
    assert_eq!(
        c.response().await,
        vec!["NO (QUOTA/MAXSIZE) \"literal larger than 1000 octets\""]
    );
    assert_eq!(c.cmd("NOOP").await, vec!["OK \"Done\""]);
    // HAVESPACE gives the same answer before the upload.
    assert_eq!(
        c.cmd("HAVESPACE \"x\" 1001").await,
        vec!["NO (QUOTA/MAXSIZE) \"Scripts may be at most 1000 octets\""]
    );
    assert_eq!(
        c.cmd("HAVESPACE \"x\" 1000").await,
        vec!["OK \"Putscript would succeed\""]
    );
    server.stop().await;
}

#[tokio::test]
async fn invalid_names_and_nul() {
    let server = Server::start().await;
    let mut c = server.login().await;
    c.send_raw(b"GETSCRIPT \"a\xffb\"\r\n").await;
    assert_eq!(
        c.response().await,
        vec!["NO \"script names must be UTF-8\""]
    );
    c.send_raw(b"PUTSCRIPT {3+}\r\na\0b \"keep;\"\r\n").await;
    assert_eq!(
        c.response().await,
        vec!["NO \"script names must not contain control characters or line separators\""]
    );
    c.send_raw(b"NOOP\0\r\n").await;
    assert_eq!(c.response().await, vec!["NO \"NUL in a command\""]);
    c.send_raw(b"RENAMESCRIPT \"a\" \"b\xe2\x80\xa8c\"\r\n")
        .await;
    assert_eq!(
        c.response().await,
        vec!["NO \"script names must not contain control characters or line separators\""]
    );
    assert!(
        server
            .store
            .scripts(server.account().await.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(c.cmd("NOOP").await, vec!["OK \"Done\""]);
    server.stop().await;
}

#[tokio::test]
async fn megabyte_script_round_trips() {
    let server = Server::start().await;
    let max = server.config.sieve.max_script_size as usize;
    let mut script = b"require \"fileinto\";\r\n".to_vec();
    while script.len() < max - 40 {
        script.extend_from_slice(b"# a comment line to fill the script up\r\n");
    }
    script.extend_from_slice(b"keep;\r\n");
    script.resize(max, b' ');
    let mut c = server.login().await;
    let mut input = format!("PUTSCRIPT \"big\" {{{}+}}\r\n", script.len()).into_bytes();
    input.extend_from_slice(&script);
    input.extend_from_slice(b"\r\n");
    c.send_raw(&input).await;
    assert_eq!(c.response().await, vec!["OK \"Script stored\""]);
    c.send("GETSCRIPT \"big\"").await;
    assert_eq!(c.line().await.unwrap(), format!("{{{}}}", script.len()));
    assert_eq!(c.read_exact(script.len()).await, script);
    assert_eq!(c.line().await.unwrap(), "");
    assert_eq!(c.line().await.unwrap(), "OK \"Getscript completed\"");
    server.stop().await;
}

#[tokio::test]
async fn script_count_quota() {
    let server = Server::start_with(|c| c.sieve.max_scripts = 2).await;
    let mut c = server.login().await;
    assert_eq!(
        c.cmd("PUTSCRIPT \"a\" \"keep;\"").await,
        vec!["OK \"Script stored\""]
    );
    assert_eq!(
        c.cmd("PUTSCRIPT \"b\" \"keep;\"").await,
        vec!["OK \"Script stored\""]
    );
    let full = vec!["NO (QUOTA/MAXSCRIPTS) \"At most 2 scripts are allowed\""];
    assert_eq!(c.cmd("PUTSCRIPT \"c\" \"keep;\"").await, full);
    assert_eq!(c.cmd("HAVESPACE \"c\" 10").await, full);
    // Replacing one is not a new script.
    assert_eq!(
        c.cmd("HAVESPACE \"a\" 10").await,
        vec!["OK \"Putscript would succeed\""]
    );
    assert_eq!(
        c.cmd("PUTSCRIPT \"a\" \"discard;\"").await,
        vec!["OK \"Script stored\""]
    );
    server.stop().await;
}

#[tokio::test]
async fn uploaded_script_is_the_active_one_in_the_store() {
    let server = Server::start().await;
    let mut c = server.login().await;
    let script = "require \"fileinto\";\r\nfileinto \"Lists\";\r\n";
    let r = c
        .cmd(&format!(
            "PUTSCRIPT \"main\" {{{}+}}\r\n{script}",
            script.len()
        ))
        .await;
    assert_eq!(r, vec!["OK \"Script stored\""]);
    assert_eq!(
        c.cmd("SETACTIVE \"main\"").await,
        vec!["OK \"Script activated\""]
    );
    let active = server
        .store
        .active_script(server.account().await.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.name, "main");
    assert_eq!(active.content, script.as_bytes());
    // The MDA compiles it with the same settings and accepts it.
    let settings = zest_core::sieve::SieveSettings::from(&server.config.sieve);
    assert!(zest_core::sieve::compile(&settings, &active.content).is_ok());
    server.stop().await;
}

#[tokio::test]
async fn store_unavailable_is_trylater() {
    let server = Server::start().await;
    let mut c = server.login().await;
    server.store.close().await;
    assert_eq!(
        c.cmd("PUTSCRIPT \"a\" \"keep;\"").await,
        vec!["NO (TRYLATER) \"The store is unavailable; try again later\""]
    );
    // The session goes on; reads still answer.
    assert_eq!(c.cmd("NOOP").await, vec!["OK \"Done\""]);
    server.shutdown.trigger();
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let server = Server::start_with(|c| c.auth.max_failures = 2).await;
    let mut c = server.client().await;
    let wrong = format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, "wrong"));
    assert_eq!(c.cmd(&wrong).await, vec!["NO \"Authentication failed\""]);
    assert_eq!(c.cmd(&wrong).await, vec!["NO \"Authentication failed\""]);
    let r = c
        .cmd(&format!("AUTHENTICATE \"PLAIN\" \"{}\"", plain(USER, PASS)))
        .await;
    assert_eq!(r.len(), 1);
    assert!(
        r[0].starts_with("NO (TRYLATER) \"too many failed logins"),
        "{r:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn pipelined_commands_are_answered_in_order() {
    let server = Server::start().await;
    let mut c = server.login().await;
    c.send_raw(
        b"PUTSCRIPT \"a\" {5+}\r\nkeep;\r\nSETACTIVE \"a\"\r\nLISTSCRIPTS\r\nNOOP \"end\"\r\n",
    )
    .await;
    assert_eq!(c.response().await, vec!["OK \"Script stored\""]);
    assert_eq!(c.response().await, vec!["OK \"Script activated\""]);
    assert_eq!(
        c.response().await,
        vec!["\"a\" ACTIVE", "OK \"Listscripts completed\""]
    );
    assert_eq!(c.response().await, vec!["OK (TAG \"end\") \"Done\""]);
    server.stop().await;
}

#[tokio::test]
async fn endless_errors_end_the_session() {
    let server = Server::start().await;
    let mut c = server.client().await;
    for _ in 0..19 {
        assert_eq!(c.cmd("FROB").await, vec!["NO \"unknown command\""]);
    }
    c.send("FROB").await;
    assert_eq!(c.line().await.unwrap(), "NO \"unknown command\"");
    assert_eq!(c.line().await.unwrap(), "BYE \"Too many errors\"");
    assert!(c.closed().await);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_says_bye() {
    let server = Server::start().await;
    let mut c = server.login().await;
    server.shutdown.trigger();
    assert_eq!(
        c.response().await,
        vec!["BYE (TRYLATER) \"Server shutting down\""]
    );
    assert!(c.closed().await);
    server.stop().await;
}
