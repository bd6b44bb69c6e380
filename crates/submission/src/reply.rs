//! SMTP replies with enhanced status codes (RFC 3463), and the one place
//! errors become replies.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub code: u16,
    /// "x.y.z", or "" for replies that carry none (greeting, EHLO).
    pub status: &'static str,
    pub lines: Vec<String>,
}

impl Reply {
    pub(crate) fn new(code: u16, status: &'static str, text: impl Into<String>) -> Reply {
        Reply {
            code,
            status,
            lines: vec![text.into()],
        }
    }

    pub(crate) fn multi(code: u16, lines: Vec<String>) -> Reply {
        Reply {
            code,
            status: "",
            lines,
        }
    }

    pub(crate) fn write_to(&self, out: &mut Vec<u8>) {
        let mut s = String::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let sep = if i + 1 == n { ' ' } else { '-' };
            let text = self.lines.get(i).map(String::as_str).unwrap_or("");
            // A reply line never carries the client's CR or LF through.
            let text: String = text.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            let _ = if self.status.is_empty() {
                write!(s, "{}{}{}\r\n", self.code, sep, text)
            } else {
                write!(s, "{}{}{} {}\r\n", self.code, sep, self.status, text)
            };
        }
        out.extend_from_slice(s.as_bytes());
    }
}

/// A store failure as the client sees it: temporary trouble is 451 so the
/// client retries; a refused request is permanent.
pub(crate) fn from_store(e: &store::StoreError) -> Reply {
    if e.is_temporary() {
        tracing::error!(error = %e, "store failure");
        Reply::new(451, "4.3.0", "Temporary failure; try again later")
    } else {
        Reply::new(554, "5.6.0", format!("Message refused: {e}"))
    }
}

/// smtp-proto's parse errors (RFC 5321 4.2.4, RFC 3463).
pub(crate) fn from_parse(e: &smtp_proto::Error) -> Reply {
    use smtp_proto::Error as E;
    match e {
        E::UnknownCommand => Reply::new(500, "5.5.1", "Unknown command"),
        E::InvalidSenderAddress => Reply::new(501, "5.1.7", "Bad sender address syntax"),
        E::InvalidRecipientAddress => Reply::new(501, "5.1.3", "Bad recipient address syntax"),
        E::SyntaxError { syntax } => Reply::new(501, "5.5.4", format!("Syntax: {syntax}")),
        E::InvalidParameter { param } => {
            Reply::new(501, "5.5.4", format!("Invalid {param} parameter"))
        }
        E::UnsupportedParameter { param } => {
            let param: String = param
                .chars()
                .filter(char::is_ascii_graphic)
                .take(64)
                .collect();
            Reply::new(555, "5.5.4", format!("Unsupported parameter {param}"))
        }
        E::ResponseTooLong => Reply::new(500, "5.5.2", "Line too long"),
        E::NeedsMoreData { .. } | E::InvalidResponse { .. } => {
            Reply::new(500, "5.5.2", "Syntax error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multi_line_replies() {
        let mut out = Vec::new();
        Reply::new(250, "2.1.0", "Sender ok").write_to(&mut out);
        Reply::multi(250, vec!["host".into(), "PIPELINING".into()]).write_to(&mut out);
        Reply::new(550, "5.7.1", "no\r\nRCPT").write_to(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "250 2.1.0 Sender ok\r\n250-host\r\n250 PIPELINING\r\n550 5.7.1 noRCPT\r\n"
        );
    }
}
