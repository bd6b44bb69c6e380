//! Known-answer tests for the response encoder (examples from RFC 3501, RFC 9051 and the
//! extensions).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use imap_proto::*;

fn wire(r: impl Into<Response>) -> String {
    String::from_utf8(r.into().to_bytes(&EncodeOptions::default())).unwrap()
}

fn wire_utf8(r: impl Into<Response>) -> String {
    String::from_utf8(r.into().to_bytes(&EncodeOptions { utf8: true })).unwrap()
}

fn tag(s: &str) -> Tag {
    Tag::new(s).unwrap()
}

#[test]
fn status_responses() {
    assert_eq!(
        wire(StatusResponse::untagged(
            Status::Ok,
            Some(Code::Unseen(SeqNum(17))),
            "Message 17 is the first unseen message"
        )),
        "* OK [UNSEEN 17] Message 17 is the first unseen message\r\n"
    );
    assert_eq!(
        wire(StatusResponse::untagged(
            Status::Ok,
            Some(Code::PermanentFlags(vec![
                Flag::Deleted,
                Flag::Seen,
                Flag::Wildcard
            ])),
            "Limited"
        )),
        "* OK [PERMANENTFLAGS (\\Deleted \\Seen \\*)] Limited\r\n"
    );
    assert_eq!(
        wire(StatusResponse::tagged(
            tag("A142"),
            Status::Ok,
            Some(Code::ReadWrite),
            "SELECT completed"
        )),
        "A142 OK [READ-WRITE] SELECT completed\r\n"
    );
    assert_eq!(
        wire(StatusResponse::tagged(
            tag("A003"),
            Status::Ok,
            Some(Code::AppendUid {
                uid_validity: UidValidity(38505),
                uids: SequenceSet::single(3955)
            }),
            "APPEND completed"
        )),
        "A003 OK [APPENDUID 38505 3955] APPEND completed\r\n"
    );
    assert_eq!(
        wire(StatusResponse::tagged(
            tag("A004"),
            Status::Ok,
            Some(Code::CopyUid {
                uid_validity: UidValidity(38505),
                source: SequenceSet::Ranges(vec![SeqRange::new(304, 304), SeqRange::new(319, 320)]),
                dest: SequenceSet::range(3956, 3958)
            }),
            "Done"
        )),
        "A004 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
    );
    assert_eq!(
        wire(StatusResponse::tagged(
            tag("a"),
            Status::No,
            Some(Code::BadCharset(vec!["UTF-8".into(), "US-ASCII".into()])),
            "x"
        )),
        "a NO [BADCHARSET (UTF-8 US-ASCII)] x\r\n"
    );
    assert_eq!(
        wire(StatusResponse::untagged(
            Status::Ok,
            Some(Code::Capability(vec!["IMAP4rev1".into(), "IDLE".into()])),
            "ready"
        )),
        "* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n"
    );
    assert_eq!(
        wire(StatusResponse::untagged(Status::Bye, None, "bye\r\nnow")),
        "* BYE bye  now\r\n"
    );
    assert_eq!(
        wire(StatusResponse::untagged(Status::PreAuth, None, "")),
        "* PREAUTH completed\r\n"
    );
    let simple = [
        (Code::Alert, "ALERT"),
        (Code::Parse, "PARSE"),
        (Code::ReadOnly, "READ-ONLY"),
        (Code::TryCreate, "TRYCREATE"),
        (Code::UidNext(Uid(4392)), "UIDNEXT 4392"),
        (
            Code::UidValidity(UidValidity(3857529045)),
            "UIDVALIDITY 3857529045",
        ),
        (Code::UidNotSticky, "UIDNOTSTICKY"),
        (Code::OverQuota, "OVERQUOTA"),
        (Code::Limit, "LIMIT"),
        (Code::Nonexistent, "NONEXISTENT"),
        (Code::AlreadyExists, "ALREADYEXISTS"),
        (Code::Cannot, "CANNOT"),
        (Code::InUse, "INUSE"),
        (Code::ServerBug, "SERVERBUG"),
        (Code::ClientBug, "CLIENTBUG"),
        (Code::NoPerm, "NOPERM"),
        (Code::TooBig, "TOOBIG"),
        (
            Code::HighestModSeq(ModSeq(715194045007)),
            "HIGHESTMODSEQ 715194045007",
        ),
        (Code::NoModSeq, "NOMODSEQ"),
        (Code::Modified(SequenceSet::single(7)), "MODIFIED 7"),
        (Code::Closed, "CLOSED"),
        (Code::Other("X-FOO".into(), Some("bar".into())), "X-FOO bar"),
    ];
    for (code, text) in simple {
        assert_eq!(
            wire(StatusResponse::tagged(
                tag("t"),
                Status::Ok,
                Some(code),
                "x"
            )),
            format!("t OK [{text}] x\r\n")
        );
    }
}

