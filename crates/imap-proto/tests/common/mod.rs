//! Helpers the parser tests share: parse every prefix of a command, and check
//! that what the encoder writes parses back the same.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::result_large_err
)]

use imap_proto::*;

pub fn limits() -> Limits {
    Limits::default()
}

/// Parses `input` whole and checks that every prefix asks for more or fails like the
/// whole input.
pub fn parse_split(input: &[u8]) -> Result<Command, ParseError> {
    let whole = parse_command(input, &limits());
    for i in 0..input.len() {
        match parse_command(&input[..i], &limits()) {
            Ok(Parsed::Incomplete | Parsed::NeedLiteral { .. }) => {}
            Ok(Parsed::Done(..)) => panic!("prefix of {i} bytes parsed as complete"),
            Err(e) => match &whole {
                Err(w) => assert_eq!(e.kind, w.kind, "prefix {i}"),
                Ok(_) => panic!("prefix of {i} bytes failed: {e:?}"),
            },
        }
    }
    match whole? {
        Parsed::Done(cmd, n) => {
            assert_eq!(n, input.len());
            Ok(cmd)
        }
        other => panic!("whole input not complete: {other:?}"),
    }
}

/// Parses, then checks the encoder writes something that parses back the same.
pub fn body(input: &str) -> CommandBody {
    let cmd = parse_split(input.as_bytes()).unwrap_or_else(|e| panic!("{input:?}: {e:?}"));
    let encoded = cmd.to_bytes(&EncodeOptions::default());
    match parse_command(&encoded, &limits()) {
        Ok(Parsed::Done(again, n)) => {
            assert_eq!(again, cmd, "{}", String::from_utf8_lossy(&encoded));
            assert_eq!(n, encoded.len());
        }
        other => panic!("{other:?}"),
    }
    cmd.body
}
