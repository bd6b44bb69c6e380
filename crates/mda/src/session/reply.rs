//! SMTP/LMTP replies with RFC 3463 enhanced status codes (RFC 2034).

/// One reply line: code, enhanced status code (absent for greetings and 354)
/// and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    code: u16,
    status: Option<[u8; 3]>,
    text: String,
}

impl Reply {
    pub(crate) fn new(code: u16, status: [u8; 3], text: &str) -> Reply {
        Reply {
            code,
            status: Some(status),
            text: text.to_string(),
        }
    }

    pub(crate) fn plain(code: u16, text: &str) -> Reply {
        Reply {
            code,
            status: None,
            text: text.to_string(),
        }
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let text: String = self
            .text
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        let line = match self.status {
            Some([a, b, c]) => format!("{} {a}.{b}.{c} {text}\r\n", self.code),
            None => format!("{} {text}\r\n", self.code),
        };
        out.extend_from_slice(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_and_one_line() {
        let mut out = Vec::new();
        Reply::new(550, [5, 1, 1], "no\r\nsuch").write_to(&mut out);
        Reply::plain(354, "go").write_to(&mut out);
        assert_eq!(out, b"550 5.1.1 no  such\r\n354 go\r\n");
    }
}
