//! imaptest's scripted compliance tests (one group per command or extension), read from
//! `IMAPTEST_TESTS_DIR` or the shared tools directory and replayed against the server.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod imaptest;

use std::path::PathBuf;

use imaptest::matcher::{Vars, match_tagged, match_untagged};
use imaptest::runner::{Outcome, run};
use imaptest::script::{Arg, parse_dir, read_mbox, tokenize};

fn tests_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("IMAPTEST_TESTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/tools/imaptest-tests")
        });
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: imaptest scripts not found at {}", dir.display());
        None
    }
}

#[test]
fn tokenizer_reads_replies() {
    assert_eq!(
        tokenize(b"1 fetch (uid $uid1 flags (\\seen) body[header.fields (from)] {3}\r\nabc)")
            .unwrap(),
        vec![
            Arg::Atom("1".into()),
            Arg::Atom("fetch".into()),
            Arg::List(vec![
                Arg::Atom("uid".into()),
                Arg::Atom("$uid1".into()),
                Arg::Atom("flags".into()),
                Arg::List(vec![Arg::Atom("\\seen".into())]),
                Arg::Atom("body[header.fields (from)]".into()),
                Arg::Str(b"abc".to_vec()),
            ])
        ]
    );
    assert_eq!(
        tokenize(b"list () \"/\" NIL").unwrap(),
        vec![
            Arg::Atom("list".into()),
            Arg::List(vec![]),
            Arg::Str(b"/".to_vec()),
            Arg::Nil
        ]
    );
    assert!(tokenize(b"(a").is_err());
}

#[test]
fn matcher_follows_imaptest_rules() {
    let t = |s: &str| tokenize(s.as_bytes()).unwrap();
    let mut vars = Vars::new();
    // FETCH items in any order, extra items allowed; `$uid1` binds on first use.
    assert!(match_untagged(
        &t("1 fetch (flags (\\seen) uid $uid1)"),
        &t("1 FETCH (UID 7 MODSEQ (3) FLAGS (\\Seen \\Recent))"),
        &mut vars
    ));
    assert_eq!(vars.get("uid1").map(Vec::as_slice), Some(&b"7"[..]));
    // Once bound, the value must match.
    assert!(!match_untagged(
        &t("2 fetch (uid $uid1)"),
        &t("2 FETCH (UID 8)"),
        &mut vars
    ));
    // Flags: no extra flags (other than \Recent).
    assert!(!match_untagged(
        &t("1 fetch (flags (\\seen))"),
        &t("1 FETCH (FLAGS (\\Seen \\Deleted))"),
        &mut vars
    ));
    // Other replies: exact, case-insensitive.
    assert!(match_untagged(
        &t("search 1 2"),
        &t("SEARCH 1 2"),
        &mut vars
    ));
    assert!(!match_untagged(
        &t("search 1 2"),
        &t("SEARCH 1 2 3"),
        &mut vars
    ));
    assert!(match_untagged(
        &t("list () $sep $root"),
        &t("LIST (\\Noselect) \"/\" \"\""),
        &mut vars
    ));
    assert_eq!(vars.get("root").map(Vec::as_slice), Some(&b""[..]));
    // `$$` is a literal `$`; tagged replies match as a prefix.
    assert!(match_untagged(
        &t("1 fetch (flags ($$hello))"),
        &t("1 FETCH (FLAGS ($hello))"),
        &mut vars
    ));
    assert!(match_tagged(
        &t("ok [trycreate]"),
        &t("OK [TRYCREATE] no such mailbox"),
        &mut vars
    ));
    assert!(!match_tagged(
        &t("no [trycreate]"),
        &t("OK done"),
        &mut vars
    ));
    assert!(match_tagged(&t("\"\""), &t("BAD whatever"), &mut vars));
}

