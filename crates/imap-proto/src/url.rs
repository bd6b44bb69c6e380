//! IMAP URLs (RFC 5092) with the URLAUTH parts (RFC 4467) and `;PARTIAL` (RFC 5550
//! 5.7.1): what CATENATE, GENURLAUTH and URLFETCH name. Parsing keeps the original text,
//! because a URLAUTH verifier is computed over the URL exactly as it was written.

use std::fmt;

/// The longest URL accepted; real ones are a few hundred bytes.
pub const MAX_URL_LEN: usize = 16 * 1024;

/// Why a URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is longer than {MAX_URL_LEN} bytes")]
    TooLong,
    #[error("the URL holds a character URLs cannot hold")]
    BadCharacter,
    #[error("the URL is not an imap: URL")]
    NotImap,
    #[error("bad percent-encoding in the URL")]
    BadEscape,
    #[error("the URL's {0} is not valid")]
    Bad(&'static str),
}

/// Who may fetch a URLAUTH URL (RFC 4467 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// `submit+user`: the submission server acting for `user`.
    Submit(String),
    /// `user+user`: only that user.
    User(String),
    /// `authuser`: any authenticated user.
    AuthUser,
    /// `anonymous`: anyone.
    Anonymous,
}

/// `;EXPIRE=` (RFC 4467 3): the text as written and the instant it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expire {
    pub text: String,
    pub unix: i64,
}

/// `;URLAUTH=access[:mechanism:token]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlAuth {
    pub access: Access,
    /// The authorization mechanism and token; absent in a URL given to GENURLAUTH.
    pub verifier: Option<(String, String)>,
}

/// The server part: `imap://[user[;AUTH=type]@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub user: Option<String>,
    pub auth: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// A parsed IMAP URL. Relative URLs (`/mailbox/;UID=..`) have no server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapUrl {
    pub server: Option<Server>,
    /// The mailbox name, decoded (UTF-8); empty for a URL naming only a server.
    pub mailbox: String,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    /// The section spec as in `BODY[...]`, decoded (`1.2`, `HEADER`, ...).
    pub section: Option<String>,
    /// `;PARTIAL=offset[.length]`.
    pub partial: Option<(u32, Option<u32>)>,
    /// `?search` of a message-list URL, still encoded.
    pub search: Option<String>,
    pub expire: Option<Expire>,
    pub urlauth: Option<UrlAuth>,
    /// The text as parsed.
    raw: String,
    /// Where the URLAUTH rump ends in `raw` (after the access identifier).
    rump_end: Option<usize>,
}

impl ImapUrl {
    /// Parses an absolute (`imap://...`) or path-absolute (`/mailbox...`) IMAP URL.
    pub fn parse(text: &str) -> Result<ImapUrl, UrlError> {
        parse(text)
    }

    /// The URL exactly as it was parsed (or as [`ImapUrl::build`] made it).
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The URLAUTH rump (RFC 4467 2): the URL through the access identifier, over
    /// which the verifier is computed. None without `;URLAUTH=`.
    pub fn rump(&self) -> Option<&str> {
        self.rump_end.and_then(|e| self.raw.get(..e))
    }

    /// The owner named in the URL (`imap://owner@host/...`), if any.
    pub fn user(&self) -> Option<&str> {
        self.server.as_ref().and_then(|s| s.user.as_deref())
    }

    /// `;SECTION=` as the section of a FETCH `BODY[...]` (RFC 5092 5); None
    /// without one, an error when the text is not a section spec.
    pub fn section_spec(&self) -> Result<Option<crate::Section>, UrlError> {
        let Some(text) = &self.section else {
            return Ok(None);
        };
        if text
            .bytes()
            .any(|b| b.is_ascii_control() || matches!(b, b'[' | b']' | b'{' | b'~'))
        {
            return Err(UrlError::Bad("SECTION"));
        }
        let buf = format!("[{text}]\r\n");
        let limits = crate::Limits::default();
        let mut r = crate::lexer::Reader::new(buf.as_bytes(), &limits);
        let section =
            crate::command::fetch::parse_section(&mut r).map_err(|_| UrlError::Bad("SECTION"))?;
        if !r.at_end() {
            return Err(UrlError::Bad("SECTION"));
        }
        Ok(Some(section))
    }

