//! CATENATE (RFC 4469): APPEND of messages built from TEXT literals and IMAP URL
//! parts. URLs are resolved against the user's own mailboxes, or another user's
//! with a valid URLAUTH; the bytes are copied inside the store. A URL that names
//! nothing readable is `NO [BADURL url]`, a result over the limit `NO [TOOBIG]`.

use imap_proto::url::ImapUrl;
use imap_proto::{AppendPart, Code};
use store::{AccountId, ComposedMessage, Flags, Piece, StoreError, UidValidity};

use crate::reply::Reply;
use crate::session::Session;
use crate::urlauth::{Bytes, Failure, Resolver};

/// One message of the APPEND: bytes already complete, or parts to join.
pub(crate) enum Content {
    Bytes(Vec<u8>),
    Parts(Vec<AppendPart>),
}

fn bad_url(url: &str) -> Reply {
    Reply::no("The URL names nothing this session may read")
        .code(Code::Other("BADURL".into(), Some(url.to_string())))
}

async fn pieces(
    resolver: &mut Resolver,
    account: AccountId,
    parts: Vec<AppendPart>,
) -> Result<Vec<Piece>, Reply> {
    let mut out = Vec::with_capacity(parts.len());
    for part in parts {
        let text = match part {
            AppendPart::Text { data, .. } => {
                out.push(Piece::Text(data));
                continue;
            }
            AppendPart::Url(u) => u,
            _ => return Err(Reply::no("Unsupported CATENATE part").code(Code::Cannot)),
        };
        let url = ImapUrl::parse(&text).map_err(|_| bad_url(&text))?;
        let t = match resolver.resolve(&url, Some(account)).await {
            Ok(t) => t,
            Err(Failure::Invalid(why)) => {
                tracing::debug!(why, "CATENATE refused a URL");
                return Err(bad_url(&text));
            }
            Err(Failure::Store(e)) => return Err(e.into()),
        };
        out.push(match t.bytes {
            Bytes::Data(d) => Piece::Text(d),
            Bytes::Range { start, len } => Piece::Stored {
                account: t.owner,
                mailbox: t.mailbox,
                uid: t.uid,
                start,
                len,
            },
        });
    }
    Ok(out)
}

/// Stores the messages, all or none (RFC 3502 6.3.11, RFC 4469 5).
pub(crate) async fn append(
    s: &mut Session,
    account: AccountId,
    mailbox: &str,
    messages: Vec<(Content, Flags, Option<i64>)>,
    limit: u64,
) -> Result<(UidValidity, Vec<store::Uid>), Reply> {
    let who = s.requester().ok_or_else(|| Reply::bad("Log in first"))?;
    let store = s.shared.store.clone();
    let mut resolver = Resolver::new(store.clone(), who);
    let mut composed = Vec::with_capacity(messages.len());
    for (content, flags, internal_date) in messages {
        let pieces = match content {
            Content::Bytes(b) => vec![Piece::Text(b)],
            Content::Parts(parts) => pieces(&mut resolver, account, parts).await?,
        };
        composed.push(ComposedMessage {
            pieces,
            flags,
            internal_date,
        });
    }
    match store
        .append_composed(account, mailbox, composed, limit)
        .await
    {
        Ok(r) => Ok(r),
        Err(StoreError::TooLarge) => Err(Reply::no("Message too large").code(Code::TooBig)),
        // A message expunged since its URL was checked.
        Err(StoreError::NotFound(store::Subject::Message(_))) => {
            Err(Reply::no("A message named by a URL is gone").code(Code::ExpungeIssued))
        }
        Err(e) => Err(e.into()),
    }
}
