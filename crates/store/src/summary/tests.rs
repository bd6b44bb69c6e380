use super::*;

/// Test text with "\n" line ends turned into CRLF.
fn crlf(s: &str) -> Vec<u8> {
    s.replace('\n', "\r\n").into_bytes()
}

fn addr(name: Option<&str>, mailbox: &str, host: &str) -> Address {
    Address {
        name: name.map(str::to_owned),
        adl: None,
        mailbox: Some(mailbox.to_owned()),
        host: Some(host.to_owned()),
    }
}

fn params(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The part's MIME header and body, sliced from the raw message.
fn slices<'a>(raw: &'a [u8], bs: &BodyStructure) -> (&'a [u8], &'a [u8]) {
    let h = bs.part_offset as usize;
    let b = h + bs.part_header_size as usize;
    let e = b + bs.part_body_size as usize;
    (&raw[h..b], &raw[b..e])
}

/// Checks the documented invariants of a body structure tree.
fn check_tree(bs: &BodyStructure, lo: u64, hi: u64, depth: usize) {
    let body_start = bs.part_offset + bs.part_header_size;
    let body_end = body_start + bs.part_body_size;
    assert!(
        bs.part_offset >= lo && body_end <= hi,
        "{bs:?} outside {lo}..{hi}"
    );
    assert_eq!(bs.size, bs.part_body_size);
    assert!(depth <= MAX_DEPTH + 2);
    let multipart = bs.media_type.eq_ignore_ascii_case("multipart");
    assert_eq!(
        multipart,
        !bs.parts.is_empty(),
        "{}/{}",
        bs.media_type,
        bs.media_subtype
    );
    let msg = bs.media_type.eq_ignore_ascii_case("message")
        && (bs.media_subtype.eq_ignore_ascii_case("rfc822")
            || bs.media_subtype.eq_ignore_ascii_case("global"));
    assert_eq!(msg, bs.message.is_some());
    assert!(!bs.media_type.is_empty() && !bs.media_subtype.is_empty() && !bs.encoding.is_empty());
    for p in &bs.parts {
        check_tree(p, body_start, body_end, depth + 1);
    }
    if let Some(m) = &bs.message {
        assert_eq!(m.1.part_offset, body_start);
        check_tree(&m.1, body_start, body_end, depth + 1);
    }
}

fn check(raw: &[u8]) -> MessageSummary {
    let s = summarize(raw);
    assert!(s.header_size as usize <= raw.len());
    assert_eq!(s.body.part_offset, 0);
    assert_eq!(s.body.part_header_size, s.header_size);
    assert_eq!(s.header_size + s.body.part_body_size, raw.len() as u64);
    check_tree(&s.body, 0, raw.len() as u64, 0);
    for a in s
        .envelope
        .from
        .iter()
        .chain(&s.envelope.to)
        .chain(&s.envelope.cc)
    {
        // Only group markers lack a host.
        assert!(a.host.is_some() || a.name.is_none() && a.adl.is_none());
    }
    s
}

// RFC 3501 section 7.4.2 (and RFC 9051 7.5.2) FETCH example:
// ENVELOPE ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary
// and minutes" (("Terry Gray" NIL "gray" "cac.washington.edu")) x3
// ((NIL NIL "imap" "cac.washington.edu")) ((NIL NIL "minutes"
// "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL
// "<B27397-0100000@cac.washington.edu>")
// BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 3028 92)
fn rfc3501_message() -> Vec<u8> {
    let mut m = crlf(
        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\n\
         From: Terry Gray <gray@cac.washington.edu>\n\
         Subject: IMAP4rev1 WG mtg summary and minutes\n\
         To: imap@cac.washington.edu\n\
         cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\n\
         Message-Id: <B27397-0100000@cac.washington.edu>\n\
         MIME-Version: 1.0\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\n",
    );
    // 92 CRLF-terminated lines, 3028 octets.
    for i in 0..92 {
        let len = if i < 84 { 31 } else { 30 };
        m.extend(std::iter::repeat_n(b'a' + (i % 26) as u8, len));
        m.extend(b"\r\n");
    }
    m
}

