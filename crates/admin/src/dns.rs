//! The DNS records a domain needs published for mail to reach it and for its
//! outgoing mail to be trusted (MX, SPF, DKIM, DMARC; `zest_core::dkim`
//! makes them), and a check of what DNS currently says about each.

use std::time::Duration;

use serde::Serialize;
use store::DkimKey;
use zest_core::config::DnsConfig;
use zest_core::dkim;
use zest_core::dns::{self as lookup, Answer};

/// The whole check of one page gives up after this long.
const CHECK_TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub name: String,
    pub kind: &'static str,
    /// The record's data as a zone file line would hold it; TXT data is split
    /// into quoted strings of at most 255 octets (RFC 1035 3.3.14).
    pub value: String,
    pub purpose: &'static str,
    /// What DNS says now, when it was asked.
    pub check: Option<Check>,
    /// The value unquoted, as DNS returns it.
    #[serde(skip)]
    expected: String,
    #[serde(skip)]
    kind_of: &'static str,
}

/// The outcome of looking one record up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// "ok", "differs", "missing" or "unknown" (DNS could not be asked).
    pub status: &'static str,
    /// The records of that kind DNS returned (for TXT, those of the same
    /// kind: SPF, DKIM or DMARC), or why the lookup failed.
    pub found: Vec<String>,
}

/// Splits TXT data into `"..."` strings of at most 255 octets each.
pub fn txt_strings(data: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let mut end = rest.len().min(255);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        parts.push(format!(
            "\"{}\"",
            head.replace('\\', "\\\\").replace('"', "\\\"")
        ));
        rest = tail;
    }
    if parts.is_empty() {
        parts.push("\"\"".into());
    }
    parts.join(" ")
}

/// The records for `domain`, whose mail is handled by `hostname`, with its
/// DKIM key's record when it has one.
pub fn records(domain: &str, hostname: &str, key: Option<&DkimKey>) -> Result<Vec<Record>, String> {
    Ok(dkim::records(domain, hostname, key)?
        .into_iter()
        .map(|r| Record {
            name: format!("{}.", r.name),
            kind: r.rtype,
            value: if r.rtype == "TXT" {
                txt_strings(&r.value)
            } else {
                r.value.clone()
            },
            purpose: match r.purpose {
                "MX" => "where other servers deliver mail for the domain",
                "SPF" => "SPF: only the domain's mail servers send its mail",
                "DKIM" => "DKIM: receivers check the signature on mail sent from here",
                _ => "DMARC: what receivers do with mail failing SPF and DKIM",
            },
            check: None,
            expected: r.value,
            kind_of: r.purpose,
        })
        .collect())
}

/// Asks DNS (the `[dns]` resolvers) about every record of every domain and
/// fills in `check`, within one time limit for the whole page. Returns false
/// when no resolver could be set up.
pub async fn check(config: &DnsConfig, domains: &mut [&mut Vec<Record>]) -> bool {
    let Ok(resolver) = lookup::authenticator(config) else {
        return false;
    };
    let deadline = tokio::time::Instant::now() + CHECK_TIMEOUT;
    for records in domains.iter_mut() {
        for r in records.iter_mut() {
            let ask = async {
                if r.kind == "MX" {
                    lookup::mx(&resolver, &r.name).await
                } else {
                    lookup::txt(&resolver, &r.name).await
                }
            };
            let answer = tokio::time::timeout_at(deadline, ask)
                .await
                .unwrap_or_else(|_| Answer::Failed("no answer in time".into()));
            r.check = Some(compare(r, answer));
        }
    }
    true
}

/// TXT records are told apart by their version tag; one record of the kind
/// must equal the expected value (DKIM: the same public key).
fn compare(r: &Record, answer: Answer) -> Check {
    let found = match answer {
        Answer::Records(v) => v,
        Answer::None => Vec::new(),
        Answer::Failed(e) => {
            return Check {
                status: "unknown",
                found: vec![e],
            };
        }
    };
    let tag = match r.kind_of {
        "SPF" => Some("v=spf1"),
        "DKIM" => None,
        "DMARC" => Some("v=dmarc1"),
        _ => None,
    };
    let found: Vec<String> = found
        .into_iter()
        .filter(|v| tag.is_none_or(|t| v.trim_start().to_ascii_lowercase().starts_with(t)))
        .collect();
    if found.is_empty() {
        return Check {
            status: "missing",
            found,
        };
    }
    let same = |v: &String| match r.kind_of {
        "MX" => mx_host(v) == mx_host(&r.expected),
        "DKIM" => dkim_key(v).is_some() && dkim_key(v) == dkim_key(&r.expected),
        _ => normalize(v) == normalize(&r.expected),
    };
    let status = if found.iter().any(same) {
        "ok"
    } else {
        "differs"
    };
    Check { status, found }
}

/// An MX value's host; the preference may be anything.
fn mx_host(v: &str) -> String {
    v.split_whitespace()
        .nth(1)
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Tag-value text with spacing and case of tags ignored.
fn normalize(v: &str) -> String {
    v.split(';')
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
        .to_ascii_lowercase()
}

/// The p= tag of a DKIM key record (RFC 6376 3.6.1), spaces removed.
fn dkim_key(v: &str) -> Option<String> {
    v.split(';').find_map(|t| {
        let (k, val) = t.split_once('=')?;
        (k.trim() == "p").then(|| val.split_whitespace().collect::<String>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_txt_is_split_at_255() {
        let data = "a".repeat(600);
        let s = txt_strings(&data);
        let parts: Vec<&str> = s.split(' ').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), 257);
        assert_eq!(parts[2].len(), 90 + 2);
    }

    #[test]
    fn quotes_are_escaped() {
        assert_eq!(txt_strings("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn records_name_the_host_and_the_key() {
        let key = dkim::generate("ed25519", "zest").unwrap();
        let r = records("example.org", "mail.example.org", Some(&key)).unwrap();
        assert_eq!(r[0].value, "10 mail.example.org.");
        assert_eq!(r[2].name, "zest._domainkey.example.org.");
        assert!(r[2].value.starts_with("\"v=DKIM1; k=ed25519; p="));
        assert_eq!(r[3].name, "_dmarc.example.org.");
        assert_eq!(records("example.org", "h", None).unwrap().len(), 3);
    }

    #[test]
    fn comparisons() {
        let key = dkim::generate("ed25519", "zest").unwrap();
        let r = records("example.org", "mail.example.org", Some(&key)).unwrap();
        let ok = |r: &Record, v: &str| compare(r, Answer::Records(vec![v.into()])).status;
        assert_eq!(ok(&r[0], "20 MAIL.example.org."), "ok");
        assert_eq!(ok(&r[0], "10 other.example.net."), "differs");
        assert_eq!(ok(&r[1], "v=spf1  mx  -all"), "ok");
        assert_eq!(ok(&r[1], "v=spf1 -all"), "differs");
        assert_eq!(ok(&r[1], "google-site-verification=x"), "missing");
        let published = dkim::txt_value(&key).unwrap().replace("; ", ";");
        assert_eq!(ok(&r[2], &published), "ok");
        assert_eq!(ok(&r[2], "v=DKIM1; k=ed25519; p=AAAA"), "differs");
        assert_eq!(compare(&r[3], Answer::None).status, "missing");
        assert_eq!(
            compare(&r[3], Answer::Failed("SERVFAIL".into())).status,
            "unknown"
        );
    }
}
