//! UTF-8 on the wire (RFC 6855 UTF8=ACCEPT, RFC 9051 IMAP4rev2): mailbox names
//! and quoted strings in UTF-8, `APPEND ... UTF8 (literal8)`, and the LITERAL-
//! bound on non-synchronising literals (RFC 7888 4). Known answers, every input
//! split at every byte, truncated and garbage input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imap_proto::*;
use proptest::prelude::*;

fn utf8() -> Limits {
    Limits {
        utf8: true,
        ..Limits::default()
    }
}

fn done(input: &[u8], l: &Limits) -> Command {
    match parse_command(input, l) {
        Ok(Parsed::Done(c, n)) if n == input.len() => c,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

fn refused(input: &[u8], l: &Limits) -> ParseError {
    match parse_command(input, l) {
        Err(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn utf8_mailbox_names_and_quoted_strings() {
    let c = done("a CREATE \"Entwürfe/Grüße\"\r\n".as_bytes(), &utf8());
    assert_eq!(
        c.body,
        CommandBody::Create {
            mailbox: MailboxName::new("Entwürfe/Grüße"),
            special_use: vec![],
        }
    );
    // Without UTF-8, names are modified UTF-7.
    let c = done(b"a CREATE Entw&APw-rfe\r\n", &Limits::default());
    assert_eq!(
        c.body,
        CommandBody::Create {
            mailbox: MailboxName::new("Entwürfe"),
            special_use: vec![],
        }
    );
    // With UTF-8, `&` is just a character.
    let c = done(b"a CREATE Entw&APw-rfe\r\n", &utf8());
    assert_eq!(
        c.body,
        CommandBody::Create {
            mailbox: MailboxName::new("Entw&APw-rfe"),
            special_use: vec![],
        }
    );
    match done("a SEARCH SUBJECT \"grüße\"\r\n".as_bytes(), &utf8()).body {
        CommandBody::Search { criteria, .. } => {
            assert_eq!(criteria, vec![SearchKey::Subject("grüße".into())]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn invalid_utf8_in_a_quoted_string_is_refused_once_utf8_is_on() {
    for bad in [
        &b"\x80"[..],
        b"\xc3",
        b"\xc0\xaf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"ok\xff",
    ] {
        let mut input = b"a1 SEARCH SUBJECT \"".to_vec();
        input.extend_from_slice(bad);
        input.extend_from_slice(b"\"\r\n");
        let e = refused(&input, &utf8());
        assert_eq!(e.tag, Tag::new("a1"));
        assert_eq!(e.response().status, Status::Bad);
        assert_eq!(e.skip.bytes, input.len() as u64);
        // The same in a mailbox name.
        let mut create = b"a2 CREATE \"x".to_vec();
        create.extend_from_slice(bad);
        create.extend_from_slice(b"\"\r\n");
        let e = refused(&create, &utf8());
        assert_eq!(e.tag, Tag::new("a2"));
        assert_eq!(e.response().status, Status::Bad);
    }
}

#[test]
fn append_utf8_literal8() {
    let msg = "Subject: Grüße\r\n\r\nHallo Welt".as_bytes();
    let mut input = format!(
        "a APPEND \"Entwürfe\" (\\Seen) UTF8 (~{{{}}}\r\n",
        msg.len()
    )
    .into_bytes();
    input.extend_from_slice(msg);
    input.extend_from_slice(b")\r\n");
    let c = done(&input, &utf8());
    let CommandBody::Append { mailbox, messages } = c.body else {
        panic!("{:?}", c.body);
    };
    assert_eq!(mailbox, MailboxName::new("Entwürfe"));
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].flags, vec![Flag::Seen]);
    assert_eq!(
        messages[0].content,
        AppendContent::Literal {
            data: msg.to_vec(),
            binary: true,
        }
    );
    // The data extension needs its parentheses and literal.
    for bad in [
        &b"a APPEND INBOX UTF8 ~{1}\r\nx\r\n"[..],
        b"a APPEND INBOX UTF8 (\"x\")\r\n",
        b"a APPEND INBOX UTF8\r\n",
        b"a APPEND INBOX UTF8 (~{1}\r\nx\r\n",
    ] {
        let e = refused(bad, &utf8());
        assert_eq!(e.response().status, Status::Bad, "{bad:?}");
    }
}

#[test]
fn split_at_every_byte_and_truncated() {
    let msg = "Subject: Grüße\r\n\r\nHallo".as_bytes();
    let mut append = format!("a1 APPEND \"Entwürfe\" UTF8 (~{{{}+}}\r\n", msg.len()).into_bytes();
    append.extend_from_slice(msg);
    append.extend_from_slice(b")\r\n");
    let inputs: Vec<Vec<u8>> = vec![
        append,
        "a2 CREATE \"Entwürfe/Grüße\"\r\n".as_bytes().to_vec(),
        "a3 UID SEARCH CHARSET UTF-8 SUBJECT \"grüße\" FROM {5+}\r\nJörg\r\n"
            .as_bytes()
            .to_vec(),
        "a4 LIST \"\" \"Entwürfe/%\"\r\n".as_bytes().to_vec(),
        b"a5 ENABLE UTF8=ACCEPT IMAP4rev2\r\n".to_vec(),
    ];
    for input in &inputs {
        let whole = done(input, &utf8());
        for cut in 0..input.len() {
            match parse_command(&input[..cut], &utf8()) {
                Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. }) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        // Encoding with UTF-8 on gives back the same command.
        let opts = EncodeOptions { utf8: true };
        let again = whole.to_bytes(&opts);
        assert_eq!(
            done(&again, &utf8()),
            whole,
            "{:?}",
            String::from_utf8_lossy(&again)
        );
    }
}

#[test]
fn literal_minus_holds_non_synchronising_literals_to_4096() {
    let l = Limits {
        max_non_sync_literal: 4096,
        ..Limits::default()
    };
    // Up to 4096 goes through without a continuation request.
    let mut ok = b"a LOGIN {4096+}\r\n".to_vec();
    ok.extend(std::iter::repeat_n(b'x', 4096));
    ok.extend_from_slice(b" secret\r\n");
    done(&ok, &l);
    // One more is refused as soon as the header is seen; the bytes that
    // follow are still coming and are skipped, then the rest of the line.
    let e = refused(b"a LOGIN {4097+}\r\n", &l);
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
    assert_eq!(e.tag, Tag::new("a"));
    assert_eq!(e.response().status, Status::Bad);
    assert_eq!(e.skip.bytes, b"a LOGIN {4097+}\r\n".len() as u64 + 4097);
    assert!(e.skip.then_line);
    // A synchronising literal of any allowed size is still fine.
    assert_eq!(
        parse_command(b"a LOGIN {10000}\r\n", &l).unwrap(),
        Parsed::NeedLiteral {
            size: 10000,
            sync: true
        }
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes in a quoted string: never a panic; with UTF-8 on, refused
    /// exactly when they are not UTF-8 (or hold a quote, backslash or line end).
    #[test]
    fn quoted_bytes_never_panic(text in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut input = b"a SEARCH SUBJECT \"".to_vec();
        input.extend_from_slice(&text);
        input.extend_from_slice(b"\"\r\n");
        let plain = !text.iter().any(|b| matches!(b, b'"' | b'\\' | b'\r' | b'\n' | 0));
        let r = parse_command(&input, &utf8());
        if plain {
            prop_assert_eq!(r.is_ok(), std::str::from_utf8(&text).is_ok());
        }
        let _ = parse_command(&input, &Limits::default());
        for cut in 0..input.len() {
            let _ = parse_command(&input[..cut], &utf8());
        }
    }
}