#[test]
fn rfc3501_envelope_and_body() {
    let raw = rfc3501_message();
    let s = check(&raw);
    let gray = vec![addr(Some("Terry Gray"), "gray", "cac.washington.edu")];
    let expected = Envelope {
        date: Some("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)".into()),
        subject: Some("IMAP4rev1 WG mtg summary and minutes".into()),
        from: gray.clone(),
        sender: gray.clone(),
        reply_to: gray,
        to: vec![addr(None, "imap", "cac.washington.edu")],
        cc: vec![
            addr(None, "minutes", "CNRI.Reston.VA.US"),
            addr(Some("John Klensin"), "KLENSIN", "MIT.EDU"),
        ],
        bcc: vec![],
        in_reply_to: None,
        message_id: Some("<B27397-0100000@cac.washington.edu>".into()),
    };
    assert_eq!(s.envelope, expected);
    let b = &s.body;
    assert_eq!(
        (b.media_type.as_str(), b.media_subtype.as_str()),
        ("TEXT", "PLAIN")
    );
    assert_eq!(b.params, params(&[("CHARSET", "US-ASCII")]));
    assert_eq!((b.id.as_deref(), b.description.as_deref()), (None, None));
    assert_eq!(b.encoding, "7BIT");
    assert_eq!((b.size, b.lines), (3028, Some(92)));
    assert_eq!(s.body_lines, 92);
    assert_eq!(s.sent_date, Some(837_595_405)); // 1996-07-17T09:23:25Z
    assert_eq!(s.from_addr.as_deref(), Some("gray@cac.washington.edu"));
    assert_eq!(s.from_name.as_deref(), Some("Terry Gray"));
    assert_eq!(s.to_addr.as_deref(), Some("imap@cac.washington.edu"));
    assert_eq!(s.to_name.as_deref(), Some("imap@cac.washington.edu"));
    assert_eq!(s.cc_addr.as_deref(), Some("minutes@cnri.reston.va.us"));
    assert_eq!(
        s.message_id.as_deref(),
        Some("<B27397-0100000@cac.washington.edu>")
    );
    assert_eq!(
        s.base_subject.as_deref(),
        Some("IMAP4rev1 WG mtg summary and minutes")
    );
    assert_eq!(
        &raw[..s.header_size as usize],
        &raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4]
    );
    assert!(s.body_text.starts_with("aaaa"));
}