#[test]
fn continuations() {
    assert_eq!(
        wire(Continuation::Text {
            code: None,
            text: "Ready for additional command text".into()
        }),
        "+ Ready for additional command text\r\n"
    );
    assert_eq!(wire(Continuation::Base64(Vec::new())), "+ \r\n");
    assert_eq!(
        wire(Continuation::Base64(b"\0fred\0test".to_vec())),
        "+ AGZyZWQAdGVzdA==\r\n"
    );
}

#[test]
fn mailbox_data() {
    assert_eq!(
        wire(Data::Capability(vec![
            "IMAP4rev1".into(),
            "STARTTLS".into(),
            "AUTH=GSSAPI".into()
        ])),
        "* CAPABILITY IMAP4rev1 STARTTLS AUTH=GSSAPI\r\n"
    );
    assert_eq!(
        wire(Data::Flags(vec![
            Flag::Answered,
            Flag::Flagged,
            Flag::Deleted,
            Flag::Seen,
            Flag::Draft
        ])),
        "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
    );
    assert_eq!(wire(Data::Exists(172)), "* 172 EXISTS\r\n");
    assert_eq!(wire(Data::Recent(1)), "* 1 RECENT\r\n");
    assert_eq!(wire(Data::Expunge(SeqNum(3))), "* 3 EXPUNGE\r\n");
    assert_eq!(
        wire(Data::List(ListData::new(
            vec![MailboxAttr::NoSelect],
            Some('/'),
            MailboxName::new("")
        ))),
        "* LIST (\\Noselect) \"/\" \"\"\r\n"
    );
    assert_eq!(
        wire(Data::Lsub(ListData::new(
            vec![],
            Some('.'),
            MailboxName::new("#news.comp.mail.misc")
        ))),
        "* LSUB () \".\" #news.comp.mail.misc\r\n"
    );
    let mut l = ListData::new(vec![], Some('/'), MailboxName::new("Foo"));
    l.child_info = vec!["SUBSCRIBED".into()];
    assert_eq!(
        wire(Data::List(l)),
        "* LIST () \"/\" Foo (\"CHILDINFO\" (\"SUBSCRIBED\"))\r\n"
    );
    let mut l = ListData::new(
        vec![MailboxAttr::HasNoChildren],
        None,
        MailboxName::new("New Name"),
    );
    l.old_name = Some(MailboxName::new("Old"));
    assert_eq!(
        wire(Data::List(l)),
        "* LIST (\\HasNoChildren) NIL \"New Name\" (\"OLDNAME\" (Old))\r\n"
    );
    let name = MailboxName::new("~peter/mail/\u{65e5}\u{672c}\u{8a9e}/\u{53f0}\u{5317}");
    let l = ListData::new(vec![MailboxAttr::Sent], Some('/'), name.clone());
    assert_eq!(
        wire(Data::List(l.clone())),
        "* LIST (\\Sent) \"/\" ~peter/mail/&ZeVnLIqe-/&U,BTFw-\r\n"
    );
    assert_eq!(
        wire_utf8(Data::List(l)),
        format!("* LIST (\\Sent) \"/\" \"{name}\"\r\n")
    );
    assert_eq!(
        wire(Data::Status {
            mailbox: MailboxName::new("blurdybloop"),
            items: vec![StatusValue::Messages(231), StatusValue::UidNext(Uid(44292))]
        }),
        "* STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292)\r\n"
    );
    assert_eq!(
        wire(Data::Search {
            ids: vec![2, 84, 882],
            mod_seq: None
        }),
        "* SEARCH 2 84 882\r\n"
    );
    assert_eq!(
        wire(Data::Search {
            ids: vec![],
            mod_seq: None
        }),
        "* SEARCH\r\n"
    );
    assert_eq!(
        wire(Data::Search {
            ids: vec![2, 5],
            mod_seq: Some(ModSeq(917162500))
        }),
        "* SEARCH 2 5 (MODSEQ 917162500)\r\n"
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Some(tag("A282")),
            min: Some(2),
            count: Some(3),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"A282\") MIN 2 COUNT 3\r\n"
    );
    assert_eq!(
        wire(Data::ESearch(ESearch {
            tag: Some(tag("A283")),
            uid: true,
            all: Some(SequenceSet::Ranges(vec![
                SeqRange::new(2, 10),
                SeqRange::new(15, 21)
            ])),
            ..Default::default()
        })),
        "* ESEARCH (TAG \"A283\") UID ALL 2:10,15:21\r\n"
    );
    assert_eq!(
        wire(Data::Enabled(vec!["CONDSTORE".into()])),
        "* ENABLED CONDSTORE\r\n"
    );
    assert_eq!(
        wire(Data::Namespace {
            personal: Some(vec![Namespace {
                prefix: "".into(),
                delimiter: Some('/')
            }]),
            other: None,
            shared: None
        }),
        "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"
    );
    assert_eq!(
        wire(Data::Id(Some(vec![
            ("name".into(), Some("Cyrus".into())),
            ("os".into(), None)
        ]))),
        "* ID (\"name\" \"Cyrus\" \"os\" NIL)\r\n"
    );
    assert_eq!(wire(Data::Id(None)), "* ID NIL\r\n");
    assert_eq!(
        wire(Data::Quota {
            root: "".into(),
            resources: vec![QuotaResource {
                name: "STORAGE".into(),
                usage: 10,
                limit: 512
            }]
        }),
        "* QUOTA \"\" (STORAGE 10 512)\r\n"
    );
    assert_eq!(
        wire(Data::QuotaRoot {
            mailbox: MailboxName::new("INBOX"),
            roots: vec!["".into()]
        }),
        "* QUOTAROOT INBOX \"\"\r\n"
    );
    assert_eq!(
        wire(Data::Vanished {
            earlier: true,
            uids: SequenceSet::range(41, 43)
        }),
        "* VANISHED (EARLIER) 41:43\r\n"
    );
    assert_eq!(wire(Data::Raw(b"X-THING 1".to_vec())), "* X-THING 1\r\n");
}

