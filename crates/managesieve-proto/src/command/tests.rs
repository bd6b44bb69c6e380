use super::*;
use crate::parse_sasl_response;

fn parse(s: &[u8]) -> Result<Parsed<Command>, ParseError> {
    parse_command(s, &Limits::default())
}

fn done(s: &[u8]) -> Command {
    match parse(s) {
        Ok(Parsed::Done(c, n)) => {
            assert_eq!(n, s.len(), "{:?}", String::from_utf8_lossy(s));
            c
        }
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(s)),
    }
}

fn name(s: &str) -> ScriptName {
    ScriptName::parse(s.as_bytes()).unwrap()
}

fn err(s: &[u8]) -> ParseError {
    match parse(s) {
        Err(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(s)),
    }
}

#[test]
fn rfc_5804_examples() {
    // 2.1
    assert_eq!(
        done(b"Authenticate \"PLAIN\" \"QJIrweAPyo6Q1T9xy\"\r\n"),
        Command::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some("QJIrweAPyo6Q1T9xy".into())
        }
    );
    assert_eq!(
        done(b"AUTHENTICATE \"DIGEST-MD5\"\r\n"),
        Command::Authenticate {
            mechanism: "DIGEST-MD5".into(),
            initial_response: None
        }
    );
    // 2.2, 2.3, 2.4, 2.7, 2.14
    assert_eq!(done(b"StartTls\r\n"), Command::StartTls);
    assert_eq!(done(b"Logout\r\n"), Command::Logout);
    assert_eq!(done(b"CAPABILITY\r\n"), Command::Capability);
    assert_eq!(done(b"Listscripts\r\n"), Command::ListScripts);
    assert_eq!(done(b"UNAUTHENTICATE\r\n"), Command::Unauthenticate);
    // 2.5
    assert_eq!(
        done(b"HAVESPACE \"myscript\" 999999\r\n"),
        Command::HaveSpace {
            name: name("myscript"),
            size: 999999
        }
    );
    assert_eq!(
        done(b"HAVESPACE \"foobar\" 435\r\n"),
        Command::HaveSpace {
            name: name("foobar"),
            size: 435
        }
    );
    // 2.6
    let script = b"#comment\r\nInvalidSieveCommand\r\n";
    let mut input = b"Putscript \"foo\" {31+}\r\n".to_vec();
    input.extend_from_slice(script);
    input.extend_from_slice(b"\r\n");
    assert_eq!(
        done(&input),
        Command::PutScript {
            name: name("foo"),
            script: script.to_vec()
        }
    );
    let script = b"#comment\r\nredirect \"address@example.com\";\r\n";
    let mut input = format!("Putscript \"mysievescript\" {{{}+}}\r\n", script.len()).into_bytes();
    input.extend_from_slice(script);
    input.extend_from_slice(b"\r\n");
    assert!(matches!(done(&input), Command::PutScript { .. }));
    // 2.8
    assert_eq!(
        done(b"Setactive \"vacationscript\"\r\n"),
        Command::SetActive {
            name: Some(name("vacationscript"))
        }
    );
    assert_eq!(
        done(b"SETACTIVE \"\"\r\n"),
        Command::SetActive { name: None }
    );
    // 2.9, 2.10
    assert_eq!(
        done(b"Getscript \"myscript\"\r\n"),
        Command::GetScript {
            name: name("myscript")
        }
    );
    assert_eq!(
        done(b"Deletescript \"foo\"\r\n"),
        Command::DeleteScript { name: name("foo") }
    );
    // 2.11.1
    assert_eq!(
        done(b"Renamescript \"foo\" \"bar\"\r\n"),
        Command::RenameScript {
            from: name("foo"),
            to: name("bar")
        }
    );
    // 2.12
    assert_eq!(
        done(b"CHECKSCRIPT {31}\r\n#comment\r\nInvalidSieveCommand\r\n\r\n"),
        Command::CheckScript {
            script: b"#comment\r\nInvalidSieveCommand\r\n".to_vec()
        }
    );
    // 2.13
    assert_eq!(
        done(b"NOOP \"STARTTLS-SYNC-42\"\r\n"),
        Command::Noop {
            tag: Some(b"STARTTLS-SYNC-42".to_vec())
        }
    );
    assert_eq!(done(b"NOOP\r\n"), Command::Noop { tag: None });
}

