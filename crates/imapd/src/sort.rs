//! SORT ordering (RFC 5256 3, RFC 5957 DISPLAYFROM/DISPLAYTO): the value of
//! each sort key for a message and the comparison, with `i;unicode-casemap` for
//! text (RFC 5255 I18NLEVEL=1). The values come from the store once per
//! mailbox and are kept by the session: a message's values never change.

pub(crate) mod casemap;
pub(crate) mod subject;

use std::cmp::Ordering;

use imap_proto::{SortCriterion, SortKey};
use store::{AccountId, MailboxId, SortColumns, SortRow, Store, StoreError, Uid, UidValidity};

use crate::session::selected::{Msg, Selected};

/// One key's value for one message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Value {
    Num(i64),
    Text(String),
}

/// What the criteria need from the store.
pub(crate) fn columns(criteria: &[SortCriterion]) -> SortColumns {
    let mut c = SortColumns::default();
    for k in criteria {
        match k.key {
            SortKey::Date => c.date = true,
            SortKey::Subject => c.subject = true,
            SortKey::From | SortKey::To | SortKey::Cc => c.addresses = true,
            SortKey::DisplayFrom | SortKey::DisplayTo => c.display = true,
            SortKey::Arrival | SortKey::Size => {}
        }
    }
    c
}

/// The sort values of a selected mailbox's messages, read once and extended
/// as messages arrive.
pub(crate) struct SortCache {
    mailbox: MailboxId,
    uidvalidity: UidValidity,
    columns: SortColumns,
    /// In UID order.
    rows: Vec<SortRow>,
    /// Rows for every UID below this have been read.
    next_uid: u32,
}

impl SortCache {
    pub fn row(&self, uid: Uid) -> Option<&SortRow> {
        self.rows
            .binary_search_by_key(&uid, |r| r.uid)
            .ok()
            .map(|i| &self.rows[i])
    }

    /// Drops the rows of messages no longer in `sel`.
    fn prune(&mut self, sel: &Selected) {
        if self.rows.len() > sel.msgs.len() + 1024 {
            self.rows.retain(|r| sel.index_of(r.uid).is_some());
        }
    }
}

/// Brings `cache` up to date for `sel` with at least `columns`.
pub(crate) async fn load(
    cache: &mut Option<SortCache>,
    store: &Store,
    account: AccountId,
    sel: &Selected,
    columns: SortColumns,
) -> Result<(), StoreError> {
    let reusable = cache.as_ref().is_some_and(|c| {
        c.mailbox == sel.id && c.uidvalidity == sel.uidvalidity && c.columns.covers(columns)
    });
    if !reusable {
        let columns = match cache {
            Some(c) if c.mailbox == sel.id && c.uidvalidity == sel.uidvalidity => {
                c.columns.union(columns)
            }
            _ => columns,
        };
        *cache = Some(SortCache {
            mailbox: sel.id,
            uidvalidity: sel.uidvalidity,
            columns,
            rows: Vec::new(),
            next_uid: 1,
        });
    }
    let Some(c) = cache else {
        return Ok(());
    };
    let max = sel.msgs.last().map_or(0, |m| m.uid.0);
    if max >= c.next_uid {
        let rows = store
            .sort_rows(account, sel.id, Uid(c.next_uid), c.columns)
            .await?;
        c.next_uid = rows
            .last()
            .map_or(max, |r| r.uid.0.max(max))
            .saturating_add(1);
        c.rows.extend(rows);
        c.prune(sel);
    }
    Ok(())
}

/// The value of `key` for one message (RFC 5256 3, RFC 5957 3).
pub(crate) fn value(key: SortKey, m: &Msg, row: Option<&SortRow>) -> Value {
    let text = |s: Option<&String>| Value::Text(casemap::key(s.map_or("", String::as_str)));
    match key {
        SortKey::Arrival => Value::Num(m.internal_date),
        // A missing or unparsable Date: counts as the INTERNALDATE.
        SortKey::Date => Value::Num(row.and_then(|r| r.sent_date).unwrap_or(m.internal_date)),
        SortKey::Size => Value::Num(m.size as i64),
        SortKey::Subject => {
            let subject = row.and_then(|r| r.subject.as_deref()).unwrap_or("");
            Value::Text(casemap::key(&subject::base_subject(subject).0))
        }
        SortKey::From => text(row.and_then(|r| r.from_mailbox.as_ref())),
        SortKey::To => text(row.and_then(|r| r.to_mailbox.as_ref())),
        SortKey::Cc => text(row.and_then(|r| r.cc_mailbox.as_ref())),
        SortKey::DisplayFrom => text(row.and_then(|r| r.display_from.as_ref())),
        SortKey::DisplayTo => text(row.and_then(|r| r.display_to.as_ref())),
    }
}

/// A message's place in a sorted result: its values, then its UID (which
/// orders as the sequence number does) for messages that compare equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sorted {
    pub values: Vec<Value>,
    pub uid: Uid,
}

pub(crate) fn sorted(criteria: &[SortCriterion], m: &Msg, row: Option<&SortRow>) -> Sorted {
    Sorted {
        values: criteria.iter().map(|c| value(c.key, m, row)).collect(),
        uid: m.uid,
    }
}

/// RFC 5256 3: REVERSE applies to its key only; exact ties stay in mailbox order.
pub(crate) fn compare(criteria: &[SortCriterion], a: &Sorted, b: &Sorted) -> Ordering {
    for (i, c) in criteria.iter().enumerate() {
        let o = a.values.get(i).cmp(&b.values.get(i));
        let o = if c.reverse { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.uid.cmp(&b.uid)
}

/// Sorts the messages at `indices` of `sel`; returns the indices in order.
pub(crate) fn sort(
    criteria: &[SortCriterion],
    sel: &Selected,
    cache: Option<&SortCache>,
    indices: &[usize],
) -> Vec<usize> {
    // One numeric key (DATE, ARRIVAL, SIZE): plain integers, no allocation.
    if let [only] = criteria
        && matches!(only.key, SortKey::Date | SortKey::Arrival | SortKey::Size)
    {
        let mut keyed: Vec<(i64, Uid, usize)> = indices
            .iter()
            .map(|&i| {
                let m = &sel.msgs[i];
                let v = match value(only.key, m, cache.and_then(|c| c.row(m.uid))) {
                    Value::Num(n) => n,
                    Value::Text(_) => 0,
                };
                (v, m.uid, i)
            })
            .collect();
        if only.reverse {
            keyed.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        } else {
            keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        return keyed.into_iter().map(|(_, _, i)| i).collect();
    }
    // One key per message, computed once.
    let mut keyed: Vec<(Sorted, usize)> = indices
        .iter()
        .map(|&i| {
            let m = &sel.msgs[i];
            (sorted(criteria, m, cache.and_then(|c| c.row(m.uid))), i)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| compare(criteria, &a.0, &b.0));
    keyed.into_iter().map(|(_, i)| i).collect()
}
