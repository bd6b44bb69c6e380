#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::contacts::tests::{check_invariants, crlf, lines_of};

fn parse_checked(data: &[u8]) -> ParsedContacts {
    let parsed = parse_vcard(data);
    check_invariants(data, &parsed);
    parsed
}

/// As exported by Apple Contacts (macOS 14): CRLF, `item1.` groups with
/// X-ABLabel, repeated `type=` parameters, a folded base64 photo, group cards.
const APPLE: &str = "BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.4//EN
N:Appleseed;John;Q.;Mr.;
FN:John Appleseed
ORG:Apple Inc.;Engineering
TITLE:Engineer
item1.EMAIL;type=INTERNET;type=HOME;type=pref:John.Appleseed@Example.com
item1.X-ABLabel:_$!<Other>!$_
EMAIL;type=INTERNET;type=WORK:jappleseed@apple.example
TEL;type=CELL;type=VOICE;type=pref:+1 (555) 010-0100
item2.ADR;type=HOME;type=pref:;;1 Infinite Loop;Cupertino;CA;95014;United States
item2.X-ABADR:us
NOTE:Met at WWDC\\nLikes apples\\, pears\\; and plums
BDAY:1976-04-01
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYHBwYICQ
 oICAgJCgoKCgkJCgkJDAwKCw0MCgoMDAwMDAwMDAwMDAwMDAz/wAARCAABAAEDASIAAhEBAxEB
 /8QAFQABAQAAAAAAAAAAAAAAAAAAAAr/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/9oADAMBAAIQAxAA==
X-ABUID:5AD380FD-B2DE-4261-BA99-DE1D1DB52FBE:ABPerson
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.4//EN
N:;;;;
FN:Family
X-ADDRESSBOOKSERVER-KIND:group
X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:5AD380FD-B2DE-4261-BA99-DE1D1DB52FBE
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Apple Inc.//macOS 14.4//EN
N:;;;;
FN:Acme Corp
ORG:Acme Corp;
EMAIL;type=INTERNET;type=WORK;type=pref:sales@acme.example
X-ABShowAs:COMPANY
END:VCARD
";

/// As exported by Google Contacts ("vCard (for iOS Contacts)").
const GOOGLE: &str = "BEGIN:VCARD
VERSION:3.0
FN:Jane Doe
N:Doe;Jane;;;
EMAIL;TYPE=INTERNET;TYPE=HOME:jane.doe@gmail.example
EMAIL;TYPE=INTERNET;TYPE=WORK:Jane.Doe@Corp.example
EMAIL;TYPE=INTERNET:JANE.DOE@gmail.example
TEL;TYPE=CELL:+44 20 7946 0000
item1.EMAIL;TYPE=INTERNET:jd@other.example
item1.X-ABLabel:Old school
ADR;TYPE=HOME:;;221B Baker St;London;;NW1 6XE;United Kingdom
NOTE:Likes tea.
CATEGORIES:myContacts,Friends
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:
N:;;;;
EMAIL;TYPE=INTERNET;TYPE=OTHER:noname@example.net
CATEGORIES:myContacts
END:VCARD
";

/// As exported by Thunderbird 115 (vCard 4.0), LF line endings.
const THUNDERBIRD: &str = "BEGIN:VCARD
VERSION:4.0
EMAIL;PREF=1:bob@builder.example
EMAIL;TYPE=work:bob@work.example
FN:Bob Builder
N:Builder;Bob;;;
NICKNAME:bob
NOTE:Can we fix it?\\nYes we can!
TEL;TYPE=\"work,voice\";VALUE=TEXT:+1 555 0199
UID:3bd2ae2a-4a0d-4d6f-8c2d-0c7b5e3b4b8e
END:VCARD
BEGIN:VCARD
VERSION:4.0
EMAIL;TYPE=home;LABEL=\"Home: main; old\":mailto:carol@example.org
FN:Carol
UID:9c1f07b4-5ee2-4b1e-a0a4-3e1a51a1d2aa
END:VCARD
";

