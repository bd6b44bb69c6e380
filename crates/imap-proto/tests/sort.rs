//! SORT, THREAD, CANCELUPDATE and the CONTEXT return options: the RFC 5256,
//! RFC 5267 and RFC 5957 examples, their responses, and hostile input.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imap_proto::*;
use proptest::prelude::*;

fn parse(input: &str) -> CommandBody {
    match parse_command(input.as_bytes(), &Limits::default()) {
        Ok(Parsed::Done(c, n)) => {
            assert_eq!(n, input.len());
            c.body
        }
        other => panic!("{input:?}: {other:?}"),
    }
}

fn refused(input: &[u8]) -> ParseError {
    match parse_command(input, &Limits::default()) {
        Err(e) => e,
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
    }
}

fn crit(reverse: bool, key: SortKey) -> SortCriterion {
    SortCriterion { reverse, key }
}

fn wire(d: Data) -> String {
    String::from_utf8(Response::Data(d).to_bytes(&EncodeOptions::default())).unwrap()
}

#[test]
fn rfc_5256_sort_examples() {
    assert_eq!(
        parse("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994\r\n"),
        CommandBody::Sort {
            uid: false,
            returns: None,
            criteria: vec![crit(false, SortKey::Subject)],
            charset: "UTF-8".into(),
            search: vec![SearchKey::Since(Date::new(1994, 2, 1).unwrap())],
        }
    );
    assert_eq!(
        parse("A283 SORT (SUBJECT REVERSE DATE) UTF-8 ALL\r\n"),
        CommandBody::Sort {
            uid: false,
            returns: None,
            criteria: vec![crit(false, SortKey::Subject), crit(true, SortKey::Date)],
            charset: "UTF-8".into(),
            search: vec![SearchKey::All],
        }
    );
    assert_eq!(
        parse("A284 SORT (SUBJECT) US-ASCII TEXT \"not in mailbox\"\r\n"),
        CommandBody::Sort {
            uid: false,
            returns: None,
            criteria: vec![crit(false, SortKey::Subject)],
            charset: "US-ASCII".into(),
            search: vec![SearchKey::Text("not in mailbox".into())],
        }
    );
    assert_eq!(
        wire(Data::Sort {
            ids: vec![2, 84, 882],
            mod_seq: None
        }),
        "* SORT 2 84 882\r\n"
    );
    assert_eq!(
        wire(Data::Sort {
            ids: vec![],
            mod_seq: None
        }),
        "* SORT\r\n"
    );
    // RFC 5957: the display keys, and every key once.
    match parse("a UID SORT (REVERSE DISPLAYFROM displayto ARRIVAL CC FROM SIZE TO) utf-8 1:*\r\n")
    {
        CommandBody::Sort { uid, criteria, .. } => {
            assert!(uid);
            assert_eq!(criteria.len(), 7);
            assert_eq!(criteria[0], crit(true, SortKey::DisplayFrom));
            assert_eq!(criteria[1], crit(false, SortKey::DisplayTo));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rfc_5256_thread_examples() {
    assert_eq!(
        parse("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000\r\n"),
        CommandBody::Thread {
            uid: false,
            algorithm: ThreadAlgorithm::OrderedSubject,
            charset: "UTF-8".into(),
            search: vec![SearchKey::Since(Date::new(2000, 3, 5).unwrap())],
        }
    );
    assert_eq!(
        parse("A285 UID THREAD REFERENCES UTF-8 SINCE 5-MAR-2000\r\n"),
        CommandBody::Thread {
            uid: true,
            algorithm: ThreadAlgorithm::References,
            charset: "UTF-8".into(),
            search: vec![SearchKey::Since(Date::new(2000, 3, 5).unwrap())],
        }
    );
    assert_eq!(
        parse("a THREAD X-FOO UTF-8 ALL\r\n"),
        CommandBody::Thread {
            uid: false,
            algorithm: ThreadAlgorithm::Other("X-FOO".into()),
            charset: "UTF-8".into(),
            search: vec![SearchKey::All],
        }
    );
    let m = ThreadNode::message;
    // `(2)(3 6 (4 23)(44 7 96))` from the thread-data grammar.
    assert_eq!(
        wire(Data::Thread(vec![
            m(2, vec![]),
            m(
                3,
                vec![m(
                    6,
                    vec![
                        m(4, vec![m(23, vec![])]),
                        m(44, vec![m(7, vec![m(96, vec![])])])
                    ]
                )]
            )
        ])),
        "* THREAD (2)(3 6 (4 23)(44 7 96))\r\n"
    );
    // A placeholder root: `((3)(5))`; the empty result: `* THREAD`.
    assert_eq!(
        wire(Data::Thread(vec![ThreadNode {
            id: None,
            children: vec![m(3, vec![]), m(5, vec![])]
        }])),
        "* THREAD ((3)(5))\r\n"
    );
    assert_eq!(wire(Data::Thread(vec![])), "* THREAD\r\n");
    // From the ORDEREDSUBJECT example.
    assert_eq!(
        wire(Data::Thread(vec![
            m(174, vec![m(175, vec![]), m(176, vec![])]),
            m(194, vec![m(195, vec![])])
        ])),
        "* THREAD (174 (175)(176))(194 195)\r\n"
    );
}

#[test]
fn rfc_5267_examples() {
    // 3.3: extended SORT with an empty RETURN list.
    assert_eq!(
        parse("E01 UID SORT RETURN () (REVERSE DATE) UTF-8 UNDELETED UNKEYWORD $Junk\r\n"),
        CommandBody::Sort {
            uid: true,
            returns: Some(vec![]),
            criteria: vec![crit(true, SortKey::Date)],
            charset: "UTF-8".into(),
            search: vec![SearchKey::Undeleted, SearchKey::Unkeyword("$Junk".into())],
        }
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Tag::new("E01"),
            uid: true,
            all: Some(SequenceSet::from_ordered([23765, 23764, 23763, 23761])),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"E01\") UID ALL 23765,23764,23763,23761\r\n"
    );
    // 4.2, 4.3, 4.4.
    match parse("A01 SEARCH RETURN (CONTEXT COUNT) UNDELETED UNKEYWORD $Junk\r\n") {
        CommandBody::Search { returns, .. } => assert_eq!(
            returns,
            Some(vec![SearchReturn::Context, SearchReturn::Count])
        ),
        other => panic!("{other:?}"),
    }
    match parse("B01 UID SEARCH RETURN (UPDATE) DELETED\r\n") {
        CommandBody::Search { uid, returns, .. } => {
            assert!(uid);
            assert_eq!(returns, Some(vec![SearchReturn::Update]));
        }
        other => panic!("{other:?}"),
    }
    match parse("A02 UID SEARCH RETURN (PARTIAL 24000:23500) UNDELETED\r\n") {
        CommandBody::Search { returns, .. } => assert_eq!(
            returns,
            Some(vec![SearchReturn::Partial {
                low: 23500,
                high: 24000
            }])
        ),
        other => panic!("{other:?}"),
    }
    match parse("C01 UID SORT RETURN (UPDATE PARTIAL 1:20) (DATE) UTF-8 ALL\r\n") {
        CommandBody::Sort { returns, .. } => assert_eq!(
            returns,
            Some(vec![
                SearchReturn::Update,
                SearchReturn::Partial { low: 1, high: 20 }
            ])
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        parse("B04 CANCELUPDATE \"B01\" \"B02\"\r\n"),
        CommandBody::CancelUpdate {
            tags: vec!["B01".into(), "B02".into()]
        }
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Tag::new("B01"),
            uid: true,
            updates: vec![ContextUpdate::AddTo(0, SequenceSet::range(32768, 32769))],
            ..Default::default()
        })),
        "* ESEARCH (TAG \"B01\") UID ADDTO (0 32768:32769)\r\n"
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Tag::new("C01"),
            uid: true,
            updates: vec![
                ContextUpdate::AddTo(1, SequenceSet::single(2733)),
                ContextUpdate::AddTo(1, SequenceSet::range(2731, 2732)),
                ContextUpdate::RemoveFrom(0, SequenceSet::single(32768)),
            ],
            ..Default::default()
        })),
        "* ESEARCH (TAG \"C01\") UID ADDTO (1 2733) ADDTO (1 2731:2732) REMOVEFROM (0 32768)\r\n"
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Tag::new("A04"),
            uid: true,
            partial: Some((24000, 24500, None)),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"A04\") UID PARTIAL (24000:24500 NIL)\r\n"
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Tag::new("A02"),
            uid: true,
            partial: Some((1, 3, Some(SequenceSet::from_ordered([7, 8, 2])))),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"A02\") UID PARTIAL (1:3 7:8,2)\r\n"
    );
}