    /// Re-encodes the fields into a canonical URL and parses it back, so `as_str`
    /// and `rump` describe the fields.
    pub fn build(&self) -> Result<ImapUrl, UrlError> {
        parse(&self.to_string())
    }
}

impl fmt::Display for ImapUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.server {
            f.write_str("imap://")?;
            if s.user.is_some() || s.auth.is_some() {
                if let Some(u) = &s.user {
                    f.write_str(&encode(u, USER_SAFE))?;
                }
                if let Some(a) = &s.auth {
                    write!(f, ";AUTH={}", encode(a, USER_SAFE))?;
                }
                f.write_str("@")?;
            }
            f.write_str(&s.host)?;
            if let Some(p) = s.port {
                write!(f, ":{p}")?;
            }
        }
        f.write_str("/")?;
        // A final `/` would read as the separator before the next parameter.
        match self.mailbox.strip_suffix('/') {
            Some(m) => write!(f, "{}%2F", encode(m, MAILBOX_SAFE))?,
            None => f.write_str(&encode(&self.mailbox, MAILBOX_SAFE))?,
        }
        if let Some(v) = self.uidvalidity {
            write!(f, ";UIDVALIDITY={v}")?;
        }
        if let Some(q) = &self.search {
            write!(f, "?{q}")?;
        }
        if let Some(u) = self.uid {
            write!(f, "/;UID={u}")?;
        }
        if let Some(s) = &self.section {
            write!(f, "/;SECTION={}", encode(s, SECTION_SAFE))?;
        }
        if let Some((start, len)) = self.partial {
            write!(f, "/;PARTIAL={start}")?;
            if let Some(l) = len {
                write!(f, ".{l}")?;
            }
        }
        if let Some(e) = &self.expire {
            write!(f, ";EXPIRE={}", e.text)?;
        }
        if let Some(a) = &self.urlauth {
            f.write_str(";URLAUTH=")?;
            match &a.access {
                Access::Submit(u) => write!(f, "submit+{}", encode(u, USER_SAFE))?,
                Access::User(u) => write!(f, "user+{}", encode(u, USER_SAFE))?,
                Access::AuthUser => f.write_str("authuser")?,
                Access::Anonymous => f.write_str("anonymous")?,
            }
            if let Some((mech, token)) = &a.verifier {
                write!(f, ":{mech}:{token}")?;
            }
        }
        Ok(())
    }
}

/// Characters kept as they are in each component (besides unreserved ones).
const USER_SAFE: &[u8] = b"!$'()*+,&=~";
const MAILBOX_SAFE: &[u8] = b"!$'()*+,&=~:@/";
const SECTION_SAFE: &[u8] = b"!$'()*+,&=~:@";

fn encode(s: &str, safe: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') || safe.contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(s: &str) -> Result<String, UrlError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).ok_or(UrlError::BadEscape)?;
            let hex = std::str::from_utf8(hex).map_err(|_| UrlError::BadEscape)?;
            let v = u8::from_str_radix(hex, 16).map_err(|_| UrlError::BadEscape)?;
            if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(UrlError::BadEscape);
            }
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| UrlError::BadEscape)
}

/// Characters that may appear unencoded anywhere in an IMAP URL.
fn url_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b'&'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b';'
                | b'?'
                | b'%'
                | b'['
                | b']'
        )
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

fn number(s: &str, what: &'static str, nonzero: bool) -> Result<u32, UrlError> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(UrlError::Bad(what));
    }
    let n: u32 = s.parse().map_err(|_| UrlError::Bad(what))?;
    if nonzero && n == 0 {
        return Err(UrlError::Bad(what));
    }
    Ok(n)
}

