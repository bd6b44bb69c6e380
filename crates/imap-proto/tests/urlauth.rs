//! RESETKEY, GENURLAUTH, URLFETCH (RFC 4467) and APPEND with CATENATE (RFC 4469):
//! the RFC examples, each split at every byte, round trips, and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use imap_proto::command::append::AppendContent;
use imap_proto::*;
use proptest::prelude::*;

const RFC4467_URL: &str = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038";

/// Parses `input`; every prefix must ask for more input, never succeed or fail.
fn parse(input: &[u8]) -> Command {
    let limits = Limits::default();
    for i in 0..input.len() {
        match parse_command(&input[..i], &limits) {
            Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. }) => {}
            other => panic!("prefix of {i} bytes: {other:?}"),
        }
    }
    let Ok(Parsed::Done(cmd, n)) = parse_command(input, &limits) else {
        panic!("{:?} did not parse", String::from_utf8_lossy(input));
    };
    assert_eq!(n, input.len());
    let again = cmd.to_bytes(&EncodeOptions::default());
    match parse_command(&again, &limits) {
        Ok(Parsed::Done(c, _)) => assert_eq!(c, cmd, "{}", String::from_utf8_lossy(&again)),
        other => panic!("round trip: {other:?}"),
    }
    cmd
}

#[test]
fn rfc4467_commands() {
    assert_eq!(
        parse(b"a001 RESETKEY\r\n").body,
        CommandBody::ResetKey {
            mailbox: None,
            mechanisms: vec![]
        }
    );
    assert_eq!(
        parse(b"a002 RESETKEY INBOX INTERNAL\r\n").body,
        CommandBody::ResetKey {
            mailbox: Some(MailboxName::new("INBOX")),
            mechanisms: vec!["INTERNAL".into()]
        }
    );
    let cmd = parse(
        b"a003 GENURLAUTH \"imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred\" INTERNAL\r\n",
    );
    assert_eq!(
        cmd.body,
        CommandBody::GenUrlAuth {
            urls: vec![(
                "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred".into(),
                "INTERNAL".into()
            )]
        }
    );
    let cmd = parse(format!("a004 URLFETCH \"{RFC4467_URL}\"\r\n").as_bytes());
    assert_eq!(
        cmd.body,
        CommandBody::UrlFetch {
            urls: vec![RFC4467_URL.into()],
            params: vec![None]
        }
    );
    // What GENURLAUTH returned, sent back without quotes.
    let cmd = parse(format!("a5 URLFETCH {RFC4467_URL} {{3}}\r\nabc\r\n").as_bytes());
    assert_eq!(
        cmd.body,
        CommandBody::UrlFetch {
            urls: vec![RFC4467_URL.into(), "abc".into()],
            params: vec![None, None]
        }
    );
}

#[test]
fn rfc4469_catenate() {
    let boundary = "\r\n--------------030308070208000400050907\r\n";
    let input = format!(
        "A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {{42}}\r\n{boundary} URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME\" URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1\" TEXT {{42}}\r\n{boundary} URL \"/Drafts;UIDVALIDITY=385759045/;UID=30\" TEXT {{44}}\r\n\r\n--------------030308070208000400050907--\r\n)\r\n"
    );
    let CommandBody::Append { mailbox, messages } = parse(input.as_bytes()).body else {
        panic!("not an APPEND");
    };
    assert_eq!(mailbox.as_str(), "Drafts");
    assert_eq!(messages.len(), 1);
    let AppendContent::Catenate(parts) = &messages[0].content else {
        panic!("not CATENATE");
    };
    assert_eq!(parts.len(), 7);
    assert_eq!(
        parts[0],
        AppendPart::Url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER".into())
    );
    assert_eq!(
        parts[1],
        AppendPart::Text {
            data: boundary.as_bytes().to_vec(),
            binary: false
        }
    );
    for p in parts {
        if let AppendPart::Url(u) = p {
            ImapUrl::parse(u).unwrap();
        }
    }
    // MULTIAPPEND of a CATENATE and a plain literal (RFC 4469 5).
    let CommandBody::Append { messages, .. } =
        parse(b"a1 APPEND Drafts CATENATE (URL \"/Drafts/;UID=1\") (\\Answered) {3+}\r\nabc\r\n")
            .body
    else {
        panic!("not an APPEND");
    };
    assert_eq!(messages.len(), 2);
}

