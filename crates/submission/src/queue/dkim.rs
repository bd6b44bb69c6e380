//! DKIM (RFC 6376, RFC 8463): per-domain keys made by `zest domain add`,
//! the DNS records `zest domain dns` prints, and signing of outgoing mail
//! with the key of the From: domain.

use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
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

// Key making and the published records live in `zest_core::dkim`, shared
// with the admin dashboard.
use zest_core::dkim::der;
pub use zest_core::dkim::{ED25519, RSA, generate, quoted_strings, txt_value};

/// The records to publish for `domain`, as zone-file lines.
pub fn dns_records(
    domain: &str,
    hostname: &str,
    key: Option<&DkimKey>,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = zest_core::dkim::records(domain, hostname, key)?
        .iter()
        .map(zest_core::dkim::Record::zone_line)
        .collect();
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
