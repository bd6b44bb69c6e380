//! Whatever a client sends, the parser answers without panicking, never claims
//! more bytes than it was given, and every refusal says how to resynchronise.

use managesieve_proto::{Command, Limits, Parsed, ScriptName, parse_command, parse_sasl_response};
use proptest::prelude::*;

fn limits() -> Limits {
    Limits {
        max_line: 64,
        max_literal: 128,
    }
}

fn check(buf: &[u8]) {
    match parse_command(buf, &limits()) {
        Ok(Parsed::Done(_, n)) => assert!(n > 0 && n <= buf.len()),
        Ok(Parsed::NeedLiteral { size, .. }) => assert!(size > 0),
        Ok(Parsed::Incomplete) => {}
        Err(e) => {
            let mut skip = e.skip;
            let n = skip.consume(buf);
            assert!(n <= buf.len());
            assert!(n > 0 || !skip.is_done() || buf.is_empty(), "{e:?}");
        }
    }
    let _ = parse_sasl_response(buf, &limits());
}

fn words() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"PUTSCRIPT ".to_vec()),
        Just(b"AUTHENTICATE ".to_vec()),
        Just(b"HAVESPACE ".to_vec()),
        Just(b"SETACTIVE ".to_vec()),
        Just(b"NOOP ".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"{".to_vec()),
        Just(b"+}".to_vec()),
        Just(b"}".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"4294967296".to_vec()),
        Just(b"12".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn random_bytes(buf in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&buf);
    }

    #[test]
    fn grammar_shaped_bytes(buf in words()) {
        check(&buf);
    }

    #[test]
    fn any_valid_name_round_trips(name in "\\PC{1,40}", script in proptest::collection::vec(any::<u8>(), 0..100)) {
        if let Ok(name) = ScriptName::parse(name.as_bytes()) {
            let c = Command::PutScript { name, script };
            let mut out = Vec::new();
            c.encode(&mut out);
            let limits = Limits { max_line: 8192, max_literal: 1000 };
            match parse_command(&out, &limits) {
                Ok(Parsed::Done(parsed, n)) => {
                    prop_assert_eq!(parsed, c);
                    prop_assert_eq!(n, out.len());
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
