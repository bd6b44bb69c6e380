//! RFC 6134 external lists end to end: a script is stored, a message comes in
//! over LMTP, and the result is read back from the store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, message, start, start_with};
use store::{NewContact, StoreError};

async fn contact(s: &Server, user: &str, book: &str, email: &str) {
    let a = s.account(user).id;
    if book != "default" && s.store.create_addrbook(a, book).await.is_err() {
        // Already there.
    }
    s.store
        .add_contact(
            a,
            book,
            NewContact {
                name: email.into(),
                emails: vec![email.into()],
                note: String::new(),
            },
        )
        .await
        .unwrap();
}

/// A `tag:` list (server-wide or owned by `owner`) with members; returns its URI.
async fn list(s: &Server, name: &str, owner: Option<&str>, members: &[&str]) -> String {
    let uri = s.store.list_uri(name).await.unwrap();
    let owner = owner.map(|o| s.account(o).id);
    s.store.create_list(&uri, owner).await.unwrap();
    if !members.is_empty() {
        s.store
            .add_list_members(&uri, members.iter().map(|m| m.to_string()).collect())
            .await
            .unwrap();
    }
    uri.to_string()
}

async fn last_error(s: &Server, user: &str) -> Option<String> {
    let a = s.account(user).id;
    s.store.script(a, "main").await.unwrap().last_error
}

fn subject_of(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn example_1_known_senders_get_more_spam_tolerance() {
    // RFC 6134 2.9.1, second form; Zest has no spam scores of its own, so the
    // score comes from a header field the spam filter in front of it adds.
    let s = start(&["alice@example.org"]).await;
    contact(&s, "alice@example.org", "default", "friend@example.net").await;
    s.script(
        "alice@example.org",
        r#"require ["envelope", "extlists", "fileinto", "variables", "relational",
                    "comparator-i;ascii-numeric"];
if envelope :list "from" ":addrbook:default" {
  set "lim" "8"; /* Known: allow high spam score */
} else {
  set "lim" "3"; /* Unknown: less tolerance in spam score */
}
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "${lim}" {
  fileinto "Junk";
}"#,
    )
    .await;
    let scored = |from: &str, score: u32| {
        format!(
            "X-Spam-Score: {score}\r\n{}",
            message(from, "alice@example.org", &format!("s{score}"))
        )
    };
    s.deliver(
        "friend@example.net",
        "alice@example.org",
        &scored("friend@example.net", 5),
    )
    .await;
    s.deliver(
        "FRIEND@Example.NET",
        "alice@example.org",
        &scored("friend@example.net", 9),
    )
    .await;
    s.deliver(
        "stranger@example.net",
        "alice@example.org",
        &scored("stranger@example.net", 5),
    )
    .await;
    let inbox: Vec<String> = s
        .messages("alice@example.org", "INBOX")
        .await
        .iter()
        .map(|(_, m)| subject_of(m))
        .collect();
    let junk: Vec<String> = s
        .messages("alice@example.org", "Junk")
        .await
        .iter()
        .map(|(_, m)| subject_of(m))
        .collect();
    assert_eq!(inbox, ["s5"]);
    assert_eq!(junk, ["s9", "s5"]);
}

#[tokio::test]
async fn example_2_holiday_list_notifies() {
    // RFC 6134 2.9.2 with the mailto method (Zest's notification method).
    let s = start(&["alice@example.org"]).await;
    let today = {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let d = mail_parser::DateTime::from_timestamp(now);
        format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
    };
    let uri = list(&s, "localHolidays", None, &[&today]).await;
    s.script(
        "alice@example.org",
        &format!(
            r#"require ["extlists", "date", "enotify"];
if currentdate :list "date" "{uri}" {{
    notify "mailto:romeo@im.example.com";
}}"#
        ),
    )
    .await;
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &message("x@example.net", "alice@example.org", "hol"),
    )
    .await;
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    let q = s.queue().await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].0, "notify");
    assert_eq!(q[0].1, "");
    assert_eq!(q[0].2, ["romeo@im.example.com"]);
}

