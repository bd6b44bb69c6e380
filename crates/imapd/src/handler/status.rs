//! STATUS (RFC 3501 6.3.10, RFC 9051 6.3.11 with SIZE and DELETED, RFC 7889
//! APPENDLIMIT).

use imap_proto::{Data, MailboxName, StatusItem, StatusValue};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

/// The STATUS values of one mailbox (also used by LIST-STATUS).
pub(crate) fn values(
    st: &store::MailboxStatus,
    items: &[StatusItem],
    append_limit: u64,
) -> Vec<StatusValue> {
    let n = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    items
        .iter()
        .map(|i| match i {
            StatusItem::Messages => StatusValue::Messages(n(st.messages)),
            StatusItem::Recent => StatusValue::Recent(0),
            StatusItem::UidNext => StatusValue::UidNext(imap_proto::Uid(st.uidnext)),
            StatusItem::UidValidity => {
                StatusValue::UidValidity(imap_proto::UidValidity(st.uidvalidity.0))
            }
            StatusItem::Unseen => StatusValue::Unseen(n(st.unseen)),
            StatusItem::Deleted => StatusValue::Deleted(n(st.deleted)),
            StatusItem::Size => StatusValue::Size(st.size),
            StatusItem::HighestModSeq => {
                StatusValue::HighestModSeq(imap_proto::ModSeq(st.highestmodseq.0))
            }
            StatusItem::AppendLimit => StatusValue::AppendLimit(Some(append_limit)),
            _ => StatusValue::Messages(n(st.messages)),
        })
        .collect()
}

pub(crate) async fn status(
    s: &mut Session,
    mailbox: &MailboxName,
    items: &[StatusItem],
) -> Outcome {
    let account = account(s)?;
    if items.contains(&StatusItem::HighestModSeq) {
        s.enable_condstore();
    }
    let st = s
        .shared
        .store
        .mailbox_status(account, mailbox.as_str())
        .await?;
    let mut items = values(&st, items, s.append_limit());
    with_recent(&mut items, &st, &s.shared.recent);
    s.send(Data::Status {
        mailbox: mailbox.clone(),
        items,
    });
    Ok(Reply::ok("STATUS completed"))
}

/// RECENT: the messages no session has seen as recent yet (UIDs from the
/// first unclaimed one on; an upper bound when some of them were expunged).
pub(crate) fn with_recent(
    items: &mut [StatusValue],
    st: &store::MailboxStatus,
    claims: &crate::session::selected::RecentClaims,
) {
    for v in items.iter_mut() {
        if let StatusValue::Recent(n) = v {
            let unclaimed = st
                .uidnext
                .saturating_sub(claims.first_unclaimed(st.id).max(1));
            *n = u32::try_from(st.messages)
                .unwrap_or(u32::MAX)
                .min(unclaimed);
        }
    }
}
