//! Encode-then-parse round trips of generated commands: whatever the client-side encoder
//! writes, the parser reads back as the same command, whole and split at any byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imap_proto::*;
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 ./&%*\"\\\\-]{0,12}",
        "\\PC{0,8}",
        Just("INBOX".to_string()),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,20}", "\\PC{0,10}", "[a-z\r\n]{0,6}"]
}

fn seq_set() -> impl Strategy<Value = SequenceSet> {
    prop_oneof![
        Just(SequenceSet::Saved),
        proptest::collection::vec((1u32..1000, 1u32..1000, any::<bool>()), 1..6).prop_map(|v| {
            SequenceSet::Ranges(
                v.into_iter()
                    .map(|(a, b, star)| SeqRange {
                        start: SeqBound::Value(a),
                        end: if star {
                            SeqBound::Largest
                        } else {
                            SeqBound::Value(b)
                        },
                    })
                    .collect(),
            )
        }),
    ]
}

fn flag() -> impl Strategy<Value = Flag> {
    prop_oneof![
        Just(Flag::Seen),
        Just(Flag::Answered),
        Just(Flag::Flagged),
        Just(Flag::Deleted),
        Just(Flag::Draft),
        "[$a-zA-Z][a-zA-Z0-9_$]{0,8}".prop_map(Flag::Keyword),
    ]
}

fn search_key() -> impl Strategy<Value = SearchKey> {
    let leaf = prop_oneof![
        Just(SearchKey::All),
        Just(SearchKey::Seen),
        Just(SearchKey::Unflagged),
        text().prop_map(SearchKey::Subject),
        text().prop_map(SearchKey::Body),
        (text(), text()).prop_map(|(a, b)| SearchKey::Header(a, b)),
        (1u16..9999, 1u8..13, 1u8..29)
            .prop_map(|(y, m, d)| SearchKey::Since(Date::new(y, m, d).unwrap())),
        any::<u32>().prop_map(|n| SearchKey::Larger(n as u64)),
        seq_set().prop_map(SearchKey::Uid),
        seq_set().prop_map(SearchKey::Sequence),
        "[a-zA-Z$]{1,8}".prop_map(SearchKey::Keyword),
    ];
    leaf.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|k| SearchKey::Not(Box::new(k))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| SearchKey::Or(Box::new(a), Box::new(b))),
            proptest::collection::vec(inner, 1..4).prop_map(SearchKey::And),
        ]
    })
}

fn body() -> impl Strategy<Value = CommandBody> {
    prop_oneof![
        (text(), text()).prop_map(|(u, p)| CommandBody::Login {
            username: u,
            password: Password::new(p)
        }),
        name().prop_map(|n| CommandBody::Select {
            mailbox: MailboxName::new(n),
            params: vec![]
        }),
        (name(), name()).prop_map(|(a, b)| CommandBody::Rename {
            from: MailboxName::new(a),
            to: MailboxName::new(b)
        }),
        (any::<bool>(), seq_set(), name()).prop_map(|(uid, set, n)| CommandBody::Copy {
            uid,
            set,
            mailbox: MailboxName::new(n)
        }),
        (
            any::<bool>(),
            seq_set(),
            proptest::collection::vec(flag(), 0..4),
            any::<bool>()
        )
            .prop_map(|(uid, set, flags, silent)| CommandBody::Store {
                uid,
                set,
                mode: StoreMode::Add,
                silent,
                flags,
                modifiers: vec![]
            }),
        (any::<bool>(), proptest::collection::vec(search_key(), 1..4)).prop_map(
            |(uid, criteria)| CommandBody::Search {
                uid,
                charset: Some("UTF-8".into()),
                criteria,
                returns: None
            }
        ),
        (
            name(),
            proptest::collection::vec(any::<u8>(), 0..40),
            proptest::collection::vec(flag(), 0..3)
        )
            .prop_map(|(n, data, flags)| CommandBody::Append {
                mailbox: MailboxName::new(n),
                messages: vec![AppendMessage {
                    flags,
                    date: None,
                    content: AppendContent::Literal {
                        binary: data.contains(&0),
                        data
                    }
                }]
            }),
        (name(), name()).prop_map(|(r, p)| CommandBody::List(ListCommand {
            reference: r,
            patterns: vec![p],
            select: vec![],
            returns: vec![]
        })),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn encoded_commands_parse_back(body in body(), utf8 in any::<bool>()) {
        let cmd = Command { tag: Tag::new("t1").unwrap(), body };
        let opts = EncodeOptions { utf8 };
        let limits = Limits { utf8, ..Limits::default() };
        let wire = cmd.to_bytes(&opts);
        match parse_command(&wire, &limits) {
            Ok(Parsed::Done(back, n)) => {
                prop_assert_eq!(&back, &cmd, "{}", String::from_utf8_lossy(&wire));
                prop_assert_eq!(n, wire.len());
            }
            other => prop_assert!(false, "{:?}: {:?}", String::from_utf8_lossy(&wire), other),
        }
        for cut in 0..wire.len() {
            let r = parse_command(&wire[..cut], &limits);
            prop_assert!(
                matches!(r, Ok(Parsed::Incomplete) | Ok(Parsed::NeedLiteral { .. })),
                "cut {}: {:?}", cut, r
            );
        }
    }
}
