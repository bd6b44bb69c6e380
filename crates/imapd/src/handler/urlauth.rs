//! RESETKEY, GENURLAUTH and URLFETCH (RFC 4467 7) with the INTERNAL mechanism:
//! HMAC-SHA256 of the URL under the mailbox's access key. URLFETCH answers NIL
//! for every URL it will not serve, whatever the reason, so it tells nothing of
//! what exists.

use imap_proto::response::urlauth::UrlFetchExt;
use imap_proto::url::ImapUrl;
use imap_proto::{Code, MailboxName, UrlFetchParams};

use crate::fetch::{binary, structure};

use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::urlauth::{Failure, INTERNAL, Requester, Resolver, Target, sign};

fn check_mechanisms<'a>(mut mechs: impl Iterator<Item = &'a String>) -> Result<(), Reply> {
    match mechs.find(|m| *m != INTERNAL) {
        Some(m) => Err(Reply::no(format!("Unknown URLAUTH mechanism {m}")).code(Code::Cannot)),
        None => Ok(()),
    }
}

pub(crate) async fn resetkey(
    s: &mut Session,
    mailbox: Option<MailboxName>,
    mechanisms: &[String],
) -> Outcome {
    let account = super::account(s)?;
    check_mechanisms(mechanisms.iter())?;
    let store = s.shared.store.clone();
    let Some(name) = mailbox else {
        store.reset_urlauth_keys(account, None).await?;
        return Ok(Reply::ok("All keys removed"));
    };
    let Some(mb) = store.mailbox(account, name.as_str()).await? else {
        return Err(Reply::no("No such mailbox").code(Code::Nonexistent));
    };
    store.reset_urlauth_keys(account, Some(mb.id)).await?;
    // RFC 4467 7.1: the mechanisms the mailbox supports.
    Ok(Reply::ok("mechs").code(Code::Other("URLMECH".into(), Some(INTERNAL.into()))))
}

pub(crate) async fn genurlauth(s: &mut Session, urls: Vec<(String, String)>) -> Outcome {
    let (account, address) = match s.state.account() {
        Some(a) => (a.id, a.address.to_string()),
        None => return Err(Reply::bad("Log in first")),
    };
    check_mechanisms(urls.iter().map(|(_, m)| m))?;
    let store = s.shared.store.clone();
    let mut out = Vec::with_capacity(urls.len());
    for (text, _) in urls {
        let bad = |why: &str| Reply::no(format!("Cannot authorize the URL: {why}"));
        let url = ImapUrl::parse(&text).map_err(|e| bad(&e.to_string()))?;
        // RFC 4467 7.2: an absolute URL of this user's, with a URLAUTH rump.
        let owner_ok =
            url.server.is_some() && url.user().is_some_and(|u| u.eq_ignore_ascii_case(&address));
        if !owner_ok {
            return Err(bad("it must be an absolute URL naming the logged-in user"));
        }
        let rump = match (&url.urlauth, url.rump()) {
            (Some(a), Some(r)) if a.verifier.is_none() => r.to_string(),
            _ => return Err(bad("it must end with ;URLAUTH=<access> and no verifier")),
        };
        if url.uid.is_none() || url.search.is_some() {
            return Err(bad("it must name a message by UID"));
        }
        url.section_spec().map_err(|e| bad(&e.to_string()))?;
        let Some(mb) = store.mailbox(account, &url.mailbox).await.ok().flatten() else {
            return Err(bad("no such mailbox").code(Code::Nonexistent));
        };
        if mb.noselect || url.uidvalidity.is_some_and(|v| v != mb.uidvalidity.0) {
            return Err(bad("no such mailbox").code(Code::Nonexistent));
        }
        let key = store.urlauth_key_or_create(account, mb.id).await?;
        let token = sign(&key, &rump).ok_or_else(|| Reply::no("Cannot authorize the URL"))?;
        out.push(format!("{rump}:internal:{token}"));
    }
    let data = imap_proto::response::urlauth::genurlauth(&out, &s.opts);
    s.send(data);
    Ok(Reply::ok("GENURLAUTH completed"))
}

impl Session {
    /// Who this session is for URLAUTH access identifiers.
    pub(crate) fn requester(&self) -> Option<Requester> {
        if self.state.is_submit() {
            return Some(Requester::Submit);
        }
        self.state.account().map(|a| Requester::User {
            id: a.id,
            address: a.address.to_string(),
        })
    }
}