#[test]
fn bad_input_is_refused_with_the_tag() {
    for input in [
        &b"a SORT\r\n"[..],
        b"a SORT ()\r\n",
        b"a SORT (DATE)\r\n",
        b"a SORT (DATE) UTF-8\r\n",
        b"a SORT (DATE)UTF-8 ALL\r\n",
        b"a SORT (REVERSE) UTF-8 ALL\r\n",
        b"a SORT (REVERSE REVERSE DATE) UTF-8 ALL\r\n",
        b"a SORT (BOGUS) UTF-8 ALL\r\n",
        b"a SORT DATE UTF-8 ALL\r\n",
        b"a SORT (DATE) UTF-8 NOSUCHKEY\r\n",
        b"a SORT RETURN (MIN) UTF-8 ALL\r\n",
        b"a SORT RETURN (FOO) (DATE) UTF-8 ALL\r\n",
        b"a SORT RETURN (PARTIAL 1) (DATE) UTF-8 ALL\r\n",
        b"a SEARCH RETURN (PARTIAL 1:*) ALL\r\n",
        b"a SEARCH RETURN (PARTIAL *:1) ALL\r\n",
        b"a SEARCH RETURN (PARTIAL 0:1) ALL\r\n",
        b"a SEARCH RETURN (PARTIAL 1:99999999999) ALL\r\n",
        b"a SEARCH RETURN (PARTIAL 1:2 ALL) ALL\r\n",
        b"a SEARCH RETURN (PARTIAL 1:2 PARTIAL 3:4) ALL\r\n",
        b"a THREAD\r\n",
        b"a THREAD REFERENCES\r\n",
        b"a THREAD REFERENCES UTF-8\r\n",
        b"a THREAD (REFERENCES) UTF-8 ALL\r\n",
        b"a UID THREAD REFERENCES UTF-8 ALL)\r\n",
        b"a CANCELUPDATE\r\n",
        b"a CANCELUPDATE B01\r\n",
        b"a CANCELUPDATE \"B01\r\n",
        b"a CANCELUPDATE \"B01\"\"B02\"\r\n",
    ] {
        let e = refused(input);
        assert_eq!(e.tag, Tag::new("a"), "{:?}", String::from_utf8_lossy(input));
        assert_eq!(e.response().status, Status::Bad);
    }
}

