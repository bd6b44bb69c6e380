//! The delivery path every entry point shares (LMTP, inbound SMTP, `zest
//! deliver`): find the recipient, run their Sieve script, and hand the
//! result to the store in one durable transaction.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sieve::Runtime;
use store::{
    AccountId, Delivery, DuplicateMark, EmailAddress, Filing, Flags, OutboundMessage,
    OutboundRecipient, QueueSource, ScriptId, Store, StoreError, VacationMark,
};
use zest_core::config::Config;
use zest_core::sieve::SieveSettings;

use crate::sieve::{self as filter, Action, EvalError, Evaluation, Subject};

/// Redirects to local users run those users' scripts too, this deep at most.
const MAX_LOCAL_DEPTH: usize = 3;

/// A recipient that is ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalRecipient {
    pub account: AccountId,
    /// The account's own address.
    pub address: EmailAddress,
    /// The address the mail was sent to (an alias, a `+detail`).
    pub rcpt: EmailAddress,
}

/// What RCPT TO may answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecipientCheck {
    Local(LocalRecipient),
    /// A local domain without such a user (550 5.1.1).
    Unknown,
    /// Not one of our domains (550 5.7.1 on the MX: no relaying).
    NotLocal,
    /// The store could not answer (451 4.3.0).
    Temporary(String),
}

/// How one recipient's delivery ended; each maps to one reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Durably delivered (and anything Sieve queued, queued).
    Delivered,
    /// Sieve `reject`/`ereject` (RFC 5429): a permanent refusal with the reason.
    Rejected(String),
    /// Store, list or other temporary failure (451 4.3.0).
    Temporary(String),
    /// The disk is full (452 4.3.1).
    DiskFull,
    /// The account is over its quota (452 4.2.2).
    OverQuota,
}

type ScriptCache = HashMap<AccountId, (ScriptId, Vec<u8>, Arc<sieve::Sieve>)>;

/// The MDA's shared state; cheap to clone.
#[derive(Clone)]
pub struct Mda {
    store: Store,
    hostname: String,
    settings: SieveSettings,
    runtime: Arc<Runtime>,
    scripts: Arc<Mutex<ScriptCache>>,
}

