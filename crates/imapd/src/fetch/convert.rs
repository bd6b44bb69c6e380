//! The conversions CONVERT performs (RFC 5259): text/* charset conversion (to UTF-8 by
//! default, or to a requested charset), removal of the content-transfer-encoding, and
//! identity conversions of any part. Everything else is answered with the RFC's ERROR
//! phrases. Conversions are deterministic, so sizes and structures agree across
//! commands of a session (8.2, 8.3) without a cache.

use imap_proto::{ConvertError, ConvertErrorCode, ConvertParams};
use store::summary::BodyStructure;

use super::binary::{self, Located};
use super::charset::{self, CharsetError};

/// The text types whose charset parameter RFC 5259 7.1 requires servers to recognise;
/// CONVERSIONS lists these when asked with wild cards.
pub const TEXT_TYPES: [&str; 6] = [
    "text/plain",
    "text/html",
    "text/css",
    "text/csv",
    "text/enriched",
    "text/xml",
];

/// Top-level media types (the IANA registry); a target outside them is unrecognised.
const TOP_LEVEL: [&str; 11] = [
    "text",
    "image",
    "audio",
    "video",
    "application",
    "multipart",
    "message",
    "model",
    "font",
    "haptics",
    "example",
];

const CHARSET: &str = "charset";
const REPLACEMENT: &str = "unknown-character-replacement";
/// Longest unknown-character-replacement, in bytes of UTF-8.
const MAX_REPLACEMENT: usize = 4;
/// Stands in for the target of a default conversion of a part that does not exist.
const NO_TARGET: &str = "application/octet-stream";

/// Whether the target type names a registered top-level type (RFC 5259 9: an
/// unrecognised media type gets a tagged NO).
pub fn target_recognised(params: &ConvertParams) -> bool {
    params.target.as_deref().is_none_or(|t| {
        t.split_once('/')
            .is_some_and(|(top, _)| TOP_LEVEL.iter().any(|k| k.eq_ignore_ascii_case(top)))
    })
}

/// What the conversion of one part will do, decided before reading its data.
struct Plan<'a> {
    loc: Located<'a>,
    source: String,
    /// The target as the client spelled it (or the source type for NIL).
    target: String,
    text: Option<TextPlan>,
}

struct TextPlan {
    from: String,
    to: String,
    replacement: Option<String>,
}

fn err(text: impl Into<String>, code: ConvertErrorCode) -> ConvertError {
    ConvertError {
        text: text.into(),
        code,
    }
}

fn bad(
    text: impl Into<String>,
    from: &str,
    to: &str,
    params: Vec<(String, String)>,
) -> ConvertError {
    err(
        text,
        ConvertErrorCode::BadParameters {
            from: Some(from.to_string()),
            to: to.to_string(),
            params,
        },
    )
}

fn source_type(loc: &Located<'_>) -> String {
    if loc.whole {
        return "message/rfc822".into();
    }
    format!("{}/{}", loc.bs.media_type, loc.bs.media_subtype).to_ascii_lowercase()
}

fn is_text_leaf(loc: &Located<'_>) -> bool {
    !loc.whole
        && loc.bs.parts.is_empty()
        && loc.bs.message.is_none()
        && loc.bs.media_type.eq_ignore_ascii_case("text")
}

fn param<'p>(params: &'p ConvertParams, name: &str) -> Option<&'p (String, String)> {
    params
        .params
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// The parameters other than those text conversions take (RFC 5259 9: all of them
/// must be listed when refused).
fn not_for_text(params: &ConvertParams) -> Vec<(String, String)> {
    params
        .params
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case(CHARSET) && !n.eq_ignore_ascii_case(REPLACEMENT))
        .cloned()
        .collect()
}

