//! BURL (RFC 4468): message content fetched from imapd by URLAUTH URL
//! (RFC 4467) and spliced into the message, alone or between BDAT chunks.
//!
//! How the submission server talks to imapd:
//!
//! - It connects to `submission.imap_address` (empty: the first
//!   `imap.listen` address, an unspecified address meaning loopback). On
//!   loopback, when `auth.allow_plaintext_on_loopback` is on, it logs in in
//!   the clear; otherwise it runs STARTTLS first and accepts only the
//!   certificate our own configuration serves (both daemons read the same
//!   `[tls]` files or the same generated certificate).
//! - It logs in with `LOGIN "$submit" "<secret>"`: the user is
//!   [`zest_core::submit::SUBMIT_USER`], the password the shared secret in
//!   `<data_dir>/submit-secret` ([`zest_core::submit::SubmitIdentity`]).
//! - For each BURL it sends `URLFETCH "<url>"` (the URL exactly as the client
//!   gave it) and reads `* URLFETCH "<url>" {n}` + data, or `NIL`. imapd
//!   checks the URLAUTH verifier, expiry and access; it answers `submit+<user>`
//!   URLs only to this session. The connection stays open for the rest of the
//!   submission session.
//!
//! Before asking imapd, the submission server itself refuses a URL that does
//! not name our IMAP server (554 5.7.8), has no URLAUTH, or whose
//! `submit+<user>` is not the authenticated user (554 5.7.0, RFC 4468 3.3).
//! A NIL answer is 554 5.7.0 too, with nothing of the URL's data.
//!
//! $SubmitPending / $Submitted (RFC 5550 5.10): once a message containing
//! BURL content is queued, every message a URL of it names (owner from the
//! URL's user, mailbox, UIDVALIDITY, UID) that carries $SubmitPending loses
//! it and gains $Submitted. This goes through the store, as every daemon's
//! writes do, so IMAP sessions see it through the change feed; imapd needs
//! no command or permission for it.

mod imap;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use store::{EmailAddress, FlagOp, Flags, Uid};
use zest_core::config::Config;
use zest_core::submit::{SUBMIT_USER, SubmitIdentity};

use crate::reply::Reply;
use crate::session::{Next, Session};

pub(crate) use imap::ImapClient;
use imap::{ImapError, Target};
use imap_proto::url::{Access, ImapUrl};

/// BURL commands one transaction may hold: far more than any real message
/// has parts, and a bound on what a transaction remembers.
const MAX_BURLS: usize = 1000;

/// BURL settings fixed at start-up.
pub(crate) struct Burl {
    target: Target,
    /// Host names a URL may use to name our IMAP server, lower-cased.
    hosts: Vec<String>,
}

/// A message a BURL URL named, to be marked $Submitted once the message is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Referenced {
    owner: String,
    mailbox: String,
    uidvalidity: Option<u32>,
    uid: u32,
}

impl Burl {
    /// None when there is no imapd to ask (no `imap.listen`, no `imap_address`).
    pub(crate) fn new(
        config: &Config,
        identity: &SubmitIdentity,
        certificate: Option<rustls::pki_types::CertificateDer<'static>>,
    ) -> Option<Burl> {
        let address = imap_address(config)?;
        let mut hosts = vec![config.hostname.to_ascii_lowercase()];
        if let Some((host, _)) = address.rsplit_once(':') {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            hosts.push(host.to_ascii_lowercase());
        }
        hosts.dedup();
        Some(Burl {
            target: Target {
                address,
                plaintext_on_loopback: config.auth.allow_plaintext_on_loopback,
                user: SUBMIT_USER,
                secret: identity.secret().to_string(),
                certificate,
                timeout: std::time::Duration::from_secs(
                    config.limits.idle_timeout_secs.clamp(1, 300),
                ),
            },
            hosts,
        })
    }
}

