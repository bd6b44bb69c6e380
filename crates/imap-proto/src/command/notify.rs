//! NOTIFY (RFC 5465): which events the server reports unsolicited, and for
//! which mailboxes.

use super::CommandBody;
use super::fetch::FetchItem;
use crate::error::ParseError;
use crate::lexer::Reader;
use crate::mailbox::MailboxName;
use crate::response::EncodeOptions;
use crate::response::encode::{write_mailbox, write_spaced};

type R<T> = Result<T, Box<ParseError>>;

/// `NOTIFY SET [STATUS] event-groups`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifySet {
    /// `STATUS`: answer with the current STATUS of the watched mailboxes.
    pub status: bool,
    pub groups: Vec<EventGroup>,
}

/// `"(" filter-mailboxes SP events ")"`; no events stands for `NONE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: NotifyFilter,
    pub events: Vec<NotifyEvent>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyFilter {
    Selected,
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    Subtree(Vec<MailboxName>),
    Mailboxes(Vec<MailboxName>),
}

impl NotifyFilter {
    pub fn is_selected(&self) -> bool {
        matches!(self, NotifyFilter::Selected | NotifyFilter::SelectedDelayed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyEvent {
    /// `MessageNew [SP "(" fetch-att *(SP fetch-att) ")"]`
    MessageNew(Vec<FetchItem>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// `event-ext`: an event this grammar does not know, as sent.
    Other(String),
}

impl NotifyEvent {
    /// The event's name as RFC 5465 spells it.
    pub fn name(&self) -> &str {
        match self {
            NotifyEvent::MessageNew(_) => "MessageNew",
            NotifyEvent::MessageExpunge => "MessageExpunge",
            NotifyEvent::FlagChange => "FlagChange",
            NotifyEvent::AnnotationChange => "AnnotationChange",
            NotifyEvent::MailboxName => "MailboxName",
            NotifyEvent::SubscriptionChange => "SubscriptionChange",
            NotifyEvent::MailboxMetadataChange => "MailboxMetadataChange",
            NotifyEvent::ServerMetadataChange => "ServerMetadataChange",
            NotifyEvent::Other(name) => name,
        }
    }

    /// A message event (RFC 5465 5.1-5.4), as opposed to a mailbox event.
    pub fn is_message_event(&self) -> bool {
        matches!(
            self,
            NotifyEvent::MessageNew(_)
                | NotifyEvent::MessageExpunge
                | NotifyEvent::FlagChange
                | NotifyEvent::AnnotationChange
        )
    }
}

/// `NOTIFY SP (notify-set / notify-none)`; `None` is `NOTIFY NONE`.
pub(crate) fn parse(r: &mut Reader<'_>) -> R<CommandBody> {
    r.sp()?;
    match r.keyword()?.as_str() {
        "NONE" => Ok(CommandBody::Notify(None)),
        "SET" => {
            r.sp()?;
            let mut status = false;
            if r.peek() != Some(b'(') {
                if r.keyword()? != "STATUS" {
                    return r.err("Expected STATUS or an event group");
                }
                status = true;
                r.sp()?;
            }
            let mut groups = vec![parse_group(r)?];
            while r.eat(b' ') {
                groups.push(parse_group(r)?);
            }
            Ok(CommandBody::Notify(Some(NotifySet { status, groups })))
        }
        _ => r.err("Expected SET or NONE"),
    }
}

fn parse_group(r: &mut Reader<'_>) -> R<EventGroup> {
    r.open()?;
    let filter = match r.keyword()?.as_str() {
        "SELECTED" => NotifyFilter::Selected,
        "SELECTED-DELAYED" => NotifyFilter::SelectedDelayed,
        "INBOXES" => NotifyFilter::Inboxes,
        "PERSONAL" => NotifyFilter::Personal,
        "SUBSCRIBED" => NotifyFilter::Subscribed,
        "SUBTREE" => NotifyFilter::Subtree(one_or_more_mailbox(r)?),
        "MAILBOXES" => NotifyFilter::Mailboxes(one_or_more_mailbox(r)?),
        _ => return r.err("Unknown mailbox filter"),
    };
    r.sp()?;
    let events = if r.peek() == Some(b'(') {
        r.paren_list(false, parse_event)?
    } else {
        if r.keyword()? != "NONE" {
            return r.err("Expected an event list or NONE");
        }
        Vec::new()
    };
    r.close()?;
    Ok(EventGroup { filter, events })
}

/// `SP (mailbox / "(" mailbox *(SP mailbox) ")")`
fn one_or_more_mailbox(r: &mut Reader<'_>) -> R<Vec<MailboxName>> {
    r.sp()?;
    if r.peek() == Some(b'(') {
        r.paren_list(false, |r| r.mailbox())
    } else {
        Ok(vec![r.mailbox()?])
    }
}

fn parse_event(r: &mut Reader<'_>) -> R<NotifyEvent> {
    let name = r.atom()?;
    Ok(match name.to_ascii_uppercase().as_str() {
        "MESSAGENEW" => {
            let mut items = Vec::new();
            if r.peek() == Some(b' ') && r.peek_at(1) == Some(b'(') {
                r.sp()?;
                items = r.paren_list(false, super::fetch::parse_item)?;
            }
            NotifyEvent::MessageNew(items)
        }
        "MESSAGEEXPUNGE" => NotifyEvent::MessageExpunge,
        "FLAGCHANGE" => NotifyEvent::FlagChange,
        "ANNOTATIONCHANGE" => NotifyEvent::AnnotationChange,
        "MAILBOXNAME" => NotifyEvent::MailboxName,
        "SUBSCRIPTIONCHANGE" => NotifyEvent::SubscriptionChange,
        "MAILBOXMETADATACHANGE" => NotifyEvent::MailboxMetadataChange,
        "SERVERMETADATACHANGE" => NotifyEvent::ServerMetadataChange,
        _ => NotifyEvent::Other(name.to_string()),
    })
}

pub(crate) fn encode(body: &CommandBody, opts: &EncodeOptions, out: &mut Vec<u8>) {
    let CommandBody::Notify(set) = body else {
        return;
    };
    let Some(set) = set else {
        out.extend_from_slice(b"NOTIFY NONE");
        return;
    };
    out.extend_from_slice(b"NOTIFY SET");
    if set.status {
        out.extend_from_slice(b" STATUS");
    }
    for g in &set.groups {
        out.extend_from_slice(b" (");
        let mailboxes = |out: &mut Vec<u8>, word: &[u8], list: &[MailboxName]| {
            out.extend_from_slice(word);
            out.extend_from_slice(b" (");
            write_spaced(out, list, |out, m| write_mailbox(out, m, opts));
            out.push(b')');
        };
        match &g.filter {
            NotifyFilter::Selected => out.extend_from_slice(b"selected"),
            NotifyFilter::SelectedDelayed => out.extend_from_slice(b"selected-delayed"),
            NotifyFilter::Inboxes => out.extend_from_slice(b"inboxes"),
            NotifyFilter::Personal => out.extend_from_slice(b"personal"),
            NotifyFilter::Subscribed => out.extend_from_slice(b"subscribed"),
            NotifyFilter::Subtree(list) => mailboxes(out, b"subtree", list),
            NotifyFilter::Mailboxes(list) => mailboxes(out, b"mailboxes", list),
        }
        if g.events.is_empty() {
            out.extend_from_slice(b" NONE)");
            continue;
        }
        out.extend_from_slice(b" (");
        write_spaced(out, &g.events, |out, e| {
            out.extend_from_slice(e.name().as_bytes());
            if let NotifyEvent::MessageNew(items) = e
                && !items.is_empty()
            {
                out.extend_from_slice(b" (");
                write_spaced(out, items, |out, i| super::fetch::write_item(out, i, opts));
                out.push(b')');
            }
        });
        out.extend_from_slice(b"))");
    }
}