fn plan<'a>(
    raw: &'a [u8],
    root: &'a BodyStructure,
    part: &[u32],
    params: &ConvertParams,
) -> Result<Plan<'a>, ConvertError> {
    let Some(loc) = binary::locate(raw, root, part) else {
        return Err(err(
            "No such body part",
            ConvertErrorCode::BadParameters {
                from: None,
                to: params.target.clone().unwrap_or_else(|| NO_TARGET.into()),
                params: params.params.clone(),
            },
        ));
    };
    let source = source_type(&loc);
    let target = params.target.clone().unwrap_or_else(|| source.clone());
    if !target.eq_ignore_ascii_case(&source) {
        return Err(bad(
            format!("Conversion from {source} to {target} is not supported"),
            &source,
            &target,
            Vec::new(),
        ));
    }
    if !is_text_leaf(&loc) {
        // Identity: the part as stored, transfer encoding removed; nothing to tune.
        if !params.params.is_empty() {
            return Err(bad(
                format!("Parameters do not apply to {source}"),
                &source,
                &target,
                params.params.clone(),
            ));
        }
        return Ok(Plan {
            loc,
            source,
            target,
            text: None,
        });
    }
    let irrelevant = not_for_text(params);
    if !irrelevant.is_empty() {
        return Err(bad(
            format!("Parameters do not apply to {source}"),
            &source,
            &target,
            irrelevant,
        ));
    }
    let to = match (param(params, CHARSET), &params.target) {
        (Some((_, v)), _) => v.clone(),
        // The default conversion of text is to UTF-8.
        (None, None) => "UTF-8".into(),
        (None, Some(_)) => {
            return Err(err(
                "CHARSET must be specified for text conversions",
                ConvertErrorCode::MissingParameters {
                    from: source,
                    to: target,
                    names: vec!["CHARSET".into()],
                },
            ));
        }
    };
    if !charset::can_encode(&to) {
        let p = param(params, CHARSET).cloned().into_iter().collect();
        return Err(bad(
            format!("Cannot convert to charset {to}"),
            &source,
            &target,
            p,
        ));
    }
    let replacement = param(params, REPLACEMENT).cloned();
    if let Some((name, value)) = &replacement
        && value.len() > MAX_REPLACEMENT
    {
        return Err(bad(
            format!(
                "{} limited to {MAX_REPLACEMENT} bytes",
                name.to_ascii_uppercase()
            ),
            &source,
            &target,
            vec![(name.clone(), value.clone())],
        ));
    }
    let from = loc
        .bs
        .params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(CHARSET))
        .map_or_else(|| "us-ascii".to_string(), |(_, v)| v.clone());
    if !charset::can_decode(&from) {
        return Err(bad(
            format!("Unknown source charset \"{from}\""),
            &source,
            &target,
            Vec::new(),
        ));
    }
    Ok(Plan {
        loc,
        source,
        target,
        text: Some(TextPlan {
            from,
            to,
            replacement: replacement.map(|(_, v)| v),
        }),
    })
}

/// A converted part: its bytes and what BODYPARTSTRUCTURE says of them.
pub struct Converted<'a> {
    pub data: Vec<u8>,
    bs: &'a BodyStructure,
    whole: bool,
    charset: Option<String>,
}

fn run<'a>(p: Plan<'a>, params: &ConvertParams) -> Result<Converted<'a>, ConvertError> {
    let decoded = binary::decode_section(&p.loc)
        .map_err(|e| bad(e.to_string(), &p.source, &p.target, Vec::new()))?;
    let Some(t) = p.text else {
        return Ok(Converted {
            data: decoded,
            bs: p.loc.bs,
            whole: p.loc.whole,
            charset: None,
        });
    };
    let text = charset::decode(&decoded, &t.from, t.replacement.is_some()).map_err(|_| {
        bad(
            format!("Source text is not valid {}", t.from),
            &p.source,
            &p.target,
            Vec::new(),
        )
    })?;
    let text = match &t.replacement {
        Some(r) => text.replace('\u{fffd}', r),
        None => text,
    };
    let data = charset::encode(&text, &t.to, t.replacement.as_deref()).map_err(|e| match e {
        CharsetError::BadReplacement => bad(
            format!(
                "UNKNOWN-CHARACTER-REPLACEMENT cannot be represented in {}",
                t.to
            ),
            &p.source,
            &p.target,
            param(params, REPLACEMENT).cloned().into_iter().collect(),
        ),
        _ => bad(
            format!("Source text has non {}", t.to),
            &p.source,
            &p.target,
            param(params, CHARSET).cloned().into_iter().collect(),
        ),
    })?;
    Ok(Converted {
        data,
        bs: p.loc.bs,
        whole: p.loc.whole,
        charset: Some(t.to),
    })
}