impl Mda {
    pub fn new(config: &Config, store: Store) -> Mda {
        let settings = SieveSettings::from(&config.sieve);
        let runtime = filter::runtime(&settings, &config.hostname);
        Mda {
            store,
            hostname: config.hostname.clone(),
            settings,
            runtime: Arc::new(runtime),
            scripts: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Is `address` one of ours: a user, an alias, either with `+detail`?
    pub async fn check_recipient(&self, address: &str) -> RecipientCheck {
        let Ok(rcpt) = EmailAddress::parse(address) else {
            return RecipientCheck::Unknown;
        };
        match self.store.resolve_recipient(&rcpt).await {
            Ok(Some((account, _detail))) => match self.store.account_by_id(account).await {
                Ok(Some(a)) => RecipientCheck::Local(LocalRecipient {
                    account,
                    address: a.address,
                    rcpt,
                }),
                Ok(None) => RecipientCheck::Unknown,
                Err(e) => RecipientCheck::Temporary(e.to_string()),
            },
            Ok(None) => match self.store.is_local_domain(rcpt.domain()).await {
                Ok(true) => RecipientCheck::Unknown,
                Ok(false) => RecipientCheck::NotLocal,
                Err(e) => RecipientCheck::Temporary(e.to_string()),
            },
            Err(e) => RecipientCheck::Temporary(e.to_string()),
        }
    }

    /// Delivers `raw` (with trace fields already added) from `from` ("" for
    /// the null sender) to one recipient. Returns after the store commit.
    pub async fn deliver(&self, from: &str, rcpt: &LocalRecipient, raw: &[u8]) -> Outcome {
        let mut plan = Plan {
            delivery: Delivery {
                messages: vec![raw.to_vec()],
                ..Delivery::default()
            },
            reject: None,
        };
        if let Err(e) = self.plan(from, rcpt, 0, 0, &mut plan).await {
            return Outcome::Temporary(e);
        }
        if let Some(reason) = plan.reject {
            return Outcome::Rejected(reason);
        }
        match self.store.deliver(plan.delivery).await {
            Ok(done) => {
                tracing::info!(
                    rcpt = %rcpt.rcpt,
                    filed = done.filed.len(),
                    queued = ?done.queued,
                    "delivered"
                );
                Outcome::Delivered
            }
            Err(StoreError::OverQuota) => Outcome::OverQuota,
            Err(e) if disk_full(&e) => Outcome::DiskFull,
            Err(e) => {
                tracing::warn!(rcpt = %rcpt.rcpt, error = %e, "delivery failed");
                Outcome::Temporary(e.to_string())
            }
        }
    }

    /// The recipient's active script, compiled (cached while unchanged).
    async fn script(&self, account: AccountId) -> Result<Option<(String, Compiled)>, String> {
        let Some(script) = self
            .store
            .active_script(account)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        if let Ok(cache) = self.scripts.lock()
            && let Some((id, content, sieve)) = cache.get(&account)
            && *id == script.id
            && *content == script.content
        {
            return Ok(Some((script.name, Ok(sieve.clone()))));
        }
        match zest_core::sieve::compile(&self.settings, &script.content) {
            Ok(c) => {
                let sieve = Arc::new(c.sieve);
                if let Ok(mut cache) = self.scripts.lock() {
                    cache.insert(account, (script.id, script.content.clone(), sieve.clone()));
                }
                Ok(Some((script.name, Ok(sieve))))
            }
            Err(e) => Ok(Some((
                script.name,
                Err(format!("the script does not compile: {e}")),
            ))),
        }
    }

    /// Adds what delivering message `message` of `delivery` to `rcpt` does.
    /// An error is temporary.
    pub(crate) fn plan<'a>(
        &'a self,
        from: &'a str,
        rcpt: &'a LocalRecipient,
        message: usize,
        depth: usize,
        plan: &'a mut Plan,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let keep = |plan: &mut Plan| {
                plan.delivery.filings.push(Filing {
                    account: rcpt.account,
                    mailbox: "INBOX".into(),
                    create: false,
                    mailbox_id: None,
                    special_use: None,
                    flags: Flags::default(),
                    message,
                });
            };
            if depth >= MAX_LOCAL_DEPTH {
                keep(plan);
                return Ok(());
            }
            let Some((name, compiled)) = self.script(rcpt.account).await? else {
                keep(plan);
                return Ok(());
            };
            let raw = plan
                .delivery
                .messages
                .get(message)
                .cloned()
                .unwrap_or_default();
            let result = match compiled {
                Err(e) => Err(EvalError::Script(e)),
                Ok(script) => {
                    let subject = Subject {
                        account: rcpt.account,
                        address: &rcpt.address,
                        envelope_from: from,
                        envelope_to: rcpt.rcpt.as_str(),
                    };
                    filter::evaluate(
                        &self.store,
                        &self.runtime,
                        &self.settings,
                        &subject,
                        script,
                        &raw,
                    )
                    .await
                }
            };
            let eval = match result {
                Ok(eval) => eval,
                Err(EvalError::Temporary(e)) => return Err(e),
                Err(EvalError::Script(e)) => {
                    // RFC 5228 2.10.6: a failing script means the implicit keep.
                    tracing::warn!(account = %rcpt.account, script = %name, error = %e, "sieve script failed");
                    if let Err(err) = self
                        .store
                        .record_script_error(rcpt.account, &name, &e)
                        .await
                    {
                        tracing::warn!(error = %err, "could not record the script error");
                    }
                    keep(plan);
                    return Ok(());
                }
            };
            self.apply(from, rcpt, message, depth, eval, plan).await
        })
    }

    /// Turns a script's decisions into filings, local deliveries and queue entries.
    async fn apply(
        &self,
        from: &str,
        rcpt: &LocalRecipient,
        message: usize,
        depth: usize,
        eval: Evaluation,
        plan: &mut Plan,
    ) -> Result<(), String> {
        // sieve-rs numbers made messages from 1; 0 is the message itself.
        let mut index: HashMap<usize, usize> = HashMap::new();
        index.insert(0, message);
        for (id, bytes) in eval.created {
            index.insert(id, plan.delivery.messages.len());
            plan.delivery.messages.push(bytes);
        }
        let now = now();
        for (handle, sender, expires_at) in eval.vacations {
            plan.delivery.vacations.push(VacationMark {
                account: rcpt.account,
                handle,
                sender,
                expires_at,
            });
        }
        for (handle, value, expires_at) in eval.duplicates {
            plan.delivery.duplicates.push(DuplicateMark {
                account: rcpt.account,
                handle,
                value,
                expires_at: expires_at.max(now),
            });
        }
        let mut filed: Vec<(String, usize)> = Vec::new();
        for action in eval.actions {
            match action {
                Action::File {
                    folder,
                    flags,
                    create,
                    mailbox_id,
                    special_use,
                    message: m,
                } => {
                    let m = index.get(&m).copied().unwrap_or(message);
                    // RFC 5228 4.1: filing twice into one mailbox files once.
                    if filed
                        .iter()
                        .any(|(f, i)| f.eq_ignore_ascii_case(&folder) && *i == m)
                    {
                        continue;
                    }
                    filed.push((folder.clone(), m));
                    plan.delivery.filings.push(Filing {
                        account: rcpt.account,
                        mailbox: folder,
                        create,
                        mailbox_id,
                        special_use,
                        flags: to_flags(&flags),
                        message: m,
                    });
                }
                Action::Reject { reason } => {
                    if depth == 0 {
                        plan.reject = Some(reason);
                    } else {
                        // A local redirect target cannot refuse what was accepted.
                        plan.delivery.filings.push(Filing {
                            account: rcpt.account,
                            mailbox: "INBOX".into(),
                            create: false,
                            mailbox_id: None,
                            special_use: None,
                            flags: Flags::default(),
                            message,
                        });
                    }
                }
                Action::Send {
                    source,
                    recipients,
                    message: m,
                } => {
                    let m = index.get(&m).copied().unwrap_or(message);
                    let mut remote = Vec::new();
                    for to in recipients {
                        if source == QueueSource::Redirect
                            && let RecipientCheck::Local(local) =
                                self.check_recipient(to.as_str()).await
                        {
                            // Local recipients of a redirect are delivered here,
                            // through their own scripts.
                            let with_loop = add_x_loop(
                                plan.delivery
                                    .messages
                                    .get(m)
                                    .map(Vec::as_slice)
                                    .unwrap_or_default(),
                                rcpt.address.as_str(),
                            );
                            let idx = plan.delivery.messages.len();
                            plan.delivery.messages.push(with_loop);
                            self.plan(from, &local, idx, depth + 1, plan).await?;
                            continue;
                        }
                        remote.push(OutboundRecipient::new(to.as_str()));
                    }
                    if remote.is_empty() {
                        continue;
                    }
                    let bytes = plan.delivery.messages.get(m).cloned().unwrap_or_default();
                    let (sender, raw) = match source {
                        QueueSource::Redirect => {
                            (from.to_string(), add_x_loop(&bytes, rcpt.address.as_str()))
                        }
                        // RFC 5230 5.1, RFC 5436 2.7: the null sender.
                        _ => (String::new(), bytes),
                    };
                    let eight_bit = raw.iter().any(|b| *b >= 0x80);
                    plan.delivery.outbound.push(OutboundMessage {
                        sender,
                        account: Some(rcpt.account),
                        source,
                        recipients: remote,
                        raw,
                        env_id: None,
                        dsn_ret: None,
                        body_type: if eight_bit {
                            store::BodyType::EightBitMime
                        } else {
                            store::BodyType::SevenBit
                        },
                        smtputf8: false,
                        hold_until: None,
                    });
                }
            }
        }
        Ok(())
    }
}

