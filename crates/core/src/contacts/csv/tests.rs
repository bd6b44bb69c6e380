#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::contacts::tests::{check_invariants, crlf, lines_of};

fn parse_checked(data: &[u8]) -> ParsedContacts {
    let parsed = parse_csv(data);
    check_invariants(data, &parsed);
    parsed
}

/// As exported by Outlook ("Comma Separated Values"): every field quoted,
/// CRLF, a note spanning lines, an Exchange-internal address.
const OUTLOOK: &str = r#""Title","First Name","Middle Name","Last Name","Suffix","Company","Department","Job Title","Business Street","Business City","Business Postal Code","Business Phone","Home Phone","Mobile Phone","Birthday","Categories","E-mail Address","E-mail Type","E-mail Display Name","E-mail 2 Address","E-mail 2 Type","E-mail 2 Display Name","E-mail 3 Address","E-mail 3 Type","E-mail 3 Display Name","Notes","Web Page"
"","Anna","","Smith","","Contoso, Ltd.","Sales","","1 Main St","Redmond","98052","","","","0/0/00","","anna.smith@contoso.example","SMTP","Anna Smith (anna.smith@contoso.example)","Anna@Home.example","SMTP","Anna Smith (anna@home.example)","","","","Met at the ""big"" fair,
second line of notes","http://contoso.example"
"","","","","","Fabrikam","","","","","","","","","0/0/00","","info@fabrikam.example","SMTP","Fabrikam (info@fabrikam.example)","","","","","","","",""
"Dr.","Ben","K.","Ng","","","","","","","","","","+1 555 0100","0/0/00","","/o=ExchangeLabs/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=ben","EX","Ben Ng","ben.ng@example.org","SMTP","Ben Ng (ben.ng@example.org)","","","","",""
"","Phone","","Only","","","","","","","","","","+1 555 0101","0/0/00","","","","","","","","","","","",""
"#;

/// As exported by Google Contacts ("Google CSV", before 2024).
const GOOGLE: &str = "Name,Given Name,Additional Name,Family Name,Yomi Name,Given Name Yomi,Additional Name Yomi,Family Name Yomi,Name Prefix,Name Suffix,Initials,Nickname,Short Name,Maiden Name,Birthday,Gender,Location,Billing Information,Directory Server,Mileage,Occupation,Hobby,Sensitivity,Priority,Subject,Notes,Language,Photo,Group Membership,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Type,Phone 1 - Value
Jane Doe,Jane,,Doe,,,,,,,,,,,,,,,,,,,,,,\"Likes tea, not coffee\",,,* myContacts ::: Friends,* Home ::: Other,jane@gmail.example ::: Jane.D@Gmail.example,Work,jane.doe@corp.example,Mobile,+44 20 7946 0000
,Max,,Muster,,,,,,,,,,,,,,,,,,,,,,,,,* myContacts,* Other,max@muster.example ::: typo-at-example.com,,,,
";

/// Google Contacts' CSV since 2024.
const GOOGLE_NEW: &str = "First Name,Middle Name,Last Name,Phonetic First Name,Phonetic Middle Name,Phonetic Last Name,Name Prefix,Name Suffix,Nickname,File As,Organization Name,Organization Title,Organization Department,Birthday,Notes,Photo,Labels,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value
Lena,,Berg,,,,,,,,Initech,,,,,,* myContacts,* Home,lena@berg.example,Work,lena.berg@initech.example,Mobile,+49 170 1
,,,,,,,,,,Initech,,,,,,* myContacts,Work,office@initech.example,,,,
";

/// As exported by Thunderbird, whose rows end with a comma.
const THUNDERBIRD: &str = "First Name,Last Name,Display Name,Nickname,Primary Email,Secondary Email,Screen Name,Work Phone,Home Phone,Fax Number,Pager Number,Mobile Number,Home Address,Home Address 2,Home City,Home State,Home ZipCode,Home Country,Work Address,Work Address 2,Work City,Work State,Work ZipCode,Work Country,Job Title,Department,Organization,Web Page 1,Web Page 2,Birth Year,Birth Month,Birth Day,Custom 1,Custom 2,Custom 3,Custom 4,Notes,
Bob,Builder,Bob the Builder,bob,bob@builder.example,BOB@builder.example,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,Fixes things,
Carol,Kim,,,carol@kim.example,carol@home.example,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,
";

fn all_samples() -> Vec<u8> {
    // One file per exporter; separate parses would hide line-counting drift,
    // so the samples are also checked one after the other below.
    let mut v = crlf(OUTLOOK);
    v.extend_from_slice(GOOGLE.as_bytes());
    v.extend_from_slice(GOOGLE_NEW.as_bytes());
    v.extend_from_slice(THUNDERBIRD.as_bytes());
    v
}

