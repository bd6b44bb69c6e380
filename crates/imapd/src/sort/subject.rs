//! The base subject (RFC 5256 2.1), which SORT SUBJECT and both THREAD
//! algorithms group by, and whether the subject marked a reply or forward.
//! Computed by the store's message summary, which keeps it with each message.

pub use store::summary::base_subject;

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> String {
        base_subject(s).0
    }

    #[test]
    fn rfc_5256_base_subjects() {
        assert_eq!(base("a"), "a");
        assert_eq!(base("[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)"), "b");
        assert_eq!(base("Re: [FWD: c]"), "c");
        assert_eq!(base("[xyz]"), "[xyz]");
        assert_eq!(base(" "), "");
        assert_eq!(base("RE: C"), "C");
        assert_eq!(base("Ad: Re: Ad: Re: Ad: x"), "Ad: Re: Ad: Re: Ad: x");
        assert_eq!(base("re: [fwd: [fwd: re: [fwd: babylon]]]"), "babylon");
        assert_eq!(base("b (a)"), "b (a)");
        assert_eq!(base("Re:\tRe:  hello\r\n world"), "hello world");
        assert_eq!(base("[a][b] subject"), "subject");
        assert_eq!(base("[a] [b]"), "[b]");
        assert_eq!(base("Re[2]: x"), "x");
        assert_eq!(base("Fw : x"), "x");
        assert_eq!(base("Ré: x"), "Ré: x");
        assert_eq!(base("x (fwd"), "x (fwd");
        assert_eq!(base("[fwd: ]"), "");
    }

    #[test]
    fn replies_and_forwards_are_marked() {
        assert!(!base_subject("hello").1);
        assert!(base_subject("Re: hello").1);
        assert!(base_subject("hello (fwd)").1);
        assert!(base_subject("[fwd: hello]").1);
        assert!(!base_subject("[list] hello").1);
    }

    #[test]
    fn hostile_subjects_end() {
        let long = "[a]".repeat(10_000) + "x";
        assert_eq!(base(&long), "x");
        let open = "[".repeat(10_000);
        assert_eq!(base(&open), open);
        let refs = "Re: ".repeat(10_000) + "y";
        assert_eq!(base(&refs), "y");
    }
}
