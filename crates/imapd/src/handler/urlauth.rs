//! RESETKEY, GENURLAUTH and URLFETCH (RFC 4467 7) with the INTERNAL mechanism:
//! HMAC-SHA256 of the URL under the mailbox's access key. URLFETCH answers NIL
//! for every URL it will not serve, whatever the reason, so it tells nothing of
//! what exists.

use imap_proto::url::ImapUrl;
use imap_proto::{Code, MailboxName};

use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::urlauth::{Failure, INTERNAL, Requester, Resolver, sign};

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

pub(crate) async fn urlfetch(s: &mut Session, urls: Vec<String>) -> Outcome {
    let Some(who) = s.requester() else {
        return Err(Reply::bad("Log in first"));
    };
    let base = s.state.account().map(|a| a.id);
    let mut resolver = Resolver::new(s.shared.store.clone(), who);
    for text in urls {
        let data = match ImapUrl::parse(&text) {
            Ok(url) => match resolver.resolve(&url, base).await {
                Ok(t) => resolver.read(t).await,
                Err(e) => Err(e),
            },
            Err(_) => Err(Failure::Invalid("syntax")),
        };
        let data = match data {
            Ok(d) => Some(d),
            Err(Failure::Invalid(why)) => {
                tracing::debug!(why, "URLFETCH answered NIL");
                None
            }
            Err(Failure::Store(e)) => {
                tracing::warn!(error = %e, "URLFETCH could not read the store");
                None
            }
        };
        let resp = imap_proto::response::urlauth::urlfetch(&text, data.as_deref(), &s.opts);
        s.send(resp);
        s.flush_if_large().await;
    }
    Ok(Reply::ok("URLFETCH completed"))
}