#[test]
fn outlook_export() {
    let p = parse_checked(&crlf(OUTLOOK));
    assert_eq!(p.contacts.len(), 3, "{p:#?}");
    let anna = &p.contacts[0];
    assert_eq!(anna.name, "Anna Smith");
    assert_eq!(
        anna.emails,
        ["anna.smith@contoso.example", "anna@home.example"]
    );
    assert_eq!(anna.note, "Met at the \"big\" fair,\nsecond line of notes");
    assert_eq!(anna.line, 2);
    assert_eq!(p.contacts[1].name, "Fabrikam");
    assert_eq!(p.contacts[1].line, 4);
    // The Exchange-internal address is reported; the SMTP one is kept.
    assert_eq!(p.contacts[2].name, "Ben Ng");
    assert_eq!(p.contacts[2].emails, ["ben.ng@example.org"]);
    assert_eq!(lines_of(&p.errors), [5]);
    assert!(
        p.errors[0]
            .message
            .starts_with("\"E-mail Address\" \"/o=ExchangeLabs")
    );
    assert_eq!(lines_of(&p.skipped), [6]);
    assert!(p.skipped[0].message.contains("Phone Only"));
}

#[test]
fn google_export_with_several_addresses_per_cell() {
    let p = parse_checked(GOOGLE.as_bytes());
    assert_eq!(p.contacts.len(), 2, "{p:#?}");
    let jane = &p.contacts[0];
    assert_eq!(jane.name, "Jane Doe");
    assert_eq!(
        jane.emails,
        [
            "jane@gmail.example",
            "jane.d@gmail.example",
            "jane.doe@corp.example"
        ]
    );
    assert_eq!(jane.note, "Likes tea, not coffee");
    assert_eq!(p.contacts[1].name, "Max Muster");
    assert_eq!(p.contacts[1].emails, ["max@muster.example"]);
    assert_eq!(lines_of(&p.errors), [3]);
    assert!(p.errors[0].message.contains("typo-at-example.com"));
}

#[test]
fn google_new_export() {
    let p = parse_checked(GOOGLE_NEW.as_bytes());
    assert_eq!(p.errors, []);
    let names: Vec<&str> = p.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["Lena Berg", "Initech"]);
    assert_eq!(
        p.contacts[0].emails,
        ["lena@berg.example", "lena.berg@initech.example"]
    );
}

#[test]
fn thunderbird_export() {
    let p = parse_checked(THUNDERBIRD.as_bytes());
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts.len(), 2);
    assert_eq!(p.contacts[0].name, "Bob the Builder");
    assert_eq!(p.contacts[0].emails, ["bob@builder.example"]);
    assert_eq!(p.contacts[0].note, "Fixes things");
    assert_eq!(p.contacts[1].name, "Carol Kim");
    assert_eq!(
        p.contacts[1].emails,
        ["carol@kim.example", "carol@home.example"]
    );
}

#[test]
fn samples_one_after_another() {
    // Each sample's header becomes a data row of the first header's width or
    // a field-count error; what matters is that line numbers stay right.
    let data = all_samples();
    let p = parse_checked(&data);
    let text = String::from_utf8_lossy(&data);
    let google_header = text
        .lines()
        .position(|l| l.starts_with("Name,Given"))
        .unwrap()
        + 1;
    assert!(
        lines_of(&p.errors).contains(&google_header),
        "{:#?}",
        p.errors
    );
}

#[test]
fn simple_files_and_column_names() {
    let p = parse_checked(b"name,EMAIL\nA,a@x.org\n");
    assert_eq!(p.contacts[0].name, "A");
    assert_eq!(p.contacts[0].emails, ["a@x.org"]);
    let p = parse_checked(
        b"Full Name,Email Address,E-mail 2,Work Email,Note\n\"Smith, John\",<J@X.org>,j@x.org,\"John <john@work.example>\",n\n",
    );
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "Smith, John");
    assert_eq!(p.contacts[0].emails, ["j@x.org", "john@work.example"]);
    assert_eq!(p.contacts[0].note, "n");
    let p = parse_checked(b"Given Name,Family Name,Primary Email\n Ann , Lee ,ann@lee.example\n");
    assert_eq!(p.contacts[0].name, "Ann Lee");
    let p = parse_checked(b"Email\nsolo@x.org\n");
    assert_eq!(p.contacts[0].name, "");
    assert_eq!(p.contacts[0].emails, ["solo@x.org"]);
}

