//! BINARY (RFC 3516) and CONVERT (RFC 5259): the commands of the RFC examples, each
//! split at every byte and encoded back; CONVERTED and CONVERSION responses as the RFC
//! writes them; garbage, truncated and oversized input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use imap_proto::*;
use proptest::prelude::*;

mod common;

use common::{body, limits, parse_split};

fn refused(input: &str) -> ParseError {
    match parse_split(input.as_bytes()) {
        Err(e) => e,
        Ok(c) => panic!("{input:?} was accepted: {c:?}"),
    }
}

fn p(target: Option<&str>, params: &[(&str, &str)]) -> ConvertParams {
    ConvertParams {
        target: target.map(str::to_string),
        params: params
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
    }
}

fn convert(input: &str) -> (bool, ConvertParams, Vec<ConvertItem>) {
    match body(input) {
        CommandBody::Convert {
            uid, params, items, ..
        } => (uid, params, items),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc5259_convert_examples() {
    let (uid, params, items) = convert("a001 CONVERT 2 (\"APPLICATION/PDF\") BINARY[3]\r\n");
    assert!(!uid);
    assert_eq!(params, p(Some("APPLICATION/PDF"), &[]));
    assert_eq!(
        items,
        vec![ConvertItem::Binary {
            part: vec![3],
            partial: None
        }]
    );
    let (_, params, _) =
        convert("b001 CONVERT 2 (\"text/plain\" (\"charset\" \"us-ascii\")) BINARY[3]\r\n");
    assert_eq!(params, p(Some("text/plain"), &[("charset", "us-ascii")]));
    assert_eq!(params.get("CHARSET"), Some("us-ascii"));
    let (_, params, _) = convert(
        "b001 CONVERT 2 (\"text/plain\" (\"charset\" \"us-ascii\" \"unknown-character-replacement\" \"?\")) BINARY[3]\r\n",
    );
    assert_eq!(params.get("unknown-character-replacement"), Some("?"));
    let (_, _, items) =
        convert("c000 CONVERT 2 (\"TEXT/PLAIN\" (\"CHARSET\" \"us-ascii\")) BINARY.SIZE[4]\r\n");
    assert_eq!(items, vec![ConvertItem::BinarySize { part: vec![4] }]);
    let (_, _, items) = convert(
        "c001 CONVERT 2 (\"TEXT/PLAIN\" (\"CHARSET\" \"us-ascii\")) BINARY[4]<2001.1000>\r\n",
    );
    assert_eq!(
        items,
        vec![ConvertItem::Binary {
            part: vec![4],
            partial: Some(Partial {
                origin: 2001,
                length: 1000
            })
        }]
    );
    let (_, params, items) =
        convert("D002 CONVERT 2 (NIL (\"CHARSET\" \"utf-8\")) BODY[HEADER]\r\n");
    assert_eq!(params, p(None, &[("CHARSET", "utf-8")]));
    assert_eq!(items, vec![ConvertItem::Header { part: vec![] }]);
    let (_, params, items) = convert("D012 CONVERT 3 (NIL) BODY[1.MIME]\r\n");
    assert_eq!(params, p(None, &[]));
    assert_eq!(items, vec![ConvertItem::Mime { part: vec![1] }]);
    let (uid, params, _) = convert(
        "e001 UID CONVERT 100 (\"IMAGE/JPEG\" (\"PIX-X\" \"128\" \"PIX-Y\" \"96\")) BINARY[2]\r\n",
    );
    assert!(uid);
    assert_eq!(params.params.len(), 2);
    let (_, _, items) = convert(
        "e002 CONVERT 2 (NIL (\"PIX-X\" \"128\" \"PIX-Y\" \"96\")) (BINARY[2] BODYPARTSTRUCTURE[2])\r\n",
    );
    assert_eq!(
        items,
        vec![
            ConvertItem::Binary {
                part: vec![2],
                partial: None
            },
            ConvertItem::BodyPartStructure { part: vec![2] }
        ]
    );
    let (_, _, items) = convert("f001 CONVERT 2 (NIL) (AVAILABLECONVERSIONS[2])\r\n");
    assert_eq!(
        items,
        vec![ConvertItem::AvailableConversions { part: vec![2] }]
    );
    let (_, _, items) =
        convert("g001 CONVERT 1:* (\"text/plain\" (\"charset\" \"us-ascii\")) BINARY[3]\r\n");
    assert_eq!(items.len(), 1);
    let (_, _, items) = convert(
        "h001 CONVERT 1 (\"text/plain\" (\"charset\" \"us-ascii\")) (BINARY[1] BINARY[2])\r\n",
    );
    assert_eq!(items.len(), 2);
    let (_, params, _) = convert(
        "b005 CONVERT 2 (\"TEXT/PLAIN\" (CHARSET \"US-ASCII\" UNKNOWN-CHARACTER-REPLACEMENT \"<badchar>\")) BINARY[3]\r\n",
    );
    assert_eq!(
        params.get("unknown-character-replacement"),
        Some("<badchar>")
    );
    // Other forms the grammar allows: literals, UID, nested headers, the whole message.
    let (_, params, items) = convert(
        "x CONVERT 1 ({10}\r\ntext/plain ({7}\r\ncharset utf-8)) (UID BINARY[] BODY[2.HEADER])\r\n",
    );
    assert_eq!(params, p(Some("text/plain"), &[("charset", "utf-8")]));
    assert_eq!(
        items,
        vec![
            ConvertItem::Uid,
            ConvertItem::Binary {
                part: vec![],
                partial: None
            },
            ConvertItem::Header { part: vec![2] }
        ]
    );
}

#[test]
fn conversions_command() {
    for (input, from, to) in [
        (
            "a CONVERSIONS \"image/gif\" \"image/jpeg\"\r\n",
            "image/gif",
            "image/jpeg",
        ),
        ("b CONVERSIONS \"image/gif\" \"*\"\r\n", "image/gif", "*"),
        ("c CONVERSIONS \"*\" \"image/jpeg\"\r\n", "*", "image/jpeg"),
        (
            "d CONVERSIONS \"image/*\" \"text/*\"\r\n",
            "image/*",
            "text/*",
        ),
        ("e CONVERSIONS text/plain {1}\r\n*\r\n", "text/plain", "*"),
    ] {
        assert_eq!(
            body(input),
            CommandBody::Conversions {
                from: from.into(),
                to: to.into()
            },
            "{input}"
        );
    }
}

#[test]
fn binary_fetch_and_append() {
    match body("a FETCH 1 (BINARY.PEEK[1.2]<0.10> BINARY[] BINARY.SIZE[3])\r\n") {
        CommandBody::Fetch { items, .. } => assert_eq!(
            items,
            vec![
                FetchItem::Binary {
                    part: vec![1, 2],
                    partial: Some(Partial {
                        origin: 0,
                        length: 10
                    }),
                    peek: true
                },
                FetchItem::Binary {
                    part: vec![],
                    partial: None,
                    peek: false
                },
                FetchItem::BinarySize { part: vec![3] },
            ]
        ),
        other => panic!("{other:?}"),
    }
    for input in [
        &b"a APPEND INBOX ~{5}\r\n\0\x01\x02\r\n\r\n"[..],
        b"a APPEND INBOX (\\Seen) ~{5+}\r\n\0\x01\x02\r\n\r\n",
    ] {
        match parse_split(input).unwrap().body {
            CommandBody::Append { messages, .. } => assert_eq!(
                messages[0].content,
                AppendContent::Literal {
                    data: b"\0\x01\x02\r\n".to_vec(),
                    binary: true
                }
            ),
            other => panic!("{other:?}"),
        }
    }
    // NUL only travels in a literal8.
    assert!(parse_split(b"a APPEND INBOX {3}\r\n\0ab\r\n").is_err());
    for bad in [
        "a FETCH 1 BINARY[1.HEADER]\r\n",
        "a FETCH 1 BINARY[0]\r\n",
        "a FETCH 1 BINARY[1]<5>\r\n",
        "a FETCH 1 BINARY.SIZE[1]<0.5>\r\n",
        "a FETCH 1 BINARY.PEEK\r\n",
        "a FETCH 1 BINARY[1\r\n",
    ] {
        let e = refused(bad);
        assert_eq!(e.tag, Tag::new("a"));
    }
}

#[test]
fn malformed_convert_commands() {
    for bad in [
        "a CONVERT 1 BINARY[1]\r\n",
        "a CONVERT 1 () BINARY[1]\r\n",
        "a CONVERT 1 (\"text\") BINARY[1]\r\n",
        "a CONVERT 1 (\"text/plain/x\") BINARY[1]\r\n",
        "a CONVERT 1 (\"*\") BINARY[1]\r\n",
        "a CONVERT 1 (FOO) BINARY[1]\r\n",
        "a CONVERT 1 (NIL (\"charset\")) BINARY[1]\r\n",
        "a CONVERT 1 (NIL (\"charset\" \"x\" \"y\")) BINARY[1]\r\n",
        "a CONVERT 1 (NIL) BODY[1]\r\n",
        "a CONVERT 1 (NIL) BODY[TEXT]\r\n",
        "a CONVERT 1 (NIL) BODY[MIME]\r\n",
        "a CONVERT 1 (NIL) RFC822\r\n",
        "a CONVERT 1 (NIL) ()\r\n",
        "a CONVERT 1 (NIL) BINARY[1] \r\n",
        "a CONVERT (NIL) BINARY[1]\r\n",
        "a CONVERT 1 (NIL)\r\n",
        "a UID CONVERT 1 (NIL) BINARY[a]\r\n",
        "a CONVERSIONS \"image/gif\"\r\n",
        "a CONVERSIONS \"image\" \"*\"\r\n",
        "a CONVERSIONS \"*/*\" \"*\"\r\n",
        "a CONVERSIONS \"image/gif\" \"\"\r\n",
        "a CONVERSIONS \"image/gif\" \"image/ gif\"\r\n",
    ] {
        let e = refused(bad);
        assert_eq!(e.tag, Tag::new("a"), "{bad}");
        assert_eq!(e.response().status, Status::Bad, "{bad}");
    }
}

#[test]
fn truncated_and_oversized() {
    let input = b"a1 UID CONVERT 1:* (\"text/plain\" ({7}\r\ncharset \"utf-8\")) (UID BINARY[1.2]<0.100> BODYPARTSTRUCTURE[1])\r\n";
    for cut in 0..input.len() {
        match parse_command(&input[..cut], &limits()) {
            Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. }) => {}
            other => panic!("cut {cut}: {other:?}"),
        }
    }
    let mut l = limits();
    l.max_line = 64;
    let long = format!("a1 CONVERT 1 (NIL ({})) BINARY[1]\r\n", "x y ".repeat(100));
    assert_eq!(
        parse_command(long.as_bytes(), &l).unwrap_err().kind,
        ParseErrorKind::LineTooLong
    );
    l.max_literal = 10;
    let e = parse_command(b"a1 CONVERT 1 ({99}\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
    // Deep part numbers and long lists are bounded by the line limit only.
    let deep = format!("a1 CONVERT 1 (NIL) BINARY[{}1]\r\n", "1.".repeat(1000));
    assert!(matches!(
        parse_command(deep.as_bytes(), &limits()),
        Ok(Parsed::Done(..))
    ));
    let big = format!("a1 CONVERT 1 (NIL) BINARY[{}]\r\n", "9".repeat(30));
    assert!(parse_command(big.as_bytes(), &limits()).is_err());
}

fn wire(d: Data) -> String {
    String::from_utf8(Response::Data(d).to_bytes(&EncodeOptions::default())).unwrap()
}

#[test]
fn converted_responses_as_the_rfc_writes_them() {
    let tag = |t: &str| Tag::new(t).unwrap();
    assert_eq!(
        wire(Data::Converted {
            seq: SeqNum(2),
            tag: tag("b001"),
            items: vec![ConvertValue::Binary {
                part: vec![3],
                origin: None,
                data: Err(ConvertError {
                    text: "Source text has non us-ascii".into(),
                    code: ConvertErrorCode::BadParameters {
                        from: Some("text/html".into()),
                        to: "text/plain".into(),
                        params: vec![("charset".into(), "us-ascii".into())],
                    },
                }),
            }],
        }),
        "* 2 CONVERTED (TAG \"b001\") (BINARY[3] (ERROR \"Source text has non us-ascii\" BADPARAMETERS \"text/html\" \"text/plain\" (\"charset\" \"us-ascii\")))\r\n"
    );
    assert_eq!(
        wire(Data::Converted {
            seq: SeqNum(2),
            tag: tag("e001"),
            items: vec![
                ConvertValue::Uid(Uid(100)),
                ConvertValue::Binary {
                    part: vec![2],
                    origin: Some(2001),
                    data: Ok(b"a\0b".to_vec()),
                },
                ConvertValue::BinarySize {
                    part: vec![4],
                    size: Ok(3135),
                },
                ConvertValue::AvailableConversions {
                    part: vec![2],
                    types: Ok(vec!["IMAGE/JPEG".into(), "application/PostScript".into()]),
                },
                ConvertValue::Header {
                    part: vec![],
                    mime: false,
                    data: Ok(b"A: b\r\n\r\n".to_vec()),
                },
                ConvertValue::Header {
                    part: vec![1],
                    mime: true,
                    data: Err(ConvertError {
                        text: "CHARSET must be specified for text conversions".into(),
                        code: ConvertErrorCode::MissingParameters {
                            from: "text/plain".into(),
                            to: "text/plain".into(),
                            names: vec!["CHARSET".into()],
                        },
                    }),
                },
                ConvertValue::BodyPartStructure {
                    part: vec![3],
                    structure: Err(ConvertError {
                        text: "down".into(),
                        code: ConvertErrorCode::TempFail(Some(5)),
                    }),
                },
            ],
        }),
        "* 2 CONVERTED (TAG \"e001\") (UID 100 BINARY[2]<2001> ~{3}\r\na\0b BINARY.SIZE[4] 3135 \
         AVAILABLECONVERSIONS[2] ((\"IMAGE/JPEG\" \"application/PostScript\")) \
         BODY[HEADER] {8}\r\nA: b\r\n\r\n \
         BODY[1.MIME] (ERROR \"CHARSET must be specified for text conversions\" MISSINGPARAMETERS \"text/plain\" \"text/plain\" (\"CHARSET\")) \
         BODYPARTSTRUCTURE[3] (ERROR \"down\" TEMPFAIL 5))\r\n"
    );
    assert_eq!(
        wire(Data::Conversion {
            from: "text/plain".into(),
            to: "text/plain".into(),
            params: vec!["charset".into(), "unknown-character-replacement".into()],
        }),
        "* CONVERSION \"text/plain\" \"text/plain\" (\"charset\" \"unknown-character-replacement\")\r\n"
    );
    assert_eq!(
        wire(Data::Conversion {
            from: "image/gif".into(),
            to: "image/gif".into(),
            params: vec![],
        }),
        "* CONVERSION \"image/gif\" \"image/gif\"\r\n"
    );
}

const WORDS: &[&str] = &[
    "a1 ",
    "UID ",
    "CONVERT ",
    "CONVERSIONS ",
    "FETCH ",
    "1 ",
    "1:*",
    "(",
    ")",
    "[",
    "]",
    "<",
    ">",
    ".",
    "0",
    "1",
    "2",
    "\"text/plain\"",
    "\"*\"",
    "NIL",
    "\"charset\" ",
    "\"utf-8\"",
    "BINARY",
    "BINARY.PEEK",
    "BINARY.SIZE",
    "BODYPARTSTRUCTURE",
    "AVAILABLECONVERSIONS",
    "BODY[HEADER]",
    "BODY[1.MIME]",
    "HEADER",
    "MIME",
    "~{",
    "{3}\r\n",
    "{2+}\r\n",
    "\r\n",
    " ",
    "\0",
    "\"",
    "\\",
    "APPEND INBOX ",
];

fn astr() -> impl Strategy<Value = String> {
    "[ -~\u{e9}]{0,12}"
}

fn part() -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(1..30u32, 0..4)
}

