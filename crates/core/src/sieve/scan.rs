//! What sieve-rs does not check at compile time and Zest must: the extensions a
//! script requires, and the literal names of external lists (RFC 6134). A small
//! lexer over the script's tokens (RFC 5228 2.4), run after sieve-rs accepted it.

use super::extlist::ExtListName;
use super::{ScriptError, ScriptWarning};

/// Where a token starts: 1-based line and column (in octets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Tag(String),
    Str(String),
    Num,
    Open(u8),
    Close(u8),
    Comma,
    Semi,
}

struct Lexer<'a> {
    src: &'a [u8],
    at: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Lexer<'a> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            column: self.at - self.line_start + 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.at).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        if b == b'\n' {
            self.line += 1;
            self.line_start = self.at;
        }
        Some(b)
    }

    fn error(pos: Pos, message: &str) -> ScriptError {
        ScriptError {
            line: pos.line,
            column: pos.column,
            message: message.to_string(),
        }
    }

    /// The position of the first token `stop` accepts, lexing no further.
    fn tokens_until(&mut self, stop: impl Fn(&Tok) -> bool) -> Option<Pos> {
        let mut out = Vec::new();
        while self.peek().is_some() {
            let before = out.len();
            self.next_token(&mut out).ok()?;
            if let Some((tok, pos)) = out.get(before)
                && stop(tok)
            {
                return Some(*pos);
            }
        }
        None
    }

    fn tokens(mut self) -> Result<Vec<(Tok, Pos)>, ScriptError> {
        let mut out = Vec::new();
        while self.peek().is_some() {
            self.next_token(&mut out)?;
        }
        Ok(out)
    }

    /// Lexes one token into `out`, or skips blanks and comments.
    fn next_token(&mut self, out: &mut Vec<(Tok, Pos)>) -> Result<(), ScriptError> {
        if let Some(b) = self.peek() {
            let pos = self.pos();
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.bump();
                }
                b'#' => self.skip_line(),
                b'/' if self.src.get(self.at + 1) == Some(&b'*') => {
                    self.at += 2;
                    loop {
                        match self.bump() {
                            Some(b'*') if self.peek() == Some(b'/') => {
                                self.bump();
                                break;
                            }
                            Some(_) => {}
                            None => return Err(Self::error(pos, "unterminated comment")),
                        }
                    }
                }
                b'"' => {
                    self.bump();
                    out.push((Tok::Str(self.quoted(pos)?), pos));
                }
                b'[' | b'(' | b'{' => {
                    self.bump();
                    out.push((Tok::Open(b), pos));
                }
                b']' | b')' | b'}' => {
                    self.bump();
                    out.push((Tok::Close(b), pos));
                }
                b',' => {
                    self.bump();
                    out.push((Tok::Comma, pos));
                }
                b';' => {
                    self.bump();
                    out.push((Tok::Semi, pos));
                }
                b':' => {
                    self.bump();
                    let word = self.word();
                    if word.is_empty() {
                        return Err(Self::error(pos, "expected a tag after ':'"));
                    }
                    out.push((Tok::Tag(word.to_ascii_lowercase()), pos));
                }
                b'0'..=b'9' => {
                    while self.peek().is_some_and(|b| b.is_ascii_digit()) {
                        self.bump();
                    }
                    if matches!(self.peek(), Some(b'K' | b'M' | b'G' | b'k' | b'm' | b'g')) {
                        self.bump();
                    }
                    out.push((Tok::Num, pos));
                }
                b if b.is_ascii_alphabetic() || b == b'_' => {
                    let word = self.word().to_ascii_lowercase();
                    if word == "text" && self.peek() == Some(b':') {
                        self.bump();
                        out.push((Tok::Str(self.multiline(pos)?), pos));
                    } else {
                        out.push((Tok::Ident(word), pos));
                    }
                }
                _ => return Err(Self::error(pos, "unexpected character")),
            }
        }
        Ok(())
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.bump() {
            if b == b'\n' {
                break;
            }
        }
    }

    fn word(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.bump();
        }
        String::from_utf8_lossy(&self.src[start..self.at]).into_owned()
    }

    /// RFC 5228 2.4.2: `\` quotes the next character.
    fn quoted(&mut self, pos: Pos) -> Result<String, ScriptError> {
        let mut bytes = Vec::new();
        loop {
            match self.bump() {
                Some(b'"') => break,
                Some(b'\\') => match self.bump() {
                    Some(b) => bytes.push(b),
                    None => return Err(Self::error(pos, "unterminated string")),
                },
                Some(b) => bytes.push(b),
                None => return Err(Self::error(pos, "unterminated string")),
            }
        }
        String::from_utf8(bytes).map_err(|_| Self::error(pos, "invalid UTF-8 in a string"))
    }

    /// RFC 5228 2.4.2: `text:` to end of line, then lines up to a lone ".",
    /// with a leading ".." standing for ".".
    fn multiline(&mut self, pos: Pos) -> Result<String, ScriptError> {
        self.skip_line();
        let mut bytes = Vec::new();
        loop {
            if self.at >= self.src.len() {
                return Err(Self::error(pos, "unterminated multi-line string"));
            }
            let start = self.at;
            self.skip_line();
            let mut line = &self.src[start..self.at];
            let content = line
                .strip_suffix(b"\n")
                .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
                .unwrap_or(line);
            if content == b"." {
                break;
            }
            if line.starts_with(b"..") {
                line = &line[1..];
            }
            bytes.extend_from_slice(line);
        }
        String::from_utf8(bytes).map_err(|_| Self::error(pos, "invalid UTF-8 in a string"))
    }
}

