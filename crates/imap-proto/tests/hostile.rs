//! Garbage, oversized, truncated and deeply nested input: always an error or a request
//! for more bytes, never a panic, and never more than the limits allow.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imap_proto::*;
use proptest::prelude::*;

fn limits() -> Limits {
    Limits::default()
}

fn error(input: &[u8]) -> ParseError {
    match parse_command(input, &limits()) {
        Err(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn bad_line_endings_and_nul() {
    let e = error(b"a1 NOOP\n");
    assert_eq!(e.kind, ParseErrorKind::BadLineEnding);
    assert_eq!(e.tag, Tag::new("a1"));
    assert_eq!(e.code, Some(Code::ClientBug));
    assert_eq!(e.skip.bytes, 8);
    assert_eq!(error(b"a1 NO\0OP\r\n").kind, ParseErrorKind::BadLineEnding);
    assert_eq!(error(b"a1 NO\0").kind, ParseErrorKind::BadLineEnding);
    assert_eq!(error(b"a1 NO\rOP\r\n").kind, ParseErrorKind::BadLineEnding);
    assert_eq!(error(b"\n").kind, ParseErrorKind::BadLineEnding);
}

#[test]
fn unknown_commands_and_missing_tags() {
    let e = error(b"a1 FROBNICATE\r\n");
    assert_eq!(e.kind, ParseErrorKind::UnknownCommand);
    assert_eq!(e.tag, Tag::new("a1"));
    let r = e.response();
    assert_eq!(r.status, Status::Bad);
    assert_eq!(
        Response::Status(r).to_bytes(&EncodeOptions::default()),
        b"a1 BAD [CLIENTBUG] Unknown command FROBNICATE\r\n"
    );
    assert_eq!(
        error(b"a1 UID FROB 1\r\n").kind,
        ParseErrorKind::UnknownCommand
    );
    for input in [
        &b"\r\n"[..],
        b" a1 NOOP\r\n",
        b"+ NOOP\r\n",
        b"a+b NOOP\r\n",
        b"a1\r\n",
        b"a1 \r\n",
        b"(a) NOOP\r\n",
    ] {
        let e = error(input);
        assert_eq!(e.skip.bytes, input.len() as u64);
        if input.starts_with(b"a1") {
            assert_eq!(e.tag, Tag::new("a1"));
        } else {
            assert_eq!(e.tag, None, "{:?}", String::from_utf8_lossy(input));
            assert!(
                Response::Status(e.response())
                    .to_bytes(&EncodeOptions::default())
                    .starts_with(b"* BAD")
            );
        }
    }
    assert_eq!(error(b"a1 NOOP extra\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(error(b"a1 LOGIN a\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(error(b"a1 LOGIN \"a\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(
        error(b"a1 LOGIN \"a\\x\" b\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(error(b"a1 SELECT\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(
        error(b"a1 FETCH 4294967296 FLAGS\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        error(b"a1 FETCH 1:2:3 FLAGS\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(error(b"a1 FETCH 1, FLAGS\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(
        error(b"a1 APPEND x (\\Seen) \"bad date\" {1}\r\nx\r\n").kind,
        ParseErrorKind::Syntax
    );
}

#[test]
fn long_lines_are_refused_before_the_end() {
    let l = limits();
    let mut line = b"a1 LOGIN ".to_vec();
    line.extend(vec![b'x'; l.max_line]);
    // No CRLF yet, but already over the limit: refused without waiting.
    let e = parse_command(&line, &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LineTooLong);
    assert_eq!(e.code, Some(Code::TooBig));
    assert_eq!(e.tag, Tag::new("a1"));
    assert!(e.skip.then_line);
    // Just under the limit is fine.
    let mut ok = b"a1 LOGIN ".to_vec();
    ok.extend(vec![b'x'; l.max_line - 9 - 5]);
    ok.extend_from_slice(b" y\r\n");
    assert!(matches!(parse_command(&ok, &l), Ok(Parsed::Done(_, _))));
}

#[test]
fn commands_larger_than_the_limit() {
    let mut l = limits();
    l.max_command = 100;
    let e = parse_command(b"a1 APPEND INBOX {200}\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::CommandTooLarge);
    // Many small literals add up.
    let mut input = b"a1 APPEND INBOX".to_vec();
    for _ in 0..20 {
        input.extend_from_slice(b" {9+}\r\n123456789");
    }
    input.extend_from_slice(b"\r\n");
    assert_eq!(
        parse_command(&input, &l).unwrap_err().kind,
        ParseErrorKind::CommandTooLarge
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let l = limits();
    for (open, close) in [("(", ")"), ("NOT ", ""), ("OR ALL ", "")] {
        let mut input = b"a1 SEARCH ".to_vec();
        input.extend(open.repeat(10_000).as_bytes());
        input.extend_from_slice(b"ALL");
        input.extend(close.repeat(10_000).as_bytes());
        input.extend_from_slice(b"\r\n");
        let mut l = l.clone();
        l.max_line = input.len() + 1;
        let e = parse_command(&input, &l).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::TooDeep, "{open}");
        assert_eq!(e.code, Some(Code::Limit));
        assert_eq!(e.tag, Tag::new("a1"));
    }
    let mut input = b"a1 STORE 1 FLAGS ".to_vec();
    input.extend(b"(".repeat(10_000));
    input.extend_from_slice(b"\r\n");
    let mut l = l.clone();
    l.max_line = input.len() + 1;
    assert!(parse_command(&input, &l).is_err());
    // Nesting within the limit is fine.
    let ok = format!("a1 SEARCH {}ALL{}\r\n", "(".repeat(60), ")".repeat(60));
    assert!(matches!(
        parse_command(ok.as_bytes(), &limits()),
        Ok(Parsed::Done(_, _))
    ));
}

#[test]
fn ten_thousand_element_sets() {
    let set: Vec<String> = (1..=10_000u32).map(|n| (n * 2).to_string()).collect();
    let input = format!("a1 UID FETCH {} (FLAGS)\r\n", set.join(","));
    match parse_command(input.as_bytes(), &limits()) {
        Ok(Parsed::Done(
            Command {
                body: CommandBody::Fetch { set, uid: true, .. },
                ..
            },
            _,
        )) => {
            let SequenceSet::Ranges(r) = &set else {
                panic!("{set:?}")
            };
            assert_eq!(r.len(), 10_000);
            assert!(set.contains(20_000, 0));
            assert!(!set.contains(19_999, 0));
            assert_eq!(set.resolve(0).len(), 10_000);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        SequenceSet::from_values([5, 1, 2, 3, 9, 10]).to_string(),
        "1:3,5,9:10"
    );
    assert_eq!(
        SequenceSet::Ranges(vec![SeqRange {
            start: SeqBound::Value(7),
            end: SeqBound::Largest
        }])
        .resolve(3),
        vec![(3, 7)]
    );
}

#[test]
fn truncated_commands_only_ask_for_more() {
    let inputs: [&[u8]; 4] = [
        b"a1 LOGIN {5}\r\nabcde {3}\r\nxyz\r\n",
        b"a1 FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From)]<0.100>)\r\n",
        b"a1 APPEND INBOX (\\Seen) \"17-Jul-1996 02:44:25 -0700\" ~{4+}\r\na\0bc\r\n",
        b"a1 SEARCH OR (FROM x) NOT (TO {1}\r\ny) UID 1:*\r\n",
    ];
    for input in inputs {
        for cut in 0..input.len() {
            match parse_command(&input[..cut], &limits()) {
                Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. }) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        assert!(matches!(
            parse_command(input, &limits()),
            Ok(Parsed::Done(_, n)) if n == input.len()
        ));
    }
}

fn assert_sane(buf: &[u8], l: &Limits) {
    match parse_command(buf, l) {
        Ok(Parsed::Done(_, n)) => assert!(n > 0 && n <= buf.len()),
        Ok(Parsed::NeedLiteral { size, sync }) => {
            assert!(size <= l.max_literal);
            if !sync {
                assert!(size <= l.max_non_sync_literal);
            }
        }
        Ok(Parsed::Incomplete) => assert!(buf.len() < l.max_command),
        Err(e) => {
            assert!(e.skip.bytes > 0 || e.skip.then_line);
            let _ = Response::Status(e.response()).to_bytes(&EncodeOptions::default());
        }
    }
}

const WORDS: &[&str] = &[
    "a1 ",
    "UID ",
    "FETCH ",
    "SEARCH ",
    "STORE ",
    "APPEND ",
    "LIST ",
    "SELECT ",
    "LOGIN ",
    "STATUS ",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    "\"",
    "\\",
    "{",
    "}",
    "~{",
    "+}",
    "{3}\r\n",
    "{2+}\r\n",
    "1:*",
    ",",
    "*",
    "$",
    "BODY",
    ".PEEK",
    "HEADER.FIELDS",
    "NOT ",
    "OR ",
    "RETURN ",
    "CHARSET ",
    "\r\n",
    "\n",
    " ",
    "NIL",
    "&",
    "-",
    "\u{e9}",
    "\0",
    "FLAGS",
    "+FLAGS.SILENT",
    "\\Seen",
    "1-Jan-2000",
    "MODSEQ",
    "CATENATE",
    "CONVERT ",
    "CONVERSIONS ",
    "BINARY.PEEK[1]",
    "BINARY.SIZE[",
    "TEXT",
    "URL",
    "SORT ",
    "THREAD ",
    "CANCELUPDATE ",
    "REVERSE ",
    "PARTIAL ",
    "UPDATE",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut l = limits();
        l.max_line = 64;
        l.max_literal = 50;
        assert_sane(&buf, &l);
        assert_sane(&buf, &limits());
        let _ = parse_sasl_response(&buf, &l);
        let _ = parse_idle_done(&buf, &l);
    }

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(0..WORDS.len(), 0..40), utf8 in any::<bool>()) {
        let mut buf: Vec<u8> = b"a1 ".to_vec();
        for w in words {
            buf.extend_from_slice(WORDS[w].as_bytes());
        }
        let mut l = limits();
        l.utf8 = utf8;
        assert_sane(&buf, &l);
        buf.extend_from_slice(b"\r\n");
        assert_sane(&buf, &l);
    }
}
