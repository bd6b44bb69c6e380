//! Names of external lists (RFC 6134 2.5, 2.6): `:addrbook:NAME`, its URN and
//! `tag:` URIs. Parsed here once for the compiler's checks and the MDA's lookups.

use std::fmt;

/// What every `addrbook` URN starts with (RFC 6134 2.6); a leading ":" in a
/// list name expands to `urn:ietf:params:sieve:` (RFC 6134 2.5).
pub const ADDRBOOK_URN_PREFIX: &str = "urn:ietf:params:sieve:addrbook:";
const SIEVE_URN_PREFIX: &str = "urn:ietf:params:sieve:";

/// The URI schemes of external lists Zest supports, as ManageSieve's EXTLISTS
/// capability lists them (RFC 6134 2.8).
pub const EXTLISTS_SCHEMES: &str = "urn tag";

/// A valid external list name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExtListName {
    /// The recipient's address book, by its name after percent-decoding;
    /// `default` in any case is stored as `default` (RFC 6134 2.5).
    AddressBook(String),
    /// A list managed by the admin or its owner, `tag:AUTHORITY,DATE:NAME`.
    Tag(store::ListUri),
}

/// Why a string is not a list name Zest can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ListNameError {
    #[error(
        "external list {name:?}: the URI scheme is not supported (use :addrbook:NAME or tag: URIs)"
    )]
    UnsupportedScheme { name: String },
    #[error("external list {name:?}: only the addrbook URN parameter is supported")]
    UnsupportedUrn { name: String },
    #[error("external list {name:?}: {reason}")]
    InvalidAddressBook { name: String, reason: String },
    #[error("{0}")]
    InvalidTag(String),
}

impl ExtListName {
    /// Parses a list name as written in a script (after Sieve string unescaping).
    pub fn parse(name: &str) -> Result<ExtListName, ListNameError> {
        if let Some(rest) = name.strip_prefix(':') {
            // RFC 6134 2.5: ":" expands to the Sieve URN parameter prefix.
            return Self::parse_sieve_urn(name, rest);
        }
        let scheme = name.split_once(':').map(|(s, _)| s);
        match scheme {
            Some(s) if s.eq_ignore_ascii_case("urn") => {
                match strip_prefix_ignore_case(name, SIEVE_URN_PREFIX) {
                    Some(rest) => Self::parse_sieve_urn(name, rest),
                    None => Err(ListNameError::UnsupportedUrn {
                        name: name.to_string(),
                    }),
                }
            }
            Some(s) if s.eq_ignore_ascii_case("tag") => store::ListUri::parse(name)
                .map(ExtListName::Tag)
                .map_err(|e| ListNameError::InvalidTag(e.to_string())),
            _ => Err(ListNameError::UnsupportedScheme {
                name: name.to_string(),
            }),
        }
    }

