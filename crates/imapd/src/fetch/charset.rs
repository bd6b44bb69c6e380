//! Character set conversion for CONVERT (RFC 5259 7.1): decoding from any charset
//! encoding_rs knows (plus strict US-ASCII and ISO-8859-1), encoding to the ones it
//! can write (plus UTF-16), and RFC 2047 encoded words in header fields.

use encoding_rs::{EncoderResult, Encoding};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CharsetError {
    /// The charset name is not one this server knows (or can write).
    Unknown,
    /// The bytes are not valid in the charset.
    Malformed,
    /// A character has no representation in the target charset.
    Unmappable,
    /// The replacement string itself has no representation in the target charset.
    BadReplacement,
}

fn lower(label: &str) -> String {
    label.trim().to_ascii_lowercase()
}

/// encoding_rs follows WHATWG, where these names mean windows-1252; mail means the
/// exact charsets.
fn is_ascii(label: &str) -> bool {
    matches!(
        lower(label).as_str(),
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "us" | "iso-ir-6" | "cp367"
    )
}

fn is_latin1(label: &str) -> bool {
    matches!(
        lower(label).as_str(),
        "iso-8859-1" | "iso_8859-1" | "iso8859-1" | "latin1" | "l1" | "iso-ir-100" | "cp819"
    )
}

fn utf16_endianness(label: &str) -> Option<Option<bool>> {
    match lower(label).as_str() {
        "utf-16" => Some(None),
        "utf-16be" => Some(Some(true)),
        "utf-16le" => Some(Some(false)),
        _ => None,
    }
}

fn encoding(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label(label.trim().as_bytes()).filter(|e| *e != encoding_rs::REPLACEMENT)
}

/// Whether `label` names a charset this server can decode.
pub fn can_decode(label: &str) -> bool {
    is_ascii(label) || is_latin1(label) || encoding(label).is_some()
}

/// `bytes` in `label` as text. `lossy` turns malformed sequences into U+FFFD instead of
/// failing.
pub fn decode(bytes: &[u8], label: &str, lossy: bool) -> Result<String, CharsetError> {
    if is_ascii(label) {
        if bytes.is_ascii() {
            return Ok(bytes.iter().map(|&b| b as char).collect());
        }
        if !lossy {
            return Err(CharsetError::Malformed);
        }
        return Ok(bytes
            .iter()
            .map(|&b| if b.is_ascii() { b as char } else { '\u{fffd}' })
            .collect());
    }
    if is_latin1(label) {
        return Ok(bytes.iter().map(|&b| b as char).collect());
    }
    let enc = encoding(label).ok_or(CharsetError::Unknown)?;
    if lossy {
        return Ok(enc.decode_without_bom_handling(bytes).0.into_owned());
    }
    enc.decode_without_bom_handling_and_without_replacement(bytes)
        .map(|c| c.into_owned())
        .ok_or(CharsetError::Malformed)
}

/// `text` written in `label`; a character the charset lacks becomes `replacement`, or
/// fails the conversion when there is none.
pub fn encode(text: &str, label: &str, replacement: Option<&str>) -> Result<Vec<u8>, CharsetError> {
    let repl = |out: &mut Vec<u8>| -> Result<(), CharsetError> {
        let Some(r) = replacement else {
            return Err(CharsetError::Unmappable);
        };
        let bytes = encode(r, label, None).map_err(|_| CharsetError::BadReplacement)?;
        out.extend_from_slice(&bytes);
        Ok(())
    };
    let mut out = Vec::with_capacity(text.len());
    if is_ascii(label) || is_latin1(label) {
        let max = if is_ascii(label) { 0x7f } else { 0xff };
        for c in text.chars() {
            if (c as u32) <= max {
                out.push(c as u32 as u8);
            } else {
                repl(&mut out)?;
            }
        }
        return Ok(out);
    }
    if let Some(big) = utf16_endianness(label) {
        // RFC 2781 4.3: unlabelled UTF-16 is big-endian with a byte order mark.
        if big.is_none() {
            out.extend_from_slice(&[0xfe, 0xff]);
        }
        for u in text.encode_utf16() {
            let b = if big == Some(false) {
                u.to_le_bytes()
            } else {
                u.to_be_bytes()
            };
            out.extend_from_slice(&b);
        }
        return Ok(out);
    }
    let enc = encoding(label).ok_or(CharsetError::Unknown)?;
    if enc == encoding_rs::UTF_8 {
        return Ok(text.as_bytes().to_vec());
    }
    if enc.output_encoding() != enc {
        return Err(CharsetError::Unknown);
    }
    let mut encoder = enc.new_encoder();
    let mut src = text;
    loop {
        let need = encoder
            .max_buffer_length_from_utf8_without_replacement(src.len())
            .unwrap_or(src.len().saturating_mul(4) + 16);
        out.reserve(need);
        let (result, read) =
            encoder.encode_from_utf8_to_vec_without_replacement(src, &mut out, true);
        src = &src[read..];
        match result {
            EncoderResult::InputEmpty => return Ok(out),
            EncoderResult::OutputFull => {}
            EncoderResult::Unmappable(_) => repl(&mut out)?,
        }
    }
}

