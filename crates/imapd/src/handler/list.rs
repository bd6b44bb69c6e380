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

/// A mailbox's LIST response as plain LIST gives it.
pub(crate) fn list_data(m: &MailboxInfo) -> ListData {
    ListData::new(
        attrs(m, false, true),
        Some(DELIMITER),
        MailboxName::new(m.name.clone()),
    )
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
    let subscriptions = if only_subscribed {
        s.shared.store.subscriptions(account).await?
    } else {
        Vec::new()
    };
    // RFC 5258 3.5: with RECURSIVEMATCH, a matching parent is listed with
    // CHILDINFO when a subscribed descendant is not listed itself.
    let recursive = only_subscribed && cmd.select.contains(&ListSelect::RecursiveMatch);
    let child_info = |name: &str| -> Vec<String> {
        let prefix = format!("{name}{DELIMITER}");
        let hidden = recursive
            && subscriptions
                .iter()
                .any(|s| s.starts_with(&prefix) && !patterns.iter().any(|p| matches(p, s)));
        if hidden {
            vec!["SUBSCRIBED".to_string()]
        } else {
            Vec::new()
        }
    };
    let mut listed: Vec<(MailboxInfo, Vec<String>)> = Vec::new();
    for m in mailboxes.iter().cloned() {
        if !patterns.iter().any(|p| matches(p, &m.name)) {
            continue;
        }
        let info = child_info(&m.name);
        if only_subscribed && !m.subscribed && info.is_empty() {
            continue;
        }
        if only_special && m.special_use.is_none() {
            continue;
        }
        listed.push((m, info));
    }
    // Subscriptions to mailboxes that do not exist (RFC 5258 3.1), and with
    // RECURSIVEMATCH their parents that do not exist either.
    let mut missing: Vec<(Vec<MailboxAttr>, String, Vec<String>)> = Vec::new();
    let exists = |name: &str| mailboxes.iter().any(|m| m.name == name);
    for name in &subscriptions {
        if exists(name) {
            continue;
        }
        if patterns.iter().any(|p| matches(p, name)) {
            missing.push((
                vec![MailboxAttr::NonExistent, MailboxAttr::Subscribed],
                name.clone(),
                child_info(name),
            ));
        }
    }
    if recursive {
        for name in &subscriptions {
            let mut parent = name.as_str();
            while let Some((p, _)) = parent.rsplit_once(DELIMITER) {
                parent = p;
                if exists(parent)
                    || subscriptions.iter().any(|s| s == parent)
                    || missing.iter().any(|(_, n, _)| n == parent)
                    || !patterns.iter().any(|pat| matches(pat, parent))
                {
                    continue;
                }
                let info = child_info(parent);
                if !info.is_empty() {
                    missing.push((vec![MailboxAttr::NonExistent], parent.to_string(), info));
                }
            }
        }
    }
    let limit = s.append_limit();
    for (m, info) in &listed {
        let mut data = ListData::new(
            attrs(m, return_subscribed, return_special),
            Some(DELIMITER),
            MailboxName::new(m.name.clone()),
        );
        data.child_info = info.clone();
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
    for (attrs, name, info) in missing {
        let mut data = ListData::new(attrs, Some(DELIMITER), MailboxName::new(name));
        data.child_info = info;
        s.send(Data::List(data));
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
    let subscriptions = s.shared.store.subscriptions(account).await?;
    let mut out: Vec<(String, bool)> = Vec::new();
    for name in &subscriptions {
        if matches(&pattern, name) {
            let noselect = mailboxes
                .iter()
                .find(|m| &m.name == name)
                .is_none_or(|m| m.noselect);
            out.push((name.clone(), noselect));
        } else if pattern.contains('%') {
            // RFC 3501 6.3.9: with `%`, a parent that is not subscribed
            // itself stands for its subscribed children, flagged \Noselect.
            let mut parent = name.as_str();
            while let Some((p, _)) = parent.rsplit_once(DELIMITER) {
                parent = p;
                if matches(&pattern, parent)
                    && !subscriptions.iter().any(|s| s == parent)
                    && !out.iter().any(|(n, _)| n == parent)
                {
                    out.push((parent.to_string(), true));
                }
            }
        }
    }
    for (name, noselect) in out {
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
