//! Known-answer tests for the command parser (examples from RFC 3501, RFC 9051 and the
//! extensions), each also fed split at every byte boundary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]

use imap_proto::command::append::AppendContent;
use imap_proto::*;

fn limits() -> Limits {
    Limits::default()
}

/// Parses `input` whole, and checks that every shorter prefix asks for more input
/// (`NeedLiteral` exactly when the prefix ends after a literal header) or fails the
/// same way the whole input does.
fn parse_split(input: &[u8], limits: &Limits) -> Result<Command, ParseError> {
    let whole = parse_command(input, limits);
    for i in 0..input.len() {
        let prefix = &input[..i];
        match parse_command(prefix, limits) {
            Ok(Parsed::Incomplete) => {}
            Ok(Parsed::NeedLiteral { size, sync }) => {
                let s = if sync {
                    format!("{{{size}}}\r\n")
                } else {
                    format!("{{{size}+}}\r\n")
                };
                assert!(prefix.ends_with(s.as_bytes()), "NeedLiteral at {i}");
            }
            Ok(Parsed::Done(..)) => panic!("prefix of {i} bytes parsed as complete"),
            Err(e) => match &whole {
                Err(w) => assert_eq!(e.kind, w.kind, "prefix {i}"),
                Ok(_) => panic!("prefix of {i} bytes failed: {e:?}"),
            },
        }
    }
    match whole? {
        Parsed::Done(cmd, n) => {
            assert_eq!(n, input.len());
            Ok(cmd)
        }
        other => panic!("whole input not complete: {other:?}"),
    }
}

fn body(input: &str) -> CommandBody {
    let cmd = match parse_split(input.as_bytes(), &limits()) {
        Ok(c) => c,
        Err(e) => panic!("{input:?}: {e:?}"),
    };
    // Every known answer must survive encoding and parsing again.
    let encoded = cmd.to_bytes(&EncodeOptions::default());
    match parse_command(&encoded, &limits()) {
        Ok(Parsed::Done(again, n)) => {
            assert_eq!(
                again,
                cmd,
                "round trip of {}",
                String::from_utf8_lossy(&encoded)
            );
            assert_eq!(n, encoded.len());
        }
        other => panic!(
            "re-parse of {:?}: {other:?}",
            String::from_utf8_lossy(&encoded)
        ),
    }
    cmd.body
}

fn mbox(s: &str) -> MailboxName {
    MailboxName::new(s)
}