fn parse(text: &str) -> Result<ImapUrl, UrlError> {
    if text.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    if !text.bytes().all(url_char) {
        return Err(UrlError::BadCharacter);
    }
    let (server, path) = if starts_with_ci(text, "imap://") {
        let rest = &text[7..];
        let end = rest.find('/').unwrap_or(rest.len());
        (Some(parse_server(&rest[..end])?), &rest[end..])
    } else if text.starts_with('/') && !text.starts_with("//") {
        (None, text)
    } else {
        return Err(UrlError::NotImap);
    };
    let offset = text.len() - path.len();
    let mut url = ImapUrl {
        server,
        mailbox: String::new(),
        uidvalidity: None,
        uid: None,
        section: None,
        partial: None,
        search: None,
        expire: None,
        urlauth: None,
        raw: text.to_string(),
        rump_end: None,
    };
    let Some(path) = path.strip_prefix('/') else {
        return Ok(url);
    };
    let offset = offset + 1;
    // enc-mailbox runs to the first `;` or `?`; a `/` just before `;UID=` separates.
    let stop = path.find([';', '?']).unwrap_or(path.len());
    let mut mailbox = &path[..stop];
    let mut rest = &path[stop..];
    let mut slash = false;
    if let Some(m) = mailbox.strip_suffix('/')
        && !rest.is_empty()
    {
        mailbox = m;
        slash = true;
    }
    url.mailbox = decode(mailbox)?;
    if url.mailbox.is_empty() && !rest.is_empty() {
        return Err(UrlError::Bad("mailbox"));
    }
    let mut pos = offset + stop;
    // The parameters in the order RFC 5092 allows them.
    let mut stage = 0u8;
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('?') {
            if slash || stage > 1 || url.mailbox.is_empty() {
                return Err(UrlError::Bad("search"));
            }
            if q.contains([';', '/']) || q.is_empty() {
                return Err(UrlError::Bad("search"));
            }
            decode(q)?;
            url.search = Some(q.to_string());
            break;
        }
        if let Some(r) = rest.strip_prefix('/') {
            if slash {
                return Err(UrlError::Bad("path"));
            }
            slash = true;
            rest = r;
            pos += 1;
            continue;
        }
        let Some(param) = rest.strip_prefix(';') else {
            return Err(UrlError::Bad("path"));
        };
        let eq = param.find('=').ok_or(UrlError::Bad("parameter"))?;
        let name = param[..eq].to_ascii_uppercase();
        let value_all = &param[eq + 1..];
        // A value runs to the next `;` or `?` (a `/` before it separates the next parameter).
        let vend = value_all.find([';', '?']).unwrap_or(value_all.len());
        let mut value = &value_all[..vend];
        let mut next_slash = false;
        if vend < value_all.len()
            && let Some(v) = value.strip_suffix('/')
        {
            value = v;
            next_slash = true;
        }
        let (want_stage, needs_slash) = match name.as_str() {
            "UIDVALIDITY" => (1, false),
            "UID" => (2, true),
            "SECTION" => (3, true),
            "PARTIAL" => (4, true),
            "EXPIRE" => (5, false),
            "URLAUTH" => (6, false),
            _ => return Err(UrlError::Bad("parameter")),
        };
        if want_stage <= stage || needs_slash != slash || url.mailbox.is_empty() {
            return Err(UrlError::Bad("parameter order"));
        }
        if want_stage >= 3 && url.uid.is_none() {
            return Err(UrlError::Bad("parameter order"));
        }
        stage = want_stage;
        match want_stage {
            1 => url.uidvalidity = Some(number(value, "UIDVALIDITY", true)?),
            2 => url.uid = Some(number(value, "UID", true)?),
            3 => {
                let s = decode(value)?;
                if s.is_empty() {
                    return Err(UrlError::Bad("SECTION"));
                }
                url.section = Some(s);
            }
            4 => url.partial = Some(parse_partial(value)?),
            5 => {
                let unix = parse_rfc3339(value).ok_or(UrlError::Bad("EXPIRE"))?;
                url.expire = Some(Expire {
                    text: value.to_string(),
                    unix,
                });
            }
            _ => {
                if next_slash || vend < value_all.len() {
                    return Err(UrlError::Bad("URLAUTH"));
                }
                let access_end = value.find(':').unwrap_or(value.len());
                let access = parse_access(&value[..access_end])?;
                let verifier = match value.get(access_end..) {
                    Some("") | None => None,
                    Some(v) => {
                        let v = &v[1..];
                        let (mech, token) = v.split_once(':').ok_or(UrlError::Bad("URLAUTH"))?;
                        let mech_ok = !mech.is_empty()
                            && mech.len() <= 64
                            && mech
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'));
                        if !mech_ok {
                            return Err(UrlError::Bad("URLAUTH mechanism"));
                        }
                        if token.len() < 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
                            return Err(UrlError::Bad("URLAUTH token"));
                        }
                        Some((mech.to_string(), token.to_string()))
                    }
                };
                // `;URLAUTH=` + access: the rump ends after the access identifier.
                url.rump_end = Some(pos + 1 + eq + 1 + access_end);
                url.urlauth = Some(UrlAuth { access, verifier });
            }
        }
        let used = 1 + eq + 1 + value.len() + usize::from(next_slash);
        pos += used;
        rest = &rest[used..];
        slash = next_slash;
    }
    if slash && !rest.is_empty() {
        return Err(UrlError::Bad("path"));
    }
    // A trailing `/` after a parameter names nothing.
    if slash && stage > 0 {
        return Err(UrlError::Bad("path"));
    }
    Ok(url)
}

