//! DKIM keys (RFC 6376, RFC 8463) as `zest domain add` makes them, and the
//! DNS records a domain publishes (MX, SPF, DKIM, DMARC): what the CLI
//! prints, the admin dashboard shows and checks, and the signer uses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::dkim::generate::DkimKeyPair;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use store::DkimKey;

pub const RSA: &str = "rsa-sha256";
pub const ED25519: &str = "ed25519-sha256";

/// Makes a key: `kind` is the config's `dkim_algorithm` ("rsa" for RSA 2048,
/// "ed25519").
pub fn generate(kind: &str, selector: &str) -> Result<DkimKey, String> {
    let (algorithm, pair) = match kind {
        "ed25519" => (ED25519, DkimKeyPair::generate_ed25519()),
        "rsa" => (RSA, DkimKeyPair::generate_rsa(2048)),
        other => return Err(format!("unknown DKIM key type {other:?}")),
    };
    let pair = pair.map_err(|e| e.to_string())?;
    Ok(DkimKey {
        selector: selector.to_string(),
        algorithm: algorithm.to_string(),
        private_key: BASE64.encode(pair.private_key()),
    })
}

/// The stored private key's DER bytes.
pub fn der(key: &DkimKey) -> Result<Vec<u8>, String> {
    BASE64
        .decode(key.private_key.trim())
        .map_err(|e| format!("stored DKIM key is not base64: {e}"))
}

/// The DKIM TXT record's value: "v=DKIM1; k=rsa; p=...".
pub fn txt_value(key: &DkimKey) -> Result<String, String> {
    let der = der(key)?;
    let (k, public) = match key.algorithm.as_str() {
        RSA => {
            let k =
                RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                    .map_err(|e| e.to_string())?;
            ("rsa", spki_rsa(&k.public_key()))
        }
        ED25519 => {
            let k = Ed25519Key::from_pkcs8_der(&der).map_err(|e| e.to_string())?;
            ("ed25519", k.public_key())
        }
        other => return Err(format!("unknown DKIM algorithm {other:?}")),
    };
    Ok(format!("v=DKIM1; k={k}; p={}", BASE64.encode(public)))
}

/// An RSAPublicKey wrapped as SubjectPublicKeyInfo, the form every verifier
/// takes in p= (what `openssl rsa -pubout` prints).
fn spki_rsa(pkcs1: &[u8]) -> Vec<u8> {
    fn len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            let bytes: Vec<u8> = n
                .to_be_bytes()
                .into_iter()
                .skip_while(|b| *b == 0)
                .collect();
            let mut v = vec![0x80 | bytes.len() as u8];
            v.extend(bytes);
            v
        }
    }
    const ALGORITHM: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bits = vec![0x03];
    bits.extend(len(pkcs1.len() + 1));
    bits.push(0);
    bits.extend_from_slice(pkcs1);
    let mut out = vec![0x30];
    out.extend(len(ALGORITHM.len() + bits.len()));
    out.extend_from_slice(&ALGORITHM);
    out.extend(bits);
    out
}

/// A TXT value as quoted strings of at most 255 bytes (RFC 1035 3.3.14).
pub fn quoted_strings(value: &str) -> String {
    value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One record a domain publishes; `value` unquoted (a TXT value may be longer
/// than one 255-byte string: see [`quoted_strings`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// What it is for: "MX", "SPF", "DKIM" or "DMARC".
    pub purpose: &'static str,
    /// The owner name, without the final dot.
    pub name: String,
    /// "MX" or "TXT".
    pub rtype: &'static str,
    /// For MX "10 host." ; for TXT the text.
    pub value: String,
}

/// The records `domain` publishes for mail to reach `hostname` and for its
/// mail to pass SPF, DKIM (when it has a key) and DMARC.
pub fn records(domain: &str, hostname: &str, key: Option<&DkimKey>) -> Result<Vec<Record>, String> {
    let domain = domain.trim_end_matches('.');
    let hostname = hostname.trim_end_matches('.');
    let mut out = vec![
        Record {
            purpose: "MX",
            name: domain.to_string(),
            rtype: "MX",
            value: format!("10 {hostname}."),
        },
        Record {
            purpose: "SPF",
            name: domain.to_string(),
            rtype: "TXT",
            value: "v=spf1 mx -all".into(),
        },
    ];
    if let Some(k) = key {
        out.push(Record {
            purpose: "DKIM",
            name: format!("{}._domainkey.{domain}", k.selector),
            rtype: "TXT",
            value: txt_value(k)?,
        });
    }
    out.push(Record {
        purpose: "DMARC",
        name: format!("_dmarc.{domain}"),
        rtype: "TXT",
        value: format!("v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"),
    });
    Ok(out)
}

impl Record {
    /// The record as a zone-file line.
    pub fn zone_line(&self) -> String {
        let value = match self.rtype {
            "TXT" => quoted_strings(&self.value),
            _ => self.value.clone(),
        };
        format!("{}.\tIN\t{}\t{value}", self.name, self.rtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_auth::common::parse::TxtRecordParser;
    use mail_auth::common::verify::DomainKey;

    #[test]
    fn strings_split_at_255_bytes() {
        let v = "a".repeat(600);
        let q = quoted_strings(&v);
        let parts: Vec<&str> = q.split(' ').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].len(), 257);
        assert_eq!(parts[2].len(), 92);
    }

    #[test]
    fn generated_keys_publish_parsable_records() {
        for kind in ["ed25519", "rsa"] {
            let key = generate(kind, "zest").unwrap();
            let txt = txt_value(&key).unwrap();
            assert!(DomainKey::parse(txt.as_bytes()).is_ok(), "{txt}");
            let r = records("example.org", "mail.example.org", Some(&key)).unwrap();
            let purposes: Vec<&str> = r.iter().map(|r| r.purpose).collect();
            assert_eq!(purposes, ["MX", "SPF", "DKIM", "DMARC"]);
            assert_eq!(
                r[0].zone_line(),
                "example.org.\tIN\tMX\t10 mail.example.org."
            );
            assert!(
                r[2].zone_line()
                    .starts_with("zest._domainkey.example.org.\tIN\tTXT\t\"v=DKIM1; k=")
            );
        }
        assert!(generate("dsa", "x").is_err());
    }
}
