//! Newtypes for identifiers that must not be mixed up, and parsed values
//! (addresses, list URIs, flags) that are valid by construction.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::StoreError;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident, $inner:ty) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub $inner);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(DomainId, i64);
id_type!(AccountId, i64);
id_type!(MailboxId, i64);
id_type!(BlobId, i64);
id_type!(BookId, i64);
id_type!(ContactId, i64);
id_type!(ListId, i64);
id_type!(ScriptId, i64);
id_type!(QueueId, i64);
id_type!(
    /// RFC 3501 2.3.1.1: unique identifier of a message in a mailbox.
    Uid,
    u32
);
id_type!(
    /// RFC 3501 2.3.1.1: changes only when UIDs of a mailbox are no longer valid.
    UidValidity,
    u32
);
id_type!(
    /// RFC 7162: modification sequence, per mailbox.
    ModSeq,
    u64
);

/// A mail address `local@domain`, normalised to lower case. One that exists is valid.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub const MAX_LEN: usize = 254;

    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = |reason: &str| StoreError::invalid("address", format!("{s:?}: {reason}"));
        let s = s.trim();
        if s.is_empty() {
            return Err(bad("empty"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(bad("longer than 254 octets"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| bad("no @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(bad("local part must be 1 to 64 octets"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("misplaced dot in the local part"));
        }
        if let Some(c) = local
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || "<>()[]\\,;:\"@".contains(*c))
        {
            return Err(bad(&format!("{c:?} is not allowed in the local part")));
        }
        let domain = DomainName::parse(domain).map_err(|_| bad("invalid domain"))?;
        Ok(EmailAddress(format!(
            "{}@{}",
            local.to_lowercase(),
            domain.as_str()
        )))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address read back from the database, where only parsed ones are written.
    pub(crate) fn stored(s: String) -> Self {
        EmailAddress(s)
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or(&self.0)
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    /// The address without an RFC 5233 `+detail`, if it has one.
    pub fn without_detail(&self) -> Option<EmailAddress> {
        let local = self.local_part();
        let (base, _) = local.split_once('+')?;
        if base.is_empty() {
            return None;
        }
        Some(EmailAddress(format!("{base}@{}", self.domain())))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A domain name, lower case, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = |reason: &str| StoreError::invalid("domain", format!("{s:?}: {reason}"));
        let d = s.trim().trim_end_matches('.').to_lowercase();
        if d.is_empty() || d.len() > 253 {
            return Err(bad("must be 1 to 253 octets"));
        }
        for label in d.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(bad("each label must be 1 to 63 octets"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(bad("a label may not start or end with '-'"));
            }
            // Letters, digits and hyphens; non-ASCII letters are allowed for SMTPUTF8 domains.
            if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
                return Err(bad(&format!("{c:?} is not allowed")));
            }
        }
        Ok(DomainName(d))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Normalises a value for membership lookups in address books and lists:
/// surrounding space and angle brackets dropped, a `mailto:` prefix dropped,
/// lower-cased. Lookups and inserts use the same function, so they agree.
pub fn normalize_member(value: &str) -> String {
    let v = value.trim();
    let v = v
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or(v);
    let v = match v.get(..7) {
        Some(p) if p.eq_ignore_ascii_case("mailto:") => &v[7..],
        _ => v,
    };
    v.trim().to_lowercase()
}

/// A `tag:` URI (RFC 4151) naming an external list (RFC 6134 2.5).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListUri {
    uri: String,
    name_start: usize,
}

impl ListUri {
    /// Parses `tag:AUTHORITY,DATE:NAME`.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let bad = |reason: &str| StoreError::invalid("list URI", format!("{s:?}: {reason}"));
        let rest = match s.get(..4) {
            Some(p) if p.eq_ignore_ascii_case("tag:") => &s[4..],
            _ => return Err(bad("must start with tag:")),
        };
        let (entity, name) = rest
            .split_once(':')
            .ok_or_else(|| bad("expected tag:AUTHORITY,DATE:NAME"))?;
        let (authority, date) = entity
            .rsplit_once(',')
            .ok_or_else(|| bad("expected a comma before the date"))?;
        if authority.is_empty()
            || authority
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad("invalid authority"));
        }
        if !valid_tag_date(date) {
            return Err(bad("the date must be YYYY, YYYY-MM or YYYY-MM-DD"));
        }
        validate_list_name(name).map_err(|r| bad(&r))?;
        Ok(ListUri {
            name_start: s.len() - name.len(),
            uri: format!("tag:{}", &s[4..]),
        })
    }

    /// Builds a URI from the installation's prefix (`tag:HOST,DATE:`) and a short name.
    pub fn from_prefix(prefix: &str, name: &str) -> Result<Self, StoreError> {
        Self::parse(&format!("{prefix}{name}"))
    }

    pub fn as_str(&self) -> &str {
        &self.uri
    }

    /// The specific part after the date: what the admin UI shows.
    pub fn name(&self) -> &str {
        &self.uri[self.name_start..]
    }

    /// Everything before the name, `tag:HOST,DATE:`.
    pub fn prefix(&self) -> &str {
        &self.uri[..self.name_start]
    }
}

impl fmt::Display for ListUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri)
    }
}