#[tokio::test]
async fn example_3_private_mailing_list() {
    // RFC 6134 2.9.3: members writing to alice+mylist reach every member;
    // local members get it here, remote ones through the queue.
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    let uri = list(
        &s,
        "mylist",
        Some("alice@example.org"),
        &["bob@example.org", "carol@example.net", "dave@example.com"],
    )
    .await;
    s.script(
        "alice@example.org",
        &format!(
            r#"require ["extlists", "envelope", "subaddress"];
# Submission from list members is sent to all members
if allof (envelope :detail "to" "mylist",
          header :list "from" "{uri}") {{
    redirect :list "{uri}";
}}"#
        ),
    )
    .await;
    let m = message("carol@example.net", "alice+mylist@example.org", "listmail");
    s.deliver("carol@example.net", "alice+mylist@example.org", &m)
        .await;
    // A non-member's message is not redistributed.
    let m2 = message("eve@example.net", "alice+mylist@example.org", "spam");
    s.deliver("eve@example.net", "alice+mylist@example.org", &m2)
        .await;

    let bob = s.messages("bob@example.org", "INBOX").await;
    assert_eq!(bob.len(), 1);
    assert_eq!(subject_of(&bob[0].1), "listmail");
    let alice: Vec<String> = s
        .messages("alice@example.org", "INBOX")
        .await
        .iter()
        .map(|(_, m)| subject_of(m))
        .collect();
    assert_eq!(alice, ["spam"], "redirect cancels the implicit keep");
    let q = s.queue().await;
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].0, "redirect");
    assert_eq!(q[0].1, "carol@example.net");
    let mut rcpts = q[0].2.clone();
    rcpts.sort();
    assert_eq!(rcpts, ["carol@example.net", "dave@example.com"]);
}

#[tokio::test]
async fn example_4_blocked_ip_is_rejected() {
    // RFC 6134 2.9.4: the IP of the newest Received field (ours: 127.0.0.1).
    let s = start(&["alice@example.org"]).await;
    let uri = list(&s, "DisallowedIPs", None, &["127.0.0.1"]).await;
    s.script(
        "alice@example.org",
        &format!(
            r#"require ["variables", "extlists", "index", "reject"];
if header :index 1 :matches "received" "*(* [*.*.*.*])*" {{
  set "ip" "${{3}}.${{4}}.${{5}}.${{6}}";
  if string :list "${{ip}}"
     "{uri}" {{
    reject "Message not allowed from this IP address";
  }}
}}"#
        ),
    )
    .await;
    let r = s
        .lmtp(
            "x@example.net",
            &["alice@example.org"],
            &message("x@example.net", "alice@example.org", "r"),
        )
        .await;
    assert_eq!(r, ["550 5.7.1 Message not allowed from this IP address"]);
    assert!(s.messages("alice@example.org", "INBOX").await.is_empty());
}

#[tokio::test]
async fn addrbook_default_is_case_insensitive_after_percent_decoding() {
    let s = start(&["alice@example.org"]).await;
    contact(&s, "alice@example.org", "default", "Friend@Example.net").await;
    contact(&s, "alice@example.org", "Friends", "pal@example.net").await;
    s.script(
        "alice@example.org",
        r#"require ["extlists", "fileinto", "mailbox"];
if address :list "from" ":AddrBook:%44%65%66ault" { fileinto :create "a"; }
if address :list "from" "urn:ietf:params:sieve:ADDRBOOK:DEFAULT" { fileinto :create "b"; }
if address :list "from" ":addrbook:Friends" { fileinto :create "c"; }
if valid_ext_list ":addrbook:friends" { fileinto :create "d"; }
"#,
    )
    .await;
    let m = message("friend@example.net", "alice@example.org", "one");
    s.deliver("friend@example.net", "alice@example.org", &m)
        .await;
    let m = message("pal@example.net", "alice@example.org", "two");
    s.deliver("pal@example.net", "alice@example.org", &m).await;
    assert_eq!(s.messages("alice@example.org", "a").await.len(), 1);
    assert_eq!(s.messages("alice@example.org", "b").await.len(), 1);
    assert_eq!(s.messages("alice@example.org", "c").await.len(), 1);
    // "friends" is another (missing) book: names other than default keep their case.
    assert!(s.messages("alice@example.org", "d").await.is_empty());
    assert_eq!(last_error(&s, "alice@example.org").await, None);
}