fn err(input: &[u8]) -> ParseError {
    match parse_split(input, &limits()) {
        Err(e) => e,
        Ok(c) => panic!("{:?} parsed as {c:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn any_state_commands() {
    assert_eq!(body("a001 CAPABILITY\r\n"), CommandBody::Capability);
    assert_eq!(body("a002 noop\r\n"), CommandBody::Noop);
    assert_eq!(body("A023 LOGOUT\r\n"), CommandBody::Logout);
    assert_eq!(body("a1 STARTTLS\r\n"), CommandBody::StartTls);
    assert_eq!(body("a1 IDLE\r\n"), CommandBody::Idle);
    assert_eq!(body("A001 NAMESPACE\r\n"), CommandBody::Namespace);
    assert_eq!(body("FXXZ CHECK\r\n"), CommandBody::Check);
    assert_eq!(body("A341 CLOSE\r\n"), CommandBody::Close);
    assert_eq!(body("A342 UNSELECT\r\n"), CommandBody::Unselect);
    assert_eq!(body("A202 EXPUNGE\r\n"), CommandBody::Expunge);
}

#[test]
fn login_and_authenticate() {
    match body("a001 LOGIN SMITH SESAME\r\n") {
        CommandBody::Login { username, password } => {
            assert_eq!(username, "SMITH");
            assert_eq!(password.expose(), "SESAME");
            assert_eq!(format!("{password:?}"), "Password(***)");
        }
        other => panic!("{other:?}"),
    }
    match body("a001 LOGIN {5}\r\nfred  \"a \\\"b\\\\\"\r\n") {
        CommandBody::Login { username, password } => {
            assert_eq!(username, "fred ");
            assert_eq!(password.expose(), "a \"b\\");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        body("A001 AUTHENTICATE GSSAPI\r\n"),
        CommandBody::Authenticate {
            mechanism: "GSSAPI".into(),
            initial_response: None
        }
    );
    // RFC 4959 3
    assert_eq!(
        body("a01 AUTHENTICATE plain AGZyZWQAdGVzdA==\r\n"),
        CommandBody::Authenticate {
            mechanism: "PLAIN".into(),
            initial_response: Some(b"\0fred\0test".to_vec())
        }
    );
    assert_eq!(
        body("a01 AUTHENTICATE EXTERNAL =\r\n"),
        CommandBody::Authenticate {
            mechanism: "EXTERNAL".into(),
            initial_response: Some(Vec::new())
        }
    );
    assert_eq!(
        err(b"a01 AUTHENTICATE PLAIN AGZy!\r\n").kind,
        ParseErrorKind::Syntax
    );
}

#[test]
fn sasl_and_idle_lines() {
    let l = limits();
    assert_eq!(
        parse_sasl_response(b"AGZyZWQAdGVzdA==\r\nnext", &l),
        Ok(Parsed::Done(
            SaslResponse::Data(b"\0fred\0test".to_vec()),
            18
        ))
    );
    assert_eq!(
        parse_sasl_response(b"*\r\n", &l),
        Ok(Parsed::Done(SaslResponse::Cancel, 3))
    );
    assert_eq!(
        parse_sasl_response(b"\r\n", &l),
        Ok(Parsed::Done(SaslResponse::Data(Vec::new()), 2))
    );
    assert_eq!(parse_sasl_response(b"AGZy", &l), Ok(Parsed::Incomplete));
    assert!(parse_sasl_response(b"A?Zy\r\n", &l).is_err());
    assert!(parse_sasl_response(b"AGZy\n", &l).is_err());
    assert_eq!(parse_idle_done(b"DONE\r\n", &l), Ok(Parsed::Done((), 6)));
    assert_eq!(parse_idle_done(b"done\r\n", &l), Ok(Parsed::Done((), 6)));
    assert_eq!(parse_idle_done(b"DON", &l), Ok(Parsed::Incomplete));
    let e = parse_idle_done(b"a1 NOOP\r\n", &l).unwrap_err();
    assert_eq!(e.skip.bytes, 9);
    let long = vec![b'A'; l.max_line + 1];
    assert_eq!(
        parse_idle_done(&long, &l).unwrap_err().kind,
        ParseErrorKind::LineTooLong
    );
}

#[test]
fn mailbox_commands() {
    assert_eq!(
        body("A142 SELECT INBOX\r\n"),
        CommandBody::Select {
            mailbox: mbox("INBOX"),
            params: vec![]
        }
    );
    assert_eq!(
        body("A142 SELECT inbox\r\n"),
        CommandBody::Select {
            mailbox: mbox("INBOX"),
            params: vec![]
        }
    );
    assert_eq!(
        body("A932 EXAMINE blurdybloop (CONDSTORE)\r\n"),
        CommandBody::Examine {
            mailbox: mbox("blurdybloop"),
            params: vec![SelectParam::CondStore]
        }
    );
    // RFC 7162 3.2.5
    match body("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n") {
        CommandBody::Select { params, .. } => assert_eq!(
            params,
            vec![SelectParam::QResync {
                uid_validity: UidValidity(67890007),
                mod_seq: ModSeq(20050715194045000),
                known_uids: Some(SequenceSet::Ranges(vec![
                    SeqRange::single(41),
                    SeqRange::new(43, 211),
                    SeqRange::new(214, 541)
                ])),
                seq_match: None,
            }]
        ),
        other => panic!("{other:?}"),
    }
    body(
        "B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979:29997)))\r\n",
    );
    assert_eq!(
        body("A003 CREATE owatagusiam/\r\n"),
        CommandBody::Create {
            mailbox: mbox("owatagusiam/"),
            special_use: vec![]
        }
    );
    // RFC 6154 5.2
    assert_eq!(
        body("t1 CREATE \"Important Messages\" (USE (\\Important))\r\n"),
        CommandBody::Create {
            mailbox: mbox("Important Messages"),
            special_use: vec![MailboxAttr::Important]
        }
    );
    assert_eq!(
        body("A683 DELETE blurdybloop\r\n"),
        CommandBody::Delete {
            mailbox: mbox("blurdybloop")
        }
    );
    assert_eq!(
        body("A683 RENAME blurdybloop sarasoop\r\n"),
        CommandBody::Rename {
            from: mbox("blurdybloop"),
            to: mbox("sarasoop")
        }
    );
    assert_eq!(
        body("A002 SUBSCRIBE #news.comp.mail.mime\r\n"),
        CommandBody::Subscribe {
            mailbox: mbox("#news.comp.mail.mime")
        }
    );
    assert_eq!(
        body("A002 UNSUBSCRIBE \"#news.comp.mail.mime\"\r\n"),
        CommandBody::Unsubscribe {
            mailbox: mbox("#news.comp.mail.mime")
        }
    );
    // RFC 3501 5.1.3: modified UTF-7 is decoded.
    assert_eq!(
        body("a1 CREATE ~peter/mail/&ZeVnLIqe-/&U,BTFw-\r\n"),
        CommandBody::Create {
            mailbox: mbox("~peter/mail/\u{65e5}\u{672c}\u{8a9e}/\u{53f0}\u{5317}"),
            special_use: vec![]
        }
    );
    assert_eq!(
        body("a1 STATUS blurdybloop (UIDNEXT MESSAGES SIZE HIGHESTMODSEQ DELETED)\r\n"),
        CommandBody::Status {
            mailbox: mbox("blurdybloop"),
            items: vec![
                StatusItem::UidNext,
                StatusItem::Messages,
                StatusItem::Size,
                StatusItem::HighestModSeq,
                StatusItem::Deleted
            ]
        }
    );
}

#[test]
fn utf8_mailbox_names() {
    let name = "Entw\u{fc}rfe";
    let input = format!("a1 SELECT \"{name}\"\r\n");
    let mut l = limits();
    l.utf8 = true;
    match parse_split(input.as_bytes(), &l) {
        Ok(Command {
            body: CommandBody::Select { mailbox, .. },
            ..
        }) => assert_eq!(mailbox.as_str(), name),
        other => panic!("{other:?}"),
    }
    // With UTF-8 on, `&` is just a character.
    match parse_split(b"a1 SELECT a&b\r\n", &l) {
        Ok(Command {
            body: CommandBody::Select { mailbox, .. },
            ..
        }) => assert_eq!(mailbox.as_str(), "a&b"),
        other => panic!("{other:?}"),
    }
    let e = err(b"a1 SELECT \"\xff\xfe\"\r\n");
    assert_eq!(e.kind, ParseErrorKind::BadMailboxName);
    assert_eq!(e.tag, Tag::new("a1"));
    assert_eq!(e.response().status, Status::Bad);
    // Well-formed but not modified UTF-7: a name the server cannot use.
    let e = err(b"a1 SELECT a&b\r\n");
    assert_eq!(e.kind, ParseErrorKind::BadMailboxName);
    assert_eq!(e.response().status, Status::No);
    assert_eq!(e.code, Some(Code::Cannot));
    // ...but as a LIST pattern it just matches nothing.
    assert!(matches!(
        parse_split(b"a1 LIST \"\" a&b%\r\n", &limits()),
        Ok(Command {
            body: CommandBody::List(_),
            ..
        })
    ));
}

#[test]
fn list_and_lsub() {
    let list = |input: &str| match body(input) {
        CommandBody::List(l) => l,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        list("A101 LIST \"\" \"\"\r\n"),
        ListCommand {
            reference: "".into(),
            patterns: vec!["".into()],
            select: vec![],
            returns: vec![]
        }
    );
    assert_eq!(
        list("A202 LIST ~/Mail/ %\r\n").patterns,
        vec!["%".to_string()]
    );
    assert_eq!(list("A682 LIST \"\" *\r\n").patterns, vec!["*".to_string()]);
    // RFC 5258 5
    let l = list("A04 LIST (REMOTE SUBSCRIBED RECURSIVEMATCH) \"\" \"*\" RETURN (CHILDREN)\r\n");
    assert_eq!(
        l.select,
        vec![
            ListSelect::Remote,
            ListSelect::Subscribed,
            ListSelect::RecursiveMatch
        ]
    );
    assert_eq!(l.returns, vec![ListReturn::Children]);
    let l = list("BBB LIST \"\" (\"INBOX\" \"Drafts\" \"Sent/%\")\r\n");
    assert_eq!(l.patterns, vec!["INBOX", "Drafts", "Sent/%"]);
    // RFC 5819 and RFC 6154
    let l = list("A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN) SPECIAL-USE)\r\n");
    assert_eq!(
        l.returns,
        vec![
            ListReturn::Status(vec![StatusItem::Messages, StatusItem::Unseen]),
            ListReturn::SpecialUse
        ]
    );
    assert_eq!(
        list("t1 LIST (SPECIAL-USE) \"\" \"*\"\r\n").select,
        vec![ListSelect::SpecialUse]
    );
    // RFC 5258 3: unknown options are BAD, and RECURSIVEMATCH needs a partner.
    assert_eq!(
        err(b"a LIST (imaptest) \"\" \"\"\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        err(b"a LIST (RECURSIVEMATCH) \"\" *\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        err(b"a LIST \"\" * RETURN (FOO)\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        body("A002 LSUB \"#news.\" \"comp.mail.*\"\r\n"),
        CommandBody::Lsub {
            reference: "#news.".into(),
            pattern: "comp.mail.*".into()
        }
    );
}

#[test]
fn append_forms() {
    let msg = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\nSubject: afternoon meeting\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
    let input = format!(
        "A003 APPEND saved-messages (\\Seen) {{{}}}\r\n{msg}\r\n",
        msg.len()
    );
    match body(&input) {
        CommandBody::Append { mailbox, messages } => {
            assert_eq!(mailbox, mbox("saved-messages"));
            assert_eq!(
                messages,
                vec![AppendMessage {
                    flags: vec![Flag::Seen],
                    date: None,
                    content: AppendContent::Literal {
                        data: msg.as_bytes().to_vec(),
                        binary: false
                    }
                }]
            );
        }
        other => panic!("{other:?}"),
    }
    // RFC 3502 MULTIAPPEND with LITERAL+ and a date.
    let input = format!(
        "A003 APPEND saved-messages (\\Seen) {{{n}+}}\r\n{msg} (\\Seen $Forwarded) \" 7-Feb-1994 22:43:04 -0800\" {{{n}}}\r\n{msg}\r\n",
        n = msg.len()
    );
    match body(&input) {
        CommandBody::Append { messages, .. } => {
            assert_eq!(messages.len(), 2);
            assert_eq!(
                messages[1].flags,
                vec![Flag::Seen, Flag::Keyword("$Forwarded".into())]
            );
            assert_eq!(
                messages[1].date.map(|d| d.to_string()),
                Some(" 7-Feb-1994 22:43:04 -0800".to_string())
            );
        }
        other => panic!("{other:?}"),
    }
    // RFC 3516 binary literal and RFC 4469 CATENATE.
    match body("a1 APPEND Drafts ~{3}\r\na\0b\r\n") {
        CommandBody::Append { messages, .. } => assert_eq!(
            messages[0].content,
            AppendContent::Literal {
                data: b"a\0b".to_vec(),
                binary: true
            }
        ),
        other => panic!("{other:?}"),
    }
    match body(
        "A003 APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {42}\r\n\r\n--------------030308070208000400050907\r\n URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME\")\r\n",
    ) {
        CommandBody::Append { messages, .. } => match &messages[0].content {
            AppendContent::Catenate(parts) => assert_eq!(parts.len(), 3),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // NUL is only allowed in a binary literal.
    assert_eq!(
        err(b"a1 APPEND x {3}\r\na\0b\r\n").kind,
        ParseErrorKind::Syntax
    );
}

#[test]
fn search_keys() {
    let search = |input: &str| match body(input) {
        CommandBody::Search {
            uid,
            charset,
            criteria,
            returns,
        } => (uid, charset, criteria, returns),
        other => panic!("{other:?}"),
    };
    let (uid, charset, criteria, returns) =
        search("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n");
    assert!(!uid && charset.is_none() && returns.is_none());
    assert_eq!(
        criteria,
        vec![
            SearchKey::Flagged,
            SearchKey::Since(Date::new(1994, 2, 1).unwrap()),
            SearchKey::Not(Box::new(SearchKey::From("Smith".into())))
        ]
    );
    let (_, charset, criteria, _) = search("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n");
    assert_eq!(charset.as_deref(), Some("UTF-8"));
    assert_eq!(criteria, vec![SearchKey::Text("XXXXXX".into())]);
    // RFC 4731 / RFC 9051 ESEARCH
    let (uid, _, criteria, returns) =
        search("A283 UID SEARCH RETURN (MIN COUNT) OR (SEEN UNANSWERED) 2:4,*\r\n");
    assert!(uid);
    assert_eq!(returns, Some(vec![SearchReturn::Min, SearchReturn::Count]));
    assert_eq!(
        criteria,
        vec![SearchKey::Or(
            Box::new(SearchKey::And(vec![SearchKey::Seen, SearchKey::Unanswered])),
            Box::new(SearchKey::Sequence(SequenceSet::Ranges(vec![
                SeqRange::new(2, 4),
                SeqRange {
                    start: SeqBound::Largest,
                    end: SeqBound::Largest
                }
            ])))
        )]
    );
    let (_, _, criteria, returns) = search(
        "a SEARCH RETURN () UID $ HEADER X-Foo \"\" LARGER 100 SMALLER 200000 OLDER 3600 YOUNGER 60 KEYWORD $Junk UNKEYWORD NonJunk\r\n",
    );
    assert_eq!(returns, Some(vec![]));
    assert_eq!(criteria[0], SearchKey::Uid(SequenceSet::Saved));
    assert_eq!(criteria[1], SearchKey::Header("X-Foo".into(), "".into()));
    // RFC 7162 3.1.5
    let (_, _, criteria, _) = search("a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338\r\n");
    assert_eq!(
        criteria,
        vec![SearchKey::ModSeq {
            entry: Some(("/flags/\\draft".into(), "all".into())),
            mod_seq: ModSeq(620162338)
        }]
    );
    let all_keys = "a SEARCH ALL ANSWERED BCC a BEFORE 1-Jan-2000 BODY b CC c DELETED DRAFT FLAGGED FROM d HEADER e f KEYWORD g LARGER 1 NEW NOT OLD ON 2-Feb-2001 OR RECENT SEEN SENTBEFORE 3-Mar-2002 SENTON 4-Apr-2003 SENTSINCE 5-May-2004 SINCE 6-Jun-2005 SMALLER 7 SUBJECT h TEXT i TO j UID 1:5 UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN 1,3\r\n";
    assert_eq!(search(all_keys).2.len(), 33);
    let e = err(b"a SEARCH CHARSET UTF-8 TEXT \"\xff\"\r\n");
    assert_eq!(e.kind, ParseErrorKind::BadCharset);
    assert!(matches!(e.code, Some(Code::BadCharset(_))));
    // An unknown charset parses; the server answers NO [BADCHARSET].
    assert_eq!(
        search("a SEARCH CHARSET KOI8-R TEXT \"\u{d0}\"\r\n")
            .1
            .as_deref(),
        Some("KOI8-R")
    );
    assert_eq!(err(b"a SEARCH FOO\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(err(b"a SEARCH\r\n").kind, ParseErrorKind::Syntax);
}

#[test]
fn fetch_items() {
    let fetch = |input: &str| match body(input) {
        CommandBody::Fetch {
            uid,
            set,
            items,
            modifiers,
        } => (uid, set, items, modifiers),
        other => panic!("{other:?}"),
    };
    let (uid, set, items, _) = fetch("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n");
    assert!(!uid);
    assert_eq!(set, SequenceSet::range(2, 4));
    assert_eq!(
        items,
        vec![
            FetchItem::Flags,
            FetchItem::BodySection {
                section: Section {
                    part: vec![],
                    text: Some(SectionText::HeaderFields(vec![
                        "DATE".into(),
                        "FROM".into()
                    ]))
                },
                partial: None,
                peek: false
            }
        ]
    );
    let (uid, _, items, _) = fetch("A999 UID FETCH 4827313:4828442 FLAGS\r\n");
    assert!(uid);
    assert_eq!(items, vec![FetchItem::Flags]);
    assert_eq!(
        fetch("a FETCH 1 ALL\r\n").2,
        vec![
            FetchItem::Flags,
            FetchItem::InternalDate,
            FetchItem::Rfc822Size,
            FetchItem::Envelope
        ]
    );
    assert_eq!(fetch("a FETCH 1 fast\r\n").2.len(), 3);
    assert_eq!(fetch("a FETCH 1 FULL\r\n").2.len(), 5);
    let (_, _, items, _) = fetch(
        "a FETCH 1:* (ENVELOPE BODYSTRUCTURE BODY BODY.PEEK[1.2.MIME]<0.2048> BODY[] BODY[TEXT] BODY[3.HEADER.FIELDS.NOT (X-A \"X-B\")] BODY[4] BINARY[1.2]<10.5> BINARY.PEEK[] BINARY.SIZE[3] INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT UID MODSEQ)\r\n",
    );
    assert_eq!(items.len(), 18);
    assert_eq!(
        items[3],
        FetchItem::BodySection {
            section: Section {
                part: vec![1, 2],
                text: Some(SectionText::Mime)
            },
            partial: Some(Partial {
                origin: 0,
                length: 2048
            }),
            peek: true
        }
    );
    assert_eq!(
        items[8],
        FetchItem::Binary {
            part: vec![1, 2],
            partial: Some(Partial {
                origin: 10,
                length: 5
            }),
            peek: false
        }
    );
    // RFC 7162 3.1.4.1 and 3.2.6
    let (_, _, _, modifiers) =
        fetch("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)\r\n");
    assert_eq!(
        modifiers,
        vec![
            FetchModifier::ChangedSince(ModSeq(12345)),
            FetchModifier::Vanished
        ]
    );
    assert_eq!(
        err(b"a FETCH 1 (BODY[MIME])\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(err(b"a FETCH 0 FLAGS\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(err(b"a FETCH 1 (FLAGS\r\n").kind, ParseErrorKind::Syntax);
    assert_eq!(err(b"a FETCH 1 ()\r\n").kind, ParseErrorKind::Syntax);
}

#[test]
fn store_copy_move_expunge() {
    assert_eq!(
        body("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n"),
        CommandBody::Store {
            uid: false,
            set: SequenceSet::range(2, 4),
            mode: StoreMode::Add,
            silent: false,
            flags: vec![Flag::Deleted],
            modifiers: vec![]
        }
    );
    // RFC 7162 3.1.3
    assert_eq!(
        body("a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) -FLAGS.SILENT \\Deleted $Junk\r\n"),
        CommandBody::Store {
            uid: true,
            set: SequenceSet::Ranges(vec![
                SeqRange::single(6),
                SeqRange::single(4),
                SeqRange::single(8)
            ]),
            mode: StoreMode::Remove,
            silent: true,
            flags: vec![Flag::Deleted, Flag::Keyword("$Junk".into())],
            modifiers: vec![StoreModifier::UnchangedSince(ModSeq(12121230045))]
        }
    );
    assert_eq!(
        body("a STORE 1 FLAGS ()\r\n"),
        CommandBody::Store {
            uid: false,
            set: SequenceSet::single(1),
            mode: StoreMode::Replace,
            silent: false,
            flags: vec![],
            modifiers: vec![]
        }
    );
    assert_eq!(
        err(b"a STORE 1 FLAGS (\\Recent)\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        err(b"a STORE 1 FLAGS (\\*)\r\n").kind,
        ParseErrorKind::Syntax
    );
    assert_eq!(
        body("A003 COPY 2:4 MEETING\r\n"),
        CommandBody::Copy {
            uid: false,
            set: SequenceSet::range(2, 4),
            mailbox: mbox("MEETING")
        }
    );
    assert_eq!(
        body("a UID MOVE 42:69 foo\r\n"),
        CommandBody::Move {
            uid: true,
            set: SequenceSet::range(42, 69),
            mailbox: mbox("foo")
        }
    );
    assert_eq!(
        body("A003 UID EXPUNGE 3000:3002\r\n"),
        CommandBody::UidExpunge {
            set: SequenceSet::range(3000, 3002)
        }
    );
}

#[test]
fn enable_id_quota() {
    assert_eq!(
        body("t2 ENABLE CONDSTORE X-GOOD-IDEA\r\n"),
        CommandBody::Enable {
            capabilities: vec!["CONDSTORE".into(), "X-GOOD-IDEA".into()]
        }
    );
    assert_eq!(
        body("a023 ID (\"name\" \"sodr\" \"version\" \"19.34\" \"vendor\" NIL)\r\n"),
        CommandBody::Id {
            params: Some(vec![
                ("name".into(), Some("sodr".into())),
                ("version".into(), Some("19.34".into())),
                ("vendor".into(), None)
            ])
        }
    );
    assert_eq!(body("a ID NIL\r\n"), CommandBody::Id { params: None });
    assert_eq!(
        body("G0001 GETQUOTA \"!partition/sda4\"\r\n"),
        CommandBody::GetQuota {
            root: "!partition/sda4".into()
        }
    );
    assert_eq!(
        body("G0002 GETQUOTAROOT INBOX\r\n"),
        CommandBody::GetQuotaRoot {
            mailbox: mbox("INBOX")
        }
    );
    assert_eq!(
        body("S0000 SETQUOTA \"#user/alice\" (STORAGE 510 MESSAGE 1000)\r\n"),
        CommandBody::SetQuota {
            root: "#user/alice".into(),
            limits: vec![("STORAGE".into(), 510), ("MESSAGE".into(), 1000)]
        }
    );
}

#[test]
fn literals_and_continuations() {
    let l = limits();
    // A synchronising literal: NeedLiteral right after the header, then Incomplete.
    assert_eq!(
        parse_command(b"a1 LOGIN {4}\r\n", &l),
        Ok(Parsed::NeedLiteral {
            size: 4,
            sync: true
        })
    );
    assert_eq!(
        parse_command(b"a1 LOGIN {4}\r\nfr", &l),
        Ok(Parsed::Incomplete)
    );
    assert_eq!(
        parse_command(b"a1 LOGIN {4+}\r\n", &l),
        Ok(Parsed::NeedLiteral {
            size: 4,
            sync: false
        })
    );
    // Two commands in one buffer: only the first is consumed.
    match parse_command(b"a1 NOOP\r\na2 NOOP\r\n", &l) {
        Ok(Parsed::Done(c, 9)) => assert_eq!(c.tag.as_str(), "a1"),
        other => panic!("{other:?}"),
    }
    // {0} literal
    match parse_split(b"a1 LOGIN {0}\r\n {0+}\r\n\r\n", &l) {
        Ok(Command {
            body: CommandBody::Login { username, password },
            ..
        }) => {
            assert_eq!(username, "");
            assert_eq!(password.expose(), "");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn refused_literals_say_what_to_skip() {
    let mut l = limits();
    l.max_literal = 1000;
    // Synchronising: refused before the client sends it; nothing more to skip.
    let e = parse_command(b"a1 APPEND INBOX {5000}\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
    assert_eq!(e.code, Some(Code::TooBig));
    assert_eq!(e.tag, Tag::new("a1"));
    assert_eq!(e.response().status, Status::No);
    assert_eq!(
        e.skip,
        Skip {
            bytes: 24,
            then_line: false
        }
    );
    // Non-synchronising: the bytes are coming and must be dropped, then the line's rest.
    let e = parse_command(b"a1 APPEND INBOX {5000+}\r\nabc", &l).unwrap_err();
    assert_eq!(e.response().status, Status::Bad);
    let mut skip = e.skip;
    assert_eq!(skip.bytes, 25 + 5000);
    let mut stream = b"a1 APPEND INBOX {5000+}\r\n".to_vec();
    stream.extend(vec![b'x'; 5000]);
    stream.extend_from_slice(b" (\\Seen) {3+}\r\nabc\r\na2 NOOP\r\n");
    let mut pos = 0;
    for chunk in stream.chunks(777) {
        if skip.is_done() {
            break;
        }
        pos += skip.consume(chunk);
    }
    assert!(skip.is_done());
    assert_eq!(&stream[pos..], b"abc\r\na2 NOOP\r\n");
    // LITERAL-: non-synchronising literals over 4096 are refused (RFC 7888 4).
    let mut l = limits();
    l.max_non_sync_literal = 4096;
    let e = parse_command(b"a1 APPEND INBOX {4097+}\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
    assert_eq!(
        parse_command(b"a1 APPEND INBOX {4097}\r\n", &l),
        Ok(Parsed::NeedLiteral {
            size: 4097,
            sync: true
        })
    );
    let e = parse_command(b"a1 LOGIN {99999999999999999999999}\r\n", &l).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::LiteralTooLarge);
}
