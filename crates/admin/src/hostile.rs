//! Whatever a browser or script sends, the small parsers of this crate
//! (cookies, quotas, pasted lists, form-written scripts, CSRF bodies) never
//! panic.

use proptest::prelude::*;

use crate::addrbook::split_values;
use crate::lists::pasted_members;
use crate::session::cookie;
use crate::sieve::SimpleFilter;
use crate::users::parse_quota;

proptest! {
    #[test]
    fn text_parsers_never_panic(s in any::<String>()) {
        let _ = parse_quota(&s);
        let _ = split_values(&s);
        let _ = pasted_members(&s);
        let _ = SimpleFilter::from_script(s.as_bytes());
        let _ = crate::render::seg(&s);
        let _ = crate::dns::txt_strings(&s);
        let mut h = axum::http::HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(&s) {
            h.insert(axum::http::header::COOKIE, v);
            let _ = cookie(&h, "zest_session");
        }
    }

    #[test]
    fn byte_scripts_never_panic(b in proptest::collection::vec(any::<u8>(), 0..2000)) {
        let _ = SimpleFilter::from_script(&b);
    }

    #[test]
    fn pasted_members_are_trimmed_and_non_empty(s in "[a-z@., \n;]{0,200}") {
        for m in pasted_members(&s) {
            prop_assert!(!m.is_empty());
            prop_assert_eq!(m.trim(), m.as_str());
        }
    }

    #[test]
    fn form_text_survives_the_simple_filter(subject in any::<String>(), body in any::<String>(), folder in "[^\\x00]{1,50}") {
        let f = SimpleFilter { vacation: true, sort: true, subject, body, folder, ..SimpleFilter::default() };
        prop_assert_eq!(SimpleFilter::from_script(f.to_sieve().as_bytes()), Some(f));
    }
}

#[test]
fn oversized_and_truncated_inputs() {
    assert!(parse_quota(&"9".repeat(100_000)).is_err());
    assert!(parse_quota("1").is_ok());
    let f = SimpleFilter::default().to_sieve();
    for end in 0..f.len() {
        if let Some(t) = f.get(..end) {
            let _ = SimpleFilter::from_script(t.as_bytes());
        }
    }
}
