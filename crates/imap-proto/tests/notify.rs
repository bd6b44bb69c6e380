//! NOTIFY (RFC 5465) and COMPRESS (RFC 4978): known answers from the RFC
//! examples, each split at every byte; garbage, truncated and oversized
//! input; the response codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use imap_proto::*;
use proptest::prelude::*;

mod common;

use common::{body, limits, parse_split};

fn set(input: &str) -> NotifySet {
    match body(input) {
        CommandBody::Notify(Some(s)) => s,
        other => panic!("{other:?}"),
    }
}

fn refused(input: &str) {
    assert!(
        parse_split(input.as_bytes()).is_err(),
        "{input:?} was accepted"
    );
}

#[test]
fn rfc5465_status_example() {
    // RFC 5465 3.1, with the event lists in parentheses as the ABNF requires.
    let s = set("a notify set status (selected (MessageNew (uid \
         body.peek[header.fields (from to subject)]) MessageExpunge)) \
         (subtree Lists (MessageNew MessageExpunge))\r\n");
    assert!(s.status);
    assert_eq!(s.groups.len(), 2);
    assert_eq!(s.groups[0].filter, NotifyFilter::Selected);
    match &s.groups[0].events[0] {
        NotifyEvent::MessageNew(items) => {
            assert_eq!(items.len(), 2);
            assert_eq!(items[0], FetchItem::Uid);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.groups[0].events[1], NotifyEvent::MessageExpunge);
    assert_eq!(
        s.groups[1].filter,
        NotifyFilter::Subtree(vec![MailboxName::new("Lists")])
    );
}

#[test]
fn rfc5465_filters_and_events() {
    // RFC 5465 6: the selected mailbox and all personal ones.
    let s = set(
        "a notify set (selected (MessageNew (uid flags) FlagChange MessageExpunge)) \
         (personal (MessageNew FlagChange MessageExpunge))\r\n",
    );
    assert!(!s.status);
    assert_eq!(s.groups[1].filter, NotifyFilter::Personal);
    assert_eq!(
        s.groups[1].events,
        vec![
            NotifyEvent::MessageNew(vec![]),
            NotifyEvent::FlagChange,
            NotifyEvent::MessageExpunge
        ]
    );
    let s = set(
        "b NOTIFY SET (selected-delayed (MessageNew MessageExpunge)) (inboxes NONE) \
         (subscribed (MailboxName SubscriptionChange)) \
         (mailboxes (INBOX \"Sent Items\") (AnnotationChange MessageNew MessageExpunge))\r\n",
    );
    assert_eq!(s.groups[0].filter, NotifyFilter::SelectedDelayed);
    assert_eq!(s.groups[1].filter, NotifyFilter::Inboxes);
    assert!(s.groups[1].events.is_empty());
    assert_eq!(s.groups[2].filter, NotifyFilter::Subscribed);
    assert_eq!(
        s.groups[3].filter,
        NotifyFilter::Mailboxes(vec![
            MailboxName::new("INBOX"),
            MailboxName::new("Sent Items")
        ])
    );
    let s = set("c notify set (personal (MailboxMetadataChange ServerMetadataChange XFuture))\r\n");
    assert_eq!(
        s.groups[0].events,
        vec![
            NotifyEvent::MailboxMetadataChange,
            NotifyEvent::ServerMetadataChange,
            NotifyEvent::Other("XFuture".into())
        ]
    );
    assert_eq!(body("d NOTIFY NONE\r\n"), CommandBody::Notify(None));
    assert_eq!(body("d notify none\r\n"), CommandBody::Notify(None));
}

#[test]
fn literal_mailbox_names() {
    let s = set("a NOTIFY SET (mailboxes {5+}\r\nA B C (MessageNew MessageExpunge))\r\n");
    assert_eq!(
        s.groups[0].filter,
        NotifyFilter::Mailboxes(vec![MailboxName::new("A B C")])
    );
}

#[test]
fn rfc4978_compress() {
    assert_eq!(
        body("a COMPRESS DEFLATE\r\n"),
        CommandBody::Compress {
            mechanism: "DEFLATE".into()
        }
    );
    assert_eq!(
        body("a compress deflate\r\n"),
        CommandBody::Compress {
            mechanism: "DEFLATE".into()
        }
    );
    assert_eq!(
        body("a COMPRESS X-LZ4\r\n"),
        CommandBody::Compress {
            mechanism: "X-LZ4".into()
        }
    );
}

#[test]
fn malformed_notify_and_compress() {
    for bad in [
        "a NOTIFY\r\n",
        "a NOTIFY SET\r\n",
        "a NOTIFY SET STATUS\r\n",
        "a NOTIFY ADD (selected (MessageNew))\r\n",
        "a NOTIFY NONE extra\r\n",
        "a NOTIFY SET selected (MessageNew)\r\n",
        "a NOTIFY SET (selected)\r\n",
        "a NOTIFY SET (selected ())\r\n",
        "a NOTIFY SET (everything (MessageNew))\r\n",
        "a NOTIFY SET (subtree (MessageNew))\r\n",
        "a NOTIFY SET (subtree () (MessageNew))\r\n",
        "a NOTIFY SET (selected (MessageNew ()))\r\n",
        "a NOTIFY SET (selected (MessageNew (bogus)))\r\n",
        "a NOTIFY SET (selected (MessageNew)\r\n",
        "a NOTIFY SET (selected (MessageNew)))\r\n",
        "a NOTIFY SET (selected (MessageNew))  (personal NONE)\r\n",
        "a NOTIFY SET STATUS STATUS (selected NONE)\r\n",
        "a NOTIFY SET (selected NOPE)\r\n",
        "a COMPRESS\r\n",
        "a COMPRESS \r\n",
        "a COMPRESS DEFLATE garbage\r\n",
        "a COMPRESS (DEFLATE)\r\n",
    ] {
        refused(bad);
    }
}

#[test]
fn truncated_input_asks_for_more() {
    let full =
        b"a NOTIFY SET STATUS (selected (MessageNew (uid)) MessageExpunge) (personal NONE)\r\n";
    for i in 0..full.len() - 2 {
        assert!(matches!(
            parse_command(&full[..i], &limits()),
            Ok(Parsed::Incomplete) | Err(_)
        ));
    }
}

#[test]
fn oversized_and_deep_input_is_refused() {
    let mut l = limits();
    l.max_line = 200;
    let mut long = b"a NOTIFY SET (mailboxes (".to_vec();
    for i in 0..100 {
        long.extend_from_slice(format!("box{i} ").as_bytes());
    }
    long.extend_from_slice(b"x) (MessageNew))\r\n");
    assert!(parse_command(&long, &l).is_err());
    let deep = format!(
        "a NOTIFY SET (selected (MessageNew ({}uid{})))\r\n",
        "(".repeat(500),
        ")".repeat(500)
    );
    assert!(parse_command(deep.as_bytes(), &limits()).is_err());
}

#[test]
fn response_codes() {
    let opts = EncodeOptions::default();
    for (code, text) in [
        (Code::NotificationOverflow, "NOTIFICATIONOVERFLOW"),
        (
            Code::BadEvent(vec!["MessageNew".into(), "MessageExpunge".into()]),
            "BADEVENT (MessageNew MessageExpunge)",
        ),
        (Code::CompressionActive, "COMPRESSIONACTIVE"),
    ] {
        let mut out = Vec::new();
        code.encode(&opts, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), text);
    }
    let r: Response = StatusResponse::untagged(
        Status::Ok,
        Some(Code::NotificationOverflow),
        "Too many changes",
    )
    .into();
    let mut out = Vec::new();
    r.encode(&opts, &mut out);
    assert_eq!(out, b"* OK [NOTIFICATIONOVERFLOW] Too many changes\r\n");
    let r: Response = Data::Status {
        mailbox: MailboxName::new("Lists/Lemonade"),
        items: vec![
            StatusValue::UidValidity(UidValidity(4)),
            StatusValue::UidNext(Uid(9999)),
            StatusValue::Messages(500),
        ],
    }
    .into();
    let mut out = Vec::new();
    r.encode(&opts, &mut out);
    assert_eq!(
        out,
        b"* STATUS Lists/Lemonade (UIDVALIDITY 4 UIDNEXT 9999 MESSAGES 500)\r\n"
    );
}

const WORDS: &[&str] = &[
    " ",
    "(",
    ")",
    "\r\n",
    "NOTIFY",
    "SET",
    "NONE",
    "STATUS",
    "selected",
    "selected-delayed",
    "personal",
    "inboxes",
    "subscribed",
    "subtree",
    "mailboxes",
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "MailboxName",
    "uid",
    "body.peek[header]",
    "{3}\r\n",
    "{2+}\r\nab",
    "\"x\"",
    "COMPRESS",
    "DEFLATE",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn notify_soup_never_panics(words in proptest::collection::vec(0..WORDS.len(), 0..40)) {
        let mut buf: Vec<u8> = b"a1 ".to_vec();
        for w in words {
            buf.extend_from_slice(WORDS[w].as_bytes());
        }
        let _ = parse_command(&buf, &limits());
        for i in 0..buf.len() {
            let _ = parse_command(&buf[..i], &limits());
        }
    }

    #[test]
    fn notify_garbage_never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        for head in [&b"a NOTIFY SET ("[..], b"a NOTIFY ", b"a COMPRESS "] {
            let mut buf = head.to_vec();
            buf.extend_from_slice(&tail);
            let _ = parse_command(&buf, &limits());
        }
    }
}