fn valid_tag_date(d: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = d.split('-');
    let ok_year = parts.next().is_some_and(|y| digits(y, 4));
    let rest: Vec<&str> = parts.collect();
    ok_year && rest.len() <= 2 && rest.iter().all(|p| digits(p, 2))
}

/// RFC 4151 `specific`: pchar / "/" / "?"; we also refuse what cannot be shown or typed.
pub(crate) fn validate_list_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the name is empty".into());
    }
    if name.len() > 200 {
        return Err("the name is longer than 200 octets".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/?%".contains(*c)))
    {
        return Err(format!("{c:?} is not allowed in a list name"));
    }
    Ok(())
}

/// System flags as a bit set; keywords as sorted, de-duplicated atoms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    pub system: u8,
    pub keywords: Vec<String>,
}

impl Flags {
    pub const SEEN: u8 = 1;
    pub const ANSWERED: u8 = 2;
    pub const FLAGGED: u8 = 4;
    pub const DELETED: u8 = 8;
    pub const DRAFT: u8 = 16;

    const NAMES: [(u8, &'static str); 5] = [
        (Flags::SEEN, "\\Seen"),
        (Flags::ANSWERED, "\\Answered"),
        (Flags::FLAGGED, "\\Flagged"),
        (Flags::DELETED, "\\Deleted"),
        (Flags::DRAFT, "\\Draft"),
    ];

    /// Parses IMAP flag names (system flags case-insensitively). `\Recent` is a
    /// session property, never stored, and is ignored here.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, StoreError> {
        let mut f = Flags::default();
        for n in names {
            if let Some(rest) = n.strip_prefix('\\') {
                if rest.eq_ignore_ascii_case("recent") {
                    continue;
                }
                let bit = Self::NAMES
                    .iter()
                    .find(|(_, name)| name[1..].eq_ignore_ascii_case(rest))
                    .map(|(b, _)| *b)
                    .ok_or_else(|| StoreError::invalid("flag", n.to_string()))?;
                f.system |= bit;
            } else {
                f.add_keyword(n)?;
            }
        }
        Ok(f)
    }

    pub fn add_keyword(&mut self, k: &str) -> Result<(), StoreError> {
        // RFC 3501 flag-keyword = atom: no specials, no controls, no space.
        if k.is_empty()
            || k.len() > 128
            || k.bytes()
                .any(|b| b <= b' ' || b >= 0x7f || b"(){%*\"\\]".contains(&b))
        {
            return Err(StoreError::invalid("keyword", k.to_string()));
        }
        if let Err(pos) = self.keywords.binary_search(&k.to_string()) {
            self.keywords.insert(pos, k.to_string());
        }
        Ok(())
    }

    pub fn has(&self, bit: u8) -> bool {
        self.system & bit != 0
    }

    pub fn names(&self) -> Vec<String> {
        Self::NAMES
            .iter()
            .filter(|(b, _)| self.has(*b))
            .map(|(_, n)| n.to_string())
            .chain(self.keywords.iter().cloned())
            .collect()
    }

    pub(crate) fn keywords_text(&self) -> String {
        self.keywords.join(" ")
    }

    pub(crate) fn from_stored(system: i64, keywords: &str) -> Self {
        Flags {
            system: (system & 0x1f) as u8,
            keywords: keywords.split_whitespace().map(str::to_string).collect(),
        }
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalise_and_refuse_garbage() {
        let a = EmailAddress::parse(" Alice@Example.ORG ").unwrap();
        assert_eq!(a.as_str(), "alice@example.org");
        assert_eq!(a.domain(), "example.org");
        assert_eq!(
            EmailAddress::parse("bob+lists@example.org")
                .unwrap()
                .without_detail()
                .unwrap()
                .as_str(),
            "bob@example.org"
        );
        for bad in [
            "", "@", "a@", "@b", "a b@c.d", "a@b..c", ".a@b.c", "a@-b.c", "a\0@b.c", "a<@b.c",
            "noat",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        assert!(EmailAddress::parse(&format!("{}@b.c", "a".repeat(65))).is_err());
    }

    #[test]
    fn list_uris() {
        let u = ListUri::parse("tag:mail.example.org,2026-11-23:staff").unwrap();
        assert_eq!(u.name(), "staff");
        assert_eq!(u.prefix(), "tag:mail.example.org,2026-11-23:");
        assert_eq!(
            ListUri::parse("TAG:a.b,2026:x/y").unwrap().as_str(),
            "tag:a.b,2026:x/y"
        );
        for bad in [
            "tag:",
            "tag:a.b:x",
            "tag:a.b,26:x",
            "tag:a.b,2026-1:x",
            "tag:a.b,2026:",
            "urn:x",
            "tag:a.b,2026:a b",
        ] {
            assert!(ListUri::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn flags_parse_and_sort() {
        let f = Flags::from_names(["\\seen", "$Forwarded", "\\Recent", "$Forwarded", "a"]).unwrap();
        assert_eq!(f.names(), vec!["\\Seen", "$Forwarded", "a"]);
        assert!(Flags::from_names(["\\Bogus"]).is_err());
        assert!(Flags::from_names(["a b"]).is_err());
        assert!(Flags::from_names(["a(b"]).is_err());
    }

    #[test]
    fn member_normalisation() {
        assert_eq!(normalize_member(" <Mailto:Bob@X.org> "), "bob@x.org");
        assert_eq!(normalize_member("BOB@x.org"), "bob@x.org");
    }
}
