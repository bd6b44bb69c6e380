//! Inbound SMTP gives one reply for all recipients of a message, so their
//! deliveries commit together: in one transaction every recipient's filings
//! (and whatever their scripts queue) become durable, and the recipients whose
//! delivery failed temporarily (over quota, a list lookup failing) are queued
//! for redelivery over LMTP, as an MTA that accepts and queues does. If that
//! transaction fails nothing is stored and the reply is 4xx, so a sender that
//! retries never delivers to anyone twice.

use std::collections::HashMap;

use store::{
    AccountId, BodyType, Delivery, OutboundMessage, OutboundRecipient, QueueSource, StoreError,
};

use crate::deliver::{LocalRecipient, Mda, Outcome, Plan, disk_full};

/// Quota checks race with other deliveries; after this many lost races the
/// whole message is refused (temporarily) rather than guessed at.
const QUOTA_ATTEMPTS: usize = 3;

/// How the message to all recipients of one SMTP transaction ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOutcome {
    /// Durable: delivered to some recipients, and queued for redelivery to
    /// `queued` (their delivery failed temporarily); `rejected` recipients'
    /// scripts refused the message.
    Accepted {
        delivered: usize,
        queued: Vec<String>,
        rejected: Vec<(String, String)>,
    },
    /// Nothing was stored or queued; this is why (the first failure).
    Refused(Outcome),
}

/// One recipient's planned delivery.
struct Planned {
    rcpt: usize,
    delivery: Delivery,
}

impl Mda {
    /// Delivers `raw` (trace fields included) to every recipient in one
    /// transaction. `requeue` is the message as it is queued for recipients
    /// that must be redelivered: without Return-Path, which the redelivery
    /// adds again.
    pub async fn deliver_batch(
        &self,
        from: &str,
        rcpts: &[LocalRecipient],
        raw: &[u8],
        requeue: &[u8],
        smtputf8: bool,
    ) -> BatchOutcome {
        let mut planned = Vec::new();
        let mut failed: Vec<(usize, Outcome)> = Vec::new();
        let mut rejected = Vec::new();
        for (i, rcpt) in rcpts.iter().enumerate() {
            let mut plan = Plan {
                delivery: Delivery {
                    messages: vec![raw.to_vec()],
                    ..Delivery::default()
                },
                reject: None,
            };
            match self.plan(from, rcpt, 0, 0, &mut plan).await {
                Err(e) => {
                    tracing::warn!(rcpt = %rcpt.rcpt, error = %e, "delivery failed temporarily");
                    failed.push((i, Outcome::Temporary(e)));
                }
                Ok(()) => match plan.reject {
                    Some(reason) => rejected.push((i, reason)),
                    None => planned.push(Planned {
                        rcpt: i,
                        delivery: plan.delivery,
                    }),
                },
            }
        }
        let mut last = Outcome::OverQuota;
        for _ in 0..QUOTA_ATTEMPTS {
            let (fit, over) = match self.fit_quotas(&planned).await {
                Ok(split) => split,
                Err(e) => return BatchOutcome::Refused(Outcome::Temporary(e.to_string())),
            };
            let mut failed = failed.clone();
            failed.extend(over.iter().map(|i| (*i, Outcome::OverQuota)));
            failed.sort_by_key(|(i, _)| *i);
            if fit.is_empty() {
                // Nothing would be delivered: the sender keeps the message
                // and retries all of it, which is safe.
                let why = failed
                    .into_iter()
                    .map(|(_, o)| o)
                    .next()
                    .or_else(|| rejected.first().map(|(_, r)| Outcome::Rejected(r.clone())))
                    .unwrap_or(Outcome::Temporary("no recipients".into()));
                return BatchOutcome::Refused(why);
            }
            let mut delivery = Delivery {
                messages: vec![raw.to_vec()],
                ..Delivery::default()
            };
            for p in planned.iter().filter(|p| fit.contains(&p.rcpt)) {
                merge(&mut delivery, p.delivery.clone());
            }
            let queued: Vec<String> = failed
                .iter()
                .filter_map(|(i, _)| rcpts.get(*i))
                .map(|r| r.rcpt.as_str().to_string())
                .collect();
            if !queued.is_empty() {
                delivery.outbound.push(OutboundMessage {
                    sender: from.to_string(),
                    account: None,
                    source: QueueSource::Inbound,
                    recipients: queued.iter().map(OutboundRecipient::new).collect(),
                    raw: requeue.to_vec(),
                    env_id: None,
                    dsn_ret: None,
                    body_type: if requeue.iter().any(|b| *b >= 0x80) {
                        BodyType::EightBitMime
                    } else {
                        BodyType::SevenBit
                    },
                    smtputf8,
                    hold_until: None,
                });
            }
            match self.store().deliver(delivery).await {
                Ok(done) => {
                    tracing::info!(
                        delivered = fit.len(),
                        filed = done.filed.len(),
                        queued = ?done.queued,
                        redelivery = ?queued,
                        "delivered"
                    );
                    return BatchOutcome::Accepted {
                        delivered: fit.len(),
                        queued,
                        rejected: rejected
                            .into_iter()
                            .filter_map(|(i, r)| {
                                rcpts.get(i).map(|x| (x.rcpt.as_str().to_string(), r))
                            })
                            .collect(),
                    };
                }
                // Another delivery used the space meanwhile: look again.
                Err(StoreError::OverQuota) => last = Outcome::OverQuota,
                Err(e) if disk_full(&e) => return BatchOutcome::Refused(Outcome::DiskFull),
                Err(e) => {
                    tracing::warn!(error = %e, "delivery failed");
                    return BatchOutcome::Refused(Outcome::Temporary(e.to_string()));
                }
            }
        }
        BatchOutcome::Refused(last)
    }

