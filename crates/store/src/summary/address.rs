//! RFC 5322 address lists parsed leniently from raw header values: display
//! names stay raw (quotes removed, encoded-words kept) for the ENVELOPE and
//! are decoded on demand for SORT DISPLAYFROM/DISPLAYTO.

use super::text::{Cursor, decode_words, is_wsp, lossy};
use super::{Address, MAX_ADDRESSES};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(Vec<u8>),
    Quoted { text: Vec<u8>, raw: Vec<u8> },
    Comment(Vec<u8>),
    Special(u8),
}

/// The next token of an address list (lexed lazily so that a caller
/// wanting only the first mailbox stops early).
fn next_tok(c: &mut Cursor<'_>) -> Option<Tok> {
    let special = |b: u8| matches!(b, b'<' | b'>' | b'@' | b',' | b';' | b':');
    while let Some(b) = c.peek() {
        let tok = match b {
            _ if is_wsp(b) || b == 0 => {
                c.i += 1;
                continue;
            }
            b'(' => Tok::Comment(c.comment()),
            b'"' => {
                let start = c.i;
                let text = c.quoted();
                let raw = c.s[start..c.i.min(c.s.len())]
                    .iter()
                    .copied()
                    .filter(|&b| !matches!(b, b'\r' | b'\n' | 0))
                    .collect::<Vec<u8>>();
                Tok::Quoted { text, raw }
            }
            b'[' => {
                let lit = c.take_while(|b| b != b']');
                let mut lit: Vec<u8> = lit.iter().copied().filter(|&b| !is_wsp(b)).collect();
                if c.eat(b']') {
                    lit.push(b']');
                }
                Tok::Word(lit)
            }
            _ if special(b) => {
                c.i += 1;
                Tok::Special(b)
            }
            _ => Tok::Word(
                c.take_while(|b| !(is_wsp(b) || special(b) || matches!(b, b'(' | b'"' | b'[' | 0)))
                    .to_vec(),
            ),
        };
        return Some(tok);
    }
    None
}

/// A parsed mailbox; `name` raw bytes (quotes removed, encoded-words kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Mailbox {
    pub name: Option<Vec<u8>>,
    pub adl: Option<String>,
    pub mailbox: Option<String>,
    pub host: Option<String>,
}

impl Mailbox {
    fn addr_spec(&self) -> Option<String> {
        match (&self.mailbox, &self.host) {
            (Some(m), Some(h)) => Some(format!("{m}@{h}")),
            (Some(m), None) => Some(m.clone()),
            _ => None,
        }
    }

    pub fn addr_lower(&self) -> Option<String> {
        self.addr_spec().map(|a| a.to_lowercase())
    }

