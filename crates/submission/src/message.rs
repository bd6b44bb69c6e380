//! What the MSA does to a message (RFC 6409 8): the From: check, a
//! Received: trace field, and a Date: and Message-ID: when missing.

use std::net::IpAddr;

use mail_parser::MessageParser;
use rand::Rng;

use crate::reply::Reply;

pub(crate) struct Context<'a> {
    pub hostname: &'a str,
    pub helo: &'a str,
    pub peer: IpAddr,
    pub secure: bool,
    pub user: &'a str,
}

/// Checks the header and adds the fields the message lacks.
pub(crate) fn prepare(
    raw: Vec<u8>,
    ctx: &Context<'_>,
    owns: impl Fn(&str) -> bool,
) -> Result<Vec<u8>, Reply> {
    let parsed = MessageParser::new()
        .parse_headers(&raw[..])
        .ok_or_else(|| Reply::new(554, "5.6.0", "Message header cannot be parsed"))?;
    let has = |name: &str| {
        parsed
            .headers()
            .iter()
            .any(|h| h.name().eq_ignore_ascii_case(name))
    };
    let from: Vec<String> = parsed
        .from()
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if from.is_empty() {
        return Err(Reply::new(550, "5.6.0", "Message has no From: address"));
    }
    if let Some(bad) = from.iter().find(|a| !owns(a)) {
        tracing::info!(user = ctx.user, from = ?bad, "refused a From: address the user does not own");
        return Err(Reply::new(
            550,
            "5.7.1",
            format!("From: address not owned by {}", ctx.user),
        ));
    }
    let now = crate::mail::now();
    let mut head = format!(
        "Received: from {} ({})\r\n\tby {} (Zest) with {};\r\n\t{}\r\n",
        sanitize(ctx.helo),
        ctx.peer,
        ctx.hostname,
        if ctx.secure { "ESMTPSA" } else { "ESMTPA" },
        rfc5322_date(now)
    );
    if !has("Date") {
        head.push_str(&format!("Date: {}\r\n", rfc5322_date(now)));
    }
    if !has("Message-ID") {
        head.push_str(&format!(
            "Message-ID: <{}@{}>\r\n",
            unique_id(),
            ctx.hostname
        ));
    }
    let mut out = Vec::with_capacity(head.len() + raw.len());
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&raw);
    Ok(out)
}

/// A HELO name as a trace field may carry it.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect()
}

pub(crate) fn unique_id() -> String {
    let mut rng = rand::rng();
    let r: u64 = rng.random();
    format!("{:x}.{:016x}", crate::mail::now(), r)
}

/// Bare LF becomes CRLF; everything else is left alone.
pub(crate) fn crlf(raw: Vec<u8>) -> Vec<u8> {
    let bare = raw
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'\n' && (i == 0 || raw[i - 1] != b'\r'));
    if !bare {
        return raw;
    }
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut prev = 0u8;
    for b in raw {
        if b == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(b);
        prev = b;
    }
    out
}

/// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// RFC 5322 3.3 date-time in UTC.
pub(crate) fn rfc5322_date(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil(days);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize % 12],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 date-time in UTC (RFC 4865 uses it).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, d) = civil(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(
            rfc5322_date(1_795_426_735),
            "Mon, 23 Nov 2026 09:38:55 +0000"
        );
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn bare_lf_becomes_crlf() {
        assert_eq!(crlf(b"a\nb\r\nc\n".to_vec()), b"a\r\nb\r\nc\r\n");
        assert_eq!(crlf(b"\n".to_vec()), b"\r\n");
        assert_eq!(crlf(b"a\r\n".to_vec()), b"a\r\n");
    }

    fn ctx() -> Context<'static> {
        Context {
            hostname: "mail.example.org",
            helo: "client",
            peer: IpAddr::from([127, 0, 0, 1]),
            secure: true,
            user: "alice@example.org",
        }
    }

    #[test]
    fn adds_missing_fields_and_checks_from() {
        let owns = |a: &str| a.eq_ignore_ascii_case("alice@example.org");
        let out = prepare(
            b"From: Alice <alice@example.org>\r\n\r\nhi\r\n".to_vec(),
            &ctx(),
            owns,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with(
            "Received: from client (127.0.0.1)\r\n\tby mail.example.org (Zest) with ESMTPSA;"
        ));
        assert!(text.contains("\r\nDate: "));
        assert!(text.contains("\r\nMessage-ID: <"));
        assert!(text.ends_with("From: Alice <alice@example.org>\r\n\r\nhi\r\n"));

        let kept = prepare(
            b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@y>\r\nFrom: alice@example.org\r\n\r\n".to_vec(),
            &ctx(),
            owns,
        )
        .unwrap();
        let text = String::from_utf8(kept).unwrap();
        assert_eq!(text.matches("Date:").count(), 1);
        assert_eq!(text.matches("Message-ID:").count(), 1);

        let r = prepare(b"From: bob@example.org\r\n\r\n".to_vec(), &ctx(), owns).unwrap_err();
        assert_eq!((r.code, r.status), (550, "5.7.1"));
        let r = prepare(
            b"From: alice@example.org, bob@example.org\r\n\r\n".to_vec(),
            &ctx(),
            owns,
        )
        .unwrap_err();
        assert_eq!((r.code, r.status), (550, "5.7.1"));
        let r = prepare(b"Subject: x\r\n\r\n".to_vec(), &ctx(), owns).unwrap_err();
        assert_eq!((r.code, r.status), (550, "5.6.0"));
    }

    proptest::proptest! {
        #[test]
        fn any_message_is_checked_without_panicking(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000)) {
            let fixed = crlf(raw.clone());
            proptest::prop_assert!(fixed.len() >= raw.len());
            let _ = prepare(raw, &ctx(), |_| true);
        }

        #[test]
        fn any_time_formats(secs in -100_000_000_000i64..100_000_000_000i64) {
            let d = rfc5322_date(secs);
            proptest::prop_assert!(d.ends_with(" +0000"));
            proptest::prop_assert!(rfc3339(secs).ends_with('Z'));
        }
    }
}