/// As exported by Nextcloud Contacts (Sabre VObject), folded at 75 octets,
/// here in the middle of a UTF-8 sequence.
fn nextcloud() -> Vec<u8> {
    let mut v = crlf(
        "BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:a6f2c1e8-7d6b-4c3e-9b1a-2f5e8d7c6b5a
FN:Nina Wolke
N:Wolke;Nina;;;
ADR;TYPE=HOME:;;Königstraße 1;Stuttgart;;70173;Deutschland
EMAIL;TYPE=HOME:nina@wolke.example
EMAIL;TYPE=WORK:nina.wolke@nextcloud.example
TEL;TYPE=HOME,VOICE:+49 711 000000
REV;VALUE=DATE-AND-OR-TIME:20240115T101112Z
NOTE:Eine sehr lange Notiz über die Wolke\\, die über fünfundsiebzig Oktette g",
    );
    v.extend_from_slice(b"eht und im Zeichen \xc3\r\n \xbc umbrochen wird\r\n");
    v.extend(crlf(
        "CATEGORIES:Work
END:VCARD
BEGIN:VCARD
VERSION:3.0
PRODID:-//Sabre//Sabre VObject 4.5.4//EN
UID:0f0e1d2c-3b4a-5968-7a6b-5c4d3e2f1a0b
FN:Phone Only
TEL;TYPE=CELL:+49 170 0000000
END:VCARD
",
    ));
    v
}

/// vCard 2.1 as written by Outlook: bare parameters, Windows-1252 text and
/// quoted-printable notes with soft line breaks.
fn outlook() -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(b"BEGIN:VCARD\r\nVERSION:2.1\r\n");
    v.extend_from_slice(b"N;LANGUAGE=de;CHARSET=Windows-1252:M\xfcller;J\xfcrgen\r\n");
    v.extend_from_slice(b"FN;CHARSET=windows-1252:J\xfcrgen M\xfcller\r\n");
    v.extend_from_slice(b"ORG:Beispiel GmbH\r\n");
    v.extend_from_slice(b"EMAIL;PREF;INTERNET:Juergen.Mueller@Beispiel.example\r\n");
    v.extend_from_slice(
        b"NOTE;ENCODING=QUOTED-PRINTABLE;CHARSET=utf-8:Erste Zeile=0D=0AZweite mit =C3=BCmlaut und sehr langem =\r\n",
    );
    v.extend_from_slice(b"Text=2C der umbrochen =\r\nwird\r\n");
    v.extend_from_slice(b"X-MS-OL-DEFAULT-POSTAL-ADDRESS:0\r\nEND:VCARD\r\n");
    v
}

/// vCard 2.1 from an old phone: base64 photo lines not indented, ended by a blank line.
const OLD_PHONE: &str = "BEGIN:VCARD
VERSION:2.1
N:Phone;Old;;;
TEL;CELL:555
EMAIL;HOME:old@phone.example
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD
4AAQSkZJRgABAQAAAQABAAD4AAQSkZJRgABAQAAAQABAAD
abc+/==

END:VCARD
";

fn all_samples() -> Vec<u8> {
    let mut v = crlf(APPLE);
    v.extend(crlf(GOOGLE));
    v.extend_from_slice(THUNDERBIRD.as_bytes());
    v.extend(nextcloud());
    v.extend(outlook());
    v.extend_from_slice(OLD_PHONE.as_bytes());
    v
}

#[test]
fn apple_contacts() {
    let p = parse_checked(&crlf(APPLE));
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 2);
    let john = &p.contacts[0];
    assert_eq!(john.name, "John Appleseed");
    assert_eq!(
        john.emails,
        ["john.appleseed@example.com", "jappleseed@apple.example"]
    );
    assert_eq!(john.note, "Met at WWDC\nLikes apples, pears; and plums");
    assert_eq!(john.line, 1);
    assert_eq!(p.contacts[1].name, "Acme Corp");
    assert_eq!(p.contacts[1].line, 29);
    // The group card has no address of its own.
    assert_eq!(lines_of(&p.skipped), [21]);
    assert!(
        p.skipped[0].message.contains("\"Family\""),
        "{:?}",
        p.skipped
    );
}

#[test]
fn google_contacts() {
    let p = parse_checked(&crlf(GOOGLE));
    assert_eq!(p.errors, []);
    assert_eq!(p.skipped, []);
    assert_eq!(p.contacts.len(), 2);
    assert_eq!(p.contacts[0].name, "Jane Doe");
    assert_eq!(
        p.contacts[0].emails,
        [
            "jane.doe@gmail.example",
            "jane.doe@corp.example",
            "jd@other.example"
        ]
    );
    assert_eq!(p.contacts[0].note, "Likes tea.");
    assert_eq!(p.contacts[1].name, "");
    assert_eq!(p.contacts[1].emails, ["noname@example.net"]);
    assert_eq!(p.contacts[1].line, 15);
}