/// `submission.imap_address`, else the first `imap.listen` address.
fn imap_address(config: &Config) -> Option<String> {
    if !config.submission.imap_address.is_empty() {
        return Some(config.submission.imap_address.clone());
    }
    let addr = *config.imap.listen.addrs().first()?;
    let ip = match addr.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Some(SocketAddr::new(ip, addr.port()).to_string())
}

impl Session {
    /// The EHLO keyword: `BURL imap` once authenticated, bare `BURL` before
    /// (RFC 4468 3.1: supported, authentication required).
    pub(crate) fn burl_capability(&self) -> Option<String> {
        self.shared.burl.as_ref()?;
        Some(if self.account.is_some() {
            "BURL imap".into()
        } else {
            "BURL".into()
        })
    }

    pub(crate) async fn burl(&mut self, uri: String, last: bool) -> Next {
        if self.shared.burl.is_none() {
            return self.error(Reply::new(502, "5.5.1", "BURL is not available"));
        }
        let Some(account) = self.account.clone() else {
            return self.error(Reply::new(530, "5.7.0", "Authentication required"));
        };
        let Some(env) = &self.envelope else {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL command"));
        };
        if env.recipients.is_empty() {
            // RFC 4468 3.2: no resolution without a valid recipient.
            return self.error(Reply::new(
                554,
                "5.5.0",
                "No recipients have been specified",
            ));
        }
        if env.referenced.len() >= MAX_BURLS {
            self.chunk_error
                .get_or_insert(Reply::new(554, "5.5.3", "Too many BURL commands"));
        }
        if let Some(e) = self.chunk_error.clone() {
            // A failed BDAT before: the transaction is failing (RFC 3030 4.2).
            if last {
                self.envelope = None;
                self.chunk_error = None;
            }
            self.reply(e);
            return Next::Continue;
        }
        match self.resolve(&uri, &account.address).await {
            Ok((data, referenced)) => {
                let Some(env) = self.envelope.as_mut() else {
                    return Next::Continue;
                };
                env.chunked = true;
                env.data.extend_from_slice(&data);
                env.referenced.push(referenced);
                if last {
                    let r = self.finish_message(true).await;
                    self.reply(r);
                } else {
                    let size = env.data.len();
                    self.reply(Reply::new(
                        250,
                        "2.5.0",
                        format!("{size} octets received; waiting for more"),
                    ));
                }
                Next::Continue
            }
            Err(r) => {
                // RFC 4468 3.2: a failed fetch fails the whole transaction.
                self.envelope = None;
                self.chunk_error = None;
                self.reply(r);
                Next::Continue
            }
        }
    }

