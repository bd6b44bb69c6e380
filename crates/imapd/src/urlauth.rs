//! IMAP URLs against the store: whose message a URL names, whether this session
//! may read it (its own mailbox, or a URLAUTH verifier, RFC 4467 3), and which
//! bytes it names (section and partial, RFC 5092 5, RFC 5550 5.7.1).

use std::collections::HashMap;

use hmac::{Hmac, Mac};
use imap_proto::url::{Access, ImapUrl};
use imap_proto::{Section, SectionText};
use sha2::Sha256;
use store::summary::BodyStructure;
use store::{AccountId, MailboxId, Store, StoreError, Uid};

use crate::fetch::section;

/// The only URLAUTH mechanism (RFC 4467 4.1).
pub(crate) const INTERNAL: &str = "INTERNAL";

/// Who asks: a user, or the submission server's identity (`submit+` URLs).
#[derive(Debug, Clone)]
pub(crate) enum Requester {
    User { id: AccountId, address: String },
    Submit,
}

/// The bytes a URL names.
#[derive(Debug)]
pub(crate) enum Bytes {
    /// A run of the stored message, copied inside the store.
    Range { start: u64, len: Option<u64> },
    /// Bytes that are not one run (HEADER.FIELDS), already read.
    Data(Vec<u8>),
}

/// What a URL resolved to.
#[derive(Debug)]
pub(crate) struct Target {
    pub owner: AccountId,
    pub mailbox: MailboxId,
    pub uid: Uid,
    pub bytes: Bytes,
}