#[test]
fn thunderbird_vcard4() {
    let p = parse_checked(THUNDERBIRD.as_bytes());
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 2);
    assert_eq!(p.contacts[0].name, "Bob Builder");
    assert_eq!(
        p.contacts[0].emails,
        ["bob@builder.example", "bob@work.example"]
    );
    assert_eq!(p.contacts[0].note, "Can we fix it?\nYes we can!");
    // A quoted parameter value holding ':' and ';' does not end the parameters.
    assert_eq!(p.contacts[1].emails, ["carol@example.org"]);
    assert_eq!(p.contacts[1].line, 12);
}

#[test]
fn nextcloud_folded_inside_a_character() {
    let p = parse_checked(&nextcloud());
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 1);
    let nina = &p.contacts[0];
    assert_eq!(nina.name, "Nina Wolke");
    assert_eq!(
        nina.emails,
        ["nina@wolke.example", "nina.wolke@nextcloud.example"]
    );
    assert_eq!(
        nina.note,
        "Eine sehr lange Notiz über die Wolke, die über fünfundsiebzig Oktette \
         geht und im Zeichen ü umbrochen wird"
    );
    assert_eq!(lines_of(&p.skipped), [16]);
    assert!(p.skipped[0].message.contains("Phone Only"));
}

#[test]
fn outlook_vcard21_charset_and_quoted_printable() {
    let p = parse_checked(&outlook());
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 1);
    let c = &p.contacts[0];
    assert_eq!(c.name, "Jürgen Müller");
    assert_eq!(c.emails, ["juergen.mueller@beispiel.example"]);
    assert_eq!(
        c.note,
        "Erste Zeile\nZweite mit ümlaut und sehr langem Text, der umbrochen wird"
    );
}

#[test]
fn unindented_base64_of_old_phones_is_not_an_error() {
    let p = parse_checked(OLD_PHONE.as_bytes());
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 1);
    assert_eq!(p.contacts[0].name, "Old Phone");
    assert_eq!(p.contacts[0].emails, ["old@phone.example"]);
}

#[test]
fn all_samples_together_keep_their_line_numbers() {
    let data = all_samples();
    let p = parse_checked(&data);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 2 + 2 + 2 + 1 + 1 + 1);
    assert_eq!(p.skipped.len(), 2);
    // Each record starts on a BEGIN:VCARD line, counted as an editor would.
    let text = String::from_utf8_lossy(&data);
    let begins: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with("BEGIN:VCARD"))
        .map(|(i, _)| i + 1)
        .collect();
    let mut starts: Vec<usize> = p.contacts.iter().map(|c| c.line).collect();
    starts.extend(lines_of(&p.skipped));
    starts.sort_unstable();
    assert_eq!(starts, begins);
}

#[test]
fn folded_lines() {
    let data = crlf(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ver\n y Long\n\tName\nEM\n AIL;TYPE=INTERNET:some.body@exa\n mple.org\n\
         NOTE:one\n  two\nEND:VCARD\nBEGIN:VCARD\nFN:Next\nEMAIL:next@example.org\nEND:VCARD\n",
    );
    let p = parse_checked(&data);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "Very LongName");
    assert_eq!(p.contacts[0].emails, ["some.body@example.org"]);
    assert_eq!(p.contacts[0].note, "one two");
    assert_eq!(p.contacts[1].line, 12);
    // LF-only and tab folds too.
    let p = parse_checked(b"BEGIN:VCARD\nEMAIL:a@\n\tb.org\nEND:VCARD");
    assert_eq!(p.contacts[0].emails, ["a@b.org"]);
}

#[test]
fn several_emails_kept_in_order_without_duplicates() {
    let p = parse_checked(
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Many\nEMAIL:b@x.org\nEMAIL;TYPE=work:A@X.org\n\
          EMAIL:mailto:b@x.org\nitem1.EMAIL:<a@x.org>\nEMAIL:c@x.org\\, d@x.org\nEMAIL:\nEND:VCARD\n",
    );
    assert_eq!(p.errors, []);
    assert_eq!(
        p.contacts[0].emails,
        ["b@x.org", "a@x.org", "c@x.org", "d@x.org"]
    );
}