#[test]
fn refused() {
    let limits = Limits::default();
    for bad in [
        &b"a GENURLAUTH\r\n"[..],
        b"a GENURLAUTH \"imap://x/INBOX/;uid=1;urlauth=anonymous\"\r\n",
        b"a GENURLAUTH \"u\" \"INTERNAL\"\r\n",
        b"a URLFETCH\r\n",
        b"a URLFETCH ()\r\n",
        b"a URLFETCH (\"u\" BINARY BODY)\r\n",
        b"a URLFETCH (\"u\" BINARY BINARY)\r\n",
        b"a URLFETCH (\"u\" BODYSTRUCTURE)\r\n",
        b"a URLFETCH (\"u\" (BINARY))\r\n",
        b"a URLFETCH (\"u\"  BINARY)\r\n",
        b"a URLFETCH (\"u\" BINARY\r\n",
        b"a URLFETCH \"u\" BINARY)\r\n",
        b"a URLFETCH (\"u\" BINARY) \r\n",
        b"a RESETKEY INBOX (INTERNAL)\r\n",
        b"a APPEND INBOX CATENATE ()\r\n",
        b"a APPEND INBOX CATENATE (URL)\r\n",
        b"a APPEND INBOX CATENATE (FOO \"x\")\r\n",
        b"a APPEND INBOX CATENATE (TEXT \"quoted\")\r\n",
    ] {
        assert!(
            parse_command(bad, &limits).is_err(),
            "{:?} was accepted",
            String::from_utf8_lossy(bad)
        );
    }
}

const RFC5524_URL: &str = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038";

#[test]
fn rfc5524_urlfetch_parameters() {
    // RFC 5524 4: the parenthesized form beside a plain URL.
    let cmd = parse(
        format!(
            "a1 URLFETCH (\"{RFC5524_URL}\" BODYPARTSTRUCTURE BINARY) {RFC5524_URL} ({RFC5524_URL} body.peek)\r\n"
        )
        .as_bytes(),
    );
    let both = UrlFetchParams {
        body_part_structure: true,
        binary: true,
        body: false,
    };
    let body = UrlFetchParams {
        body: true,
        ..UrlFetchParams::default()
    };
    assert_eq!(
        cmd.body,
        CommandBody::UrlFetch {
            urls: vec![RFC5524_URL.into(), RFC5524_URL.into(), RFC5524_URL.into()],
            params: vec![Some(both), None, Some(body)]
        }
    );
    // A URL alone in parentheses asks for nothing more than the form says.
    let cmd = parse(b"a2 URLFETCH (\"/INBOX/;uid=1\")\r\n");
    assert_eq!(
        cmd.body,
        CommandBody::UrlFetch {
            urls: vec!["/INBOX/;uid=1".into()],
            params: vec![Some(UrlFetchParams::default())]
        }
    );
    // A literal URL inside the parentheses.
    let cmd = parse(b"a3 URLFETCH ({13}\r\n/INBOX/;uid=1 BINARY.PEEK bodypartstructure)\r\n");
    assert_eq!(
        cmd.body,
        CommandBody::UrlFetch {
            urls: vec!["/INBOX/;uid=1".into()],
            params: vec![Some(both)]
        }
    );
}

#[test]
fn urlfetch_parameters_truncated_anywhere() {
    let full = format!("a URLFETCH ({RFC5524_URL} BODYPARTSTRUCTURE BINARY)\r\n");
    let limits = Limits::default();
    for i in 0..full.len() - 2 {
        // Cut short and ended there: never accepted as the whole command.
        let mut cut = full.as_bytes()[..i].to_vec();
        cut.extend_from_slice(b"\r\n");
        if let Ok(Parsed::Done(c, _)) = parse_command(&cut, &limits) {
            assert_ne!(
                c.body,
                parse(full.as_bytes()).body,
                "{:?}",
                String::from_utf8_lossy(&cut)
            );
        }
    }
}