#[test]
fn header_roles() {
    for (header, want) in [
        ("Name", Role::FullName),
        ("Display Name", Role::FullName),
        ("full_name", Role::FullName),
        ("First Name", Role::Given),
        ("Given Name", Role::Given),
        ("Last Name", Role::Family),
        ("Family Name", Role::Family),
        ("Given Name Yomi", Role::Other),
        ("Email", Role::Email),
        ("E-mail", Role::Email),
        ("Email Address", Role::Email),
        ("E-mail Address", Role::Email),
        ("E-mail 2 Address", Role::Email),
        ("Email 2", Role::Email),
        ("Email Address 3", Role::Email),
        ("Primary Email", Role::Email),
        ("Secondary Email", Role::Email),
        ("E-mail 1 - Value", Role::Email),
        ("E-MAIL 12 - VALUE", Role::Email),
        ("E-mail 1 - Type", Role::Other),
        ("E-mail 1 - Label", Role::Other),
        ("E-mail Type", Role::Other),
        ("E-mail Display Name", Role::Other),
        ("Home Address", Role::Other),
        ("Notes", Role::Note),
        ("note", Role::Note),
        ("Organization", Role::Org),
        ("", Role::Other),
    ] {
        assert_eq!(role(header), want, "{header:?}");
    }
}

#[test]
fn semicolons_bom_and_tabs() {
    let mut data = b"\xef\xbb\xbf".to_vec();
    data.extend_from_slice(
        "Name;E-Mail;Notes\r\nMüller, Hans;hans@example.de;\"Notiz; mit Semikolon\"\r\n".as_bytes(),
    );
    let p = parse_checked(&data);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "Müller, Hans");
    assert_eq!(p.contacts[0].note, "Notiz; mit Semikolon");
    let p = parse_checked(b"Name\tEmail\tNotes\nA, B\ta@x.org\tx;y\n");
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "A, B");
    // A quoted comma in the header does not make it comma-separated.
    let p = parse_checked(b"\"Name, full\";Email\nA;a@x.org\n");
    assert_eq!(p.contacts[0].emails, ["a@x.org"]);
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "Name\tEmail\r\nZoë\tz@x.org\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let p = parse_checked(&utf16);
    assert_eq!(p.contacts[0].name, "Zoë");
}

#[test]
fn excel_separator_hint_line() {
    let p = parse_checked(b"sep=;\r\nName;Email\r\n\"A, B\";a@x.org\r\n");
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "A, B");
    assert_eq!(p.contacts[0].line, 3);
    let p = parse_checked(b"SEP=|\nName|Email\nA|a@x.org");
    assert_eq!(p.contacts[0].emails, ["a@x.org"]);
    let p = parse_checked(b"sep=;");
    assert_eq!(p, ParsedContacts::default());
    let p = parse_checked(b"sep=;\n");
    assert_eq!(p, ParsedContacts::default());
    // Not a hint: an ordinary header that happens to start that way.
    let p = parse_checked(b"sep=x,Email\n1,a@x.org\n");
    assert_eq!(p.contacts.len(), 1);
}

#[test]
fn line_endings() {
    for data in [
        &b"Name,Email\nA,a@x.org\n\nB,b@x.org"[..],
        b"Name,Email\r\nA,a@x.org\r\n\r\nB,b@x.org\r\n",
        b"Name,Email\rA,a@x.org\r\rB,b@x.org\r",
    ] {
        let p = parse_checked(data);
        assert_eq!(p.errors, []);
        let lines: Vec<usize> = p.contacts.iter().map(|c| c.line).collect();
        assert_eq!(lines, [2, 4], "{data:?}");
    }
}

#[test]
fn bad_rows_reported_with_their_numbers() {
    let data = b"Name,Email,Notes
A,a@x.org,\"multi
line
note\"
B,b@x.org,plain

C,not-an-email,x
D,d@x.org
,,
E,,\"no email\"
\"F \"\"quoted\"\"\",\"
f@x.org\",
G,g@x.org,h,i
H,h@x.org,\"unterminated
I,i@x.org,
";
    let p = parse_checked(data);
    let names: Vec<&str> = p.contacts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["A", "B", "F \"quoted\""]);
    let starts: Vec<usize> = p.contacts.iter().map(|c| c.line).collect();
    assert_eq!(starts, [2, 5, 11]);
    assert_eq!(p.contacts[0].note, "multi\nline\nnote");
    assert_eq!(lines_of(&p.errors), [7, 8, 13, 14], "{:#?}", p.errors);
    assert!(p.errors[0].message.contains("\"not-an-email\""));
    assert!(p.errors[1].message.contains("2 fields"));
    assert!(p.errors[2].message.contains("4 fields"));
    assert!(p.errors[3].message.contains("never closed"));
    assert_eq!(lines_of(&p.skipped), [7, 10]);
    assert!(p.skipped[0].message.contains("no valid email"));
    assert_eq!(p.skipped[1].message, "row \"E\" has no email address");
}