    /// Splits the planned recipients into those whose filings fit every
    /// account's quota (taken in order, each adding to the usage the next
    /// sees) and those that do not.
    async fn fit_quotas(
        &self,
        planned: &[Planned],
    ) -> Result<(Vec<usize>, Vec<usize>), StoreError> {
        // account -> (bytes left, messages left); None: no limit.
        let mut room: HashMap<AccountId, (Option<u64>, Option<u64>)> = HashMap::new();
        let mut fit = Vec::new();
        let mut over = Vec::new();
        for p in planned {
            let mut adding: HashMap<AccountId, (u64, u64)> = HashMap::new();
            for f in &p.delivery.filings {
                let size = p
                    .delivery
                    .messages
                    .get(f.message)
                    .map_or(0, |m| m.len() as u64);
                let e = adding.entry(f.account).or_default();
                e.0 += size;
                e.1 += 1;
            }
            for account in adding.keys() {
                if !room.contains_key(account) {
                    let left = match self.store().account_by_id(*account).await? {
                        Some(a) => (
                            a.quota_bytes.map(|q| q.saturating_sub(a.used_bytes)),
                            a.quota_messages.map(|q| q.saturating_sub(a.used_messages)),
                        ),
                        None => (None, None),
                    };
                    room.insert(*account, left);
                }
            }
            let fits = adding.iter().all(|(account, (bytes, msgs))| {
                room.get(account).is_none_or(|(b, m)| {
                    b.is_none_or(|b| *bytes <= b) && m.is_none_or(|m| *msgs <= m)
                })
            });
            if !fits {
                over.push(p.rcpt);
                continue;
            }
            for (account, (bytes, msgs)) in adding {
                if let Some((b, m)) = room.get_mut(&account) {
                    *b = b.map(|b| b - bytes);
                    *m = m.map(|m| m - msgs);
                }
            }
            fit.push(p.rcpt);
        }
        Ok((fit, over))
    }
}

/// Adds `from` to `into`; both start with the same message at index 0.
fn merge(into: &mut Delivery, from: Delivery) {
    let mut map = Vec::with_capacity(from.messages.len());
    for (i, m) in from.messages.into_iter().enumerate() {
        if i == 0 {
            map.push(0);
        } else {
            map.push(into.messages.len());
            into.messages.push(m);
        }
    }
    for mut f in from.filings {
        f.message = map.get(f.message).copied().unwrap_or(0);
        into.filings.push(f);
    }
    into.outbound.extend(from.outbound);
    into.vacations.extend(from.vacations);
    into.duplicates.extend(from.duplicates);
}
