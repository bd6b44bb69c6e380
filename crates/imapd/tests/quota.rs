//! QUOTA (RFC 9208) from the account's limits, APPEND over quota refused
//! with OVERQUOTA, and APPENDLIMIT enforced with TOOBIG.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, USER, message};

#[tokio::test]
async fn quota_is_reported_and_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::config(dir.path());
    config.limits.max_message_size = 4096;
    let server = Server::start_with(dir, config, true).await;
    let addr = store::EmailAddress::parse(USER).unwrap();
    server
        .store
        .set_quota(&addr, Some(10 * 1024), Some(3))
        .await
        .unwrap();
    let mut c = server.client().await;
    let greeting = c.line().await.unwrap();
    assert!(greeting.contains(" APPENDLIMIT=4096]"), "{greeting}");
    c.cmd("l", &format!("LOGIN {USER} {}", common::PASS)).await;
    let m = message("q", &"x".repeat(3000));
    for n in 0..3 {
        let r = c.append(&format!("a{n}"), "INBOX", "", &m).await;
        assert!(r.last().unwrap().starts_with(&format!("a{n} OK")), "{r:?}");
    }
    let r = c.append("a3", "INBOX", "", &message("small", "x")).await;
    assert_eq!(r, vec!["a3 NO [OVERQUOTA] Over quota"]);
    let used = (m.len() as u64 * 3).div_ceil(1024);
    assert_eq!(
        c.cmd("q", "GETQUOTAROOT INBOX").await,
        vec![
            "* QUOTAROOT INBOX \"\"".to_string(),
            format!("* QUOTA \"\" (STORAGE {used} 10 MESSAGE 3 3)"),
            "q OK GETQUOTAROOT completed".to_string(),
        ]
    );
    // Larger than APPENDLIMIT: refused before the literal is sent.
    c.send("b1 APPEND INBOX {5000}").await;
    let l = c.line().await.unwrap();
    assert!(l.starts_with("b1 NO"), "{l}");
    // LITERAL+ over APPENDLIMIT: its bytes are skipped, the answer is TOOBIG.
    let mut big = b"b2 APPEND INBOX {4097+}\r\n".to_vec();
    big.extend(std::iter::repeat_n(b'y', 4097));
    big.extend_from_slice(b"\r\n");
    c.send_raw(&big).await;
    let r = c.until_tagged("b2").await;
    assert!(r.last().unwrap().starts_with("b2 BAD [TOOBIG]"), "{r:?}");
    assert_eq!(c.cmd("b3", "NOOP").await, vec!["b3 OK NOOP completed"]);
    server.stop().await;
}
