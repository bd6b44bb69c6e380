//! NOTIFY (RFC 5465) in the session: which mailboxes and events the client
//! asked for, the changes from the store's feed that match them, and the
//! untagged STATUS and LIST responses they turn into. Updates for the
//! selected mailbox go out between commands too when the client asked for
//! `selected` or `selected-delayed` events.

use std::collections::{HashMap, HashSet};

use imap_proto::{
    Code, Data, EventGroup, FetchItem, ListData, MailboxAttr, MailboxName, NotifyEvent,
    NotifyFilter, SequenceSet, Status, StatusItem, StatusResponse,
};
use store::{ChangeKind, FeedItem, MailboxId, Uid};

use super::{Session, Stop, read_some};

/// The events this server reports (the list BADEVENT names).
pub(crate) const SUPPORTED: [&str; 6] = [
    "MessageNew",
    "MessageExpunge",
    "FlagChange",
    "AnnotationChange",
    "MailboxName",
    "SubscriptionChange",
];

const DELIMITER: char = '/';

pub(crate) struct Notify {
    groups: Vec<EventGroup>,
    /// Every mailbox of the account, by id.
    names: HashMap<MailboxId, String>,
    subscribed: HashSet<String>,
    /// Mailboxes whose STATUS is due, in the order their changes came.
    status_due: Vec<MailboxId>,
    /// Mailbox and subscription changes (RFC 5465 5.4, 5.5) still to send.
    lists: Vec<ListData>,
    /// Subscriptions changed: re-read them and report these names.
    subscriptions_due: Vec<String>,
    /// The feed dropped events: notifications stop (RFC 5465 5.8).
    pub overflow: bool,
}

fn parent_of(name: &str, root: &str) -> bool {
    name == root
        || name
            .strip_prefix(root)
            .is_some_and(|rest| rest.starts_with(DELIMITER))
}

fn canonical(name: &MailboxName) -> String {
    if name.is_inbox() {
        "INBOX".to_string()
    } else {
        name.as_str().to_string()
    }
}

impl Notify {
    pub fn new(
        groups: Vec<EventGroup>,
        names: HashMap<MailboxId, String>,
        subscribed: HashSet<String>,
    ) -> Notify {
        Notify {
            groups,
            names,
            subscribed,
            status_due: Vec::new(),
            lists: Vec::new(),
            subscriptions_due: Vec::new(),
            overflow: false,
        }
    }

    /// The events asked for the selected mailbox, and whether expunges wait
    /// for a command (`selected-delayed`).
    pub fn selected(&self) -> Option<(&[NotifyEvent], bool)> {
        self.groups.iter().find_map(|g| match g.filter {
            NotifyFilter::Selected => Some((g.events.as_slice(), false)),
            NotifyFilter::SelectedDelayed => Some((g.events.as_slice(), true)),
            _ => None,
        })
    }

    /// The events of the first group naming this (non-selected) mailbox:
    /// the first specification wins (RFC 5465 6).
    pub fn events_for(&self, name: &str) -> Option<&[NotifyEvent]> {
        self.groups
            .iter()
            .find(|g| match &g.filter {
                NotifyFilter::Selected | NotifyFilter::SelectedDelayed => false,
                NotifyFilter::Inboxes | NotifyFilter::Personal => true,
                NotifyFilter::Subscribed => self.subscribed.contains(name),
                NotifyFilter::Subtree(roots) => {
                    roots.iter().any(|r| parent_of(name, &canonical(r)))
                }
                NotifyFilter::Mailboxes(list) => list.iter().any(|m| canonical(m) == name),
                _ => false,
            })
            .map(|g| g.events.as_slice())
    }

    pub(crate) fn wants(&self, name: &str, f: impl Fn(&NotifyEvent) -> bool) -> bool {
        self.events_for(name).is_some_and(|e| e.iter().any(f))
    }