#[test]
fn email_field_on_a_later_line_of_its_record() {
    let p = parse_checked(b"Notes,Email\n\"one\ntwo\",bad\n");
    assert_eq!(lines_of(&p.errors), [3]);
    assert_eq!(lines_of(&p.skipped), [2]);
}

#[test]
fn header_without_email_column() {
    let p = parse_checked(b"Name,Phone\nA,1\nB,2\n");
    assert_eq!(p.contacts, []);
    assert_eq!(p.skipped, []);
    assert_eq!(lines_of(&p.errors), [1]);
    assert!(p.errors[0].message.contains("no email column"));
    let p = parse_checked(b"Bob,bob@x.org\nAnn,ann@x.org\n");
    assert_eq!(lines_of(&p.errors), [1]);
    assert!(p.errors[0].message.contains("header"));
    assert_eq!(p.contacts, []);
}

#[test]
fn lenient_quotes() {
    let p = parse_checked(b"Name,Email\nBob \"The Builder\",bob@x.org\n\"ab\"cd,c@x.org\n");
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[0].name, "Bob \"The Builder\"");
    assert_eq!(p.contacts[1].name, "abcd");
}

#[test]
fn windows_1252_fields() {
    let p = parse_checked(b"Name,Email\nJ\xfcrgen M\xfcller,j@x.org\nZo\xc3\xab,z@x.org\n");
    assert_eq!(p.contacts[0].name, "Jürgen Müller");
    assert_eq!(p.contacts[1].name, "Zoë");
}

#[test]
fn empty_input() {
    for data in [
        &b""[..],
        b"\xef\xbb\xbf",
        b"\n\r\n\n",
        b"Name,Email\n",
        b"Name,Email\n,\n\n",
    ] {
        assert_eq!(parse_checked(data), ParsedContacts::default(), "{data:?}");
    }
    let p = parse_checked(b"\"Name,Email\n");
    assert_eq!(lines_of(&p.errors), [1]);
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
}

#[test]
fn every_truncation_of_the_samples() {
    let data = all_samples();
    for end in 0..=data.len() {
        parse_checked(&data[..end]);
    }
}

/// Random mixtures of the pieces CSV parsing cares about.
#[test]
fn random_token_soup() {
    const TOKENS: &[&[u8]] = &[
        b"Name",
        b"Email",
        b"Notes",
        b"E-mail 1 - Value",
        b",",
        b";",
        b"\t",
        b"\"",
        b"\"\"",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"a@b.org",
        b" ::: ",
        b"x",
        b"\xc3",
        b"\xff",
        b"\0",
        b"\xef\xbb\xbf",
        b"<",
        b">",
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
        let mut data = b"Name,Email\n".to_vec();
        if next() % 4 == 0 {
            data.clear();
        }
        data.extend((0..len).flat_map(|_| TOKENS[(next() % TOKENS.len() as u64) as usize]));
        parse_checked(&data);
    }
}

#[test]
fn hundred_thousand_contacts() {
    let mut s = String::from("\"First Name\",\"Last Name\",\"E-mail Address\",\"Notes\"\r\n");
    for i in 0..100_000 {
        s.push_str(&format!(
            "\"Person\",\"{i}\",\"person{i}@example.com\",\"Number {i}, generated\"\r\n"
        ));
    }
    let data = s.into_bytes();
    let p = parse_csv(&data);
    assert_eq!(p.contacts.len(), 100_000);
    assert_eq!(p.errors, []);
    assert_eq!(p.contacts[99_999].line, 100_001);
    assert_eq!(p.contacts[99_999].name, "Person 99999");
}

/// Hostile shapes that would make a careless parser quadratic.
#[test]
fn long_runs_stay_linear() {
    let mut quoted = b"Name,Email\n\"".to_vec();
    quoted.extend(b"\"\"\n".repeat(300_000));
    parse_checked(&quoted);
    let mut wide = b"Email".to_vec();
    wide.extend(b",Email".repeat(100_000));
    wide.extend(b"\na@x.org");
    wide.extend(b",a@x.org".repeat(100_000));
    assert_eq!(parse_checked(&wide).contacts[0].emails, ["a@x.org"]);
    let mut ragged = b"Name,Email\n".to_vec();
    ragged.extend(b"a\n".repeat(300_000));
    assert_eq!(parse_checked(&ragged).errors.len(), 300_000);
}