#[test]
fn names_from_fn_else_n_else_org() {
    let p = parse_checked(
        b"BEGIN:VCARD\nN:Family;Given;Middle;Dr.;\nEMAIL:1@x.org\nEND:VCARD\n\
          BEGIN:VCARD\nFN:\nN:O\\;Brien;Pat\nEMAIL:2@x.org\nEND:VCARD\n\
          BEGIN:VCARD\nORG:Widgets\\, Inc.;Sales\nEMAIL:3@x.org\nEND:VCARD\n\
          BEGIN:VCARD\nEMAIL:4@x.org\nEND:VCARD\n\
          BEGIN:VCARD\nN:;Prince;;;\nFN;LANGUAGE=en:First\nFN;LANGUAGE=de:Zweiter\nEMAIL:5@x.org\nEND:VCARD\n",
    );
    let names: Vec<&str> = p.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["Given Family", "Pat O;Brien", "Widgets, Inc.", "", "First"]
    );
}

#[test]
fn escapes() {
    let p = parse_checked(
        b"BEGIN:VCARD\nFN:A\\, B\nEMAIL:a@x.org\nNOTE:a\\,b\\;c\\\\d\\ne\\Nf C:\\temp\\\nNOTE:second\nEND:VCARD\n",
    );
    assert_eq!(p.contacts[0].name, "A, B");
    assert_eq!(p.contacts[0].note, "a,b;c\\d\ne\nf C:\\temp\\\nsecond");
}

#[test]
fn case_insensitive_names() {
    let p = parse_checked(
        b"begin:vcard\nversion:3.0\nfn:Lower\nitem3.email;type=internet:LOWER@Case.example\nNote:n\nEnd:VCard\n",
    );
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "Lower");
    assert_eq!(p.contacts[0].emails, ["lower@case.example"]);
    assert_eq!(p.contacts[0].note, "n");
}

#[test]
fn byte_order_marks() {
    let mut data = b"\xef\xbb\xbf".to_vec();
    data.extend(crlf(GOOGLE));
    assert_eq!(parse_checked(&data).contacts.len(), 2);
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(THUNDERBIRD.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let p = parse_checked(&utf16);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 2);
    assert_eq!(p.contacts[1].line, 12);
}

#[test]
fn invalid_utf8_is_replaced() {
    let p = parse_checked(b"BEGIN:VCARD\nFN:Bad\xff\xfeName\nEMAIL:bad@utf.example\nEND:VCARD\n");
    assert_eq!(p.errors, []);
    assert!(p.contacts[0].name.contains('\u{fffd}'));
    let p = parse_checked(b"BEGIN:VCARD\nEMAIL:b\xffd@utf.example\nEND:VCARD\n");
    assert_eq!(lines_of(&p.errors), [2]);
    assert_eq!(lines_of(&p.skipped), [1]);
}

#[test]
fn bad_lines_reported_with_their_numbers() {
    let data = crlf(
        "BEGIN:VCARD
FN:A
EMAIL:not-an-address
EMAIL:a@x.org
this line is junk
END:VCARD
garbage
more garbage

BEGIN:VCARD
FN:B
NOTE:folded
 note
EMAIL:bad@
END:VCARD
END:VCARD
BEGIN:VCARD
FN:C
EMAIL:c@x.org
BEGIN:VCARD
FN:D
EMAIL:d@x.org
",
    );
    let p = parse_checked(&data);
    assert_eq!(
        lines_of(&p.errors),
        [3, 5, 7, 14, 16, 17, 20],
        "{:#?}",
        p.errors
    );
    assert!(p.errors[0].message.contains("\"not-an-address\""));
    assert!(p.errors[1].message.contains("malformed"));
    assert!(p.errors[2].message.contains("outside"));
    assert!(p.errors[4].message.contains("without BEGIN"));
    assert!(p.errors[5].message.contains("no END:VCARD"));
    assert!(p.errors[6].message.contains("no END:VCARD"));
    assert_eq!(p.contacts.len(), 1);
    assert_eq!(p.contacts[0].emails, ["a@x.org"]);
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].line, 10);
    assert!(p.skipped[0].message.contains("no valid email"));
}

#[test]
fn empty_and_blank_input() {
    for data in [&b""[..], b"\n\n  \r\n\t\r", b"\xef\xbb\xbf"] {
        assert_eq!(parse_checked(data), ParsedContacts::default(), "{data:?}");
    }
    let p = parse_checked(b"BEGIN:VCARD\nEND:VCARD\n");
    assert_eq!(p.contacts, []);
    assert_eq!(p.skipped[0].message, "vCard has no email address");
}

