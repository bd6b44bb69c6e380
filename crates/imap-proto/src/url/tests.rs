use super::*;
use proptest::prelude::*;

const RFC4467: &str = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:internal:91354a473744909de610943775f92038";

#[test]
fn rfc4467_example() {
    let u = ImapUrl::parse(RFC4467).unwrap();
    assert_eq!(u.user(), Some("joe"));
    assert_eq!(u.server.as_ref().unwrap().host, "example.com");
    assert_eq!(u.mailbox, "INBOX");
    assert_eq!(u.uid, Some(20));
    assert_eq!(u.section.as_deref(), Some("1.2"));
    let a = u.urlauth.as_ref().unwrap();
    assert_eq!(a.access, Access::Submit("fred".into()));
    assert_eq!(
        a.verifier,
        Some(("internal".into(), "91354a473744909de610943775f92038".into()))
    );
    assert_eq!(
        u.rump(),
        Some("imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred")
    );
    assert_eq!(u.as_str(), RFC4467);
}

#[test]
fn rfc5092_examples() {
    let u = ImapUrl::parse(
        "imap://minbari.example.org/gray-council;UIDVALIDITY=385759045/;UID=20/;PARTIAL=0.1024",
    )
    .unwrap();
    assert_eq!(u.user(), None);
    assert_eq!(u.mailbox, "gray-council");
    assert_eq!(u.uidvalidity, Some(385759045));
    assert_eq!(u.uid, Some(20));
    assert_eq!(u.partial, Some((0, Some(1024))));
    let u = ImapUrl::parse(
        "imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97",
    )
    .unwrap();
    assert_eq!(u.mailbox, "~peter/日本語/台北");
    let u =
        ImapUrl::parse("imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;uid=20/;section=1.2")
            .unwrap();
    let s = u.server.as_ref().unwrap();
    assert_eq!(
        (s.user.as_deref(), s.auth.as_deref()),
        (None, Some("GSSAPI"))
    );
    let u = ImapUrl::parse(
        "imap://michael@minbari.example.org/users.*;UIDVALIDITY=1?SUBJECT%20shadows",
    )
    .unwrap();
    assert_eq!(u.search.as_deref(), Some("SUBJECT%20shadows"));
    let u = ImapUrl::parse("imap://joe@example.com:1143/INBOX/;uid=20;expire=2006-10-20T08:00:00Z;urlauth=anonymous:internal:91354a473744909de610943775f92038").unwrap();
    assert_eq!(u.server.as_ref().unwrap().port, Some(1143));
    assert_eq!(u.expire.as_ref().unwrap().unix, 1161331200);
    assert_eq!(u.urlauth.as_ref().unwrap().access, Access::Anonymous);
    assert_eq!(
        u.rump(),
        Some(
            "imap://joe@example.com:1143/INBOX/;uid=20;expire=2006-10-20T08:00:00Z;urlauth=anonymous"
        )
    );
}

#[test]
fn relative_urls_and_addresses_as_users() {
    let u = ImapUrl::parse("/Drafts;UIDVALIDITY=5/;UID=3/;SECTION=HEADER").unwrap();
    assert!(u.server.is_none());
    assert_eq!(u.mailbox, "Drafts");
    assert_eq!(u.section.as_deref(), Some("HEADER"));
    let u = ImapUrl::parse(
        "imap://alice@example.org@127.0.0.1:143/INBOX/;uid=1;urlauth=user+alice@example.org",
    )
    .unwrap();
    assert_eq!(u.user(), Some("alice@example.org"));
    assert_eq!(
        u.urlauth.unwrap().access,
        Access::User("alice@example.org".into())
    );
    let u =
        ImapUrl::parse("imap://alice%40example.org@h/a%20b/c/;UID=1/;PARTIAL=100000.1").unwrap();
    assert_eq!(u.user(), Some("alice@example.org"));
    assert_eq!(u.mailbox, "a b/c");
    assert_eq!(u.partial, Some((100000, Some(1))));
}

#[test]
fn refused() {
    for bad in [
        "",
        "imap:",
        "http://x/INBOX",
        "//host/INBOX",
        "INBOX/;UID=1",
        "/INBOX/;UID=0",
        "/INBOX/;UID=x",
        "/INBOX;UID=1",
        "/INBOX/;UIDVALIDITY=1",
        "/INBOX/;SECTION=1",
        "/INBOX/;UID=1;SECTION=1",
        "/INBOX/;UID=1/;SECTION=",
        "/INBOX/;UID=1/;PARTIAL=1.0",
        "/INBOX/;UID=1/;PARTIAL=a",
        "/INBOX/;UID=1/;PARTIAL=99999999999",
        "/INBOX/;UID=1;URLAUTH=nobody",
        "/INBOX/;UID=1;URLAUTH=user+",
        "/INBOX/;UID=1;URLAUTH=authuser:internal:short",
        "/INBOX/;UID=1;URLAUTH=authuser:internal",
        "/INBOX/;UID=1;EXPIRE=yesterday;URLAUTH=authuser",
        "/INBOX/;UID=1;URLAUTH=authuser;EXPIRE=2006-10-20T08:00:00Z",
        "/INBOX/;UID=1/;UID=2",
        "/INBOX/;FOO=1",
        "/INBOX/;UID=1/",
        "/IN BOX/;UID=1",
        "/IN\"BOX/;UID=1",
        "/INBOX%/;UID=1",
        "/INBOX%zz/;UID=1",
        "/INBOX%ff/;UID=1",
        "/;UID=1",
        "imap://@host/INBOX",
        "imap://user@/INBOX",
        "imap://user@host:99999/INBOX",
        "imap://user@ho st/INBOX",
        "imap://[::1/INBOX",
        "/INBOX/;UID=1\u{e9}",
    ] {
        assert!(ImapUrl::parse(bad).is_err(), "{bad:?} was accepted");
    }
    let long = format!("/{}/;UID=1", "a".repeat(MAX_URL_LEN));
    assert_eq!(ImapUrl::parse(&long), Err(UrlError::TooLong));
}