    /// RFC 5957 display: decoded name if non-empty, else the address.
    pub fn display(&self) -> Option<String> {
        self.name
            .as_deref()
            .map(decode_words)
            .filter(|n| !n.trim().is_empty())
            .or_else(|| self.addr_spec())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AddrItem {
    GroupStart(String),
    GroupEnd,
    Mailbox(Mailbox),
}

/// Parses an address-list header value (groups included), leniently.
pub(crate) fn parse(value: &[u8]) -> Vec<AddrItem> {
    parse_items(value, false)
}

/// The first mailbox of an address list (group markers skipped).
pub(crate) fn first(value: &[u8]) -> Option<Mailbox> {
    parse_items(value, true)
        .into_iter()
        .find_map(|item| match item {
            AddrItem::Mailbox(m) => Some(m),
            _ => None,
        })
}

fn parse_items(value: &[u8], first_only: bool) -> Vec<AddrItem> {
    let mut items = Vec::new();
    let mut cur: Vec<Tok> = Vec::new();
    let (mut angle, mut group) = (false, false);
    let mut c = Cursor { s: value, i: 0 };
    while let Some(tok) = next_tok(&mut c) {
        if items.len() >= MAX_ADDRESSES {
            cur.clear();
            break;
        }
        // A mailbox just flushed is at most second to last (then GroupEnd).
        if first_only
            && items
                .iter()
                .rev()
                .take(2)
                .any(|i| matches!(i, AddrItem::Mailbox(_)))
        {
            return items;
        }
        match tok {
            Tok::Special(b'<') if !angle => {
                angle = true;
                cur.push(tok);
            }
            Tok::Special(b'>') if angle => {
                angle = false;
                cur.push(tok);
            }
            Tok::Special(b',') if !angle => flush(&mut cur, &mut items),
            Tok::Special(b':') if !angle && !group => {
                let name = phrase(&cur).map(|p| lossy(&p)).unwrap_or_default();
                items.push(AddrItem::GroupStart(name));
                cur.clear();
                group = true;
            }
            Tok::Special(b';') if !angle => {
                flush(&mut cur, &mut items);
                if group {
                    items.push(AddrItem::GroupEnd);
                    group = false;
                }
            }
            _ => cur.push(tok),
        }
    }
    flush(&mut cur, &mut items);
    if group {
        items.push(AddrItem::GroupEnd);
    }
    items
}

/// A display phrase: words and quoted strings joined by single spaces;
/// stray specials (as in `foo@bar.com <foo@bar.com>`) kept, unspaced.
fn phrase(toks: &[Tok]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut glue = true;
    for t in toks {
        let word = match t {
            Tok::Word(w) | Tok::Quoted { text: w, .. } => w,
            Tok::Special(b) => {
                out.push(*b);
                glue = true;
                continue;
            }
            Tok::Comment(_) => continue,
        };
        if !glue {
            out.push(b' ');
        }
        out.extend_from_slice(word);
        glue = false;
    }
    let trimmed = trim(&out);
    (!trimmed.is_empty()).then(|| trimmed.to_vec())
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|&c| !is_wsp(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_wsp(c)).map_or(start, |p| p + 1);
    &b[start..end.max(start)]
}

fn concat(toks: &[Tok]) -> Option<String> {
    let mut out = Vec::new();
    for t in toks {
        match t {
            Tok::Word(w) | Tok::Quoted { raw: w, .. } => out.extend_from_slice(w),
            Tok::Special(b) => out.push(*b),
            Tok::Comment(_) => {}
        }
    }
    (!out.is_empty()).then(|| lossy(&out))
}

fn flush(cur: &mut Vec<Tok>, items: &mut Vec<AddrItem>) {
    let toks = std::mem::take(cur);
    if !toks
        .iter()
        .any(|t| matches!(t, Tok::Word(_) | Tok::Quoted { .. } | Tok::Special(b'<')))
    {
        return;
    }
    let (phrase_toks, addr_toks) = match toks.iter().position(|t| *t == Tok::Special(b'<')) {
        Some(lt) => {
            let inner = &toks[lt + 1..];
            let end = inner
                .iter()
                .position(|t| *t == Tok::Special(b'>'))
                .unwrap_or(inner.len());
            (&toks[..lt], &inner[..end])
        }
        None => (&toks[..0], &toks[..]),
    };
    let name = phrase(phrase_toks).or_else(|| {
        toks.iter()
            .find_map(|t| match t {
                Tok::Comment(c) => Some(collapse_ws(c)),
                _ => None,
            })
            .filter(|c| !c.is_empty())
    });
    let mut addr: Vec<Tok> = addr_toks
        .iter()
        .filter(|t| !matches!(t, Tok::Comment(_)))
        .cloned()
        .collect();
    let mut adl = None;
    if addr.first() == Some(&Tok::Special(b'@'))
        && let Some(colon) = addr.iter().position(|t| *t == Tok::Special(b':'))
    {
        adl = concat(&addr[..colon]);
        addr.drain(..=colon);
    }
    let (mailbox, host) = match addr.iter().rposition(|t| *t == Tok::Special(b'@')) {
        Some(at) => (concat(&addr[..at]), concat(&addr[at + 1..])),
        None => (concat(&addr), None),
    };
    items.push(AddrItem::Mailbox(Mailbox {
        name,
        adl,
        mailbox,
        host,
    }));
}

/// Converts parsed items to RFC 3501 envelope addresses.
pub(crate) fn to_imap(items: Vec<AddrItem>) -> Vec<Address> {
    items
        .into_iter()
        .map(|item| match item {
            AddrItem::GroupStart(name) => Address {
                mailbox: Some(name),
                ..Address::default()
            },
            AddrItem::GroupEnd => Address::default(),
            AddrItem::Mailbox(m) => Address {
                name: m.name.map(|n| lossy(&n)),
                adl: m.adl,
                mailbox: Some(m.mailbox.unwrap_or_else(|| "MISSING_MAILBOX".into())),
                host: Some(m.host.unwrap_or_else(|| "MISSING_DOMAIN".into())),
            },
        })
        .collect()
}

/// Runs of whitespace to single spaces, trimmed.
fn collapse_ws(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len());
    for word in b.split(|&c| is_wsp(c)).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(b' ');
        }
        out.extend_from_slice(word);
    }
    out
}