// RFC 3501 / RFC 9051 BODYSTRUCTURE example:
// (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)
//  ("TEXT" "PLAIN" ("CHARSET" "US-ASCII" "NAME" "cc.diff")
//   "<960723163407.20117h@cac.washington.edu>" "Compiler diff" "BASE64" 4554 73)
//  "MIXED")
#[test]
fn rfc3501_bodystructure() {
    // 23 lines, 1152 octets (the CRLF before the delimiter is not the part's)
    let text1: Vec<String> = (0..23)
        .map(|i| {
            if i < 4 {
                format!("{i:0>49}")
            } else {
                format!("{i:0>48}")
            }
        })
        .collect();
    let text1 = text1.join("\r\n");
    assert_eq!(text1.len(), 1152);
    // 73 lines, 4554 octets
    let text2: Vec<String> = (0..73)
        .map(|i| {
            if i < 30 {
                "QUJD".repeat(15) + "R"
            } else {
                "QUJD".repeat(15)
            }
        })
        .collect();
    let text2 = text2.join("\r\n");
    assert_eq!(text2.len(), 4554);
    let mut raw = crlf(
        "From: a@example.com\n\
         MIME-Version: 1.0\n\
         Content-Type: MULTIPART/MIXED; BOUNDARY=\"--x--\"\n\n\
         This is a preamble.\n\
         ----x--\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\n\n",
    );
    raw.extend(text1.as_bytes());
    raw.extend(crlf(
        "\n----x--\n\
         Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\n\
         Content-ID: <960723163407.20117h@cac.washington.edu>\n\
         Content-Description: Compiler diff\n\
         Content-Transfer-Encoding: BASE64\n\n",
    ));
    raw.extend(text2.as_bytes());
    raw.extend(crlf("\n----x----\nepilogue\n"));
    let s = check(&raw);
    let b = &s.body;
    assert_eq!(
        (b.media_type.as_str(), b.media_subtype.as_str()),
        ("MULTIPART", "MIXED")
    );
    assert_eq!(b.params, params(&[("BOUNDARY", "--x--")]));
    assert_eq!(b.parts.len(), 2);
    let p1 = &b.parts[0];
    assert_eq!(
        (p1.media_type.as_str(), p1.media_subtype.as_str()),
        ("TEXT", "PLAIN")
    );
    assert_eq!(p1.params, params(&[("CHARSET", "US-ASCII")]));
    assert_eq!(
        (p1.encoding.as_str(), p1.size, p1.lines),
        ("7BIT", 1152, Some(23))
    );
    assert_eq!(slices(&raw, p1).1, text1.as_bytes());
    let p2 = &b.parts[1];
    assert_eq!(
        p2.params,
        params(&[("CHARSET", "US-ASCII"), ("NAME", "cc.diff")])
    );
    assert_eq!(
        p2.id.as_deref(),
        Some("<960723163407.20117h@cac.washington.edu>")
    );
    assert_eq!(p2.description.as_deref(), Some("Compiler diff"));
    assert_eq!(
        (p2.encoding.as_str(), p2.size, p2.lines),
        ("BASE64", 4554, Some(73))
    );
    assert_eq!(slices(&raw, p2).1, text2.as_bytes());
    assert!(
        slices(&raw, p2)
            .0
            .starts_with(b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME")
    );
    assert!(slices(&raw, p2).0.ends_with(b"BASE64\r\n\r\n"));
    assert!(s.body_text.contains("ABCABCABC"));
}

#[test]
fn multipart_mixed_with_attachment() {
    let raw = crlf(
        "From: \"Doe, Jane\" <Jane.Doe@Example.COM>\n\
         To: bob@example.org\n\
         Subject: Report\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\n\n\
         --b1\n\
         Content-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: quoted-printable\n\n\
         Caf=C3=A9 report attached.=\n\
          Bye\n\
         --b1\n\
         Content-Type: application/pdf; name=\"r.pdf\"\n\
         Content-Disposition: attachment;\n\
         \tfilename=\"r.pdf\"; size=12\n\
         Content-Language: en, de (German)\n\
         Content-Location: http://example.com/\n  r.pdf\n\
         Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n\
         Content-Transfer-Encoding: base64\n\n\
         JVBERi0xLjQK\n\
         --b1--\n",
    );
    let s = check(&raw);
    assert_eq!(s.from_addr.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(s.from_name.as_deref(), Some("Doe, Jane"));
    assert_eq!(
        s.envelope.from,
        vec![addr(Some("Doe, Jane"), "Jane.Doe", "Example.COM")]
    );
    let b = &s.body;
    assert_eq!(b.parts.len(), 2);
    let text = &b.parts[0];
    assert_eq!(text.params, params(&[("charset", "utf-8")]));
    assert_eq!(text.encoding, "quoted-printable");
    assert_eq!(slices(&raw, text).1, b"Caf=C3=A9 report attached.=\r\nBye");
    assert_eq!(text.lines, Some(2));
    let pdf = &b.parts[1];
    assert_eq!(
        (pdf.media_type.as_str(), pdf.media_subtype.as_str()),
        ("application", "pdf")
    );
    assert_eq!(pdf.lines, None);
    assert_eq!(
        pdf.disposition,
        Some((
            "attachment".into(),
            params(&[("filename", "r.pdf"), ("size", "12")])
        ))
    );
    assert_eq!(pdf.language, vec!["en".to_string(), "de".to_string()]);
    assert_eq!(pdf.location.as_deref(), Some("http://example.com/r.pdf"));
    assert_eq!(pdf.md5.as_deref(), Some("Q2hlY2sgSW50ZWdyaXR5IQ=="));
    assert_eq!(slices(&raw, pdf).1, b"JVBERi0xLjQK");
    assert!(
        slices(&raw, pdf)
            .0
            .starts_with(b"Content-Type: application/pdf")
    );
    assert_eq!(s.body_text, "Café report attached.Bye");
}

#[test]
fn multipart_alternative_and_html() {
    let raw = crlf(
        "Subject: alt\n\
         Content-Type: multipart/alternative; boundary=XYZ\n\n\
         --XYZ\n\
         Content-Type: text/plain; charset=iso-8859-1\n\
         Content-Transfer-Encoding: base64\n\n\
         SGVsbG8g6Q==\n\
         --XYZ\n\
         Content-Type: text/html\n\n\
         <html><head><style>p {color: red}</style></head>\n\
         <body><p>Hello &amp; <b>bye</b>&#33;</p><script>x()</script></body></html>\n\
         --XYZ--",
    );
    let s = check(&raw);
    assert_eq!(s.body.media_subtype, "alternative");
    assert_eq!(s.body.parts.len(), 2);
    assert_eq!(s.body.parts[1].params, params(&[("charset", "us-ascii")]));
    assert_eq!(s.body_text, "Hello é\nHello & bye !");
}

#[test]
fn nested_message_rfc822() {
    let raw = crlf(
        "From: outer@example.com\n\
         Subject: Fwd: inner\n\
         Content-Type: multipart/mixed; boundary=outer\n\n\
         --outer\n\
         Content-Type: text/plain\n\n\
         See below.\n\
         --outer\n\
         Content-Type: message/rfc822\n\
         Content-Description: forwarded\n\n\
         From: Inner Person <inner@example.net>\n\
         To: undisclosed-recipients:;\n\
         Subject: =?utf-8?q?inner_caf=C3=A9?=\n\
         Date: Tue, 1 Jul 2003 10:52:37 +0200\n\
         Message-ID: <inner@example.net>\n\
         Content-Type: multipart/alternative; boundary=inner\n\n\
         --inner\n\
         Content-Type: text/plain\n\n\
         inner text\n\
         --inner\n\
         Content-Type: text/html\n\n\
         <p>inner html</p>\n\
         --inner--\n\
         \n\
         --outer--\n",
    );
    let s = check(&raw);
    let fwd = &s.body.parts[1];
    assert_eq!(fwd.media_type, "message");
    let (env, inner) = fwd.message.as_deref().unwrap();
    assert_eq!(env.subject.as_deref(), Some("=?utf-8?q?inner_caf=C3=A9?="));
    assert_eq!(
        env.from,
        vec![addr(Some("Inner Person"), "inner", "example.net")]
    );
    assert_eq!(env.sender, env.from);
    assert_eq!(
        env.to,
        vec![
            Address {
                mailbox: Some("undisclosed-recipients".into()),
                ..Address::default()
            },
            Address::default(),
        ]
    );
    assert_eq!(env.message_id.as_deref(), Some("<inner@example.net>"));
    assert_eq!(inner.media_subtype, "alternative");
    assert_eq!(inner.parts.len(), 2);
    let (fwd_hdr, fwd_body) = slices(&raw, fwd);
    assert!(fwd_hdr.ends_with(b"forwarded\r\n\r\n"));
    assert!(fwd_body.starts_with(b"From: Inner Person") && fwd_body.ends_with(b"--inner--\r\n"));
    assert_eq!(
        fwd.lines,
        Some(fwd_body.split(|&b| b == b'\n').count() as u64 - 1)
    );
    // BODY[2.HEADER] / BODY[2.TEXT] slice from the inner root.
    let (ih, ib) = slices(&raw, inner);
    assert!(ih.starts_with(b"From: Inner") && ih.ends_with(b"boundary=inner\r\n\r\n"));
    assert!(ib.starts_with(b"--inner\r\n"));
    assert_eq!(slices(&raw, &inner.parts[0]).1, b"inner text");
    assert_eq!(s.body_text, "See below.\ninner text\ninner html");
    // The outer summary is about the outer message only.
    assert_eq!(s.from_addr.as_deref(), Some("outer@example.com"));
    assert_eq!(s.base_subject.as_deref(), Some("inner"));
}

#[test]
fn group_and_odd_addresses() {
    let raw = crlf(
        "From: Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>\n\
         To: A Group(Some people)\n     :Chris Jones <c@(Chris's host.)public.example>,\n\
         \x20        joe@example.org,\n  John <jdoe@one.test> (my dear friend); (the end of the group)\n\
         Cc:(Empty list)(start)Hidden recipients  :(nobody(that I know))  ;, \n\
         \x20 <@route1.test,@route2.test:user@final.test>, old@style.test (Old Style),\n\
         \x20 =?utf-8?q?J=C3=B6rg?= <joerg@example.de>, <>\n\
         Bcc: \"\\\"quoted\\\" local\"@example.com\n\
         Reply-To:\n\
         Sender: (nobody)\n\n\
         body",
    );
    let s = check(&raw);
    let e = &s.envelope;
    assert_eq!(e.from, vec![addr(Some("Pete"), "pete", "silly.test")]);
    assert_eq!(e.reply_to, e.from);
    assert_eq!(e.sender, e.from);
    let start = |n: &str| Address {
        mailbox: Some(n.into()),
        ..Address::default()
    };
    assert_eq!(
        e.to,
        vec![
            start("A Group"),
            addr(Some("Chris Jones"), "c", "public.example"),
            addr(None, "joe", "example.org"),
            addr(Some("John"), "jdoe", "one.test"),
            Address::default(),
        ]
    );
    assert_eq!(
        e.cc,
        vec![
            start("Hidden recipients"),
            Address::default(),
            Address {
                adl: Some("@route1.test,@route2.test".into()),
                ..addr(None, "user", "final.test")
            },
            addr(Some("Old Style"), "old", "style.test"),
            addr(Some("=?utf-8?q?J=C3=B6rg?="), "joerg", "example.de"),
            addr(None, "MISSING_MAILBOX", "MISSING_DOMAIN"),
        ]
    );
    assert_eq!(
        e.bcc,
        vec![addr(None, "\"\\\"quoted\\\" local\"", "example.com")]
    );
    assert_eq!(s.to_addr.as_deref(), Some("c@public.example"));
    assert_eq!(s.to_name.as_deref(), Some("Chris Jones"));
    assert_eq!(s.cc_addr.as_deref(), Some("user@final.test"));
    let jorg = address::parse(b"=?utf-8?q?J=C3=B6rg?= <joerg@example.de>");
    let address::AddrItem::Mailbox(m) = &jorg[0] else {
        panic!()
    };
    assert_eq!(m.display().as_deref(), Some("Jörg"));
    let odd = address::to_imap(address::parse(b"a@b.test <a@b.test>, Doe, John <j@d.test>"));
    assert_eq!(
        odd,
        vec![
            addr(Some("a@b.test"), "a", "b.test"),
            addr(None, "Doe", "MISSING_DOMAIN"),
            addr(Some("John"), "j", "d.test"),
        ]
    );
}

#[test]
fn subjects_and_base_subject() {
    let cases = [
        ("Re: [list] Fwd: subject (fwd)", "subject"),
        ("Re: [list] Fwd: subject (fwd) (FWD)  ", "subject"),
        ("[Fwd: Re: hello]", "hello"),
        ("[fwd: [fwd: Re: hello] (fwd)]", "hello"),
        ("Re: [SPAM]", "[SPAM]"),
        ("[a][b] Re: [c] Fw: x", "x"),
        ("re:RE: fwd:\t FW[x]: x  y", "x y"),
        ("Re : spaced", "spaced"),
        ("[list] plain", "plain"),
        ("Fwd", "Fwd"),
        ("Reply: no", "Reply: no"),
        ("", ""),
        ("  ", ""),
        ("[unterminated blob", "[unterminated blob"),
        ("Re: Ünïcödé  text", "Ünïcödé text"),
    ];
    let many_blobs = "[a]".repeat(100_000);
    let many_then_text = format!("{many_blobs} x");
    let extra = [
        (many_blobs.as_str(), "[a]"),
        (many_then_text.as_str(), "x"),
        ("[a] [b] [c]", "[c]"),
        ("[a] [b] [c] Re: x", "x"),
        ("[a] [b] Re: [c]", "[c]"),
    ];
    for (subject, base) in cases.into_iter().chain(extra) {
        assert_eq!(subject::base_subject(subject).0, base, "{subject:?}");
    }
    let raw =
        crlf("Subject: =?UTF-8?Q?Re=3A_=5Blist=5D_Fwd=3A?=\n =?ISO-8859-1?Q?caf=E9?= (fwd)\n\n");
    let s = check(&raw);
    assert_eq!(s.subject.as_deref(), Some("Re: [list] Fwd:café (fwd)"));
    assert_eq!(s.base_subject.as_deref(), Some("café"));
    assert_eq!(
        s.envelope.subject.as_deref(),
        Some("=?UTF-8?Q?Re=3A_=5Blist=5D_Fwd=3A?= =?ISO-8859-1?Q?caf=E9?= (fwd)")
    );
    let s = check(b"Subject: =?utf-8?B?w6l0w6k=?= summer\r\n\r\n");
    assert_eq!(s.subject.as_deref(), Some("été summer"));
    let s = check(b"From: a@b\r\n\r\n");
    assert_eq!(
        (s.subject, s.base_subject, s.envelope.subject),
        (None, None, None)
    );
}

#[test]
fn dates() {
    let cases = [
        ("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", Some(837_595_405)),
        ("Tue, 1 Jul 2003 10:52:37 +0200", Some(1_057_049_557)),
        ("1 Jan 2020 00:00:00 GMT", Some(1_577_836_800)),
        ("Mon, 2 Oct 2000 08:00:00 EST", Some(970_491_600)),
        ("Wed, 02 Oct 02 08:00:00 +0000", Some(1_033_545_600)),
        ("Sat, 29 Feb 2020 12:00 +0530", Some(1_582_957_800)),
        ("Fri, 31 Dec 1999 23:59:60 +0000", Some(946_684_799)),
        ("Thu, 1 Jan 1970 00:00:00 +0000", Some(0)),
        ("garbage", None),
        ("", None),
        ("Mon, 99 Foo 2000 99:99:99 +0000", None),
    ];
    for (d, ts) in cases {
        assert_eq!(text::parse_date(d), ts, "{d:?}");
    }
    let s = check(b"Date: Tue,\r\n 1 Jul 2003\r\n\t10:52:37 +0200\r\n\r\n");
    assert_eq!(s.sent_date, Some(1_057_049_557));
    assert_eq!(
        s.envelope.date.as_deref(),
        Some("Tue, 1 Jul 2003\t10:52:37 +0200")
    );
    assert_eq!(check(b"Date: yesterday\r\n\r\n").sent_date, None);
}

#[test]
fn bare_lf_message() {
    let raw = b"From: x@y.test\nSubject: bare\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\none\ntwo\n--b\n\nthree\n--b--\n";
    let s = check(raw);
    assert_eq!(s.header_size, 72);
    assert_eq!(s.subject.as_deref(), Some("bare"));
    assert_eq!(s.body.parts.len(), 2);
    assert_eq!(slices(raw, &s.body.parts[0]).1, b"one\ntwo");
    assert_eq!(s.body.parts[0].lines, Some(2));
    assert_eq!(slices(raw, &s.body.parts[1]), (&b"\n"[..], &b"three"[..]));
    assert_eq!(s.body_text, "one\ntwo\nthree");
    assert_eq!(s.body_lines, 9);
}

#[test]
fn ids_and_threading_headers() {
    let raw = crlf(
        "Message-ID:  <a1@x.test> (comment)\n\
         In-Reply-To: Your message of Monday <p1@\n x.test> <p2@x.test>\n\
         References: <r1@x.test>\n\t<r2@x.test> garbage <r3@\n x.test>\n\n",
    );
    let s = check(&raw);
    assert_eq!(s.message_id.as_deref(), Some("<a1@x.test>"));
    assert_eq!(
        s.envelope.message_id.as_deref(),
        Some("<a1@x.test> (comment)")
    );
    assert_eq!(s.in_reply_to.as_deref(), Some("<p1@x.test>"));
    assert_eq!(
        s.envelope.in_reply_to.as_deref(),
        Some("Your message of Monday <p1@ x.test> <p2@x.test>")
    );
    assert_eq!(
        s.references_ids,
        ["<r1@x.test>", "<r2@x.test>", "<r3@x.test>"]
    );
    let s = check(b"Message-ID: bare-id@x\r\nIn-Reply-To: nothing\r\n\r\n");
    assert_eq!(s.message_id.as_deref(), Some("bare-id@x"));
    assert_eq!(s.in_reply_to, None);
    assert_eq!(text::msg_ids("<a <b@c> <> <d@e"), ["<b@c>"]);
}

#[test]
fn defaults_and_degenerate_structures() {
    // No header at all, no blank line.
    let s = check(b"");
    assert_eq!((s.header_size, s.body_lines), (0, 0));
    assert_eq!(s.body.params, params(&[("charset", "us-ascii")]));
    assert_eq!(
        (s.body.media_type.as_str(), s.body.encoding.as_str()),
        ("text", "7BIT")
    );
    let s = check(b"Subject: no body");
    assert_eq!((s.header_size, s.body.size), (16, 0));
    assert_eq!(s.subject.as_deref(), Some("no body"));
    let s = check(b"\r\nbody only\r\n");
    assert_eq!((s.header_size, s.body_lines), (2, 1));
    // Multipart without boundary: text/plain.
    let s = check(b"Content-Type: multipart/mixed\r\n\r\nx\r\n");
    assert_eq!(
        (s.body.media_type.as_str(), s.body.lines),
        ("text", Some(1))
    );
    // Boundary never seen: one empty text/plain child.
    let s = check(b"Content-Type: multipart/mixed; boundary=q\r\n\r\nno parts\r\n");
    assert_eq!(s.body.parts.len(), 1);
    assert_eq!(
        (s.body.parts[0].size, s.body.parts[0].media_subtype.as_str()),
        (0, "plain")
    );
    // Unterminated multipart: last part runs to the end.
    let raw = b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--q\r\n\r\nA\r\n--q\r\n\r\nB\r\n";
    let s = check(raw);
    assert_eq!(s.body.parts.len(), 2);
    assert_eq!(slices(raw, &s.body.parts[1]).1, b"B\r\n");
    // Similar boundaries don't match; transport padding does.
    let raw = b"Content-Type: multipart/mixed; boundary=q\r\n\r\n--qq\r\n--q \t\r\n\r\nA\r\n--qq--\r\n--q--\r\n";
    let s = check(raw);
    assert_eq!(s.body.parts.len(), 1);
    assert_eq!(slices(raw, &s.body.parts[0]).1, b"A\r\n--qq--");
    // Digest children default to message/rfc822.
    let raw = crlf(
        "Content-Type: multipart/digest; boundary=d\n\n--d\n\nFrom: a@b.test\nSubject: one\n\nbody\n--d--\n",
    );
    let s = check(&raw);
    let d = &s.body.parts[0];
    assert_eq!(
        (d.media_type.as_str(), d.media_subtype.as_str()),
        ("message", "rfc822")
    );
    assert_eq!(
        d.message.as_ref().unwrap().0.subject.as_deref(),
        Some("one")
    );
    // Encoded message/rfc822 is opaque.
    let s = check(b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nRnJvbTogYUBi\r\n");
    assert_eq!(
        (s.body.media_type.as_str(), s.body.media_subtype.as_str()),
        ("application", "octet-stream")
    );
    assert!(s.body.message.is_none());
    assert_eq!(s.body_text, ""); // "From: a@b" is all header
    let s = check(b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpoaWRkZW4gdGV4dA==\r\n");
    assert_eq!(s.body_text, "hidden text");
    // Invalid content type falls back to text/plain; comments and odd params.
    let s = check(b"Content-Type: text\r\n\r\n");
    assert_eq!(s.body.media_subtype, "plain");
    let s = check(b"Content-Type: (c) text / plain (c); charset=us-ascii (Plain text); junk; a=\"q\\\"s\"; boundary=----=_Part_1\r\n\r\n");
    assert_eq!(
        s.body.params,
        params(&[
            ("charset", "us-ascii"),
            ("a", "q\"s"),
            ("boundary", "----=_Part_1")
        ])
    );
}

#[test]
fn truncated_base64_and_bad_encodings() {
    let raw = b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nw6l0w6kgYm9u!!\r\nam91cg";
    let s = check(raw);
    assert!(s.body_text.starts_with("été bon"));
    let raw = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ= =4\r\n=\r\n=41=";
    assert_eq!(check(raw).body_text, "=ZZ= =4\r\nA");
    let raw = b"Content-Type: text/plain; charset=x-unknown\r\n\r\nhello \xff\xfe";
    assert_eq!(check(raw).body_text, "hello \u{fffd}\u{fffd}");
}

#[test]
fn invalid_utf8_and_nuls_in_headers() {
    let raw = b"From: Ren\xe9 <r\x00@x.test>\r\nSubject: a\x00b \xff\r\n\r\n\x00\x00";
    let s = check(raw);
    assert_eq!(s.envelope.subject.as_deref(), Some("ab \u{fffd}"));
    assert_eq!(s.from_name.as_deref(), Some("Ren\u{fffd}"));
    assert_eq!(s.from_addr.as_deref(), Some("r@x.test"));
    assert_eq!(s.body.size, 2);
}

fn nested(depth: usize) -> Vec<u8> {
    let mut raw = Vec::new();
    for i in 0..depth {
        raw.extend(
            format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n").as_bytes(),
        );
    }
    raw.extend(b"Content-Type: text/plain\r\n\r\ndeep\r\n");
    for i in (0..depth).rev() {
        raw.extend(format!("--b{i}--\r\n").as_bytes());
    }
    raw
}

#[test]
fn deep_nesting_is_capped() {
    for depth in [1, 50, MAX_DEPTH + 5, 1000] {
        let raw = nested(depth);
        let s = check(&raw);
        let mut level = 0;
        let mut bs = &s.body;
        while let Some(child) = bs.parts.first() {
            bs = child;
            level += 1;
        }
        assert_eq!(level, depth.min(MAX_DEPTH), "depth {depth}");
        let opaque = depth > MAX_DEPTH;
        assert_eq!(bs.media_type == "application", opaque);
        assert_eq!(s.body_text == "deep", !opaque);
    }
    // message/rfc822 nesting too.
    let mut raw = b"Subject: leaf\r\n\r\nleaf".to_vec();
    for _ in 0..300 {
        let mut outer = b"Content-Type: message/rfc822\r\n\r\n".to_vec();
        outer.extend(&raw);
        raw = outer;
    }
    check(&raw);
}

#[test]
fn many_parts_are_capped() {
    let mut raw = b"Content-Type: multipart/mixed; boundary=p\r\n\r\n".to_vec();
    for _ in 0..(MAX_PARTS + 100) {
        raw.extend(b"--p\r\n\r\nx\r\n");
    }
    let s = check(&raw);
    assert!(s.body.parts.len() < MAX_PARTS);
}

#[test]
fn huge_header() {
    let mut raw = b"Subject: big".to_vec();
    for _ in 0..20_000 {
        raw.extend(b"\r\n continued");
    }
    raw.extend(b"\r\nTo: ");
    for i in 0..5_000 {
        raw.extend(format!("u{i}@x.test, ").as_bytes());
    }
    raw.extend(b"\r\n\r\nbody");
    let s = check(&raw);
    assert_eq!(s.envelope.to.len(), MAX_ADDRESSES);
    assert_eq!(s.envelope.to[1].mailbox.as_deref(), Some("u1"));
    let mut group = b"To: g: ".to_vec();
    group.extend(b"x@y, ".repeat(3 * MAX_ADDRESSES));
    group.extend(b";\r\n\r\n");
    let to = check(&group).envelope.to;
    assert_eq!(to.len(), MAX_ADDRESSES + 1);
    assert_eq!(to.last(), Some(&Address::default())); // the group is closed
    assert!(s.subject.unwrap().ends_with("continued continued"));
}

#[test]
fn serde_round_trip() {
    let s = summarize(&rfc3501_message());
    let json = serde_json::to_string(&s).unwrap();
    let back: MessageSummary = serde_json::from_str(&json).unwrap();
    assert_eq!(s, back);
    let raw = crlf(
        "Content-Type: multipart/mixed; boundary=o\n\n--o\nContent-Type: message/rfc822\n\nSubject: x\n\ny\n--o--\n",
    );
    let s = summarize(&raw);
    let back: MessageSummary = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
    assert_eq!(s, back);
    // The deepest structures still read back within serde_json's limit.
    let mut deep_msg = b"Subject: leaf\r\n\r\nleaf".to_vec();
    for i in 0..200 {
        let ct = if i % 2 == 0 {
            "Content-Type: message/rfc822\r\n\r\n".to_string()
        } else {
            format!(
                "Content-Type: multipart/mixed; boundary=m{i}\r\n\r\n--m{i}\r\nContent-Disposition: inline; a=b\r\n"
            )
        };
        deep_msg = [ct.as_bytes(), &deep_msg].concat();
    }
    for raw in [nested(1000), deep_msg] {
        let s = summarize(&raw);
        let json = serde_json::to_string(&s.body).unwrap();
        let back: BodyStructure = serde_json::from_str(&json).unwrap();
        assert_eq!(s.body, back);
    }
}

/// xorshift64*: a tiny deterministic generator for the fuzz tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn sample_multipart() -> Vec<u8> {
    crlf(
        "From: \"A\" <a@b.test>, group: c@d.test, <@r:e@f.test>;\n\
         To: =?utf-8?q?x?= <x@y.test>\n\
         Subject: Re: [l] =?utf-8?B?w6k=?= (fwd)\n\
         Date: Tue, 1 Jul 2003 10:52:37 +0200\n\
         Content-Type: multipart/mixed; boundary=\"o\"\n\n\
         pre\n--o\n\
         Content-Type: text/plain; charset=\"utf-8\"\n\
         Content-Transfer-Encoding: quoted-printable\n\n\
         caf=C3=A9=\n--o\n\
         Content-Type: message/rfc822\n\n\
         Subject: inner\n\
         Content-Type: multipart/alternative; boundary=i\n\n\
         --i\nContent-Type: text/html\n\n<b>x</b>&amp;\n--i\n\
         Content-Transfer-Encoding: base64\n\nw6l0w6k=\n--i--\n\
         --o\nContent-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: d\n\nd\n--d--\n\
         --o--\nepilogue\n",
    )
}

#[test]
fn fuzz_truncations_of_sample() {
    let raw = sample_multipart();
    let full = check(&raw);
    assert_eq!(full.body.parts.len(), 3);
    assert_eq!(full.body_text, "café\nx &\nété\nd");
    for n in 0..=raw.len() {
        check(&raw[..n]);
        check(&raw[n..]);
    }
}

#[test]
fn fuzz_random_and_mutated() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let seeds = [sample_multipart(), rfc3501_message(), nested(8)];
    let alphabet: &[u8] =
        b"\r\n\r\n--o--i-d:;<>@,\"()[]\\=?= \tQB\x00\xff\xc3abc=?utf-8?q?=C3?=/*\'";
    // SUMMARY_FUZZ_ROUNDS=1000000 cargo test --release fuzz_random for a long run.
    let rounds = std::env::var("SUMMARY_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3000);
    for round in 0..rounds {
        let mut buf = if round % 3 == 1 {
            // Structured: interesting fields with random values.
            let names = [
                "From",
                "To",
                "Cc",
                "Sender",
                "Subject",
                "Date",
                "Message-ID",
                "References",
                "Content-Type",
                "Content-Transfer-Encoding",
                "Content-Disposition",
                "Content-Language",
                "In-Reply-To",
            ];
            let mut b = Vec::new();
            for _ in 0..rng.below(8) {
                b.extend(names[rng.below(names.len())].as_bytes());
                b.extend(b": ");
                for _ in 0..rng.below(60) {
                    b.push(alphabet[rng.below(alphabet.len())]);
                }
                b.extend(b"\r\n");
            }
            b.extend(b"\r\n");
            b.extend(&seeds[rng.below(seeds.len())]);
            b
        } else if round % 3 == 0 {
            let len = rng.below(400);
            (0..len)
                .map(|_| {
                    if rng.below(2) == 0 {
                        alphabet[rng.below(alphabet.len())]
                    } else {
                        rng.next() as u8
                    }
                })
                .collect()
        } else {
            seeds[rng.below(seeds.len())].clone()
        };
        for _ in 0..rng.below(12) {
            let pos = rng.below(buf.len() + 1);
            match rng.below(5) {
                0 if pos < buf.len() => buf[pos] = alphabet[rng.below(alphabet.len())],
                1 if pos < buf.len() => {
                    let end = (pos + rng.below(40)).min(buf.len());
                    buf.drain(pos..end);
                }
                2 => {
                    let src = seeds[rng.below(seeds.len())].clone();
                    let a = rng.below(src.len());
                    let b = (a + rng.below(200)).min(src.len());
                    buf.splice(pos..pos, src[a..b].iter().copied());
                }
                3 if pos < buf.len() => buf[pos] = rng.next() as u8,
                _ => buf.insert(pos, alphabet[rng.below(alphabet.len())]),
            }
        }
        check(&buf);
    }
}

#[test]
#[ignore = "timing; run with --release -- --ignored"]
fn speed_50k() {
    let mut big = b"Content-Type: multipart/mixed; boundary=z\r\nSubject: speed\r\n\r\n".to_vec();
    while big.len() < 50_000 {
        big.extend(b"--z\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
        big.extend(
            b"Lorem ipsum dolor sit amet, consectetur adipiscing elit =C3=A9\r\n".repeat(20),
        );
        big.extend(b"--z\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        big.extend(
            b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\r\n".repeat(20),
        );
    }
    big.extend(b"--z--\r\n");
    let plain = [
        &b"Subject: plain\r\nFrom: a@b.test\r\n\r\n"[..],
        &b"Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do.\r\n".repeat(750),
    ]
    .concat();
    let html = [
        &b"Content-Type: text/html; charset=utf-8\r\n\r\n"[..],
        &b"<p>Lorem <b>ipsum</b> dolor &amp; sit amet, <a href=\"x\">elit</a></p>\r\n".repeat(700),
    ]
    .concat();
    for (name, msg) in [("multipart", &big), ("plain", &plain), ("html", &html)] {
        let n = 2000;
        let start = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(summarize(std::hint::black_box(msg)));
        }
        let per = start.elapsed() / n;
        println!("{name}: {} bytes: {per:?} per summarize", msg.len());
    }
}

/// Pathological header and body shapes must stay (about) linear: with
/// 100 KB of each, anything quadratic would take minutes, not milliseconds.
#[test]
fn adversarial_inputs_stay_fast() {
    let units: [&[u8]; 12] = [
        b"=?x?q?a",
        b"=?utf-8?b?AAAA",
        b"=?",
        b"=?utf-8?q?a?= ",
        b"<",
        b"<a ",
        b"a,",
        b"a:;",
        b"\"",
        b"(",
        b"[a]",
        b"1 ",
    ];
    for unit in units {
        let v = unit.repeat(100_000 / unit.len());
        for field in ["Subject", "From", "Date", "Content-Type", "References"] {
            check(&[field.as_bytes(), b": ", &v, b"\r\n\r\nbody"].concat());
        }
        for head in [
            &b"Content-Type: text/html\r\n\r\n"[..],
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            b"Content-Type: multipart/mixed; boundary=a\r\n\r\n",
        ] {
            check(&[head, &v].concat());
        }
    }
}

#[test]
fn search_addresses_drop_comments_and_keep_groups() {
    let header = b"From: <user-from (comment)@ (comment) domain.org>\r\n\
To: =?utf-8?q?J=C3=B6rg?= <jorg@example.com>, plain@example.org (Real Name)\r\n\
Cc: friends: a@example.org, b@example.org;, undisclosed:;\r\n\r\n";
    // A comment may stand in for the display name (as in ENVELOPE).
    let from = search_addresses(header, "from");
    assert_eq!(from.len(), 1);
    assert!(from[0].ends_with("<user-from@domain.org>"), "{from:?}");
    assert_eq!(
        search_addresses(header, "TO"),
        vec![
            "Jörg <jorg@example.com>".to_string(),
            "Real Name <plain@example.org>".to_string()
        ]
    );
    assert_eq!(
        search_addresses(header, "cc"),
        vec![
            "friends".to_string(),
            "a@example.org".to_string(),
            "b@example.org".to_string(),
            "undisclosed".to_string()
        ]
    );
    assert!(search_addresses(header, "bcc").is_empty());
    // Garbage never panics.
    for g in [
        &b"From: <<<@@@>>>,,,;;:\r\n"[..],
        b"From: \"unterminated\r\n",
        b"From:",
    ] {
        let _ = search_addresses(g, "from");
    }
}