#[test]
fn split_at_every_byte_and_truncated() {
    let inputs: [&[u8]; 5] = [
        b"a1 UID SORT RETURN (MIN MAX COUNT ALL) (REVERSE SUBJECT DISPLAYFROM) UTF-8 OR FROM {3}\r\nabc NOT SEEN\r\n",
        b"a2 SORT (DATE) \"UTF-8\" SUBJECT \"x y\"\r\n",
        b"a3 UID THREAD REFERENCES UTF-8 (UNDELETED SINCE 1-Jan-2000)\r\n",
        b"a4 CANCELUPDATE \"B01\" \"B\\\\2\"\r\n",
        b"a5 SEARCH RETURN (UPDATE CONTEXT PARTIAL 10:1) 1:*\r\n",
    ];
    for input in inputs {
        let whole = match parse_command(input, &Limits::default()) {
            Ok(Parsed::Done(c, n)) if n == input.len() => c,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(input)),
        };
        for cut in 0..input.len() {
            match parse_command(&input[..cut], &Limits::default()) {
                Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. }) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        // Encoding gives back the same command.
        let again = whole.to_bytes(&EncodeOptions::default());
        match parse_command(&again, &Limits::default()) {
            Ok(Parsed::Done(c, _)) => assert_eq!(c, whole),
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(&again)),
        }
    }
}