#[test]
fn sasl_responses() {
    let l = Limits::default();
    assert_eq!(
        parse_sasl_response(b"\"dGVzdA==\"\r\n", &l).unwrap(),
        Parsed::Done("dGVzdA==".into(), 12)
    );
    assert_eq!(
        parse_sasl_response(b"{4+}\r\nYWJj\r\n", &l).unwrap(),
        Parsed::Done("YWJj".into(), 12)
    );
    assert_eq!(
        parse_sasl_response(b"\"*\"\r\n", &l).unwrap(),
        Parsed::Done("*".into(), 5)
    );
    assert_eq!(
        parse_sasl_response(b"\"a\"", &l).unwrap(),
        Parsed::Incomplete
    );
    assert!(parse_sasl_response(b"\"a\" \"b\"\r\n", &l).is_err());
}

#[test]
fn round_trips() {
    let commands = vec![
        Command::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some("AGEAYg==".into()),
        },
        Command::StartTls,
        Command::Logout,
        Command::Capability,
        Command::HaveSpace {
            name: name("a \"quoted\" \\ name"),
            size: u32::MAX,
        },
        Command::PutScript {
            name: name("Ünïcödé"),
            script: b"require \"fileinto\";\r\nfileinto \"x\";\r\n".to_vec(),
        },
        Command::PutScript {
            name: name("big"),
            script: vec![b'#'; 100_000],
        },
        Command::ListScripts,
        Command::SetActive { name: None },
        Command::SetActive {
            name: Some(name("x")),
        },
        Command::GetScript { name: name("x") },
        Command::DeleteScript { name: name("x") },
        Command::RenameScript {
            from: name("x"),
            to: name("y"),
        },
        Command::CheckScript {
            script: b"\0 binary \xff".to_vec(),
        },
        Command::Noop { tag: None },
        Command::Noop {
            tag: Some(b"t\r\n".to_vec()),
        },
        Command::Unauthenticate,
    ];
    let limits = Limits {
        max_line: 8192,
        max_literal: 200_000,
    };
    for c in commands {
        let mut out = Vec::new();
        c.encode(&mut out);
        match parse_command(&out, &limits) {
            Ok(Parsed::Done(parsed, n)) => {
                assert_eq!(parsed, c);
                assert_eq!(n, out.len());
            }
            other => panic!("{c:?}: {other:?}"),
        }
    }
}

/// Every prefix of a command is Incomplete or NeedLiteral, never an error or a
/// different command; the whole parses.
#[test]
fn split_at_every_byte() {
    let inputs: Vec<&[u8]> = vec![
        b"PUTSCRIPT \"foo\" {31+}\r\n#comment\r\nInvalidSieveCommand\r\n\r\n",
        b"CHECKSCRIPT {5}\r\nkeep;\r\n",
        b"AUTHENTICATE \"PLAIN\" {8+}\r\nAGEAYg==\r\n",
        b"RENAMESCRIPT {3+}\r\nold \"new \\\"one\\\"\"\r\n",
        b"HAVESPACE \"x\" 42\n",
        b"NOOP \"tag\"\r\n",
        b"SETACTIVE \"\"\r\n",
    ];
    for input in inputs {
        let want = done(input);
        for cut in 0..input.len() {
            match parse(&input[..cut]) {
                Ok(Parsed::Incomplete) => {}
                Ok(Parsed::NeedLiteral { size, .. }) => assert!(size > 0),
                other => panic!(
                    "{:?} cut at {cut}: {other:?}",
                    String::from_utf8_lossy(input)
                ),
            }
        }
        // Fed in two pieces to a buffer that grows, as a session does.
        for cut in 0..input.len() {
            let mut buf = input[..cut].to_vec();
            buf.extend_from_slice(&input[cut..]);
            assert_eq!(done(&buf), want);
        }
    }
}