    /// Mailboxes whose STATUS the `STATUS` option of NOTIFY SET reports.
    pub fn watched(&self, selected: Option<MailboxId>) -> Vec<(MailboxId, String)> {
        let mut out: Vec<(MailboxId, String)> = self
            .names
            .iter()
            .filter(|(id, name)| {
                Some(**id) != selected && self.wants(name, NotifyEvent::is_message_event)
            })
            .map(|(id, n)| (*id, n.clone()))
            .collect();
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    /// Takes in one item of the change feed.
    pub fn note(&mut self, item: &FeedItem, selected: Option<MailboxId>) {
        let change = match item {
            FeedItem::Missed(_) => {
                self.overflow = true;
                return;
            }
            FeedItem::Change(c) => c,
        };
        match &change.kind {
            ChangeKind::MessageAdded { mailbox, .. }
            | ChangeKind::MessageExpunged { mailbox, .. }
            | ChangeKind::FlagsChanged { mailbox, .. } => {
                if Some(*mailbox) == selected || self.status_due.contains(mailbox) {
                    return;
                }
                let Some(name) = self.names.get(mailbox) else {
                    return;
                };
                let wanted = match &change.kind {
                    ChangeKind::MessageAdded { .. } => {
                        self.wants(name, |e| matches!(e, NotifyEvent::MessageNew(_)))
                    }
                    ChangeKind::MessageExpunged { .. } => {
                        self.wants(name, |e| *e == NotifyEvent::MessageExpunge)
                    }
                    _ => self.wants(name, |e| *e == NotifyEvent::FlagChange),
                };
                if wanted {
                    self.status_due.push(*mailbox);
                }
            }
            ChangeKind::MailboxCreated { mailbox, name } => {
                self.names.insert(*mailbox, name.clone());
                if self.wants(name, |e| *e == NotifyEvent::MailboxName) {
                    self.lists.push(self.list(name, vec![]));
                }
            }
            ChangeKind::MailboxDeleted { mailbox, name } => {
                let wanted = self.wants(name, |e| *e == NotifyEvent::MailboxName);
                self.names.remove(mailbox);
                if wanted {
                    self.lists
                        .push(self.list(name, vec![MailboxAttr::NonExistent]));
                }
            }
            ChangeKind::MailboxRenamed {
                mailbox,
                old_name,
                name,
            } => {
                let wanted = self.wants(old_name, |e| *e == NotifyEvent::MailboxName)
                    || self.wants(name, |e| *e == NotifyEvent::MailboxName);
                self.names.insert(*mailbox, name.clone());
                if wanted {
                    let mut l = self.list(name, vec![]);
                    l.old_name = Some(MailboxName::new(old_name.clone()));
                    self.lists.push(l);
                }
            }
            ChangeKind::SubscriptionChanged { name } if !self.subscriptions_due.contains(name) => {
                self.subscriptions_due.push(name.clone());
            }
            _ => {}
        }
    }

    fn list(&self, name: &str, mut attrs: Vec<MailboxAttr>) -> ListData {
        if self.subscribed.contains(name) && !attrs.contains(&MailboxAttr::NonExistent) {
            attrs.push(MailboxAttr::Subscribed);
        }
        ListData::new(attrs, Some(DELIMITER), MailboxName::new(name))
    }
}

impl Session {
    /// STATUS items sent for watched mailbox `name` (RFC 5465 5.1-5.3): what
    /// its message events need, and HIGHESTMODSEQ when flag changes are
    /// watched there (5.1) or CONDSTORE is on.
    pub(crate) fn notify_status_items(&self, name: &str) -> Vec<StatusItem> {
        let mut items = vec![
            StatusItem::Messages,
            StatusItem::UidNext,
            StatusItem::UidValidity,
            StatusItem::Unseen,
        ];
        let flags = self.notify.as_ref().is_some_and(|n| {
            n.wants(name, |e| {
                matches!(e, NotifyEvent::FlagChange | NotifyEvent::AnnotationChange)
            })
        });
        if self.condstore || flags {
            items.push(StatusItem::HighestModSeq);
        }
        items
    }

    /// Queues the STATUS of one mailbox; false when it is gone.
    pub(crate) async fn send_notify_status(&mut self, name: &str) -> bool {
        let Some(account) = self.state.account().map(|a| a.id) else {
            return false;
        };
        let items = self.notify_status_items(name);
        match self.shared.store.mailbox_status(account, name).await {
            Ok(st) => {
                let items = crate::handler::status::values(&st, &items, self.append_limit());
                self.send(Data::Status {
                    mailbox: MailboxName::new(name),
                    items,
                });
                true
            }
            Err(_) => false,
        }
    }

