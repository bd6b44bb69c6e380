//! LIST (RFC 3501 6.3.8, RFC 5258 LIST-EXTENDED, RFC 5819 LIST-STATUS, RFC
//! 6154 SPECIAL-USE, RFC 3348 CHILDREN) and LSUB.

use imap_proto::{Data, ListCommand, ListData, ListReturn, ListSelect, MailboxAttr, MailboxName};
use store::MailboxInfo;

use super::account;
use crate::reply::{Outcome, Reply};
use crate::session::Session;

const DELIMITER: char = '/';

/// RFC 3501 6.3.8: `*` matches anything, `%` anything but the delimiter.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // reach[j]: the pattern prefix consumed so far can end at name[..j].
    let mut reach = vec![false; n.len() + 1];
    reach[0] = true;
    for &pc in &p {
        let mut next = vec![false; n.len() + 1];
        match pc {
            '*' | '%' => {
                for j in 0..=n.len() {
                    if reach[j] {
                        next[j] = true;
                        let mut k = j;
                        while k < n.len() && (pc == '*' || n[k] != DELIMITER) {
                            k += 1;
                            next[k] = true;
                        }
                    }
                }
            }
            c => {
                for j in 0..n.len() {
                    if reach[j] && n[j] == c {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[n.len()]
}

/// INBOX is case-insensitive, in the pattern as in the name (RFC 3501 5.1).
fn canonical_pattern(pattern: &str) -> String {
    if let Some(head) = pattern.get(..5)
        && head.eq_ignore_ascii_case("INBOX")
    {
        let rest = &pattern[5..];
        if rest.is_empty() || rest.starts_with(DELIMITER) {
            return format!("INBOX{rest}");
        }
    }
    pattern.to_string()
}

fn full_pattern(reference: &str, pattern: &str) -> String {
    canonical_pattern(&format!("{reference}{pattern}"))
}

fn special_use(attr: &str) -> Option<MailboxAttr> {
    MailboxAttr::parse(attr)
}

fn attrs(m: &MailboxInfo, subscribed: bool, special: bool) -> Vec<MailboxAttr> {
    let mut out = Vec::new();
    if m.noselect {
        out.push(MailboxAttr::NoSelect);
    }
    out.push(if m.has_children {
        MailboxAttr::HasChildren
    } else {
        MailboxAttr::HasNoChildren
    });
    if subscribed && m.subscribed {
        out.push(MailboxAttr::Subscribed);
    }
    if special && let Some(a) = m.special_use.as_deref().and_then(special_use) {
        out.push(a);
    }
    out
}

pub(crate) async fn list(s: &mut Session, cmd: ListCommand) -> Outcome {
    let account = account(s)?;
    if cmd.patterns.len() == 1 && cmd.patterns[0].is_empty() {
        // RFC 3501 6.3.8: the delimiter and root of the reference's hierarchy.
        let root = cmd.reference.split(DELIMITER).next().unwrap_or("");
        let mut data = ListData::new(
            vec![MailboxAttr::NoSelect],
            Some(DELIMITER),
            MailboxName::new(root),
        );
        data.child_info = Vec::new();
        s.send(Data::List(data));
        return Ok(Reply::ok("LIST completed"));
    }
    let only_subscribed = cmd.select.contains(&ListSelect::Subscribed);
    let only_special = cmd.select.contains(&ListSelect::SpecialUse);
    let return_subscribed = only_subscribed || cmd.returns.contains(&ListReturn::Subscribed);
    // RFC 6154 5.1: plain LIST shows special-use attributes too.
    let return_special = true;
    let status_items = cmd.returns.iter().find_map(|r| match r {
        ListReturn::Status(items) => Some(items.clone()),
        _ => None,
    });
    let patterns: Vec<String> = cmd
        .patterns
        .iter()
        .map(|p| full_pattern(&cmd.reference, p))
        .collect();
    let mailboxes = s.shared.store.list_mailboxes(account).await?;
    let mut listed: Vec<MailboxInfo> = Vec::new();
    for m in mailboxes {
        if !patterns.iter().any(|p| matches(p, &m.name)) {
            continue;
        }
        if only_subscribed && !m.subscribed {
            continue;
        }
        if only_special && m.special_use.is_none() {
            continue;
        }
        listed.push(m);
    }
    // Subscriptions to mailboxes that no longer exist (RFC 5258 3.1).
    let mut missing = Vec::new();
    if only_subscribed {
        for name in s.shared.store.subscriptions(account).await? {
            if !listed.iter().any(|m| m.name == name)
                && patterns.iter().any(|p| matches(p, &name))
                && s.shared.store.mailbox(account, &name).await?.is_none()
            {
                missing.push(name);
            }
        }
    }
    let limit = s.append_limit();
    for m in &listed {
        let data = ListData::new(
            attrs(m, return_subscribed, return_special),
            Some(DELIMITER),
            MailboxName::new(m.name.clone()),
        );
        s.send(Data::List(data));
        if let Some(items) = &status_items
            && !m.noselect
        {
            let st = store::MailboxStatus {
                id: m.id,
                uidvalidity: m.uidvalidity,
                uidnext: m.uidnext,
                highestmodseq: m.highestmodseq,
                messages: m.messages,
                unseen: m.unseen,
                deleted: m.deleted,
                size: m.size,
            };
            let mut values = super::status::values(&st, items, limit);
            super::status::with_recent(&mut values, &st, &s.shared.recent);
            s.send(Data::Status {
                mailbox: MailboxName::new(m.name.clone()),
                items: values,
            });
        }
    }
    for name in missing {
        s.send(Data::List(ListData::new(
            vec![MailboxAttr::NonExistent, MailboxAttr::Subscribed],
            Some(DELIMITER),
            MailboxName::new(name),
        )));
    }
    Ok(Reply::ok("LIST completed"))
}

pub(crate) async fn lsub(s: &mut Session, reference: &str, pattern: &str) -> Outcome {
    let account = account(s)?;
    if pattern.is_empty() {
        s.send(Data::Lsub(ListData::new(
            vec![MailboxAttr::NoSelect],
            Some(DELIMITER),
            MailboxName::new(""),
        )));
        return Ok(Reply::ok("LSUB completed"));
    }
    let pattern = full_pattern(reference, pattern);
    let mailboxes = s.shared.store.list_mailboxes(account).await?;
    for name in s.shared.store.subscriptions(account).await? {
        if !matches(&pattern, &name) {
            continue;
        }
        let noselect = mailboxes
            .iter()
            .find(|m| m.name == name)
            .is_none_or(|m| m.noselect);
        let attrs = if noselect {
            vec![MailboxAttr::NoSelect]
        } else {
            Vec::new()
        };
        s.send(Data::Lsub(ListData::new(
            attrs,
            Some(DELIMITER),
            MailboxName::new(name),
        )));
    }
    Ok(Reply::ok("LSUB completed"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(matches("*", "a/b/c"));
        assert!(matches("%", "INBOX"));
        assert!(!matches("%", "a/b"));
        assert!(matches("a/%", "a/b"));
        assert!(!matches("a/%", "a/b/c"));
        assert!(matches("a*c", "a/b/c"));
        assert!(matches("%/%", "a/b"));
        assert!(!matches("b*", "a"));
        assert_eq!(full_pattern("", "inbox"), "INBOX");
        assert_eq!(full_pattern("", "inboxes"), "inboxes");
        assert_eq!(full_pattern("Inbox/", "%"), "INBOX/%");
    }
}