#[test]
fn pipelined_commands_parse_one_at_a_time() {
    let input = b"NOOP\r\nLOGOUT\r\n";
    match parse(input) {
        Ok(Parsed::Done(Command::Noop { tag: None }, 6)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(done(&input[6..]), Command::Logout);
}

#[test]
fn bad_commands() {
    for (input, kind) in [
        (&b"FROB\r\n"[..], ParseErrorKind::UnknownCommand),
        (b"\r\n", ParseErrorKind::Syntax),
        (b"\"LOGOUT\"\r\n", ParseErrorKind::Syntax),
        (b"LOGOUT extra\r\n", ParseErrorKind::Syntax),
        (b"GETSCRIPT\r\n", ParseErrorKind::Syntax),
        (b"GETSCRIPT foo\r\n", ParseErrorKind::Syntax),
        (b"GETSCRIPT \"\"\r\n", ParseErrorKind::BadName),
        (b"GETSCRIPT \"a\xffb\"\r\n", ParseErrorKind::BadName),
        (b"GETSCRIPT {3+}\r\na\0b\r\n", ParseErrorKind::BadName),
        (b"GETSCRIPT \"a\tb\"\r\n", ParseErrorKind::BadName),
        (b"GETSCRIPT \"a\xe2\x80\xa8b\"\r\n", ParseErrorKind::BadName),
        (b"GETSCRIPT \"a\0b\"\r\n", ParseErrorKind::Syntax),
        (b"GETSCRIPT \"a\\nb\"\r\n", ParseErrorKind::Syntax),
        (b"GETSCRIPT \"abc\r\n", ParseErrorKind::Syntax),
        (b"NOOP\0\r\n", ParseErrorKind::Syntax),
        (b"HAVESPACE \"x\" 4294967296\r\n", ParseErrorKind::Syntax),
        (b"HAVESPACE \"x\" -1\r\n", ParseErrorKind::Syntax),
        (b"HAVESPACE \"x\" \"1\"\r\n", ParseErrorKind::Syntax),
        (b"PUTSCRIPT \"x\"\r\n", ParseErrorKind::Syntax),
        (b"PUTSCRIPT \"x\" {a}\r\n", ParseErrorKind::Syntax),
        (b"PUTSCRIPT \"x\" {1} x\r\n", ParseErrorKind::Syntax),
        (b"NOOP {x} {1+}\r\na\r\n", ParseErrorKind::Syntax),
        (b"RENAMESCRIPT \"x\"\r\n", ParseErrorKind::Syntax),
        (b"A B C D E F G H\r\n", ParseErrorKind::Syntax),
    ] {
        let e = err(input);
        assert_eq!(e.kind, kind, "{:?}: {e:?}", String::from_utf8_lossy(input));
        // Every refusal drops exactly this command.
        let mut skip = e.skip;
        assert_eq!(
            skip.consume(input),
            input.len(),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(skip.is_done());
    }
    let long = [b"GETSCRIPT \"".as_slice(), &vec![b'a'; 600], b"\"\r\n"].concat();
    assert_eq!(err(&long).kind, ParseErrorKind::BadName);
}

#[test]
fn long_line_is_refused_before_it_ends() {
    let mut input = b"NOOP \"".to_vec();
    input.extend(std::iter::repeat_n(b'x', 100 * 1024));
    let e = err(&input);
    assert_eq!(e.kind, ParseErrorKind::LineTooLong);
    // The rest of the line, when it comes, is dropped with it.
    let mut skip = e.skip;
    assert_eq!(skip.consume(&input), input.len());
    assert!(!skip.is_done());
    assert_eq!(skip.consume(b"xxx\"\r\nLOGOUT\r\n"), 6);
    assert!(skip.is_done());
}

#[test]
fn huge_literal_announcement_is_refused_before_its_bytes() {
    let input = b"PUTSCRIPT \"x\" {4294967295+}\r\n";
    let e = err(input);
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
    assert_eq!(e.skip.bytes, input.len() as u64 + 4294967295);
    assert!(e.skip.then_line);
    let e = err(b"PUTSCRIPT \"x\" {1048577}\r\n");
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
}

#[test]
fn megabyte_script_up_to_the_limit() {
    let limits = Limits {
        max_line: 8192,
        max_literal: 1024 * 1024,
    };
    let script = vec![b'#'; 1024 * 1024];
    let mut input = format!("PUTSCRIPT \"big\" {{{}+}}\r\n", script.len()).into_bytes();
    let header = input.len();
    input.extend_from_slice(&script);
    input.extend_from_slice(b"\r\n");
    assert_eq!(
        parse_command(&input[..header], &limits).unwrap(),
        Parsed::NeedLiteral {
            size: 1024 * 1024,
            sync: false
        }
    );
    assert_eq!(
        parse_command(&input[..header + 1000], &limits).unwrap(),
        Parsed::NeedLiteral {
            size: 1024 * 1024 - 1000,
            sync: false
        }
    );
    match parse_command(&input, &limits) {
        Ok(Parsed::Done(Command::PutScript { script: s, .. }, n)) => {
            assert_eq!(s, script);
            assert_eq!(n, input.len());
        }
        other => panic!("{other:?}"),
    }
}
