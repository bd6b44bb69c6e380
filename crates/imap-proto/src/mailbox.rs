//! Mailbox names: the decoded (UTF-8) name and modified UTF-7 (RFC 3501 5.1.3).

use std::fmt;

/// A mailbox name as UTF-8. `INBOX` in any case is stored as `INBOX` (RFC 3501 5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MailboxName(String);

impl MailboxName {
    pub fn new(name: impl Into<String>) -> MailboxName {
        let name = name.into();
        if name.eq_ignore_ascii_case("INBOX") {
            MailboxName("INBOX".to_string())
        } else {
            MailboxName(name)
        }
    }

    /// Decodes a name as it appeared on the wire. With `utf8` (IMAP4rev2 or
    /// UTF8=ACCEPT enabled) the bytes are the name; otherwise modified UTF-7 is decoded.
    pub fn from_wire(bytes: &[u8], utf8: bool) -> Result<MailboxName, MailboxNameError> {
        let s = std::str::from_utf8(bytes).map_err(|_| MailboxNameError::InvalidUtf8)?;
        if s.contains('\0') {
            return Err(MailboxNameError::Control);
        }
        if utf8 || !s.contains('&') {
            return Ok(MailboxName::new(s));
        }
        Ok(MailboxName::new(decode_utf7(s)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_inbox(&self) -> bool {
        self.0 == "INBOX"
    }

    /// The name in modified UTF-7, for clients that have not enabled UTF-8.
    pub fn to_utf7(&self) -> String {
        encode_utf7(&self.0)
    }
}

impl fmt::Display for MailboxName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailboxNameError {
    #[error("mailbox name is not valid UTF-8")]
    InvalidUtf8,
    #[error("mailbox name is not valid modified UTF-7")]
    InvalidUtf7,
    #[error("mailbox name contains a control character")]
    Control,
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

fn b64_value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b',' => 63,
        _ => return None,
    } as u32)
}

/// Encodes UTF-8 as modified UTF-7 (RFC 3501 5.1.3).
pub fn encode_utf7(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let mut bits: u32 = 0;
        let mut nbits = 0;
        for unit in pending.drain(..) {
            bits = (bits << 16) | unit as u32;
            nbits += 16;
            while nbits >= 6 {
                nbits -= 6;
                out.push(B64[((bits >> nbits) & 0x3f) as usize] as char);
            }
            bits &= (1 << nbits) - 1;
        }
        if nbits > 0 {
            out.push(B64[((bits << (6 - nbits)) & 0x3f) as usize] as char);
        }
        out.push('-');
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Decodes modified UTF-7 into UTF-8, rejecting the forms RFC 3501 5.1.3 forbids
/// (unterminated shifts, encoded printable ASCII, bad padding, lone surrogates).
pub fn decode_utf7(s: &str) -> Result<String, MailboxNameError> {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'&' {
            if !(0x20..=0x7e).contains(&b) {
                return Err(MailboxNameError::InvalidUtf7);
            }
            out.push(b as char);
            i += 1;
            continue;
        }
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i] != b'-' {
            i += 1;
        }
        if i >= bytes.len() {
            return Err(MailboxNameError::InvalidUtf7);
        }
        let chunk = &bytes[start..i];
        i += 1; // '-'
        if chunk.is_empty() {
            out.push('&');
            continue;
        }
        let mut units: Vec<u16> = Vec::with_capacity(chunk.len() * 6 / 16);
        let mut bits: u32 = 0;
        let mut nbits = 0;
        for &c in chunk {
            let v = b64_value(c).ok_or(MailboxNameError::InvalidUtf7)?;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(((bits >> nbits) & 0xffff) as u16);
                bits &= (1 << nbits) - 1;
            }
        }
        // Leftover bits are padding: fewer than 6 and all zero.
        if nbits >= 6 || bits != 0 {
            return Err(MailboxNameError::InvalidUtf7);
        }
        let decoded = String::from_utf16(&units).map_err(|_| MailboxNameError::InvalidUtf7)?;
        if decoded.chars().any(|c| (' '..='~').contains(&c)) {
            return Err(MailboxNameError::InvalidUtf7);
        }
        out.push_str(&decoded);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3501_example() {
        // RFC 3501 5.1.3
        let name = "~peter/mail/\u{65e5}\u{672c}\u{8a9e}/\u{53f0}\u{5317}";
        assert_eq!(encode_utf7(name), "~peter/mail/&ZeVnLIqe-/&U,BTFw-");
        assert_eq!(
            decode_utf7("~peter/mail/&ZeVnLIqe-/&U,BTFw-").as_deref(),
            Ok(name)
        );
    }

    #[test]
    fn ampersand_and_astral() {
        assert_eq!(encode_utf7("a&b"), "a&-b");
        assert_eq!(decode_utf7("a&-b").as_deref(), Ok("a&b"));
        let s = "x\u{1F600}y";
        assert_eq!(decode_utf7(&encode_utf7(s)).as_deref(), Ok(s));
    }

    #[test]
    fn invalid_forms() {
        for bad in ["&", "&Jjo", "&AGE-", "&Jjo!-", "&2D0-", "a\tb"] {
            assert!(decode_utf7(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn inbox_is_case_insensitive() {
        assert!(MailboxName::new("iNbOx").is_inbox());
        assert!(!MailboxName::new("INBOX.x").is_inbox());
    }
}
