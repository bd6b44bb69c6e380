//! What the server sends (RFC 5804 1.3, 4): OK / NO / BYE with response codes,
//! capability lines, LISTSCRIPTS lines, scripts and SASL challenges.

/// RFC 5804 4: `quoted = DQUOTE *1024QUOTED-CHAR DQUOTE`; longer text goes as
/// a literal.
pub const MAX_QUOTED: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    No,
    Bye,
}

/// Response codes (RFC 5804 1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    AuthTooWeak,
    EncryptNeeded,
    Quota,
    QuotaMaxScripts,
    QuotaMaxSize,
    /// The server's final SASL data (base64), RFC 5804 2.1.
    Sasl(String),
    TransitionNeeded,
    TryLater,
    Active,
    Nonexistent,
    AlreadyExists,
    /// NOOP's tag echoed back (RFC 5804 2.13).
    Tag(Vec<u8>),
    Warnings,
}

impl Code {
    fn encode(&self, out: &mut Vec<u8>) {
        let atom: &str = match self {
            Code::AuthTooWeak => "AUTH-TOO-WEAK",
            Code::EncryptNeeded => "ENCRYPT-NEEDED",
            Code::Quota => "QUOTA",
            Code::QuotaMaxScripts => "QUOTA/MAXSCRIPTS",
            Code::QuotaMaxSize => "QUOTA/MAXSIZE",
            Code::TransitionNeeded => "TRANSITION-NEEDED",
            Code::TryLater => "TRYLATER",
            Code::Active => "ACTIVE",
            Code::Nonexistent => "NONEXISTENT",
            Code::AlreadyExists => "ALREADYEXISTS",
            Code::Warnings => "WARNINGS",
            Code::Sasl(data) => {
                out.extend_from_slice(b"SASL ");
                encode_string(out, data.as_bytes());
                return;
            }
            Code::Tag(tag) => {
                out.extend_from_slice(b"TAG ");
                encode_string(out, tag);
                return;
            }
        };
        out.extend_from_slice(atom.as_bytes());
    }
}

/// A final response to a command, or BYE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: Status,
    pub code: Option<Code>,
    pub text: Option<String>,
}

impl Response {
    pub fn ok(text: impl Into<String>) -> Response {
        Response {
            status: Status::Ok,
            code: None,
            text: Some(text.into()),
        }
    }

    pub fn no(text: impl Into<String>) -> Response {
        Response {
            status: Status::No,
            code: None,
            text: Some(text.into()),
        }
    }

    pub fn bye(text: impl Into<String>) -> Response {
        Response {
            status: Status::Bye,
            code: None,
            text: Some(text.into()),
        }
    }

    pub fn with_code(mut self, code: Code) -> Response {
        self.code = Some(code);
        self
    }

    /// `OK (CODE) "text"` and CRLF; long or multi-line text goes as a literal.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(match self.status {
            Status::Ok => b"OK",
            Status::No => b"NO",
            Status::Bye => b"BYE",
        });
        if let Some(code) = &self.code {
            out.extend_from_slice(b" (");
            code.encode(out);
            out.push(b')');
        }
        if let Some(text) = &self.text {
            out.push(b' ');
            encode_string(out, text.as_bytes());
        }
        out.extend_from_slice(b"\r\n");
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

fn quotable(bytes: &[u8]) -> bool {
    bytes.len() <= MAX_QUOTED
        && std::str::from_utf8(bytes).is_ok()
        && !bytes.iter().any(|&b| matches!(b, 0 | b'\r' | b'\n'))
}