#[test]
fn fetch_data() {
    let date = DateTime::parse("17-Jul-1996 02:44:25 -0700").unwrap();
    assert_eq!(
        wire(Data::Fetch {
            seq: SeqNum(12),
            items: vec![
                FetchValue::Flags(vec![Flag::Seen]),
                FetchValue::InternalDate(date),
                FetchValue::Rfc822Size(4286),
                FetchValue::Raw {
                    name: "ENVELOPE".into(),
                    value: b"(NIL \"IMAP4rev1 WG mtg summary\" NIL NIL NIL NIL NIL NIL NIL NIL)"
                        .to_vec()
                },
                FetchValue::Uid(Uid(4827313)),
                FetchValue::ModSeq(ModSeq(624140003)),
            ]
        }),
        "* 12 FETCH (FLAGS (\\Seen) INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 ENVELOPE (NIL \"IMAP4rev1 WG mtg summary\" NIL NIL NIL NIL NIL NIL NIL NIL) UID 4827313 MODSEQ (624140003))\r\n"
    );
    assert_eq!(
        wire(Data::Fetch {
            seq: SeqNum(2),
            items: vec![FetchValue::BodySection {
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields(vec![
                        "DATE".into(),
                        "FROM".into()
                    ]))
                },
                origin: None,
                data: Some(b"Date: x\r\n\r\n".to_vec())
            }]
        }),
        "* 2 FETCH (BODY[HEADER.FIELDS (DATE FROM)] {11}\r\nDate: x\r\n\r\n)\r\n"
    );
    assert_eq!(
        wire(Data::Fetch {
            seq: SeqNum(1),
            items: vec![
                FetchValue::BodySection {
                    section: Section {
                        part: vec![1, 2],
                        text: Some(SectionText::Mime)
                    },
                    origin: Some(0),
                    data: None
                },
                FetchValue::BodySection {
                    section: Section::default(),
                    origin: None,
                    data: Some(Vec::new())
                },
                FetchValue::Binary {
                    part: vec![1],
                    origin: None,
                    data: Some(b"a\0".to_vec())
                },
                FetchValue::BinarySize {
                    part: vec![1],
                    size: 2
                },
                FetchValue::Rfc822Header(Some(b"h".to_vec())),
                FetchValue::Rfc822Text(None),
                FetchValue::Rfc822(Some(b"x".to_vec())),
            ]
        }),
        "* 1 FETCH (BODY[1.2.MIME]<0> NIL BODY[] {0}\r\n BINARY[1] ~{2}\r\na\0 BINARY.SIZE[1] 2 RFC822.HEADER {1}\r\nh RFC822.TEXT NIL RFC822 {1}\r\nx)\r\n"
    );
}

#[test]
fn string_primitives() {
    use imap_proto::response::encode::*;
    let o = EncodeOptions::default();
    let enc = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    };
    assert_eq!(enc(&|v| write_astring(v, b"INBOX", &o)), "INBOX");
    assert_eq!(enc(&|v| write_astring(v, b"nil", &o)), "\"nil\"");
    assert_eq!(enc(&|v| write_astring(v, b"", &o)), "\"\"");
    assert_eq!(enc(&|v| write_astring(v, b"a b", &o)), "\"a b\"");
    assert_eq!(enc(&|v| write_string(v, b"a\"b\\", &o)), "\"a\\\"b\\\\\"");
    assert_eq!(enc(&|v| write_string(v, b"a\r\nb", &o)), "{4}\r\na\r\nb");
    assert_eq!(
        enc(&|v| write_string(v, "\u{e9}".as_bytes(), &o)),
        "{2}\r\n\u{e9}"
    );
    assert_eq!(
        enc(&|v| write_string(v, "\u{e9}".as_bytes(), &EncodeOptions { utf8: true })),
        "\"\u{e9}\""
    );
    assert_eq!(enc(&|v| write_nstring(v, None, &o)), "NIL");
    assert_eq!(
        enc(&|v| write_mailbox(v, &MailboxName::new("a&b"), &o)),
        "a&-b"
    );
}
