//! mbsync (isync) as a real client: a mailbox synchronised both ways over
//! implicit TLS — server messages reach the local Maildir, a local message and
//! a local flag change reach the server, and a server-side expunge removes
//! the local copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{PASS, Server, USER, message};
use store::{Flags, Uid};

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
}

async fn mbsync(rc: &Path) {
    let out = tokio::process::Command::new("mbsync")
        .arg("-c")
        .arg(rc)
        .arg("-a")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "mbsync failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Files of a Maildir folder (new and cur).
fn local(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            out.extend(rd.map(|e| e.unwrap().path()));
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mbsync_syncs_a_mailbox_both_ways() {
    if !installed("mbsync") {
        assert!(
            std::env::var("REQUIRE_REAL_CLIENTS").as_deref() != Ok("1"),
            "mbsync (Debian isync) is required"
        );
        println!("skipped: mbsync not installed");
        return;
    }
    let server = Server::start().await;
    let account = server.account().await;
    let inbox = server
        .store
        .mailbox(account.id, "INBOX")
        .await
        .unwrap()
        .unwrap()
        .id;
    for n in 0..2 {
        let m = message(&format!("server{n}"), "from the server");
        server
            .store
            .append(account.id, "INBOX", m, Flags::default(), None)
            .await
            .unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let maildir = work.path().join("mail");
    std::fs::create_dir_all(&maildir).unwrap();
    let rc = work.path().join("mbsyncrc");
    std::fs::write(
        &rc,
        format!(
            "IMAPAccount zest\nHost localhost\nPort {port}\nUser {USER}\nPass {PASS}\n\
             SSLType IMAPS\nCertificateFile {cert}\n\n\
             IMAPStore remote\nAccount zest\n\n\
             MaildirStore local\nPath {dir}/\nInbox {dir}/INBOX\nSubFolders Verbatim\n\n\
             Channel zest\nFar :remote:\nNear :local:\nPatterns INBOX\nCreate Both\n\
             Expunge Both\nSyncState *\nSync All\n",
            port = server.tls.port(),
            cert = server.cert_path().display(),
            dir = maildir.display(),
        ),
    )
    .unwrap();

    mbsync(&rc).await;
    let files = local(&maildir.join("INBOX"));
    assert_eq!(files.len(), 2, "{files:?}");

    // A new local message and a local \Seen + \Flagged on the first one.
    let new = maildir.join("INBOX/new/1700000000.local.host");
    std::fs::write(&new, message("local", "from the laptop")).unwrap();
    let first = &files[0];
    let name = first.file_name().unwrap().to_string_lossy().to_string();
    let base = name.split(":2,").next().unwrap().to_string();
    std::fs::rename(first, maildir.join(format!("INBOX/cur/{base}:2,FS"))).unwrap();
    mbsync(&rc).await;

    let entries = server.store.entries(account.id, inbox).await.unwrap();
    assert_eq!(entries.len(), 3, "{entries:?}");
    let flagged: Vec<Uid> = entries
        .iter()
        .filter(|e| e.flags.has(Flags::FLAGGED) && e.flags.has(Flags::SEEN))
        .map(|e| e.uid)
        .collect();
    assert_eq!(flagged.len(), 1, "{entries:?}");
    let raw = server
        .store
        .read_message(account.id, inbox, Uid(3))
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("Subject: local"));

    // Deleted and expunged on the server: gone locally after the next sync.
    let del = Flags {
        system: Flags::DELETED,
        keywords: vec![],
    };
    server
        .store
        .set_flags(
            account.id,
            inbox,
            vec![Uid(2)],
            store::FlagOp::Add,
            del,
            None,
        )
        .await
        .unwrap();
    server.store.expunge(account.id, inbox, None).await.unwrap();
    mbsync(&rc).await;
    assert_eq!(local(&maildir.join("INBOX")).len(), 2);
    server.stop().await;
}