#[test]
fn every_prefix_and_split_is_handled() {
    for url in [
        RFC4467,
        "imap://a%40b@[::1]:143/x%20y;UIDVALIDITY=9/;UID=1/;SECTION=HEADER.FIELDS%20(FROM)/;PARTIAL=3.4;EXPIRE=2030-01-01T00:00:00.5+02:00;URLAUTH=user+a%40b:INTERNAL:0123456789abcdef0123456789abcdef",
    ] {
        assert!(ImapUrl::parse(url).is_ok(), "{url}");
        for i in 0..=url.len() {
            if let (Some(a), Some(b)) = (url.get(..i), url.get(i..)) {
                let _ = ImapUrl::parse(a);
                let _ = ImapUrl::parse(b);
            }
        }
    }
}

#[test]
fn canonical_form_round_trips() {
    let u = ImapUrl::parse("imap://alice@example.org@h/Sent%20Items/;uid=7/;section=1.2/;partial=0.10;urlauth=submit+alice@example.org").unwrap();
    let c = u.build().unwrap();
    assert_eq!(
        c.as_str(),
        "imap://alice%40example.org@h/Sent%20Items/;UID=7/;SECTION=1.2/;PARTIAL=0.10;URLAUTH=submit+alice%40example.org"
    );
    assert_eq!(c.rump(), Some(c.as_str()));
    assert_eq!(
        (c.user(), c.uid, &c.section, c.partial),
        (u.user(), u.uid, &u.section, u.partial)
    );
}

#[test]
fn sections_read_as_fetch_sections() {
    use crate::{Section, SectionText};
    let spec = |s: &str| {
        ImapUrl::parse(&format!("/INBOX/;UID=1/;SECTION={s}"))
            .unwrap()
            .section_spec()
    };
    assert_eq!(
        spec("1.2"),
        Ok(Some(Section {
            part: vec![1, 2],
            text: None
        }))
    );
    assert_eq!(
        spec("header"),
        Ok(Some(Section {
            part: vec![],
            text: Some(SectionText::Header)
        }))
    );
    assert_eq!(
        spec("2.HEADER.FIELDS%20(From%20To)"),
        Ok(Some(Section {
            part: vec![2],
            text: Some(SectionText::HeaderFields(vec!["From".into(), "To".into()]))
        }))
    );
    for bad in [
        "0",
        "FOO",
        "1]",
        "%5B",
        "HEADER.FIELDS%20%7B3%7D",
        "1%0D%0A",
    ] {
        assert!(spec(bad).is_err(), "{bad}");
    }
}

#[test]
fn rfc3339_dates() {
    assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
    assert_eq!(parse_rfc3339("2000-02-29T00:00:00z"), Some(951782400));
    assert_eq!(parse_rfc3339("2001-02-29T00:00:00Z"), None);
    assert_eq!(parse_rfc3339("2001-02-28T24:00:00Z"), None);
    assert_eq!(parse_rfc3339("2001-02-28T00:00:00"), None);
    assert_eq!(parse_rfc3339("2001-02-28T00:00:00.Z"), None);
    assert_eq!(parse_rfc3339("2001-02-28T00:00:00+1:00"), None);
}

fn component() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9 ./@%;:?&=+é-]{1,12}").unwrap()
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let _ = ImapUrl::parse(&s);
    }

    #[test]
    fn never_panics_on_url_like_text(s in "(imap://|/)[a-zA-Z0-9%@;:/=.+?\\[\\]-]{0,120}") {
        if let Ok(u) = ImapUrl::parse(&s) {
            // What parses re-encodes to something that parses to the same fields.
            let c = u.build().unwrap();
            prop_assert_eq!(c.mailbox, u.mailbox);
            prop_assert_eq!(c.uid, u.uid);
            prop_assert_eq!(c.section, u.section);
            prop_assert_eq!(c.urlauth, u.urlauth);
        }
    }

    #[test]
    fn fields_round_trip(
        user in proptest::option::of(component()),
        mailbox in component(),
        uidvalidity in proptest::option::of(1u32..),
        uid in 1u32..,
        section in proptest::option::of(component()),
        partial in proptest::option::of((0u32.., proptest::option::of(1u32..))),
        access in 0u8..4,
    ) {
        let access = match access {
            0 => Access::Submit(mailbox.clone()),
            1 => Access::User(mailbox.clone()),
            2 => Access::AuthUser,
            _ => Access::Anonymous,
        };
        let u = ImapUrl {
            server: Some(Server { user, auth: None, host: "mail.example".into(), port: None }),
            mailbox,
            uidvalidity,
            uid: Some(uid),
            section,
            partial,
            search: None,
            expire: None,
            urlauth: Some(UrlAuth { access, verifier: None }),
            raw: String::new(),
            rump_end: None,
        };
        let b = u.build().unwrap();
        prop_assert_eq!(&b.server, &u.server);
        prop_assert_eq!(&b.mailbox, &u.mailbox);
        prop_assert_eq!(b.uidvalidity, u.uidvalidity);
        prop_assert_eq!(b.uid, u.uid);
        prop_assert_eq!(&b.section, &u.section);
        prop_assert_eq!(b.partial, u.partial);
        prop_assert_eq!(&b.urlauth, &u.urlauth);
        prop_assert_eq!(b.rump(), Some(b.as_str()));
    }
}
