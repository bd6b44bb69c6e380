//! SEARCH evaluation (RFC 3501 6.4.4): every key against one message, with
//! header and body matches over decoded text, case-insensitively.

use imap_proto::SearchKey;
use store::{Flags, SearchFields};

use crate::session::selected::Msg;

/// What the keys need beyond flags, sizes and dates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    pub header: bool,
    pub text: bool,
    pub sent_date: bool,
}

pub fn needs(keys: &[SearchKey]) -> Needs {
    let mut n = Needs::default();
    for k in keys {
        needs_of(k, &mut n);
    }
    n
}

fn needs_of(k: &SearchKey, n: &mut Needs) {
    use SearchKey as K;
    match k {
        K::Bcc(_) | K::Cc(_) | K::From(_) | K::To(_) | K::Subject(_) | K::Header(..) => {
            n.header = true
        }
        K::Body(_) => n.text = true,
        K::Text(_) => {
            n.header = true;
            n.text = true;
        }
        K::SentBefore(_) | K::SentOn(_) | K::SentSince(_) => {
            // The header gives the Date: field's own zone (RFC 3501 6.4.4).
            n.sent_date = true;
            n.header = true;
        }
        K::Not(k) => needs_of(k, n),
        K::Or(a, b) => {
            needs_of(a, n);
            needs_of(b, n);
        }
        K::And(keys) => keys.iter().for_each(|k| needs_of(k, n)),
        _ => {}
    }
}

/// One message as SEARCH sees it.
pub struct Candidate<'a> {
    pub seq: u32,
    pub msg: &'a Msg,
    pub sent_date: Option<i64>,
    /// Decoded header fields, names as sent.
    pub headers: Vec<(String, String)>,
    /// Lower-cased decoded body text.
    pub text: String,
    /// The raw header, for the address keys.
    raw_header: Option<&'a [u8]>,
}

impl<'a> Candidate<'a> {
    pub fn new(seq: u32, msg: &'a Msg, fields: Option<&'a SearchFields>) -> Candidate<'a> {
        let headers = fields
            .and_then(|f| f.header.as_deref())
            .map(store::summary::decoded_fields)
            .unwrap_or_default();
        let text = fields
            .and_then(|f| f.text.as_deref())
            .map(str::to_lowercase)
            .unwrap_or_default();
        let offset = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("date"))
            .and_then(|(_, v)| zone_offset(v))
            .unwrap_or(0);
        Candidate {
            seq,
            msg,
            sent_date: fields.and_then(|f| f.sent_date).map(|d| d + offset),
            headers,
            text,
            raw_header: fields.and_then(|f| f.header.as_deref()),
        }
    }

    /// FROM, TO, CC and BCC match the field as written or its addresses as
    /// `name <local@domain>`, so that comments and quoting inside an address
    /// do not hide it.
    fn address_contains(&self, name: &str, needle: &str) -> bool {
        self.header_contains(name, needle)
            || (!needle.is_empty()
                && self.raw_header.is_some_and(|h| {
                    store::summary::search_addresses(h, name)
                        .iter()
                        .any(|a| a.to_lowercase().contains(needle))
                }))
    }

    fn header_contains(&self, name: &str, needle: &str) -> bool {
        self.headers.iter().any(|(n, v)| {
            // I18NLEVEL=1 (RFC 5255 4): header fields compare under i;unicode-casemap.
            n.eq_ignore_ascii_case(name) && crate::sort::casemap::contains(v, needle)
        })
    }

    fn any_header_contains(&self, needle: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n.to_lowercase().contains(needle) || v.to_lowercase().contains(needle))
    }
}

/// The `+hhmm` / `-hhmm` zone of a Date: value, in seconds.
fn zone_offset(date: &str) -> Option<i64> {
    date.split_whitespace().find_map(|t| {
        let (sign, digits) = match t.as_bytes().first()? {
            b'+' => (1, &t[1..]),
            b'-' => (-1, &t[1..]),
            _ => return None,
        };
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let h: i64 = digits[..2].parse().ok()?;
        let m: i64 = digits[2..].parse().ok()?;
        Some(sign * (h * 3600 + m * 60))
    })
}

/// The mailbox-wide values `*` and relative dates need.
pub struct Context {
    pub max_seq: u32,
    pub max_uid: u32,
    pub now: i64,
}

const DAY: i64 = 86_400;

fn day(unix: i64) -> i64 {
    unix.div_euclid(DAY)
}