/// One argument of a command or test.
enum Arg {
    Tag(String),
    Strings(Vec<(String, Pos)>),
    Num,
}

/// Tests whose `:list` match type the MDA evaluates (sieve-rs raises
/// `Event::ListContains` for them); RFC 6134 2.2 requires address, envelope,
/// header and string.
const LIST_TESTS: &[&str] = &[
    "address",
    "envelope",
    "header",
    "string",
    "date",
    "currentdate",
];

/// What the scan found: list names used literally and warnings.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    pub lists: Vec<ExtListName>,
    pub warnings: Vec<ScriptWarning>,
}

pub(crate) fn check(
    script: &[u8],
    extensions: &[&str],
    max_list_recipients: usize,
) -> Result<Findings, ScriptError> {
    let lexer = Lexer {
        src: script,
        at: 0,
        line: 1,
        line_start: 0,
    };
    let tokens = lexer.tokens()?;
    let mut findings = Findings::default();
    let mut i = 0;
    while i < tokens.len() {
        let (Tok::Ident(name), pos) = &tokens[i] else {
            i += 1;
            continue;
        };
        let (args, next) = arguments(&tokens, i + 1);
        i = next;
        check_command(
            name,
            *pos,
            &args,
            extensions,
            max_list_recipients,
            &mut findings,
        )?;
    }
    Ok(findings)
}

/// Where the identifier `word` first appears, if the script lexes that far.
pub(crate) fn locate_identifier(script: &[u8], word: &str) -> Option<Pos> {
    let mut lexer = Lexer {
        src: script,
        at: 0,
        line: 1,
        line_start: 0,
    };
    let word = word.to_ascii_lowercase();
    lexer.tokens_until(|t| matches!(t, Tok::Ident(w) if *w == word))
}

/// The arguments following an identifier, and the index after them.
fn arguments(tokens: &[(Tok, Pos)], mut i: usize) -> (Vec<Arg>, usize) {
    let mut args = Vec::new();
    while let Some((tok, pos)) = tokens.get(i) {
        match tok {
            Tok::Tag(t) => args.push(Arg::Tag(t.clone())),
            Tok::Str(s) => args.push(Arg::Strings(vec![(s.clone(), *pos)])),
            Tok::Num => args.push(Arg::Num),
            Tok::Open(b'[') => {
                let mut list = Vec::new();
                i += 1;
                while let Some((tok, pos)) = tokens.get(i) {
                    match tok {
                        Tok::Str(s) => list.push((s.clone(), *pos)),
                        Tok::Comma => {}
                        _ => break,
                    }
                    i += 1;
                }
                args.push(Arg::Strings(list));
                // `i` is at the closing bracket (or whatever ended the list).
                if !matches!(tokens.get(i), Some((Tok::Close(b']'), _))) {
                    return (args, i);
                }
            }
            _ => break,
        }
        i += 1;
    }
    (args, i)
}

fn warn(findings: &mut Findings, pos: Pos, message: String) {
    findings.warnings.push(ScriptWarning {
        line: pos.line,
        column: pos.column,
        message,
    });
}

fn error(pos: Pos, message: String) -> ScriptError {
    ScriptError {
        line: pos.line,
        column: pos.column,
        message,
    }
}

/// Names built from variables (or encoded characters) are only known at run time.
fn is_literal(name: &str) -> bool {
    !name.contains("${")
}