/// BINARY[part] of CONVERT: the converted, transfer-decoded bytes.
pub fn convert<'a>(
    raw: &'a [u8],
    root: &'a BodyStructure,
    part: &[u32],
    params: &ConvertParams,
) -> Result<Converted<'a>, ConvertError> {
    run(plan(raw, root, part, params)?, params)
}

/// AVAILABLECONVERSIONS[part] (RFC 5259 8.4): the targets this part can be converted
/// to with these parameters.
pub fn available(
    raw: &[u8],
    root: &BodyStructure,
    part: &[u32],
    params: &ConvertParams,
) -> Result<Vec<String>, ConvertError> {
    plan(raw, root, part, params).map(|p| vec![p.target])
}

impl Converted<'_> {
    /// BODYPARTSTRUCTURE (RFC 5259 8.2): the part's structure as converted: its
    /// charset, no transfer encoding (7BIT, 8BIT or BINARY), and the converted size.
    pub fn structure(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.whole {
            super::structure::body(&mut out, self.bs, true);
            return out;
        }
        let mut bs = self.bs.clone();
        if let Some(cs) = &self.charset {
            bs.params.retain(|(k, _)| !k.eq_ignore_ascii_case(CHARSET));
            bs.params.insert(0, ("charset".into(), cs.clone()));
        }
        bs.encoding = if self.data.contains(&0) {
            "BINARY"
        } else if self.data.is_ascii() {
            "7BIT"
        } else {
            "8BIT"
        }
        .into();
        bs.size = self.data.len() as u64;
        bs.md5 = None;
        if bs.lines.is_some() {
            bs.lines = Some(self.data.iter().filter(|&&b| b == b'\n').count() as u64);
        }
        super::structure::body(&mut out, &bs, true);
        out
    }
}

/// BODY[HEADER], BODY[part.HEADER] and BODY[part.MIME] of CONVERT (RFC 5259 6): encoded
/// words re-encoded in the requested charset. Only the default conversion applies and
/// the CHARSET parameter is required.
pub fn convert_header(
    raw: &[u8],
    root: &BodyStructure,
    part: &[u32],
    mime: bool,
    params: &ConvertParams,
) -> Result<Vec<u8>, ConvertError> {
    let source = if mime {
        binary::locate(raw, root, part)
            .map_or_else(|| "message/rfc822".to_string(), |l| source_type(&l))
    } else {
        "message/rfc822".to_string()
    };
    let section = super::section::Section {
        part: part.to_vec(),
        text: Some(if mime {
            super::section::SectionText::Mime
        } else {
            super::section::SectionText::Header
        }),
    };
    if let Some(t) = &params.target {
        return Err(bad(
            "Header conversions take no target media type",
            &source,
            t,
            Vec::new(),
        ));
    }
    let irrelevant = not_for_text(params);
    if !irrelevant.is_empty() {
        return Err(bad(
            "Parameters do not apply to headers",
            &source,
            &source,
            irrelevant,
        ));
    }
    let Some((_, to)) = param(params, CHARSET) else {
        return Err(err(
            "CHARSET must be specified for header conversions",
            ConvertErrorCode::MissingParameters {
                from: source.clone(),
                to: source,
                names: vec!["CHARSET".into()],
            },
        ));
    };
    if !charset::can_encode(to) {
        let p = param(params, CHARSET).cloned().into_iter().collect();
        return Err(bad(
            format!("Cannot convert to charset {to}"),
            &source,
            &source,
            p,
        ));
    }
    let Some(header) = super::section::extract(raw, root, &section) else {
        return Err(err(
            "No such body part",
            ConvertErrorCode::BadParameters {
                from: None,
                to: source,
                params: params.params.clone(),
            },
        ));
    };
    let replacement = param(params, REPLACEMENT).map(|(_, v)| v.as_str());
    Ok(charset::convert_encoded_words(&header, to, replacement))
}

