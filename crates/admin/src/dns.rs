//! The DNS records a domain needs published for mail to reach it and for its
//! outgoing mail to be trusted (MX, SPF, DMARC; DKIM once keys exist).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub name: String,
    pub kind: &'static str,
    /// The record's data as a zone file line would hold it; TXT data is split
    /// into quoted strings of at most 255 octets (RFC 1035 3.3.14).
    pub value: String,
    pub purpose: &'static str,
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

/// The records for `domain`, whose mail is handled by `hostname`.
pub fn records(domain: &str, hostname: &str) -> Vec<Record> {
    vec![
        Record {
            name: format!("{domain}."),
            kind: "MX",
            value: format!("10 {hostname}."),
            purpose: "where other servers deliver mail for the domain",
        },
        Record {
            name: format!("{domain}."),
            kind: "TXT",
            value: txt_strings("v=spf1 mx -all"),
            purpose: "SPF: only the domain's mail servers send its mail",
        },
        Record {
            name: format!("_dmarc.{domain}."),
            kind: "TXT",
            value: txt_strings(&format!(
                "v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"
            )),
            purpose: "DMARC: what receivers do with mail failing SPF and DKIM",
        },
    ]
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
    fn records_name_the_host() {
        let r = records("example.org", "mail.example.org");
        assert_eq!(r[0].value, "10 mail.example.org.");
        assert_eq!(r[2].name, "_dmarc.example.org.");
    }
}
