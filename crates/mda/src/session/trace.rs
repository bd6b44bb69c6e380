//! What the MDA adds to and checks in a message: Return-Path and Received
//! (RFC 5321 4.4), and the content rules (no NUL, no bare LF).

use std::net::SocketAddr;

use super::Mode;

/// The trace fields that go before the message.
pub(crate) fn prepend(
    mode: Mode,
    hostname: &str,
    helo: &str,
    peer: SocketAddr,
    tls: bool,
    from: &str,
    smtputf8: bool,
) -> Vec<u8> {
    let with = match (mode, tls, smtputf8) {
        (Mode::Lmtp, _, false) => "LMTP",
        (Mode::Lmtp, _, true) => "UTF8LMTP",
        (Mode::Smtp, false, false) => "ESMTP",
        (Mode::Smtp, true, false) => "ESMTPS",
        (Mode::Smtp, false, true) => "UTF8SMTP",
        (Mode::Smtp, true, true) => "UTF8SMTPS",
    };
    let helo: String = helo
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    let date = mail_parser::DateTime::from_timestamp(now()).to_rfc822();
    // A sender is an address we parsed; keep it on one line regardless.
    let from: String = from.chars().filter(|c| !c.is_control()).collect();
    format!(
        "Return-Path: <{from}>\r\nReceived: from {helo} ({helo} [{ip}])\r\n\tby {hostname} with {with};\r\n\t{date}\r\n",
        ip = peer.ip(),
    )
    .into_bytes()
}

/// RFC 5321 2.3.8 and 4.1.4: lines end in CRLF, and NUL is not text.
pub(crate) fn check_content(body: &[u8]) -> Result<(), &'static str> {
    if body.contains(&0) {
        return Err("message contains NUL characters");
    }
    let mut prev = 0u8;
    for &b in body {
        if b == b'\n' && prev != b'\r' {
            return Err("message contains a bare LF; lines must end in CRLF");
        }
        prev = b;
    }
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_rules() {
        assert_eq!(check_content(b"a\r\nb\r\n"), Ok(()));
        assert!(check_content(b"a\nb").is_err());
        assert!(check_content(b"a\0b\r\n").is_err());
        assert_eq!(check_content(b""), Ok(()));
    }
}