fn encode_quoted(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for &b in bytes {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A string from the server: quoted when it can be, else `{n}` CRLF and the bytes.
pub fn encode_string(out: &mut Vec<u8>, bytes: &[u8]) {
    if quotable(bytes) {
        encode_quoted(out, bytes);
    } else {
        encode_literal(out, bytes, false);
    }
}

/// A string from a client: quoted when it can be, else a `{n+}` literal.
pub fn encode_string_c2s(out: &mut Vec<u8>, bytes: &[u8]) {
    if quotable(bytes) {
        encode_quoted(out, bytes);
    } else {
        encode_literal(out, bytes, true);
    }
}

fn encode_literal(out: &mut Vec<u8>, bytes: &[u8], non_sync: bool) {
    let plus = if non_sync { "+" } else { "" };
    out.extend_from_slice(format!("{{{}{plus}}}\r\n", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
}

/// One capability line (RFC 5804 1.7): `"NAME"` or `"NAME" "value"`.
pub fn encode_capability(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    encode_quoted(out, name.as_bytes());
    if let Some(value) = value {
        out.push(b' ');
        encode_string(out, value.as_bytes());
    }
    out.extend_from_slice(b"\r\n");
}

/// One LISTSCRIPTS line (RFC 5804 2.7).
pub fn encode_listscripts_entry(out: &mut Vec<u8>, name: &str, active: bool) {
    encode_string(out, name.as_bytes());
    if active {
        out.extend_from_slice(b" ACTIVE");
    }
    out.extend_from_slice(b"\r\n");
}

/// GETSCRIPT's script (RFC 5804 2.9): always a literal, then CRLF.
pub fn encode_script(out: &mut Vec<u8>, script: &[u8]) {
    encode_literal(out, script, false);
    out.extend_from_slice(b"\r\n");
}

/// A SASL challenge line (RFC 5804 2.1): the base64 text as a string.
pub fn encode_challenge(out: &mut Vec<u8>, base64: &str) {
    encode_string(out, base64.as_bytes());
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(r: Response) -> String {
        String::from_utf8(r.to_bytes()).unwrap()
    }

    #[test]
    fn status_lines() {
        assert_eq!(s(Response::ok("Done")), "OK \"Done\"\r\n");
        assert_eq!(
            s(Response::no("Too many scripts").with_code(Code::QuotaMaxScripts)),
            "NO (QUOTA/MAXSCRIPTS) \"Too many scripts\"\r\n"
        );
        assert_eq!(
            s(Response::ok("Done").with_code(Code::Tag(b"STARTTLS-SYNC-42".to_vec()))),
            "OK (TAG \"STARTTLS-SYNC-42\") \"Done\"\r\n"
        );
        assert_eq!(
            s(Response::ok("x").with_code(Code::Sasl("cnNwYXV0aD1lYTQw".into()))),
            "OK (SASL \"cnNwYXV0aD1lYTQw\") \"x\"\r\n"
        );
        assert_eq!(
            s(Response::bye("Too many errors").with_code(Code::TryLater)),
            "BYE (TRYLATER) \"Too many errors\"\r\n"
        );
        assert_eq!(
            s(Response {
                status: Status::Ok,
                code: None,
                text: None
            }),
            "OK\r\n"
        );
        for (code, atom) in [
            (Code::AuthTooWeak, "AUTH-TOO-WEAK"),
            (Code::EncryptNeeded, "ENCRYPT-NEEDED"),
            (Code::Quota, "QUOTA"),
            (Code::QuotaMaxSize, "QUOTA/MAXSIZE"),
            (Code::TransitionNeeded, "TRANSITION-NEEDED"),
            (Code::Active, "ACTIVE"),
            (Code::Nonexistent, "NONEXISTENT"),
            (Code::AlreadyExists, "ALREADYEXISTS"),
            (Code::Warnings, "WARNINGS"),
        ] {
            assert_eq!(
                s(Response::no("x").with_code(code)),
                format!("NO ({atom}) \"x\"\r\n")
            );
        }
    }

    #[test]
    fn text_that_cannot_be_quoted_is_a_literal() {
        assert_eq!(
            s(Response::no("line 2: error\r\nmore")),
            "NO {19}\r\nline 2: error\r\nmore\r\n"
        );
        assert_eq!(s(Response::no("a \"b\" \\")), "NO \"a \\\"b\\\" \\\\\"\r\n");
        let long = "x".repeat(MAX_QUOTED + 1);
        assert_eq!(
            s(Response::no(long.clone())),
            format!("NO {{1025}}\r\n{long}\r\n")
        );
    }

    #[test]
    fn lines() {
        let mut out = Vec::new();
        encode_capability(&mut out, "IMPLEMENTATION", Some("Zest"));
        encode_capability(&mut out, "STARTTLS", None);
        encode_listscripts_entry(&mut out, "summer", false);
        encode_listscripts_entry(&mut out, "main", true);
        encode_script(&mut out, b"keep;\r\n");
        encode_challenge(&mut out, "");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"IMPLEMENTATION\" \"Zest\"\r\n\"STARTTLS\"\r\n\"summer\"\r\n\"main\" ACTIVE\r\n\
             {7}\r\nkeep;\r\n\r\n\"\"\r\n"
        );
    }
}