/// Whether `label` names a charset this server can write.
pub fn can_encode(label: &str) -> bool {
    !matches!(encode("", label, None), Err(CharsetError::Unknown))
}

/// Decodes one encoded word's text (`B` or `Q`, RFC 2047 4).
fn decode_word_text(encoding: u8, text: &[u8]) -> Option<Vec<u8>> {
    match encoding.to_ascii_uppercase() {
        b'B' => super::binary::decode_base64(text).ok(),
        b'Q' => {
            let mut out = Vec::with_capacity(text.len());
            let mut i = 0;
            while i < text.len() {
                match text[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        let h = (*text.get(i + 1)? as char).to_digit(16)?;
                        let l = (*text.get(i + 2)? as char).to_digit(16)?;
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            Some(out)
        }
        _ => None,
    }
}

fn encode_word_text(encoding: u8, bytes: &[u8], keep_spaces: bool, out: &mut Vec<u8>) {
    if encoding.eq_ignore_ascii_case(&b'B') {
        use base64::Engine;
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(bytes)
                .as_bytes(),
        );
        return;
    }
    for &b in bytes {
        match b {
            b' ' if keep_spaces => out.push(b' '),
            b' ' => out.push(b'_'),
            b if b.is_ascii_alphanumeric() || b"!*+-/".contains(&b) => out.push(b),
            b => out.extend_from_slice(format!("={b:02X}").as_bytes()),
        }
    }
}

/// The header with every RFC 2047 encoded word it can decode re-encoded in `target`
/// (RFC 5259 6): the same B or Q encoding, the charset named in upper case, and a Q
/// word that spelled spaces literally keeps doing so. A word that cannot be decoded,
/// or whose text the target cannot represent, stays as it was.
pub fn convert_encoded_words(header: &[u8], target: &str, replacement: Option<&str>) -> Vec<u8> {
    let label = target.trim().to_ascii_uppercase();
    let mut out = Vec::with_capacity(header.len());
    let mut i = 0;
    while i < header.len() {
        if header[i..].starts_with(b"=?")
            && let Some((len, word)) = convert_word(&header[i..], &label, replacement)
        {
            out.extend_from_slice(&word);
            i += len;
            continue;
        }
        out.push(header[i]);
        i += 1;
    }
    out
}

/// `=?charset?E?text?=` at the start of `s`: its length and its re-encoded form.
fn convert_word(s: &[u8], target: &str, replacement: Option<&str>) -> Option<(usize, Vec<u8>)> {
    let line_end = s
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(s.len());
    let s = &s[..line_end];
    let q1 = 2 + s[2..].iter().position(|&b| b == b'?')?;
    let charset = std::str::from_utf8(&s[2..q1]).ok()?;
    let charset = charset.split('*').next().unwrap_or(charset);
    let encoding = *s.get(q1 + 1)?;
    if s.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let text_len = s[text_start..].windows(2).position(|w| w == b"?=")?;
    let text = &s[text_start..text_start + text_len];
    let bytes = decode_word_text(encoding, text)?;
    let decoded = decode(&bytes, charset, false).ok()?;
    let encoded = encode(&decoded, target, replacement).ok()?;
    let mut word = format!("=?{target}?").into_bytes();
    word.push(encoding);
    word.push(b'?');
    encode_word_text(encoding, &encoded, text.contains(&b' '), &mut word);
    word.extend_from_slice(b"?=");
    Some((text_start + text_len + 2, word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mandatory_charsets_decode_to_utf8() {
        // RFC 5259 7.1: iso-8859-1 to -8 and -15.
        for n in ["1", "2", "3", "4", "5", "6", "7", "8", "15"] {
            let label = format!("iso-8859-{n}");
            assert!(can_decode(&label), "{label}");
            assert_eq!(decode(b"abc", &label, false).unwrap(), "abc");
        }
        assert_eq!(decode(b"caf\xe9", "ISO-8859-1", false).unwrap(), "café");
        assert_eq!(decode(b"\xa4", "iso-8859-15", false).unwrap(), "€");
        assert_eq!(decode(b"\x80", "iso-8859-1", false).unwrap(), "\u{80}");
    }

    #[test]
    fn malformed_and_unknown_sources() {
        assert_eq!(
            decode(b"caf\xe9", "us-ascii", false),
            Err(CharsetError::Malformed)
        );
        assert_eq!(
            decode(b"\xff\xfe", "utf-8", false),
            Err(CharsetError::Malformed)
        );
        assert_eq!(decode(b"\xff", "utf-8", true).unwrap(), "\u{fffd}");
        assert_eq!(decode(b"x", "x-no-such", false), Err(CharsetError::Unknown));
        assert_eq!(decode(b"x", "", false), Err(CharsetError::Unknown));
        assert!(!can_decode("iso-2022-kr"));
    }

    #[test]
    fn encoding_with_and_without_replacement() {
        assert_eq!(
            encode("café", "us-ascii", None),
            Err(CharsetError::Unmappable)
        );
        assert_eq!(encode("café", "us-ascii", Some("?")).unwrap(), b"caf?");
        assert_eq!(
            encode("café", "us-ascii", Some("é")),
            Err(CharsetError::BadReplacement)
        );
        assert_eq!(encode("café", "iso-8859-1", None).unwrap(), b"caf\xe9");
        assert_eq!(
            encode("€", "iso-8859-1", None),
            Err(CharsetError::Unmappable)
        );
        assert_eq!(encode("€", "iso-8859-15", None).unwrap(), b"\xa4");
        assert_eq!(encode("Ω", "koi8-r", Some("?")).unwrap(), b"?");
        assert_eq!(encode("é", "utf-16le", None).unwrap(), b"\xe9\x00");
        assert_eq!(encode("é", "utf-16", None).unwrap(), b"\xfe\xff\x00\xe9");
        assert_eq!(encode("x", "x-no-such", None), Err(CharsetError::Unknown));
        assert!(can_encode("Shift_JIS"));
    }

    #[test]
    fn encoded_words_are_relabelled() {
        // RFC 5259 6, example D002.
        assert_eq!(
            convert_encoded_words(b"Subject: =?KOI8-R?Q?why encode this?=\r\n", "utf-8", None),
            b"Subject: =?UTF-8?Q?why encode this?=\r\n"
        );
        assert_eq!(
            convert_encoded_words(
                b"Subject: =?iso-8859-1?q?caf=E9_au_lait?=\r\n",
                "utf-8",
                None
            ),
            b"Subject: =?UTF-8?q?caf=C3=A9_au_lait?=\r\n"
        );
        assert_eq!(
            convert_encoded_words(b"From: =?utf-8?B?SsO2cmc=?= <j@x>\r\n", "iso-8859-1", None),
            b"From: =?ISO-8859-1?B?SvZyZw==?= <j@x>\r\n"
        );
        // Undecodable words and unknown charsets stay as they are.
        for h in [
            &b"Subject: =?x-none?Q?abc?=\r\n"[..],
            b"Subject: =?utf-8?X?abc?=\r\n",
            b"Subject: =?utf-8?B?*?=\r\n",
            b"Subject: =?utf-8?Q?abc\r\n?=\r\n",
            b"Subject: =?\r\n",
        ] {
            assert_eq!(convert_encoded_words(h, "utf-8", None), h);
        }
        // Text the target cannot hold stays encoded as before.
        assert_eq!(
            convert_encoded_words(b"S: =?utf-8?Q?=E2=82=AC?=\r\n", "us-ascii", None),
            b"S: =?utf-8?Q?=E2=82=AC?=\r\n"
        );
    }
}