#[test]
fn oversized_urlfetch_is_refused_or_complete() {
    // Thousands of parenthesized URLs parse; a URL past the line limit does not panic.
    let mut cmd = b"a URLFETCH".to_vec();
    for _ in 0..5_000 {
        cmd.extend_from_slice(b" (\"/INBOX/;uid=1\" BINARY)");
    }
    cmd.extend_from_slice(b"\r\n");
    match parse_command(&cmd, &Limits::default()) {
        Ok(Parsed::Done(c, _)) => {
            let CommandBody::UrlFetch { urls, params } = c.body else {
                panic!("not URLFETCH");
            };
            assert_eq!(urls.len(), 5_000);
            assert!(params.iter().all(|p| p.is_some_and(|p| p.binary)));
        }
        Err(_) => {}
        other => panic!("{other:?}"),
    }
    let huge = format!("a URLFETCH (\"{}\" BINARY)\r\n", "x".repeat(10_000_000));
    let _ = parse_command(huge.as_bytes(), &Limits::default());
}

#[test]
fn urlfetch_ext_responses() {
    use imap_proto::response::urlauth::{UrlFetchExt, urlfetch_ext};
    let opts = EncodeOptions::default();
    let bytes = |d: imap_proto::response::Data| {
        let mut out = Vec::new();
        d.encode(&opts, &mut out);
        out
    };
    let ext = UrlFetchExt {
        body_part_structure: Some(b"(\"text\" \"plain\" NIL NIL NIL \"7BIT\" 1 0)"),
        binary: Some(Some(b"a\0b")),
        body: None,
    };
    assert_eq!(
        bytes(urlfetch_ext("/INBOX/;uid=1", Some(&ext), &opts)),
        b"* URLFETCH \"/INBOX/;uid=1\" (BODYPARTSTRUCTURE (\"text\" \"plain\" NIL NIL NIL \"7BIT\" 1 0) BINARY ~{3}\r\na\0b)\r\n"
    );
    let ext = UrlFetchExt {
        body_part_structure: None,
        binary: Some(None),
        body: Some(Some(b"hi")),
    };
    assert_eq!(
        bytes(urlfetch_ext("u", Some(&ext), &opts)),
        b"* URLFETCH \"u\" (BINARY NIL BODY \"hi\")\r\n"
    );
    assert_eq!(
        bytes(urlfetch_ext("u", None, &opts)),
        b"* URLFETCH \"u\" NIL\r\n"
    );
}

#[test]
fn ten_thousand_catenate_parts() {
    let mut cmd = b"a APPEND INBOX CATENATE (".to_vec();
    for i in 0..10_000 {
        if i > 0 {
            cmd.push(b' ');
        }
        cmd.extend_from_slice(b"URL \"/INBOX/;UID=1/;PARTIAL=0.1\" TEXT {1+}\r\nx");
    }
    cmd.extend_from_slice(b")\r\n");
    let Ok(Parsed::Done(c, _)) = parse_command(&cmd, &Limits::default()) else {
        panic!("not parsed");
    };
    let CommandBody::Append { messages, .. } = c.body else {
        panic!("not an APPEND");
    };
    let AppendContent::Catenate(parts) = &messages[0].content else {
        panic!("not CATENATE");
    };
    assert_eq!(parts.len(), 20_000);
}

proptest! {
    #[test]
    fn urlauth_commands_never_panic(
        name in prop::sample::select(vec!["RESETKEY", "GENURLAUTH", "URLFETCH", "APPEND INBOX CATENATE"]),
        rest in "[ a-zA-Z0-9\"(){}~+%;:/=.*\\\\\r\n-]{0,80}",
    ) {
        let buf = format!("t {name}{rest}");
        let _ = parse_command(buf.as_bytes(), &Limits::default());
        let _ = parse_command(format!("{buf}\r\n").as_bytes(), &Limits::default());
    }
}