    /// Sends what NOTIFY collected: the FETCH asked for with MessageNew for
    /// messages new in the selected mailbox (UIDs above `max_uid`), STATUS
    /// for other mailboxes, LIST for mailbox and subscription changes.
    pub(crate) async fn notify_send(&mut self, max_uid: Option<Uid>) {
        let Some(n) = self.notify.as_mut() else {
            return;
        };
        if n.overflow {
            self.notify = None;
            self.send(StatusResponse::untagged(
                Status::Ok,
                Some(Code::NotificationOverflow),
                "Too many changes; notifications are off",
            ));
            return;
        }
        let due = std::mem::take(&mut n.status_due);
        let lists = std::mem::take(&mut n.lists);
        let subs = std::mem::take(&mut n.subscriptions_due);
        let fetch_items: Vec<FetchItem> = n
            .selected()
            .and_then(|(events, _)| {
                events.iter().find_map(|e| match e {
                    NotifyEvent::MessageNew(items) if !items.is_empty() => Some(items.clone()),
                    _ => None,
                })
            })
            .unwrap_or_default();
        let names: Vec<String> = due
            .iter()
            .filter_map(|id| n.names.get(id).cloned())
            .collect();
        for name in names {
            self.send_notify_status(&name).await;
        }
        for l in lists {
            self.send(Data::List(l));
        }
        if !subs.is_empty() {
            self.notify_subscriptions(subs).await;
        }
        if !fetch_items.is_empty()
            && let Some(sel) = self.state.selected()
        {
            let new: Vec<u32> = sel
                .msgs
                .iter()
                .filter(|m| max_uid.is_none_or(|u| m.uid > u) && !m.expunged)
                .map(|m| m.uid.0)
                .collect();
            if !new.is_empty() {
                let set = SequenceSet::from_values(new);
                let mut items = fetch_items;
                if !items.contains(&FetchItem::Uid) {
                    items.insert(0, FetchItem::Uid);
                }
                let _ = Box::pin(crate::handler::fetch::fetch(self, true, &set, items, &[])).await;
            }
        }
    }

    async fn notify_subscriptions(&mut self, names: Vec<String>) {
        let Some(account) = self.state.account().map(|a| a.id) else {
            return;
        };
        let Ok(now) = self.shared.store.subscriptions(account).await else {
            return;
        };
        let Some(n) = self.notify.as_mut() else {
            return;
        };
        n.subscribed = now.into_iter().collect();
        let mut out = Vec::new();
        for name in names {
            if !n.wants(&name, |e| *e == NotifyEvent::SubscriptionChange) {
                continue;
            }
            let mut attrs = Vec::new();
            if !n.names.values().any(|v| *v == name) {
                attrs.push(MailboxAttr::NonExistent);
            }
            if n.subscribed.contains(&name) {
                attrs.push(MailboxAttr::Subscribed);
            }
            out.push(ListData::new(
                attrs,
                Some(DELIMITER),
                MailboxName::new(name),
            ));
        }
        for l in out {
            self.send(Data::List(l));
        }
    }