fn item() -> impl Strategy<Value = ConvertItem> {
    prop_oneof![
        Just(ConvertItem::Uid),
        (part(), proptest::option::of((0..5000u32, 1..5000u32))).prop_map(|(part, p)| {
            ConvertItem::Binary {
                part,
                partial: p.map(|(origin, length)| Partial { origin, length }),
            }
        }),
        part().prop_map(|part| ConvertItem::BinarySize { part }),
        part().prop_map(|part| ConvertItem::BodyPartStructure { part }),
        part().prop_map(|part| ConvertItem::AvailableConversions { part }),
        part().prop_map(|part| ConvertItem::Header { part }),
        proptest::collection::vec(1..30u32, 1..4).prop_map(|part| ConvertItem::Mime { part }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn encoded_converts_parse_back(
        uid in any::<bool>(),
        target in proptest::option::of("[a-z]{1,8}/[a-z0-9][a-z0-9.+-]{0,7}"),
        params in proptest::collection::vec((astr(), astr()), 0..4),
        items in proptest::collection::vec(item(), 1..5),
    ) {
        let cmd = Command {
            tag: Tag::new("t1").unwrap(),
            body: CommandBody::Convert {
                uid,
                set: SequenceSet::Ranges(vec![SeqRange { start: SeqBound::Value(1), end: SeqBound::Largest }]),
                params: ConvertParams { target, params },
                items,
            },
        };
        let wire = cmd.to_bytes(&EncodeOptions::default());
        match parse_command(&wire, &limits()) {
            Ok(Parsed::Done(back, n)) => {
                prop_assert_eq!(&back, &cmd, "{}", String::from_utf8_lossy(&wire));
                prop_assert_eq!(n, wire.len());
            }
            other => prop_assert!(false, "{:?}: {:?}", String::from_utf8_lossy(&wire), other),
        }
        for cut in 0..wire.len() {
            let partial = matches!(
                parse_command(&wire[..cut], &limits()),
                Ok(Parsed::Incomplete | Parsed::NeedLiteral { .. })
            );
            prop_assert!(partial, "cut {}", cut);
        }
    }

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(0..WORDS.len(), 0..40)) {
        let mut buf: Vec<u8> = b"a1 ".to_vec();
        for w in words {
            buf.extend_from_slice(WORDS[w].as_bytes());
        }
        buf.extend_from_slice(b"\r\n");
        let _ = parse_command(&buf, &limits());
    }

    #[test]
    fn random_convert_tails_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..200)) {
        for head in [&b"a1 CONVERT 1 "[..], b"a1 UID CONVERT 1:* (NIL) ", b"a1 CONVERSIONS ", b"a1 FETCH 1 BINARY"] {
            let mut buf = head.to_vec();
            buf.extend_from_slice(&tail);
            let _ = parse_command(&buf, &limits());
            buf.extend_from_slice(b"\r\n");
            let _ = parse_command(&buf, &limits());
        }
    }

    #[test]
    fn converted_responses_encode_any_data(data in proptest::collection::vec(any::<u8>(), 0..100), text in "[ -~]{0,30}") {
        let d = Data::Converted {
            seq: SeqNum(1),
            tag: Tag::new("t").unwrap(),
            items: vec![
                ConvertValue::Binary { part: vec![1], origin: None, data: Ok(data.clone()) },
                ConvertValue::Binary { part: vec![2], origin: None, data: Err(ConvertError {
                    text, code: ConvertErrorCode::TempFail(None) }) },
            ],
        };
        let bytes = Response::Data(d).to_bytes(&EncodeOptions::default());
        let marker = if data.contains(&0) { "~{" } else { "{" };
        let head = format!("* 1 CONVERTED (TAG \"t\") (BINARY[1] {marker}{}}}\r\n", data.len());
        prop_assert!(bytes.starts_with(head.as_bytes()));
    }
}