pub fn matches(key: &SearchKey, c: &Candidate<'_>, ctx: &Context) -> bool {
    use SearchKey as K;
    let flags = &c.msg.flags;
    let internal = day(c.msg.internal_date);
    let sent = c.sent_date.map(day);
    match key {
        K::All => true,
        K::Answered => flags.has(Flags::ANSWERED),
        K::Deleted => flags.has(Flags::DELETED),
        K::Draft => flags.has(Flags::DRAFT),
        K::Flagged => flags.has(Flags::FLAGGED),
        K::Seen => flags.has(Flags::SEEN),
        K::Unanswered => !flags.has(Flags::ANSWERED),
        K::Undeleted => !flags.has(Flags::DELETED),
        K::Undraft => !flags.has(Flags::DRAFT),
        K::Unflagged => !flags.has(Flags::FLAGGED),
        K::Unseen => !flags.has(Flags::SEEN),
        K::Recent => c.msg.recent,
        K::New => c.msg.recent && !flags.has(Flags::SEEN),
        K::Old => !c.msg.recent,
        K::Keyword(k) => flags.keywords.iter().any(|f| f.eq_ignore_ascii_case(k)),
        K::Unkeyword(k) => !flags.keywords.iter().any(|f| f.eq_ignore_ascii_case(k)),
        K::Before(d) => internal < d.days_since_epoch(),
        K::On(d) => internal == d.days_since_epoch(),
        K::Since(d) => internal >= d.days_since_epoch(),
        K::SentBefore(d) => sent.is_some_and(|s| s < d.days_since_epoch()),
        K::SentOn(d) => sent == Some(d.days_since_epoch()),
        K::SentSince(d) => sent.is_some_and(|s| s >= d.days_since_epoch()),
        K::Larger(n) => c.msg.size > *n,
        K::Smaller(n) => c.msg.size < *n,
        K::Bcc(s) => c.address_contains("bcc", &s.to_lowercase()),
        K::Cc(s) => c.address_contains("cc", &s.to_lowercase()),
        K::From(s) => c.address_contains("from", &s.to_lowercase()),
        K::To(s) => c.address_contains("to", &s.to_lowercase()),
        K::Subject(s) => c.header_contains("subject", &s.to_lowercase()),
        K::Header(name, s) => c.header_contains(name, &s.to_lowercase()),
        K::Body(s) => c.text.contains(&s.to_lowercase()),
        K::Text(s) => {
            let s = s.to_lowercase();
            c.text.contains(&s) || c.any_header_contains(&s)
        }
        K::Uid(set) => set.contains(c.msg.uid.0, ctx.max_uid),
        K::Sequence(set) => set.contains(c.seq, ctx.max_seq),
        K::Not(k) => !matches(k, c, ctx),
        K::Or(a, b) => matches(a, c, ctx) || matches(b, c, ctx),
        K::And(keys) => keys.iter().all(|k| matches(k, c, ctx)),
        K::ModSeq { mod_seq, .. } => c.msg.modseq.0 >= mod_seq.0,
        K::Older(secs) => ctx.now - c.msg.internal_date > i64::from(*secs),
        K::Younger(secs) => ctx.now - c.msg.internal_date <= i64::from(*secs),
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use imap_proto::{Date, SequenceSet};
    use store::{ModSeq, Uid};

    fn msg(uid: u32, system: u8, keywords: &[&str]) -> Msg {
        Msg {
            uid: Uid(uid),
            modseq: ModSeq(uid as u64),
            flags: Flags {
                system,
                keywords: keywords.iter().map(|k| k.to_string()).collect(),
            },
            internal_date: 1_000_000_000,
            size: 500,
            expunged: false,
            recent: false,
        }
    }

    #[test]
    fn keys_over_flags_headers_and_text() {
        let raw = "From: =?utf-8?q?J=C3=B6rg?= <jorg@example.com>\r\nSubject: Hello World\r\nDate: Sun, 9 Sep 2001 01:46:40 +0000\r\n\r\n";
        let fields = SearchFields {
            uid: Uid(3),
            sent_date: Some(1_000_000_000),
            header: Some(raw.as_bytes().to_vec()),
            text: Some("Grüße aus Berlin".into()),
        };
        let m = msg(3, Flags::SEEN, &["$Forwarded"]);
        let c = Candidate::new(1, &m, Some(&fields));
        let ctx = Context {
            max_seq: 1,
            max_uid: 3,
            now: 1_000_000_100,
        };
        let yes = |k: SearchKey| assert!(matches(&k, &c, &ctx), "{k:?}");
        let no = |k: SearchKey| assert!(!matches(&k, &c, &ctx), "{k:?}");
        yes(SearchKey::Seen);
        no(SearchKey::Unseen);
        yes(SearchKey::Keyword("$forwarded".into()));
        yes(SearchKey::From("jörg".into()));
        yes(SearchKey::From("EXAMPLE.com".into()));
        yes(SearchKey::Subject("world".into()));
        no(SearchKey::Subject("mars".into()));
        yes(SearchKey::Body("GRÜSSE".to_lowercase().replace("ss", "ß")));
        yes(SearchKey::Text("berlin".into()));
        yes(SearchKey::Text("hello".into()));
        yes(SearchKey::Header("subject".into(), String::new()));
        no(SearchKey::Header("x-nothing".into(), String::new()));
        let d = Date::new(2001, 9, 9).unwrap_or_else(|| panic!("date"));
        yes(SearchKey::On(d));
        yes(SearchKey::SentOn(d));
        no(SearchKey::Before(d));
        yes(SearchKey::Larger(499));
        no(SearchKey::Smaller(500));
        yes(SearchKey::Uid(SequenceSet::range(2, 4)));
        yes(SearchKey::Sequence(SequenceSet::single(1)));
        yes(SearchKey::Or(
            Box::new(SearchKey::Unseen),
            Box::new(SearchKey::Seen),
        ));
        no(SearchKey::Not(Box::new(SearchKey::All)));
        yes(SearchKey::Younger(200));
        no(SearchKey::Older(200));
    }
}