#[tokio::test]
async fn tag_lists_owned_by_a_user_are_visible_only_to_that_user() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    let uri = list(&s, "bobs", Some("bob@example.org"), &["x@example.net"]).await;
    let script = format!(
        r#"require ["extlists", "fileinto", "mailbox"];
if header :list "from" "{uri}" {{ fileinto :create "listed"; }}"#
    );
    s.script("alice@example.org", &script).await;
    s.script("bob@example.org", &script).await;
    for to in ["alice@example.org", "bob@example.org"] {
        s.deliver("x@example.net", to, &message("x@example.net", to, "t"))
            .await;
    }
    assert_eq!(s.messages("bob@example.org", "listed").await.len(), 1);
    assert!(s.messages("alice@example.org", "listed").await.is_empty());
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert!(last_error(&s, "alice@example.org").await.is_some());
    assert!(last_error(&s, "bob@example.org").await.is_none());
}

#[tokio::test]
async fn valid_ext_list_true_and_false() {
    let s = start(&["alice@example.org", "bob@example.org"]).await;
    let mine = list(&s, "mine", Some("alice@example.org"), &[]).await;
    let server = list(&s, "everyone", None, &[]).await;
    let bobs = list(&s, "theirs", Some("bob@example.org"), &[]).await;
    s.script(
        "alice@example.org",
        &format!(
            r#"require ["extlists", "imap4flags"];
if valid_ext_list [":addrbook:default", "{mine}", "{server}"] {{ addflag "all-valid"; }}
if valid_ext_list ":ADDRBOOK:%64efault" {{ addflag "default-valid"; }}
if valid_ext_list "{bobs}" {{ addflag "bobs-valid"; }}
if valid_ext_list ":addrbook:nosuchbook" {{ addflag "nobook-valid"; }}
if valid_ext_list "ldap://ldap.example.com/cn=x" {{ addflag "ldap-valid"; }}
if not valid_ext_list ["{mine}", "tag:example.com,2011-01-01:nothere"] {{ addflag "mixed-invalid"; }}
"#
        ),
    )
    .await;
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &message("x@example.net", "alice@example.org", "v"),
    )
    .await;
    let m = s.messages("alice@example.org", "INBOX").await;
    assert_eq!(m.len(), 1);
    assert_eq!(
        m[0].0.keywords,
        ["all-valid", "default-valid", "mixed-invalid"],
        "{:?}",
        last_error(&s, "alice@example.org").await
    );
}

#[tokio::test]
async fn match_variable_zero_is_the_matched_list_value() {
    let s = start(&["alice@example.org"]).await;
    contact(&s, "alice@example.org", "default", "friend@example.net").await;
    s.script(
        "alice@example.org",
        r#"require ["extlists", "variables", "fileinto", "mailbox"];
if header :list ["to", "cc", "from"] ":addrbook:default" {
    fileinto :create "from/${0}";
}"#,
    )
    .await;
    let m = format!(
        "Cc: other@example.net, friend@example.net\r\n{}",
        message("friend@example.net", "alice@example.org", "z")
    );
    s.deliver("friend@example.net", "alice@example.org", &m)
        .await;
    assert_eq!(
        s.messages("alice@example.org", "from/friend@example.net")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn redirect_list_over_the_limit_is_a_script_error() {
    let s = start_with(&["alice@example.org"], |c| c.sieve.max_list_recipients = 2).await;
    let uri = list(
        &s,
        "big",
        None,
        &["a@example.net", "b@example.net", "c@example.net"],
    )
    .await;
    s.script(
        "alice@example.org",
        &format!("require \"extlists\";\nredirect :list \"{uri}\";\n"),
    )
    .await;
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &message("x@example.net", "alice@example.org", "b"),
    )
    .await;
    assert!(s.queue().await.is_empty());
    assert_eq!(s.messages("alice@example.org", "INBOX").await.len(), 1);
    assert!(
        last_error(&s, "alice@example.org")
            .await
            .unwrap()
            .contains("more than 2")
    );
}

#[tokio::test]
async fn redirect_list_skips_members_that_are_not_addresses() {
    let s = start(&["alice@example.org"]).await;
    let uri = list(
        &s,
        "mixed",
        None,
        &["a@example.net", "not an address", "*@example.com"],
    )
    .await;
    s.script(
        "alice@example.org",
        &format!("require \"extlists\";\nredirect :list \"{uri}\";\n"),
    )
    .await;
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &message("x@example.net", "alice@example.org", "m"),
    )
    .await;
    let q = s.queue().await;
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].2, ["a@example.net"]);
}