    /// `rest` follows `urn:ietf:params:sieve:` (or the ":" shorthand).
    fn parse_sieve_urn(name: &str, rest: &str) -> Result<ExtListName, ListNameError> {
        let book = match strip_prefix_ignore_case(rest, "addrbook:") {
            Some(book) => book,
            None => {
                return Err(ListNameError::UnsupportedUrn {
                    name: name.to_string(),
                });
            }
        };
        let bad = |reason: &str| ListNameError::InvalidAddressBook {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        // RFC 6134 2.6: addrbook-urn = "addrbook:" addrbook [ "?" extensions ]
        if book.contains('?') || book.contains('#') {
            return Err(bad("address book queries are not supported"));
        }
        if book.contains('/') {
            return Err(bad("an address book name is one URI segment (no \"/\")"));
        }
        let decoded = percent_decode(book).ok_or_else(|| bad("invalid percent-encoding"))?;
        if decoded.is_empty() {
            return Err(bad("the address book name is empty"));
        }
        if decoded.chars().count() > 100 {
            return Err(bad("the address book name is longer than 100 characters"));
        }
        if decoded.chars().any(char::is_control) {
            return Err(bad("the address book name has control characters"));
        }
        if decoded.eq_ignore_ascii_case("default") {
            return Ok(ExtListName::AddressBook("default".to_string()));
        }
        Ok(ExtListName::AddressBook(decoded))
    }

    /// The canonical URI: `urn:ietf:params:sieve:addrbook:NAME` (NAME
    /// percent-encoded where needed) or the `tag:` URI.
    pub fn uri(&self) -> String {
        match self {
            ExtListName::AddressBook(book) => {
                format!("{ADDRBOOK_URN_PREFIX}{}", percent_encode_segment(book))
            }
            ExtListName::Tag(uri) => uri.to_string(),
        }
    }
}

impl fmt::Display for ExtListName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.uri())
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// RFC 3986 2.1: `%XX` to octets; the result must be UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// RFC 3986 3.3 `pchar`, encoding everything else.
fn percent_encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(s: &str) -> ExtListName {
        ExtListName::AddressBook(s.to_string())
    }

    #[test]
    fn default_is_case_insensitive_after_decoding() {
        // The equivalences of RFC 6134 2.5.
        for name in [
            ":addrbook:default",
            ":ADDRBOOK:DEFAULT",
            ":aDdRbOOk:DeFauLt",
            ":AddrBook:%44%65%66ault",
            "urn:ietf:params:sieve:addrbook:default",
            "URN:IETF:PARAMS:SIEVE:ADDRBOOK:Default",
        ] {
            assert_eq!(ExtListName::parse(name), Ok(book("default")), "{name}");
        }
    }

    #[test]
    fn other_books_keep_their_case() {
        assert_eq!(ExtListName::parse(":addrbook:Family"), Ok(book("Family")));
        assert_eq!(ExtListName::parse(":addrbook:family"), Ok(book("family")));
        assert_eq!(
            ExtListName::parse(":addrbook:Caf%C3%A9%20Club"),
            Ok(book("Café Club"))
        );
    }

    #[test]
    fn uri_is_canonical_and_round_trips() {
        let b = ExtListName::parse(":AddrBook:%44efault").unwrap();
        assert_eq!(b.uri(), "urn:ietf:params:sieve:addrbook:default");
        let b = ExtListName::parse(":addrbook:Café Club").unwrap();
        assert_eq!(b.uri(), "urn:ietf:params:sieve:addrbook:Caf%C3%A9%20Club");
        assert_eq!(ExtListName::parse(&b.uri()), Ok(b));
        let t = ExtListName::parse("tag:example.org,2026-01-01:staff").unwrap();
        assert_eq!(t.uri(), "tag:example.org,2026-01-01:staff");
        assert_eq!(t.to_string(), "tag:example.org,2026-01-01:staff");
        match t {
            ExtListName::Tag(uri) => assert_eq!(uri.name(), "staff"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tag_uris() {
        assert!(ExtListName::parse("tag:example.org,2026:x").is_ok());
        assert!(ExtListName::parse("TAG:example.org,2026-01:x").is_ok());
        for bad in [
            "tag:",
            "tag:example.org:x",
            "tag:example.org,26-01-01:x",
            "tag:example.org,2026-01-01:",
            "tag:,2026-01-01:x",
        ] {
            assert!(
                matches!(ExtListName::parse(bad), Err(ListNameError::InvalidTag(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refused_names() {
        for (name, want) in [
            ("mailto:a@example.org", "scheme"),
            ("ldap://example.org/cn=x", "scheme"),
            ("default", "scheme"),
            ("", "scheme"),
            ("urn:isbn:123", "URN"),
            ("urn:ietf:params:sieve:other:x", "URN"),
            (":other:x", "URN"),
            (":addrbook", "URN"),
            (":addrbook:", "empty"),
            (":addrbook:%", "percent"),
            (":addrbook:%4", "percent"),
            (":addrbook:%zz", "percent"),
            (":addrbook:%FF", "percent"),
            (":addrbook:a%00b", "control"),
            (":addrbook:personal?name.contains=fred", "queries"),
            (":addrbook:a/b", "segment"),
        ] {
            let err = ExtListName::parse(name).unwrap_err().to_string();
            assert!(err.contains(want), "{name:?}: {err}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for name in [
            ":",
            "::",
            "%",
            ":addrbook:%C3",
            "tag:é,2026:x",
            "é:x",
            "urn:é",
        ] {
            let _ = ExtListName::parse(name);
        }
    }
}