/// Logs why a URL is answered NIL, and gives the answer.
fn nil_for<T>(r: Result<T, Failure>) -> Option<T> {
    match r {
        Ok(d) => Some(d),
        Err(Failure::Invalid(why)) => {
            tracing::debug!(why, "URLFETCH answered NIL");
            None
        }
        Err(Failure::Store(e)) => {
            tracing::warn!(error = %e, "URLFETCH could not read the store");
            None
        }
    }
}

pub(crate) async fn urlfetch(
    s: &mut Session,
    urls: Vec<String>,
    params: Vec<Option<UrlFetchParams>>,
) -> Outcome {
    let Some(who) = s.requester() else {
        return Err(Reply::bad("Log in first"));
    };
    let base = s.state.account().map(|a| a.id);
    let mut resolver = Resolver::new(s.shared.store.clone(), who);
    for (i, text) in urls.into_iter().enumerate() {
        let url = ImapUrl::parse(&text).map_err(|_| Failure::Invalid("syntax"));
        let target = match url {
            Ok(url) => match resolver.resolve(&url, base).await {
                Ok(t) => Ok((url, t)),
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let resp = match params.get(i).copied().flatten() {
            None => {
                let data = match target {
                    Ok((_, t)) => resolver.read(t).await,
                    Err(e) => Err(e),
                };
                let data = nil_for(data);
                imap_proto::response::urlauth::urlfetch(&text, data.as_deref(), &s.opts)
            }
            Some(p) => {
                let got = match target {
                    Ok((url, t)) => extended(&mut resolver, &url, t, p).await,
                    Err(e) => Err(e),
                };
                let got = nil_for(got);
                let ext = got.as_ref().map(|g| UrlFetchExt {
                    body_part_structure: g.structure.as_deref(),
                    binary: p.binary.then_some(g.binary.as_deref()),
                    body: p.body.then_some(g.body.as_deref()),
                });
                imap_proto::response::urlauth::urlfetch_ext(&text, ext.as_ref(), &s.opts)
            }
        };
        s.send(resp);
        s.flush_if_large().await;
    }
    Ok(Reply::ok("URLFETCH completed"))
}

/// What an extended URLFETCH returns for one URL (RFC 5524 4).
struct Fetched {
    structure: Option<Vec<u8>>,
    binary: Option<Vec<u8>>,
    body: Option<Vec<u8>>,
}

/// The `(start, len)` of a URL's `;PARTIAL=` applied to `data`.
fn partial(data: Vec<u8>, url: &ImapUrl) -> Vec<u8> {
    let Some((start, len)) = url.partial else {
        return data;
    };
    let start = (start as usize).min(data.len());
    let end = len.map_or(data.len(), |l| {
        start.saturating_add(l as usize).min(data.len())
    });
    data[start..end].to_vec()
}

/// BODYPARTSTRUCTURE, BINARY and BODY of a resolved URL. BINARY and
/// BODYPARTSTRUCTURE need the URL to name a body part (or the whole message); a
/// part that cannot be decoded has BINARY NIL.
async fn extended(
    resolver: &mut Resolver,
    url: &ImapUrl,
    t: Target,
    p: UrlFetchParams,
) -> Result<Fetched, Failure> {
    let mut out = Fetched {
        structure: None,
        binary: None,
        body: None,
    };
    if p.binary || p.body_part_structure {
        let section = url
            .section_spec()
            .map_err(|_| Failure::Invalid("section"))?;
        let part = match section {
            None => Vec::new(),
            Some(sec) if sec.text.is_none() => sec.part,
            Some(_) => return Err(Failure::Invalid("not a body part")),
        };
        let (raw, root) = resolver.message(&t).await?;
        let loc = binary::locate(&raw, &root, &part).ok_or(Failure::Invalid("no such part"))?;
        let decoded = if p.binary {
            binary::decode_tree(&raw, &loc).ok()
        } else {
            None
        };
        if p.body_part_structure {
            let bs = decoded.as_ref().map_or(loc.bs, |d| &d.structure);
            let mut s = Vec::new();
            structure::body(&mut s, bs, true);
            out.structure = Some(s);
        }
        out.binary = decoded.map(|d| partial(d.data, url));
    }
    if p.body {
        out.body = Some(resolver.read(t).await?);
    }
    Ok(out)
}
