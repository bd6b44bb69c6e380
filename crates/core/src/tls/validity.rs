//! Reads a certificate's notAfter (RFC 5280 4.1.2.5) with a minimal DER walk: enough
//! to renew our generated certificate and to warn about configured ones, without
//! pulling in a full X.509 parser.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const VERSION: u8 = 0xa0; // [0] EXPLICIT
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// The end of the certificate's validity, or `None` if it cannot be read.
pub(super) fn not_after(cert: &CertificateDer<'_>) -> Option<SystemTime> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let (cert, _) = expect(cert.as_ref(), SEQUENCE)?;
    // TBSCertificate ::= SEQUENCE { version [0] OPTIONAL, serialNumber, signature,
    //                               issuer, validity, ... }
    let (mut tbs, _) = expect(cert, SEQUENCE)?;
    if tbs.first() == Some(&VERSION) {
        tbs = tlv(tbs)?.2;
    }
    let (_, tbs) = expect(tbs, INTEGER)?;
    let (_, tbs) = expect(tbs, SEQUENCE)?; // signature
    let (_, tbs) = expect(tbs, SEQUENCE)?; // issuer
    let (validity, _) = expect(tbs, SEQUENCE)?;
    let (_, _, rest) = tlv(validity)?; // notBefore
    let (tag, time, _) = tlv(rest)?;
    parse_time(tag, time)
}

/// One TLV: (tag, contents, what follows). Only single-byte tags, as X.509 uses.
fn tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, buf) = buf.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, mut buf) = buf.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || buf.len() < count {
            return None;
        }
        let (bytes, rest) = buf.split_at(count);
        buf = rest;
        bytes
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
    };
    if buf.len() < len {
        return None;
    }
    let (contents, rest) = buf.split_at(len);
    Some((tag, contents, rest))
}

fn expect(buf: &[u8], want: u8) -> Option<(&[u8], &[u8])> {
    let (tag, contents, rest) = tlv(buf)?;
    (tag == want).then_some((contents, rest))
}

/// RFC 5280 4.1.2.5.1/4.1.2.5.2: UTCTime `YYMMDDHHMMSSZ` (YY < 50 is 20YY) or
/// GeneralizedTime `YYYYMMDDHHMMSSZ`, always in UTC with seconds.
fn parse_time(tag: u8, text: &[u8]) -> Option<SystemTime> {
    let text = std::str::from_utf8(text).ok()?.strip_suffix('Z')?;
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let num = |range: std::ops::Range<usize>| text.get(range)?.parse::<i64>().ok();
    let (year, rest) = match (tag, text.len()) {
        (UTC_TIME, 12) => {
            let yy = num(0..2)?;
            (if yy < 50 { 2000 + yy } else { 1900 + yy }, 2)
        }
        (GENERALIZED_TIME, 14) => (num(0..4)?, 4),
        _ => return None,
    };
    let month = num(rest..rest + 2)?;
    let day = num(rest + 2..rest + 4)?;
    let hour = num(rest + 4..rest + 6)?;
    let minute = num(rest + 6..rest + 8)?;
    let second = num(rest + 8..rest + 10)?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Option<SystemTime> {
        Some(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn times() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(parse_time(UTC_TIME, b"700101000000Z"), at(0));
        assert_eq!(parse_time(UTC_TIME, b"491231235959Z"), at(2_524_607_999));
        assert_eq!(
            parse_time(GENERALIZED_TIME, b"20380119031408Z"),
            at(2_147_483_648)
        );
        assert_eq!(parse_time(UTC_TIME, b"20380119031408Z"), None);
        assert_eq!(parse_time(GENERALIZED_TIME, b"20381319031408Z"), None);
        assert_eq!(parse_time(UTC_TIME, b"7001010000+0Z"), None);
        assert_eq!(parse_time(UTC_TIME, b"700101000000"), None);
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"\x30\x84\xff\xff\xff\xff",
            b"\x30\x00",
            b"hello",
        ] {
            assert_eq!(not_after(&CertificateDer::from(bytes.to_vec())), None);
        }
    }
}