    /// Checks `uri` and fetches it: the data, and the message it names.
    async fn resolve(
        &mut self,
        uri: &str,
        user: &EmailAddress,
    ) -> Result<(Vec<u8>, Referenced), Reply> {
        let Some(burl) = self.shared.burl.as_ref() else {
            return Err(Reply::new(502, "5.5.1", "BURL is not available"));
        };
        let unresolvable =
            |why: &str| Reply::new(554, "5.6.6", format!("IMAP URL resolution failed: {why}"));
        // The URL goes to imapd inside a quoted string: URL characters only.
        if !uri
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b'"' && b != b'\\')
        {
            return Err(unresolvable("invalid character in URL"));
        }
        let url = ImapUrl::parse(uri).map_err(|e| unresolvable(&e.to_string()))?;
        let Some(server) = &url.server else {
            return Err(unresolvable("the URL must name its server"));
        };
        let host = server
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if !burl.hosts.contains(&host) {
            return Err(Reply::new(
                554,
                "5.7.8",
                "URL resolution requires trust relationship",
            ));
        }
        let Some(uid) = url.uid else {
            return Err(unresolvable("the URL must name a message by UID"));
        };
        let authorised = match url.urlauth.as_ref().map(|a| &a.access) {
            Some(Access::Submit(u)) => EmailAddress::parse(u).is_ok_and(|u| u == *user),
            Some(Access::Anonymous) => true,
            _ => false,
        };
        if !authorised {
            tracing::info!(user = %user, "BURL URL not authorised for this user");
            return Err(url_authorization_failed());
        }
        let room = self
            .shared
            .max_message_size()
            .saturating_sub(self.envelope.as_ref().map_or(0, |e| e.data.len()));
        let mut target = burl.target.clone();
        // The certificate served now: a reload may have replaced it since start-up.
        if let Some(cert) = self.shared.tls.resolver().chain().into_iter().next() {
            target.certificate = Some(cert);
        }
        let fetched = match self.imap.as_mut() {
            Some(client) => client.urlfetch(uri, room).await,
            None => Err(ImapError::Unavailable(String::new())),
        };
        // One retry on a fresh connection: the kept one may have timed out.
        let fetched = match fetched {
            Err(ImapError::Unavailable(_)) => {
                self.imap = None;
                match ImapClient::connect(&target).await {
                    Ok(mut client) => {
                        let r = client.urlfetch(uri, room).await;
                        self.imap = Some(client);
                        r
                    }
                    Err(e) => Err(e),
                }
            }
            other => other,
        };
        match fetched {
            Ok(Some(data)) => Ok((
                data,
                Referenced {
                    owner: url.user().unwrap_or(user.as_str()).to_string(),
                    mailbox: url.mailbox.clone(),
                    uidvalidity: url.uidvalidity,
                    uid,
                },
            )),
            Ok(None) => {
                tracing::info!(user = %user, "URLFETCH gave nothing for a BURL URL");
                Err(url_authorization_failed())
            }
            Err(ImapError::TooBig) => {
                // The rest of that literal is still on the wire: start afresh next time.
                self.imap = None;
                Err(Reply::new(554, "5.3.4", "Message too big for system"))
            }
            Err(ImapError::Failed) => Err(Reply::new(554, "5.6.6", "IMAP URL resolution failed")),
            Err(ImapError::Unavailable(why)) => {
                self.imap = None;
                tracing::warn!(error = %why, "cannot reach imapd for BURL");
                Err(Reply::new(451, "4.4.1", "IMAP server unavailable"))
            }
        }
    }

    /// After the message is queued: $SubmitPending → $Submitted on each
    /// message a URL named. Failures are logged; the message is sent anyway.
    pub(crate) async fn mark_submitted(&self, referenced: Vec<Referenced>) {
        let mut done: Vec<&Referenced> = Vec::new();
        for r in &referenced {
            if done
                .iter()
                .any(|d| d.owner == r.owner && d.mailbox == r.mailbox && d.uid == r.uid)
            {
                continue;
            }
            done.push(r);
            if let Err(e) = self.mark_one(r).await {
                tracing::warn!(error = %e, "cannot mark a submitted message $Submitted");
            }
        }
    }

    async fn mark_one(&self, r: &Referenced) -> Result<(), store::StoreError> {
        let store = self.store();
        let owner = EmailAddress::parse(&r.owner)?;
        let Some(account) = store.account(&owner).await? else {
            return Ok(());
        };
        let Some(mailbox) = store.mailbox(account.id, &r.mailbox).await? else {
            return Ok(());
        };
        if r.uidvalidity.is_some_and(|v| v != mailbox.uidvalidity.0) {
            return Ok(());
        }
        let pending = Flags::from_names(["$SubmitPending"])?;
        let (changed, _) = store
            .set_flags(
                account.id,
                mailbox.id,
                vec![Uid(r.uid)],
                FlagOp::Remove,
                pending,
                None,
            )
            .await?;
        if changed.is_empty() {
            // It was not pending: a part forwarded from elsewhere.
            return Ok(());
        }
        let submitted = Flags::from_names(["$Submitted"])?;
        store
            .set_flags(
                account.id,
                mailbox.id,
                vec![Uid(r.uid)],
                FlagOp::Add,
                submitted,
                None,
            )
            .await?;
        Ok(())
    }
}

fn url_authorization_failed() -> Reply {
    Reply::new(554, "5.7.0", "IMAP URL authorization failed")
}