#[test]
fn missing_end_at_end_of_file() {
    let p = parse_checked(
        b"BEGIN:VCARD\nFN:A\nEMAIL:a@x.org\nEND:VCARD\n\nBEGIN:VCARD\nFN:B\nEMAIL:b@x.org\n",
    );
    assert_eq!(p.contacts.len(), 1);
    assert_eq!(lines_of(&p.errors), [6]);
}

#[test]
fn corrupt_quoted_printable_does_not_swallow_end() {
    let p = parse_checked(b"BEGIN:VCARD\nEMAIL:a@x.org\nNOTE;QUOTED-PRINTABLE:x=\nEND:VCARD\n");
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].note, "x");
}

#[test]
fn base64_text_values() {
    // "Zoë" in base64, as some writers encode non-ASCII text.
    let p = parse_checked(b"BEGIN:VCARD\nFN;ENCODING=b:Wm/Dqw==\nEMAIL:z@x.org\nEND:VCARD\n");
    assert_eq!(p.contacts[0].name, "Zoë");
}

#[test]
fn binary_garbage() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let data: Vec<u8> = (0..200_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    let p = parse_checked(&data);
    assert_eq!(p.contacts, []);
    assert!(!p.errors.is_empty());
}

#[test]
fn every_truncation_of_the_samples() {
    let data = all_samples();
    for end in 0..=data.len() {
        parse_checked(&data[..end]);
    }
}

/// Random mixtures of the pieces vCard parsing cares about.
#[test]
fn random_token_soup() {
    const TOKENS: &[&[u8]] = &[
        b"BEGIN:VCARD",
        b"END:VCARD",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"\t",
        b":",
        b";",
        b"=",
        b"\"",
        b"\\",
        b".",
        b"EMAIL",
        b"FN",
        b"N",
        b"NOTE",
        b"ORG",
        b"item1.",
        b"a@b.org",
        b"ENCODING=QUOTED-PRINTABLE",
        b"CHARSET=latin1",
        b"ENCODING=b",
        b"BASE64",
        b"=C3",
        b"=\r\n",
        b"\xc3",
        b"\xff",
        b"\0",
        b"\xef\xbb\xbf",
        b"mailto:",
        b"<",
        b">",
        b",",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        let len = (next() % 60) as usize;
        let data: Vec<u8> = (0..len)
            .flat_map(|_| {
                TOKENS[(next() % TOKENS.len() as u64) as usize]
                    .iter()
                    .copied()
            })
            .collect();
        parse_checked(&data);
    }
}

fn generated(n: usize) -> Vec<u8> {
    let mut s = String::with_capacity(n * 110);
    for i in 0..n {
        s.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Person {i}\r\nEMAIL;TYPE=INTERNET:person{i}@example.com\r\n\
             NOTE:Number {i}\\, generated\r\nEND:VCARD\r\n"
        ));
    }
    s.into_bytes()
}

#[test]
fn hundred_thousand_contacts() {
    let data = generated(100_000);
    let p = parse_vcard(&data);
    assert_eq!(p.contacts.len(), 100_000);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[99_999].line, 99_999 * 6 + 1);
    assert_eq!(p.contacts[99_999].emails, ["person99999@example.com"]);
    // Timing is only meaningful with optimisations.
}

/// Hostile shapes that would make a careless parser quadratic.
#[test]
fn long_runs_stay_linear() {
    let mut folds = b"BEGIN:VCARD\nNOTE".to_vec();
    folds.extend(b"\n =".repeat(300_000));
    parse_checked(&folds);
    let mut qp = b"BEGIN:VCARD\nNOTE;QUOTED-PRINTABLE:".to_vec();
    qp.extend(b"ab=\n".repeat(300_000));
    parse_checked(&qp);
    let mut emails = b"BEGIN:VCARD\n".to_vec();
    for i in 0..50_000 {
        emails.extend(format!("EMAIL:a{}@x.org\n", i % 25_000).bytes());
    }
    emails.extend(b"END:VCARD\n");
    assert_eq!(parse_checked(&emails).contacts[0].emails.len(), 25_000);
    let junk = b"junk\n".repeat(300_000);
    assert_eq!(parse_checked(&junk).errors.len(), 1);
}