fn parse_server(authority: &str) -> Result<Server, UrlError> {
    // The last `@` ends the user part: user names that are addresses are often
    // written with a bare `@`.
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let (mut user, mut auth) = (None, None);
    if let Some(ui) = userinfo {
        let (u, a) = match find_ci(ui, ";AUTH=") {
            Some(i) => (&ui[..i], Some(&ui[i + 6..])),
            None => (ui, None),
        };
        if u.contains(';') || u.contains('/') {
            return Err(UrlError::Bad("user"));
        }
        if !u.is_empty() {
            user = Some(decode(u)?);
        }
        if let Some(a) = a {
            if a.is_empty() || a.contains([';', '@', ':']) {
                return Err(UrlError::Bad("AUTH"));
            }
            auth = Some(decode(a)?);
        }
        if user.is_none() && auth.is_none() {
            return Err(UrlError::Bad("user"));
        }
    }
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let close = h.find(']').ok_or(UrlError::Bad("host"))?;
        let after = &h[close + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(UrlError::Bad("host")),
        };
        (&hostport[..close + 2], port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let host_ok = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'[' | b']' | b':')
        });
    if !host_ok {
        return Err(UrlError::Bad("host"));
    }
    let port = match port {
        None => None,
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlError::Bad("port"));
            }
            Some(p.parse::<u16>().map_err(|_| UrlError::Bad("port"))?)
        }
    };
    Ok(Server {
        user,
        auth,
        host: host.to_string(),
        port,
    })
}

fn find_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..h.len().saturating_sub(n.len()) + usize::from(h.len() >= n.len()))
        .find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

fn parse_partial(v: &str) -> Result<(u32, Option<u32>), UrlError> {
    match v.split_once('.') {
        Some((a, b)) => Ok((
            number(a, "PARTIAL", false)?,
            Some(number(b, "PARTIAL", true)?),
        )),
        None => Ok((number(v, "PARTIAL", false)?, None)),
    }
}

fn parse_access(a: &str) -> Result<Access, UrlError> {
    let user = |u: &str| -> Result<String, UrlError> {
        let u = decode(u)?;
        if u.is_empty() {
            Err(UrlError::Bad("access identifier"))
        } else {
            Ok(u)
        }
    };
    if starts_with_ci(a, "submit+") {
        Ok(Access::Submit(user(&a[7..])?))
    } else if starts_with_ci(a, "user+") {
        Ok(Access::User(user(&a[5..])?))
    } else if a.eq_ignore_ascii_case("authuser") {
        Ok(Access::AuthUser)
    } else if a.eq_ignore_ascii_case("anonymous") {
        Ok(Access::Anonymous)
    } else {
        Err(UrlError::Bad("access identifier"))
    }
}

/// RFC 3339 `date-time` as Unix seconds (fractions dropped).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let (h, mi, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() => {
            let (oh, om) = (digits(i + 1..i + 3)?, digits(i + 4..i + 6)?);
            if b[i + 3] != b':' || oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return None;
    }
    // A leap second is read as the last second of its minute.
    if sec > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some(days * 86400 + h * 3600 + mi * 60 + sec.min(59) - offset)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests;