#[test]
fn oversized_input_is_bounded() {
    let l = Limits {
        max_line: 1024,
        ..Limits::default()
    };
    let mut long = b"a SORT (".to_vec();
    long.extend(std::iter::repeat_n(&b"DATE "[..], 1000).flatten());
    long.extend_from_slice(b"DATE) UTF-8 ALL\r\n");
    assert!(parse_command(&long, &l).is_err());
    // Deeply nested search criteria inside SORT stop at the nesting limit.
    let mut deep = b"a SORT (DATE) UTF-8 ".to_vec();
    deep.extend(std::iter::repeat_n(b'(', 10_000));
    deep.extend_from_slice(b"ALL");
    deep.extend(std::iter::repeat_n(b')', 10_000));
    deep.extend_from_slice(b"\r\n");
    let e = refused(&deep);
    assert_eq!(e.kind, ParseErrorKind::TooDeep);
    // Many tags in one CANCELUPDATE are fine.
    let mut many = b"a CANCELUPDATE".to_vec();
    for i in 0..5_000 {
        many.extend_from_slice(format!(" \"t{i}\"").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    match parse(std::str::from_utf8(&many).unwrap()) {
        CommandBody::CancelUpdate { tags } => assert_eq!(tags.len(), 5_000),
        other => panic!("{other:?}"),
    }
}

fn sort_key() -> impl Strategy<Value = SortKey> {
    prop_oneof![
        Just(SortKey::Arrival),
        Just(SortKey::Cc),
        Just(SortKey::Date),
        Just(SortKey::From),
        Just(SortKey::Size),
        Just(SortKey::Subject),
        Just(SortKey::To),
        Just(SortKey::DisplayFrom),
        Just(SortKey::DisplayTo),
    ]
}

fn returns() -> impl Strategy<Value = Option<Vec<SearchReturn>>> {
    proptest::option::of(proptest::collection::vec(
        prop_oneof![
            Just(SearchReturn::Min),
            Just(SearchReturn::Max),
            Just(SearchReturn::Count),
            Just(SearchReturn::Update),
            Just(SearchReturn::Context),
        ],
        0..4,
    ))
}

const SOUP: &[&str] = &[
    "SORT ",
    "UID ",
    "THREAD ",
    "CANCELUPDATE ",
    "RETURN ",
    "(",
    ")",
    "REVERSE ",
    "DATE",
    "DISPLAYFROM",
    "SUBJECT ",
    "UTF-8 ",
    "REFERENCES ",
    "ORDEREDSUBJECT ",
    "PARTIAL ",
    "1:5",
    ":",
    "*",
    "UPDATE",
    "\"",
    "\"t1\"",
    "{2}\r\n",
    "ALL",
    " ",
    "\r\n",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn sort_and_thread_round_trip(
        uid in any::<bool>(),
        ret in returns(),
        keys in proptest::collection::vec((any::<bool>(), sort_key()), 1..5),
        thread in any::<bool>(),
    ) {
        let body = if thread {
            CommandBody::Thread {
                uid,
                algorithm: if keys.len() % 2 == 0 { ThreadAlgorithm::References } else { ThreadAlgorithm::OrderedSubject },
                charset: "UTF-8".into(),
                search: vec![SearchKey::Undeleted, SearchKey::Subject("a b".into())],
            }
        } else {
            CommandBody::Sort {
                uid,
                returns: ret,
                criteria: keys.iter().map(|&(reverse, key)| SortCriterion { reverse, key }).collect(),
                charset: "US-ASCII".into(),
                search: vec![SearchKey::All],
            }
        };
        let cmd = Command { tag: Tag::new("t").unwrap(), body };
        let bytes = cmd.to_bytes(&EncodeOptions::default());
        match parse_command(&bytes, &Limits::default()) {
            Ok(Parsed::Done(back, n)) => {
                prop_assert_eq!(back, cmd);
                prop_assert_eq!(n, bytes.len());
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn soup_never_panics(words in proptest::collection::vec(0..SOUP.len(), 0..30)) {
        let mut buf = b"a ".to_vec();
        for w in words {
            buf.extend_from_slice(SOUP[w].as_bytes());
        }
        buf.extend_from_slice(b"\r\n");
        let _ = parse_command(&buf, &Limits::default());
        for cut in 0..buf.len() {
            let _ = parse_command(&buf[..cut], &Limits::default());
        }
    }
}
