//! The `i;unicode-casemap` comparator (RFC 5051), the default of I18NLEVEL=1
//! (RFC 5255 4.5): each character to its titlecase, then compatibility
//! decomposition (NFKD); strings then compare octet by octet.

use unicode_normalization::UnicodeNormalization;

/// The canonical form two strings are compared by.
pub fn key(s: &str) -> String {
    if s.is_ascii() {
        // Titlecase of ASCII is uppercase; NFKD leaves ASCII alone.
        return s.to_ascii_uppercase();
    }
    s.chars().map(titlecase).nfkd().collect()
}

/// The simple titlecase mapping (UnicodeData.txt field 14). It equals the simple
/// uppercase mapping except for the characters listed here; a character whose
/// only uppercase mapping is a full one (several characters, e.g. `ß`) keeps
/// its form.
fn titlecase(c: char) -> char {
    let u = c as u32;
    let mapped = match u {
        // Latin digraphs: DŽ Dž dž, LJ Lj lj, NJ Nj nj, DZ Dz dz.
        0x01C4..=0x01C6 => Some(0x01C5),
        0x01C7..=0x01C9 => Some(0x01C8),
        0x01CA..=0x01CC => Some(0x01CB),
        0x01F1..=0x01F3 => Some(0x01F2),
        // Georgian Mkhedruli letters are their own titlecase (Unicode 11).
        0x10D0..=0x10FA | 0x10FD..=0x10FF => Some(u),
        // Greek with ypogegrammeni: the titlecase letter with prosgegrammeni.
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => Some(u + 8),
        0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF => Some(u),
        0x1FB3 | 0x1FBC => Some(0x1FBC),
        0x1FC3 | 0x1FCC => Some(0x1FCC),
        0x1FF3 | 0x1FFC => Some(0x1FFC),
        _ => None,
    };
    if let Some(m) = mapped.and_then(char::from_u32) {
        return m;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// Whether `needle` occurs in `haystack` under `i;unicode-casemap` (RFC 5051
/// substring match).
pub fn contains(haystack: &str, needle: &str) -> bool {
    needle.is_empty() || key(haystack).contains(&key(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titlecase_then_decompose() {
        assert_eq!(key("abc"), "ABC");
        assert_eq!(key("Grüße"), "GRU\u{308}ßE");
        assert_eq!(key("ǆemal"), "\u{1C5}EMAL".nfkd().collect::<String>());
        assert_eq!(key("ﬁ"), "fi");
        assert_eq!(key("ᾳ"), key("ᾼ"));
        assert_eq!(key("ა"), "ა");
        assert_eq!(key("Å"), key("å"));
        assert!(contains("Hello WÖRLD", "wör"));
        assert!(!contains("Hello", "x"));
        assert!(key("[XYZ]") < key("_"));
    }
}