    /// Waits for the next command's bytes while reporting changes as they
    /// happen (RFC 5465 3: NOTIFY lets the server speak between commands).
    pub(super) async fn read_or_notify(&mut self) -> Result<(), Stop> {
        loop {
            let woke = {
                let Session {
                    stream,
                    buf,
                    shared,
                    changes,
                    ..
                } = self;
                match changes {
                    Some(ch) => tokio::select! {
                        r = read_some(stream, buf, shared) => Err(r),
                        item = ch.next() => Ok(item),
                    },
                    None => Err(read_some(stream, buf, shared).await),
                }
            };
            let item = match woke {
                Err(r) => return r,
                Ok(None) => {
                    // The store is closing: wait for the client alone.
                    return read_some(&mut self.stream, &mut self.buf, &self.shared).await;
                }
                Ok(Some(item)) => item,
            };
            let selected = self.state.selected().map(|s| s.id);
            let mine = match &item {
                FeedItem::Change(c) => match &c.kind {
                    ChangeKind::MessageAdded { mailbox, .. }
                    | ChangeKind::FlagsChanged { mailbox, .. }
                    | ChangeKind::MessageExpunged { mailbox, .. }
                    | ChangeKind::MailboxDeleted { mailbox, .. } => Some(*mailbox) == selected,
                    _ => false,
                },
                FeedItem::Missed(_) => true,
            };
            // Report the selected mailbox now only for the events asked for
            // with `selected`/`selected-delayed`; others wait for a command.
            let now = match (&item, self.notify.as_ref().and_then(|n| n.selected())) {
                (_, None) => None,
                (_, Some(_)) if !mine => None,
                (FeedItem::Change(c), Some((events, delayed))) => {
                    let wanted = match &c.kind {
                        ChangeKind::MessageAdded { .. } => events
                            .iter()
                            .any(|e| matches!(e, NotifyEvent::MessageNew(_))),
                        ChangeKind::MessageExpunged { .. } => {
                            events.contains(&NotifyEvent::MessageExpunge)
                        }
                        ChangeKind::FlagsChanged { .. } => {
                            events.contains(&NotifyEvent::FlagChange)
                        }
                        _ => true,
                    };
                    wanted.then_some(!delayed)
                }
                (FeedItem::Missed(_), Some((_, delayed))) => Some(!delayed),
            };
            if let Some(n) = self.notify.as_mut() {
                n.note(&item, selected);
            }
            if let Some(sel) = self.state.selected_mut() {
                sel.dirty |= mine;
            }
            match now {
                Some(allow_expunge) => self.updates(allow_expunge).await,
                None => {
                    let max = self
                        .state
                        .selected()
                        .and_then(|s| s.msgs.last().map(|m| m.uid));
                    self.notify_send(max).await;
                }
            }
            self.flush().await;
            if self.broken || matches!(self.state, super::State::Logout) {
                return Err(Stop::Io);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use store::{Change, ModSeq};

    fn group(filter: NotifyFilter, events: Vec<NotifyEvent>) -> EventGroup {
        EventGroup { filter, events }
    }

    fn msg_events() -> Vec<NotifyEvent> {
        vec![NotifyEvent::MessageNew(vec![]), NotifyEvent::MessageExpunge]
    }

    fn notify(groups: Vec<EventGroup>) -> Notify {
        let names = [
            (1, "INBOX"),
            (2, "Lists"),
            (3, "Lists/a"),
            (4, "Listsx"),
            (5, "Other"),
        ]
        .into_iter()
        .map(|(id, n)| (MailboxId(id), n.to_string()))
        .collect();
        Notify::new(groups, names, ["Other".to_string()].into_iter().collect())
    }

    fn added(mailbox: i64) -> FeedItem {
        FeedItem::Change(Arc::new(Change {
            seq: 1,
            account: None,
            kind: ChangeKind::MessageAdded {
                mailbox: MailboxId(mailbox),
                uid: Uid(1),
                modseq: ModSeq(1),
            },
        }))
    }

    #[test]
    fn filters_and_first_specification_wins() {
        let n = notify(vec![
            group(
                NotifyFilter::Mailboxes(vec![MailboxName::new("inbox")]),
                vec![],
            ),
            group(
                NotifyFilter::Subtree(vec![MailboxName::new("Lists")]),
                msg_events(),
            ),
            group(NotifyFilter::Subscribed, msg_events()),
        ]);
        // INBOX is named first, with no events.
        assert_eq!(n.events_for("INBOX"), Some(&[][..]));
        assert!(n.events_for("Lists").is_some_and(|e| !e.is_empty()));
        assert!(n.events_for("Lists/a").is_some());
        assert!(n.events_for("Listsx").is_none());
        assert!(n.events_for("Other").is_some());
        let watched: Vec<String> = n
            .watched(Some(MailboxId(3)))
            .into_iter()
            .map(|w| w.1)
            .collect();
        assert_eq!(watched, ["Lists", "Other"]);
    }

    #[test]
    fn changes_become_status_once_and_never_for_the_selected_mailbox() {
        let mut n = notify(vec![group(NotifyFilter::Personal, msg_events())]);
        n.note(&added(2), Some(MailboxId(1)));
        n.note(&added(2), Some(MailboxId(1)));
        n.note(&added(1), Some(MailboxId(1)));
        n.note(&added(99), Some(MailboxId(1)));
        assert_eq!(n.status_due, vec![MailboxId(2)]);
        assert!(!n.overflow);
        n.note(&FeedItem::Missed(10), None);
        assert!(n.overflow);
    }
}