#[test]
fn every_script_parses() {
    let Some(dir) = tests_dir() else { return };
    let scripts = parse_dir(&dir);
    assert!(scripts.len() >= 60, "only {} scripts", scripts.len());
    let mut failed = Vec::new();
    let mut commands = 0;
    for (name, s) in &scripts {
        match s {
            Ok(s) => {
                commands += s.groups.iter().map(|g| g.commands.len()).sum::<usize>();
                assert!(s.mbox.exists(), "{name}: no mbox");
                assert!(!read_mbox(&s.mbox).is_empty(), "{name}: empty mbox");
            }
            Err(e) => failed.push(e.clone()),
        }
    }
    println!("{} scripts, {commands} commands", scripts.len());
    assert!(failed.is_empty(), "{failed:#?}");
}

/// The groups that pass today: a regression in any of them fails the suite.
const PASSING: &[&str] = &[
    "append",
    "append-binary",
    "atoms",
    "catenate",
    "catenate-multiappend",
    "close",
    "copy",
    "esearch",
    "esearch-condstore",
    "expunge",
    "esort",
    "expunge2",
    "fetch",
    "fetch-body",
    "fetch-binary-mime",
    "fetch-binary-mime-base64",
    "fetch-binary-mime-qp",
    "fetch-body-message-rfc822",
    "fetch-body-message-rfc822-mime",
    "fetch-body-message-rfc822-x2",
    "fetch-body-mime",
    "fetch-bodystructure",
    "fetch-envelope",
    "id",
    "list",
    "listext",
    "logout",
    "move",
    "multiappend",
    "mutf7",
    "nil",
    "notify",
    "pipeline",
    "search-addresses",
    "search-body",
    "search-context-update",
    "search-context-update2",
    "search-context-update3",
    "search-date",
    "search-flags",
    "search-header",
    "search-partial",
    "search-sets",
    "search-size",
    "select",
    "sort-addresses",
    "sort-arrival",
    "sort-date",
    "sort-display-from",
    "sort-display-to",
    "sort-partial",
    "sort-size",
    "sort-subject",
    "store",
    "subscribe",
    "thread",
    "thread-orderedsubject",
    "thread-orderedsubject2",
    "thread2",
    "thread3",
    "thread4",
    "thread5",
    "thread6",
    "thread7",
    "thread8",
    "uidplus",
    "urlauth",
    "urlauth-binary",
    "uidvalidity",
    "uidvalidity-rename",
];

/// Replays every script against a fresh server and prints one line per group. Groups
/// named in `IMAPTEST_REQUIRE` (comma-separated, or `all`) must pass; by default
/// those in `PASSING`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_scripts() {
    let Some(dir) = tests_dir() else { return };
    let only = std::env::var("IMAPTEST_ONLY").ok();
    let require = std::env::var("IMAPTEST_REQUIRE").unwrap_or_else(|_| PASSING.join(","));
    let mut passed = Vec::new();
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    let mut commands_ok = 0;
    for (name, script) in parse_dir(&dir) {
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == name))
        {
            continue;
        }
        let script = script.unwrap();
        let server = common::Server::start().await;
        let outcome = run(&script, server.plain, common::USER, common::PASS).await;
        server.stop().await;
        match &outcome {
            Outcome::Passed { commands } => {
                commands_ok += commands;
                println!("PASS {name} ({commands} commands)");
                passed.push(name);
            }
            Outcome::Failed { commands, reason } => {
                println!("FAIL {name} after {commands} commands: {reason}");
                failed.push(name);
            }
            Outcome::Skipped(why) => {
                println!("SKIP {name}: {why}");
                skipped.push(name);
            }
        }
    }
    println!(
        "imaptest scripts: {} passed ({commands_ok} commands), {} failed, {} skipped",
        passed.len(),
        failed.len(),
        skipped.len()
    );
    let must: Vec<&str> = require.split(',').filter(|s| !s.is_empty()).collect();
    let broken: Vec<&String> = failed
        .iter()
        .chain(skipped.iter())
        .filter(|n| must.contains(&"all") || must.contains(&n.as_str()))
        .collect();
    assert!(
        broken.is_empty(),
        "required groups did not pass: {broken:?}"
    );
}