#[tokio::test]
async fn a_comparator_with_list_does_not_compile() {
    let settings = zest_core::sieve::SieveSettings::default();
    let err = zest_core::sieve::compile(
        &settings,
        br#"require ["extlists"];
if header :list :comparator "i;octet" "from" ":addrbook:default" { stop; }"#,
    );
    assert!(err.is_err());
    let ok = zest_core::sieve::compile(
        &settings,
        br#"require ["extlists"];
if header :list "from" ":addrbook:default" { stop; }"#,
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[tokio::test]
async fn a_list_store_failure_is_temporary() {
    let s = start(&["alice@example.org"]).await;
    let uri = list(&s, "l", None, &["x@example.net"]).await;
    s.script(
        "alice@example.org",
        &format!("require \"extlists\";\nif header :list \"from\" \"{uri}\" {{ discard; }}\n"),
    )
    .await;
    // The list's table goes away under the running server.
    let conn = rusqlite::Connection::open(s.store.path()).unwrap();
    conn.execute_batch("DROP TABLE list_members").unwrap();
    drop(conn);
    let r = s
        .lmtp(
            "x@example.net",
            &["alice@example.org"],
            &message("x@example.net", "alice@example.org", "t"),
        )
        .await;
    assert!(r[0].starts_with("451 4.3.0"), "{r:?}");
    assert!(s.messages("alice@example.org", "INBOX").await.is_empty());
    let _ = StoreError::Closed;
}

#[tokio::test]
async fn example_5_unsafe_attachments_are_enclosed_with_a_warning() {
    // RFC 6134 2.9.5: attachment file names checked against a server list
    // with the MIME parts extension (RFC 5703).
    let s = start(&["alice@example.org"]).await;
    let uri = list(&s, "BadFileNameExts", None, &["invoice.exe", "setup.scr"]).await;
    s.script(
        "alice@example.org",
        &format!(
            r#"require ["extlists", "foreverypart", "mime", "enclose"];

foreverypart
{{
  if header :mime :param "filename"
     :list ["Content-Type", "Content-Disposition"]
       "{uri}"
  {{
    # these attachment types are executable
    enclose :subject "Warning" text:
WARNING! The enclosed message has attachments that might be unsafe.
These attachment types may contain a computer virus program
that can infect your computer and potentially damage your data.

Before clicking on these message attachments, you should verify
with the sender that this message was sent intentionally, and
that the attachments are safe to open.
.
;
    break;
  }}
}}
"#
        ),
    )
    .await;
    let with_attachment = |subject: &str, filename: &str| {
        format!(
            "From: x@example.net\r\nTo: alice@example.org\r\nSubject: {subject}\r\n\
             Message-ID: <{subject}@example.net>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
             --b1\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n\
             --b1\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=\"{filename}\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n\
             --b1--\r\n"
        )
    };
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &with_attachment("bad", "Invoice.EXE"),
    )
    .await;
    s.deliver(
        "x@example.net",
        "alice@example.org",
        &with_attachment("good", "report.pdf"),
    )
    .await;
    let inbox = s.messages("alice@example.org", "INBOX").await;
    assert_eq!(inbox.len(), 2);
    let warned = String::from_utf8_lossy(&inbox[0].1).to_string();
    assert_eq!(subject_of(&inbox[0].1), "Warning", "{warned}");
    assert!(
        warned.contains("WARNING! The enclosed message has attachments that might be unsafe."),
        "{warned}"
    );
    assert!(warned.contains("message/rfc822"), "{warned}");
    assert!(
        warned.contains("Subject: bad"),
        "the original is enclosed: {warned}"
    );
    assert_eq!(subject_of(&inbox[1].1), "good");
    assert!(!String::from_utf8_lossy(&inbox[1].1).contains("WARNING"));
    assert_eq!(last_error(&s, "alice@example.org").await, None);
}