/// A delivery being planned, and whether the script refused the message.
pub(crate) struct Plan {
    pub(crate) delivery: Delivery,
    pub(crate) reject: Option<String>,
}

type Compiled = Result<Arc<sieve::Sieve>, String>;

/// IMAP flags from Sieve's (RFC 5232); names IMAP cannot store are dropped.
fn to_flags(names: &[String]) -> Flags {
    let mut flags = Flags::default();
    for n in names.iter().flat_map(|n| n.split_whitespace()) {
        if let Ok(f) = Flags::from_names([n]) {
            flags.system |= f.system;
            for k in f.keywords {
                let _ = flags.add_keyword(&k);
            }
        }
    }
    flags
}

/// Prepends `X-Loop: address` so the message is recognised if it comes back.
fn add_x_loop(raw: &[u8], address: &str) -> Vec<u8> {
    let mut out = format!("X-Loop: {address}\r\n").into_bytes();
    out.extend_from_slice(raw);
    out
}

/// The disk (or the process's file size or disk quota limit) cannot take
/// the message: 452 4.3.1 rather than a generic temporary failure.
pub(crate) fn disk_full(e: &StoreError) -> bool {
    use std::io::ErrorKind;
    match e {
        StoreError::DiskFull => true,
        StoreError::Io(io) => matches!(
            io.kind(),
            ErrorKind::StorageFull | ErrorKind::FileTooLarge | ErrorKind::QuotaExceeded
        ),
        _ => false,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