/// Why a URL gives nothing: it is invalid, names nothing, or is not this
/// session's to read (told apart only in logs), or the store failed.
#[derive(Debug)]
pub(crate) enum Failure {
    Invalid(&'static str),
    Store(StoreError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Failure::Invalid("not found"),
            e => Failure::Store(e),
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The INTERNAL verifier of `rump` under a mailbox access key, in hex.
pub(crate) fn sign(key: &[u8], rump: &str) -> Option<String> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(rump.as_bytes());
    let tag = mac.finalize().into_bytes();
    Some(tag.iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks a verifier in constant time.
fn verify(key: &[u8], rump: &str, token: &str) -> bool {
    let Some(bytes) = hex(token) else {
        return false;
    };
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return false;
    };
    mac.update(rump.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// Whether `who` may use a URL with this access identifier (RFC 4467 3).
fn access_allows(access: &Access, who: &Requester) -> bool {
    match (access, who) {
        // Only the submission server honours submit+ URLs (RFC 4468 3.3).
        (Access::Submit(_), Requester::Submit) => true,
        (Access::User(u), Requester::User { address, .. }) => u.eq_ignore_ascii_case(address),
        (Access::AuthUser | Access::Anonymous, _) => true,
        _ => false,
    }
}

/// Resolves URLs for one command, remembering what it looked up: a CATENATE
/// of thousands of URL parts into one message reads each thing once.
pub(crate) struct Resolver {
    store: Store,
    who: Requester,
    now: i64,
    accounts: HashMap<String, Option<AccountId>>,
    mailboxes: HashMap<(AccountId, String), Option<(MailboxId, u32)>>,
    structures: HashMap<(MailboxId, u32), Option<BodyStructure>>,
    keys: HashMap<MailboxId, Option<Vec<u8>>>,
}

impl Resolver {
    pub(crate) fn new(store: Store, who: Requester) -> Resolver {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Resolver {
            store,
            who,
            now,
            accounts: HashMap::new(),
            mailboxes: HashMap::new(),
            structures: HashMap::new(),
            keys: HashMap::new(),
        }
    }

    async fn account(&mut self, user: &str) -> Result<Option<AccountId>, Failure> {
        let key = user.to_ascii_lowercase();
        if let Some(a) = self.accounts.get(&key) {
            return Ok(*a);
        }
        let found = match store::EmailAddress::parse(user) {
            Ok(addr) => self.store.account(&addr).await?.map(|a| a.id),
            Err(_) => None,
        };
        self.accounts.insert(key, found);
        Ok(found)
    }

    async fn mailbox(
        &mut self,
        owner: AccountId,
        name: &str,
    ) -> Result<Option<(MailboxId, u32)>, Failure> {
        let key = (owner, name.to_string());
        if let Some(m) = self.mailboxes.get(&key) {
            return Ok(*m);
        }
        let found = match self.store.mailbox(owner, name).await {
            Ok(m) => m.filter(|m| !m.noselect).map(|m| (m.id, m.uidvalidity.0)),
            Err(StoreError::Invalid { .. }) | Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(Failure::Store(e)),
        };
        self.mailboxes.insert(key, found);
        Ok(found)
    }

    async fn structure(
        &mut self,
        owner: AccountId,
        mailbox: MailboxId,
        uid: Uid,
    ) -> Result<Option<&BodyStructure>, Failure> {
        let key = (mailbox, uid.0);
        if !self.structures.contains_key(&key) {
            let meta = self.store.message_meta(owner, mailbox, vec![uid]).await?;
            self.structures
                .insert(key, meta.into_iter().next().map(|m| m.body));
        }
        Ok(self.structures.get(&key).and_then(Option::as_ref))
    }

    async fn key(
        &mut self,
        owner: AccountId,
        mailbox: MailboxId,
    ) -> Result<Option<Vec<u8>>, Failure> {
        if let Some(k) = self.keys.get(&mailbox) {
            return Ok(k.clone());
        }
        let k = self.store.urlauth_key(owner, mailbox).await?;
        self.keys.insert(mailbox, k.clone());
        Ok(k)
    }

    /// What `url` names, if this session may read it. A relative URL (or one
    /// without a user) belongs to `base`, the session's own account.
    pub(crate) async fn resolve(
        &mut self,
        url: &ImapUrl,
        base: Option<AccountId>,
    ) -> Result<Target, Failure> {
        use Failure::Invalid;
        let uid = Uid(url.uid.ok_or(Invalid("no UID"))?);
        if url.search.is_some() {
            return Err(Invalid("a message list"));
        }
        let owner = match url.user() {
            Some(u) => self.account(u).await?.ok_or(Invalid("no such user"))?,
            None => base.ok_or(Invalid("no user"))?,
        };
        let (mailbox, uidvalidity) = self
            .mailbox(owner, &url.mailbox)
            .await?
            .ok_or(Invalid("no such mailbox"))?;
        if url.uidvalidity.is_some_and(|v| v != uidvalidity) {
            return Err(Invalid("UIDVALIDITY changed"));
        }
        match &url.urlauth {
            Some(auth) => {
                let (mech, token) = auth.verifier.as_ref().ok_or(Invalid("a URLAUTH rump"))?;
                if !mech.eq_ignore_ascii_case(INTERNAL) {
                    return Err(Invalid("unknown mechanism"));
                }
                if url.expire.as_ref().is_some_and(|e| e.unix <= self.now) {
                    return Err(Invalid("expired"));
                }
                if !access_allows(&auth.access, &self.who) {
                    return Err(Invalid("access identifier"));
                }
                let key = self.key(owner, mailbox).await?.ok_or(Invalid("no key"))?;
                let rump = url.rump().ok_or(Invalid("no rump"))?;
                if !verify(&key, rump, token) {
                    return Err(Invalid("verifier"));
                }
            }
            // Without URLAUTH a URL is good only for the owner's own sessions.
            None => match &self.who {
                Requester::User { id, .. } if *id == owner => {}
                _ => return Err(Invalid("another user's mailbox")),
            },
        }
        let section = url.section_spec().map_err(|_| Invalid("section"))?;
        let structure = self
            .structure(owner, mailbox, uid)
            .await?
            .ok_or(Invalid("no such message"))?
            .clone();
        let (p_start, p_len) = url
            .partial
            .map_or((0u64, None), |(s, l)| (u64::from(s), l.map(u64::from)));
        let bytes = match section {
            None => Bytes::Range {
                start: p_start,
                len: p_len,
            },
            Some(sec) => match section::range(&structure, &sec) {
                Some((a, b)) => {
                    let size = b.saturating_sub(a) as u64;
                    let start = p_start.min(size);
                    let len = p_len.map_or(size - start, |l| l.min(size - start));
                    Bytes::Range {
                        start: a as u64 + start,
                        len: Some(len),
                    }
                }
                None => {
                    let data = self
                        .header_fields(owner, mailbox, uid, &structure, &sec)
                        .await?
                        .ok_or(Invalid("no such section"))?;
                    let start = usize::try_from(p_start)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    let end = p_len.map_or(data.len(), |l| {
                        start
                            .saturating_add(usize::try_from(l).unwrap_or(usize::MAX))
                            .min(data.len())
                    });
                    Bytes::Data(data[start..end].to_vec())
                }
            },
        };
        Ok(Target {
            owner,
            mailbox,
            uid,
            bytes,
        })
    }

    /// HEADER.FIELDS and HEADER.FIELDS.NOT: the header is read and filtered.
    async fn header_fields(
        &self,
        owner: AccountId,
        mailbox: MailboxId,
        uid: Uid,
        structure: &BodyStructure,
        sec: &Section,
    ) -> Result<Option<Vec<u8>>, Failure> {
        let (fields, not) = match &sec.text {
            Some(SectionText::HeaderFields(f)) => (f, false),
            Some(SectionText::HeaderFieldsNot(f)) => (f, true),
            _ => return Ok(None),
        };
        let header = Section {
            part: sec.part.clone(),
            text: Some(SectionText::Header),
        };
        let Some((a, b)) = section::range(structure, &header) else {
            return Ok(None);
        };
        let raw = self
            .store
            .read_message_range(
                owner,
                mailbox,
                uid,
                a as u64,
                Some(b.saturating_sub(a) as u64),
            )
            .await?;
        Ok(Some(section::filter_fields(&raw, fields, not)))
    }

    /// The whole stored message a resolved URL points into, and its structure.
    pub(crate) async fn message(
        &mut self,
        t: &Target,
    ) -> Result<(Vec<u8>, BodyStructure), Failure> {
        let structure = self
            .structure(t.owner, t.mailbox, t.uid)
            .await?
            .ok_or(Failure::Invalid("no such message"))?
            .clone();
        let raw = self
            .store
            .read_message_range(t.owner, t.mailbox, t.uid, 0, None)
            .await?;
        Ok((raw, structure))
    }

    /// The bytes of a resolved URL.
    pub(crate) async fn read(&self, t: Target) -> Result<Vec<u8>, Failure> {
        match t.bytes {
            Bytes::Data(d) => Ok(d),
            Bytes::Range { start, len } => Ok(self
                .store
                .read_message_range(t.owner, t.mailbox, t.uid, start, len)
                .await?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifiers_check_key_rump_and_token() {
        let rump = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred";
        let token = sign(b"key one", rump).unwrap();
        assert_eq!(token.len(), 64);
        assert!(verify(b"key one", rump, &token));
        assert!(verify(b"key one", rump, &token.to_ascii_uppercase()));
        assert!(!verify(b"key two", rump, &token));
        assert!(!verify(b"key one", &rump.replace("20", "21"), &token));
        assert!(!verify(b"key one", rump, &token[..62]));
        assert!(!verify(b"key one", rump, "zz"));
        assert!(!verify(b"key one", rump, "abc"));
    }

    #[test]
    fn access_identifiers() {
        let alice = Requester::User {
            id: AccountId(1),
            address: "alice@example.org".into(),
        };
        assert!(access_allows(
            &Access::Submit("alice@example.org".into()),
            &Requester::Submit
        ));
        assert!(!access_allows(
            &Access::Submit("alice@example.org".into()),
            &alice
        ));
        assert!(access_allows(
            &Access::User("Alice@Example.org".into()),
            &alice
        ));
        assert!(!access_allows(
            &Access::User("bob@example.org".into()),
            &alice
        ));
        assert!(!access_allows(
            &Access::User("alice@example.org".into()),
            &Requester::Submit
        ));
        assert!(access_allows(&Access::AuthUser, &alice));
        assert!(access_allows(&Access::Anonymous, &alice));
    }
}