fn type_matches(request: &str, concrete: &str) -> bool {
    if request == "*" || request.eq_ignore_ascii_case(concrete) {
        return true;
    }
    match (request.strip_suffix("/*"), concrete.split_once('/')) {
        (Some(top), Some((ctop, _))) => top.eq_ignore_ascii_case(ctop),
        _ => false,
    }
}

/// CONVERSIONS (RFC 5259 5.1): the (source, target, parameters) pairs matching the
/// request. Text types convert between charsets; any concrete type converts to itself.
pub fn conversions(from: &str, to: &str) -> Vec<(String, String, Vec<String>)> {
    let mut candidates: Vec<String> = TEXT_TYPES.iter().map(|t| t.to_string()).collect();
    let from_lower = from.to_ascii_lowercase();
    if imap_proto::command::convert::is_concrete_type(from) && !candidates.contains(&from_lower) {
        candidates.push(from_lower);
    }
    candidates
        .into_iter()
        .filter(|c| type_matches(from, c) && type_matches(to, c))
        .map(|c| {
            let params = if c.starts_with("text/") {
                vec![CHARSET.to_string(), REPLACEMENT.to_string()]
            } else {
                Vec::new()
            };
            (c.clone(), c, params)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use store::summary::summarize;

    const MSG: &[u8] = b"Subject: =?iso-8859-1?q?caf=E9?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=E9\r\n\
--b\r\nContent-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lG\r\n\
--b\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\nabc\r\n--b--\r\n";

    fn params(target: Option<&str>, p: &[(&str, &str)]) -> ConvertParams {
        ConvertParams {
            target: target.map(str::to_string),
            params: p
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
        }
    }

    #[test]
    fn text_converts_to_utf8_by_default_and_to_other_charsets() {
        let s = summarize(MSG);
        let c = convert(MSG, &s.body, &[1], &params(None, &[])).unwrap();
        assert_eq!(c.data, "café".as_bytes());
        assert_eq!(
            String::from_utf8(c.structure()).unwrap(),
            "(\"text\" \"plain\" (\"charset\" \"UTF-8\") NIL NIL \"8BIT\" 5 0 NIL NIL NIL NIL)"
        );
        let p = params(Some("text/plain"), &[("charset", "iso-8859-15")]);
        assert_eq!(convert(MSG, &s.body, &[1], &p).unwrap().data, b"caf\xe9");
        let p = params(Some("TEXT/PLAIN"), &[("CHARSET", "us-ascii")]);
        let e = convert(MSG, &s.body, &[1], &p).err().unwrap();
        assert_eq!(e.text, "Source text has non us-ascii");
        let p = params(
            Some("text/plain"),
            &[
                ("charset", "us-ascii"),
                ("unknown-character-replacement", "?"),
            ],
        );
        assert_eq!(convert(MSG, &s.body, &[1], &p).unwrap().data, b"caf?");
    }

    #[test]
    fn refusals_use_the_rfc_error_codes() {
        let s = summarize(MSG);
        let code =
            |part: &[u32], p: ConvertParams| convert(MSG, &s.body, part, &p).err().unwrap().code;
        assert!(matches!(
            code(&[1], params(Some("text/plain"), &[])),
            ConvertErrorCode::MissingParameters { .. }
        ));
        assert!(matches!(
            code(&[2], params(Some("image/jpeg"), &[])),
            ConvertErrorCode::BadParameters { params, .. } if params.is_empty()
        ));
        assert!(matches!(
            code(&[9], params(None, &[])),
            ConvertErrorCode::BadParameters { from: None, .. }
        ));
        assert!(matches!(
            code(&[3], params(None, &[])),
            ConvertErrorCode::BadParameters { .. }
        ));
        assert!(matches!(
            code(&[1], params(None, &[("pix-x", "10")])),
            ConvertErrorCode::BadParameters { params, .. } if params.len() == 1
        ));
        // Identity conversions of any part just remove the transfer encoding.
        assert_eq!(
            convert(MSG, &s.body, &[2], &params(None, &[]))
                .unwrap()
                .data,
            b"GIF"
        );
        assert_eq!(
            convert(MSG, &s.body, &[2], &params(Some("IMAGE/GIF"), &[]))
                .unwrap()
                .data,
            b"GIF"
        );
    }

    /// Messages built from MIME fragments, NULs and stray bytes: every engine answers
    /// and none panics.
    #[test]
    fn hostile_messages_never_panic() {
        const FRAGMENTS: &[&[u8]] = &[
            b"Content-Type: multipart/mixed; boundary=b\r\n",
            b"Content-Type: text/plain; charset=utf-8\r\n",
            b"Content-Type: text/plain; charset=x-\xff\r\n",
            b"Content-Type: message/rfc822\r\n",
            b"Content-Transfer-Encoding: base64\r\n",
            b"Content-Transfer-Encoding: quoted-printable\r\n",
            b"Content-Transfer-Encoding: binary\r\n",
            b"Content-Transfer-Encoding: x-what\r\n",
            b"Subject: =?utf-8?B?w6k=?= =?koi8-r?q?=FF?= =?x?q?a?=\r\n",
            b" folded\r\n",
            b"\r\n",
            b"--b\r\n",
            b"--b--\r\n",
            b"aGVsbG8=\r\n",
            b"=FF=\r\n",
            b"=?",
            b"\0\0\x01",
            b"\xe9\xff",
            b"\n",
            b"\r",
        ];
        let mut x: u32 = 7;
        let mut next = |n: u32| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x % n
        };
        for _ in 0..3000 {
            let mut raw = Vec::new();
            for _ in 0..next(30) {
                raw.extend_from_slice(FRAGMENTS[next(FRAGMENTS.len() as u32) as usize]);
            }
            let stored = binary::encode_binary_parts(raw.clone());
            let s = summarize(&stored);
            let part: Vec<u32> = (0..next(3)).map(|_| next(4)).collect();
            let _ = binary::locate(&stored, &s.body, &part).map(|l| binary::decode_section(&l));
            for p in [
                params(None, &[]),
                params(
                    None,
                    &[
                        ("charset", "us-ascii"),
                        ("unknown-character-replacement", "?"),
                    ],
                ),
                params(Some("text/plain"), &[("charset", "iso-8859-2")]),
            ] {
                if let Ok(c) = convert(&stored, &s.body, &part, &p) {
                    let _ = c.structure();
                }
                let _ = available(&stored, &s.body, &part, &p);
                let _ = convert_header(&stored, &s.body, &part, false, &p);
                let _ = convert_header(&stored, &s.body, &part, true, &p);
            }
            let _ = binary::decode_qp(&raw);
            let _ = binary::decode_base64(&raw);
            let _ = charset::convert_encoded_words(&raw, "utf-8", Some("?"));
        }
    }

    #[test]
    fn headers_and_discovery() {
        let s = summarize(MSG);
        let h = convert_header(
            MSG,
            &s.body,
            &[],
            false,
            &params(None, &[("CHARSET", "utf-8")]),
        )
        .unwrap();
        assert!(h.starts_with(b"Subject: =?UTF-8?q?caf=C3=A9?=\r\n"));
        assert!(convert_header(MSG, &s.body, &[], false, &params(None, &[])).is_err());
        assert_eq!(conversions("text/plain", "text/plain").len(), 1);
        assert_eq!(conversions("*", "*").len(), 6);
        assert_eq!(conversions("image/*", "*").len(), 0);
        assert_eq!(
            conversions("image/gif", "*"),
            vec![("image/gif".into(), "image/gif".into(), vec![])]
        );
        assert_eq!(conversions("image/gif", "image/jpeg").len(), 0);
    }
}
