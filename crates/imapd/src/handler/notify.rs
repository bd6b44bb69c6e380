//! NOTIFY (RFC 5465): checks the requested events, then installs them in the
//! session; with `STATUS`, answers with the state of every watched mailbox.

use std::collections::{HashMap, HashSet};

use imap_proto::{Code, NotifyEvent, NotifyFilter, NotifySet};

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;
use crate::session::notify::{Notify, SUPPORTED};

/// More mailbox names than this in one NOTIFY is refused as too costly.
const MAX_NAMED_MAILBOXES: usize = 10_000;

/// The RFC 5465 rules on a group's events; `Err` is the tagged refusal.
fn check(set: &NotifySet) -> Result<(), Reply> {
    let mut named = 0;
    for g in &set.groups {
        for e in &g.events {
            if matches!(
                e,
                NotifyEvent::Other(_)
                    | NotifyEvent::MailboxMetadataChange
                    | NotifyEvent::ServerMetadataChange
            ) {
                // 3.1: NO with BADEVENT listing what is supported.
                return Err(Reply::no(format!("Unsupported event {}", e.name())).code(
                    Code::BadEvent(SUPPORTED.iter().map(|s| s.to_string()).collect()),
                ));
            }
        }
        let has = |f: fn(&NotifyEvent) -> bool| g.events.iter().any(f);
        let new = has(|e| matches!(e, NotifyEvent::MessageNew(_)));
        let expunge = has(|e| *e == NotifyEvent::MessageExpunge);
        let flags = has(|e| matches!(e, NotifyEvent::FlagChange | NotifyEvent::AnnotationChange));
        // 5: FlagChange and AnnotationChange need MessageNew and MessageExpunge,
        // and those two go together. Both rules keep the selected mailbox's
        // sequence numbers coherent, so they are held to there; for other
        // mailboxes every event is a STATUS response and any subset is
        // meaningful (as imaptest's NOTIFY script and Dovecot have it).
        if g.filter.is_selected() {
            if flags && !(new && expunge) {
                return Err(Reply::bad(
                    "FlagChange and AnnotationChange need MessageNew and MessageExpunge",
                )
                .code(Code::ClientBug));
            }
            if new != expunge {
                return Err(
                    Reply::bad("MessageNew and MessageExpunge go together").code(Code::ClientBug)
                );
            }
        }
        if g.filter.is_selected() {
            // 6.1: only message events apply to the selected mailbox.
            if g.events.iter().any(|e| !e.is_message_event()) {
                return Err(
                    Reply::bad("Only message events apply to the selected mailbox")
                        .code(Code::ClientBug),
                );
            }
        } else if g
            .events
            .iter()
            .any(|e| matches!(e, NotifyEvent::MessageNew(items) if !items.is_empty()))
        {
            // 5.1: fetch attributes only for the selected mailbox.
            return Err(Reply::bad(
                "MessageNew fetch attributes apply to the selected mailbox only",
            )
            .code(Code::ClientBug));
        }
        if let NotifyFilter::Subtree(l) | NotifyFilter::Mailboxes(l) = &g.filter {
            named += l.len();
        }
    }
    if set.groups.iter().filter(|g| g.filter.is_selected()).count() > 1 {
        return Err(Reply::bad("The selected mailbox is named twice").code(Code::ClientBug));
    }
    if named > MAX_NAMED_MAILBOXES {
        return Err(Reply::no("Too many mailboxes to watch").code(Code::NotificationOverflow));
    }
    Ok(())
}

pub(crate) async fn notify(s: &mut Session, set: Option<NotifySet>) -> Outcome {
    let account = account(s)?;
    let Some(set) = set else {
        s.notify = None;
        return Ok(Reply::ok("NOTIFY completed"));
    };
    check(&set)?;
    let store = &s.shared.store;
    let names: HashMap<_, _> = store
        .list_mailboxes(account)
        .await?
        .into_iter()
        .filter(|m| !m.noselect)
        .map(|m| (m.id, m.name))
        .collect();
    let subscribed: HashSet<String> = store.subscriptions(account).await?.into_iter().collect();
    let notify = Notify::new(set.groups, names, subscribed);
    let selected = s.state.selected().map(|m| m.id);
    let watched = set.status.then(|| notify.watched(selected));
    // In place first: the STATUS items depend on the events each mailbox is watched for.
    s.notify = Some(Box::new(notify));
    for (_, name) in watched.unwrap_or_default() {
        s.send_notify_status(&name).await;
    }
    Ok(Reply::ok("NOTIFY completed"))
}