fn check_command(
    name: &str,
    pos: Pos,
    args: &[Arg],
    extensions: &[&str],
    max_list_recipients: usize,
    findings: &mut Findings,
) -> Result<(), ScriptError> {
    let has_tag = |t: &str| args.iter().any(|a| matches!(a, Arg::Tag(x) if x == t));
    let strings = || {
        args.iter().flat_map(|a| match a {
            Arg::Strings(s) => s.as_slice(),
            _ => &[],
        })
    };
    match name {
        "require" => {
            for (ext, at) in strings() {
                if !extensions.contains(&ext.as_str()) {
                    return Err(error(*at, format!("unsupported extension {ext:?}")));
                }
            }
        }
        "valid_ext_list" => {
            // RFC 6134 2.7: an unsupported name makes the test false, not an error.
            for (list, at) in strings().filter(|(l, _)| is_literal(l)) {
                match ExtListName::parse(list) {
                    Ok(parsed) => findings.lists.push(parsed),
                    Err(e) => warn(findings, *at, format!("{e}; valid_ext_list is false")),
                }
            }
        }
        "redirect" if has_tag("list") => {
            for (list, at) in strings().filter(|(l, _)| is_literal(l)) {
                let parsed = ExtListName::parse(list).map_err(|e| error(*at, e.to_string()))?;
                // RFC 6134 5: redirecting to a list deserves a warning.
                warn(
                    findings,
                    *at,
                    format!(
                        "redirect :list sends each message to every address in {list} \
                         (at most {max_list_recipients})"
                    ),
                );
                findings.lists.push(parsed);
            }
        }
        _ if has_tag("list") => {
            if !LIST_TESTS.contains(&name) {
                return Err(error(pos, format!(":list is not supported by {name}")));
            }
            if has_tag("comparator") {
                // RFC 6134 2.2: comparators are not allowed with :list.
                return Err(error(pos, format!("{name}: :list takes no :comparator")));
            }
            // The key-list is the last argument of every test taking a match type.
            if let Some(Arg::Strings(keys)) = args.last() {
                for (list, at) in keys.iter().filter(|(l, _)| is_literal(l)) {
                    let parsed = ExtListName::parse(list).map_err(|e| error(*at, e.to_string()))?;
                    findings.lists.push(parsed);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(s: &str) -> Vec<Tok> {
        Lexer {
            src: s.as_bytes(),
            at: 0,
            line: 1,
            line_start: 0,
        }
        .tokens()
        .unwrap()
        .into_iter()
        .map(|(t, _)| t)
        .collect()
    }

    #[test]
    fn lexes_strings_comments_and_multiline() {
        let toks = lex(
            "# comment \"x\"\nif header :List \"a\\\"b\" /* \"c\" */ [\"d\", \"e\"] {\r\n\
             vacation text: # trailing\r\nline\r\n..dot\r\n.\r\n; }",
        );
        assert_eq!(
            toks,
            vec![
                Tok::Ident("if".into()),
                Tok::Ident("header".into()),
                Tok::Tag("list".into()),
                Tok::Str("a\"b".into()),
                Tok::Open(b'['),
                Tok::Str("d".into()),
                Tok::Comma,
                Tok::Str("e".into()),
                Tok::Close(b']'),
                Tok::Open(b'{'),
                Tok::Ident("vacation".into()),
                Tok::Str("line\r\n.dot\r\n".into()),
                Tok::Semi,
                Tok::Close(b'}'),
            ]
        );
        assert_eq!(lex("size :over 10K;")[2], Tok::Num);
    }

    #[test]
    fn positions_are_one_based() {
        let toks = Lexer {
            src: b"require \"x\";\n  stop;",
            at: 0,
            line: 1,
            line_start: 0,
        }
        .tokens()
        .unwrap();
        assert_eq!(toks[0].1, Pos { line: 1, column: 1 });
        assert_eq!(toks[1].1, Pos { line: 1, column: 9 });
        assert_eq!(toks[3].1, Pos { line: 2, column: 3 });
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let script = "require \"x\"; /* c */ if header :list \"from\" [\"a\", \"b\"] { vacation text:\nx\n.\n; }";
        for end in 0..=script.len() {
            let _ = check(&script.as_bytes()[..end], &["x"], 10);
        }
        for bad in ["\"abc", "/* abc", "text:\nabc", ":", "\u{1}", "\"\\"] {
            assert!(
                Lexer {
                    src: bad.as_bytes(),
                    at: 0,
                    line: 1,
                    line_start: 0
                }
                .tokens()
                .is_err(),
                "{bad:?}"
            );
        }
    }

    fn pieces() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"require ".to_vec()),
            Just(b"\"extlists\"".to_vec()),
            Just(b"header ".to_vec()),
            Just(b"redirect ".to_vec()),
            Just(b"valid_ext_list ".to_vec()),
            Just(b":list ".to_vec()),
            Just(b":comparator ".to_vec()),
            Just(b"\":addrbook:%".to_vec()),
            Just(b"\"tag:x,2026:y\"".to_vec()),
            Just(b"text:\r\n".to_vec()),
            Just(b".\r\n".to_vec()),
            Just(b"/*".to_vec()),
            Just(b"*/".to_vec()),
            Just(b"#".to_vec()),
            Just(b"[".to_vec()),
            Just(b"]".to_vec()),
            Just(b",".to_vec()),
            Just(b";".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..6),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn check_never_panics(script in pieces()) {
            let _ = check(&script, &["extlists"], 5);
            let _ = crate::sieve::compile(&crate::sieve::SieveSettings::default(), &script);
        }

        #[test]
        fn check_never_panics_on_bytes(script in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = check(&script, &["extlists"], 5);
        }
    }
}
