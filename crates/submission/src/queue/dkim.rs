//! DKIM (RFC 6376, RFC 8463): per-domain keys made by `zest domain add`,
//! the DNS records `zest domain dns` prints, and signing of outgoing mail
//! with the key of the From: domain.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::dkim::generate::DkimKeyPair;
use mail_parser::MessageParser;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};
use store::DkimKey;

use super::Inner;

/// The header fields signed (RFC 6376 5.4.1 recommends these).
const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "Reply-To",
    "Subject",
    "Date",
    "To",
    "Cc",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

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

fn der(key: &DkimKey) -> Result<Vec<u8>, String> {
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

/// The records to publish for `domain`, as zone-file lines.
pub fn dns_records(
    domain: &str,
    hostname: &str,
    key: Option<&DkimKey>,
) -> Result<Vec<String>, String> {
    let mut out = vec![
        format!("{domain}.\tIN\tMX\t10 {hostname}."),
        format!("{domain}.\tIN\tTXT\t{}", quoted_strings("v=spf1 mx -all")),
    ];
    if let Some(k) = key {
        out.push(format!(
            "{}._domainkey.{domain}.\tIN\tTXT\t{}",
            k.selector,
            quoted_strings(&txt_value(k)?)
        ));
    }
    out.push(format!(
        "_dmarc.{domain}.\tIN\tTXT\t{}",
        quoted_strings(&format!(
            "v=DMARC1; p=quarantine; rua=mailto:postmaster@{domain}"
        ))
    ));
    out.push(format!(
        "_mta-sts.{domain}.\tIN\tTXT\t{}",
        quoted_strings(&format!(
            "v=STSv1; id={}",
            crate::message::rfc3339(crate::mail::now()).replace(['-', ':', 'T', 'Z'], "")
        ))
    ));
    out.push(format!(
        "_smtp._tls.{domain}.\tIN\tTXT\t{}",
        quoted_strings(&format!("v=TLSRPTv1; rua=mailto:postmaster@{domain}"))
    ));
    Ok(out)
}

/// A DKIM-Signature field for `raw` made with `key` for `domain`.
pub fn signature(raw: &[u8], domain: &str, key: &DkimKey) -> Result<Vec<u8>, String> {
    let der = der(key)?;
    let sig = match key.algorithm.as_str() {
        RSA => {
            let k =
                RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der)))
                    .map_err(|e| e.to_string())?;
            DkimSigner::from_key(k)
                .domain(domain)
                .selector(&key.selector)
                .headers(SIGNED_HEADERS)
                .sign(raw)
        }
        ED25519 => {
            let k = Ed25519Key::from_pkcs8_der(&der).map_err(|e| e.to_string())?;
            DkimSigner::from_key(k)
                .domain(domain)
                .selector(&key.selector)
                .headers(SIGNED_HEADERS)
                .sign(raw)
        }
        other => return Err(format!("unknown DKIM algorithm {other:?}")),
    }
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    sig.write_header(&mut out);
    Ok(out)
}

/// The message with a DKIM-Signature prepended, or unchanged when its From:
/// domain has no key (or signing fails, which is logged).
pub(crate) async fn sign(inner: &Inner, raw: &[u8]) -> Vec<u8> {
    let domain = MessageParser::new().parse_headers(raw).and_then(|m| {
        m.from()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .and_then(|a| a.rsplit_once('@'))
            .map(|(_, d)| d.to_lowercase())
    });
    let Some(domain) = domain else {
        return raw.to_vec();
    };
    let key = match inner.store.dkim_key(&domain).await {
        Ok(Some(k)) => k,
        Ok(None) => return raw.to_vec(),
        Err(e) => {
            tracing::warn!(domain, error = %e, "cannot read the DKIM key; sending unsigned");
            return raw.to_vec();
        }
    };
    match signature(raw, &domain, &key) {
        Ok(mut sig) => {
            sig.extend_from_slice(raw);
            sig
        }
        Err(e) => {
            tracing::warn!(domain, error = %e, "DKIM signing failed; sending unsigned");
            raw.to_vec()
        }
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
    fn generated_keys_sign_and_publish() {
        for kind in ["ed25519", "rsa"] {
            let key = generate(kind, "zest").unwrap();
            let txt = txt_value(&key).unwrap();
            assert!(DomainKey::parse(txt.as_bytes()).is_ok(), "{txt}");
            let raw = b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n";
            let sig = String::from_utf8(signature(raw, "example.org", &key).unwrap()).unwrap();
            assert!(sig.starts_with("DKIM-Signature: v=1; a="), "{sig}");
            assert!(sig.contains("d=example.org"), "{sig}");
            assert!(sig.contains("s=zest"), "{sig}");
            let records = dns_records("example.org", "mail.example.org", Some(&key)).unwrap();
            assert!(records[2].starts_with("zest._domainkey.example.org.\tIN\tTXT\t\"v=DKIM1; k="));
        }
    }
}
