//! Runs a recipient's active Sieve script over a message and collects what it
//! decides. Every sieve-rs event is answered here; lookups go to the store.

mod extlists;

use std::collections::BTreeMap;
use std::sync::Arc;

use sieve::{Event, Input, Mailbox, Recipient, Runtime, Script as ScriptName};
use store::{AccountId, EmailAddress, MailboxId, QueueSource, Store};
use zest_core::sieve::SieveSettings;

/// Why a script could not decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EvalError {
    /// The script is wrong (runtime error, unusable list): keep in INBOX and
    /// record the error for the user.
    Script(String),
    /// The store or a list could not be read: the sender retries (RFC 6134 3).
    Temporary(String),
}

/// What a script asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    File {
        folder: String,
        flags: Vec<String>,
        create: bool,
        mailbox_id: Option<MailboxId>,
        special_use: Option<String>,
        message: usize,
    },
    Send {
        source: QueueSource,
        recipients: Vec<EmailAddress>,
        message: usize,
    },
    Reject {
        reason: String,
    },
}

/// The decisions of one run, for one account.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evaluation {
    pub actions: Vec<Action>,
    /// Messages the script made (editheader versions, vacation replies,
    /// notifications), by sieve-rs message id (1-based).
    pub created: BTreeMap<usize, Vec<u8>>,
    /// RFC 5230 (handle, sender, expires_at) to record.
    pub vacations: Vec<(String, String, i64)>,
    /// RFC 7352 (handle, value, expires_at) to record.
    pub duplicates: Vec<(String, String, i64)>,
}

/// Who the script runs for and the envelope it sees.
pub(crate) struct Subject<'a> {
    pub account: AccountId,
    /// The account's own address (`:addresses` default, redirect loops).
    pub address: &'a EmailAddress,
    pub envelope_from: &'a str,
    pub envelope_to: &'a str,
}

/// The runtime for deliveries: the shared extension set and limits from
/// `zest_core::sieve`, plus what only running needs (host name, headers).
pub(crate) fn runtime(settings: &SieveSettings, hostname: &str) -> Runtime {
    let mut r = zest_core::sieve::runtime(settings);
    r.set_local_hostname(hostname.to_string());
    // A vacation reply and a notification besides the redirects.
    r.set_max_out_messages(settings.max_redirects.saturating_add(3));
    r.set_protected_header("Received");
    r.set_protected_header("Auto-Submitted");
    r.set_protected_header("Return-Path");
    r.set_max_received_headers(30);
    r.set_cpu_limit(20_000);
    r
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The `X-Loop:` values of a message's header, lower case.
fn x_loops(raw: &[u8]) -> Vec<String> {
    let Some(msg) = mail_parser::MessageParser::new().parse_headers(raw) else {
        return Vec::new();
    };
    msg.header_values("X-Loop")
        .filter_map(|v| v.as_text().map(|t| t.trim().to_lowercase()))
        .collect()
}

/// Runs `script` over `raw`. A runtime error is `EvalError::Script`.
pub(crate) async fn evaluate(
    store: &Store,
    runtime: &Runtime,
    settings: &SieveSettings,
    subject: &Subject<'_>,
    script: Arc<sieve::Sieve>,
    raw: &[u8],
) -> Result<Evaluation, EvalError> {
    let mut ctx = runtime.filter(raw);
    ctx.set_user_address(subject.address.as_str().to_string());
    ctx.set_envelope(sieve::Envelope::From, subject.envelope_from.to_string());
    ctx.set_envelope(sieve::Envelope::To, subject.envelope_to.to_string());
    let looped = x_loops(raw).iter().any(|v| v == subject.address.as_str());
    let envelope_from = subject.envelope_from.to_lowercase();
    // RFC 3834 2, RFC 5230 4.5: no automatic replies to automatic or bulk mail.
    let automatic = header_other_than(raw, "Auto-Submitted", "no")
        || header_is(raw, "Precedence", "bulk")
        || header_is(raw, "Precedence", "list")
        || header_is(raw, "Precedence", "junk");

    let mut out = Evaluation::default();
    let mut input = Input::script("", script);
    while let Some(event) = ctx.run(input) {
        let event = event.map_err(|e| EvalError::Script(runtime_error(&e)))?;
        input = Input::True;
        match event {
            Event::IncludeScript { name, optional } => {
                input = match &name {
                    ScriptName::Personal(n) => match store.script(subject.account, n).await {
                        Ok(s) => match zest_core::sieve::compile(settings, &s.content) {
                            Ok(c) => Input::script(name.clone(), c.sieve),
                            Err(e) => {
                                return Err(EvalError::Script(format!(
                                    "included script {n:?}: {e}"
                                )));
                            }
                        },
                        Err(store::StoreError::NotFound(_)) if optional => Input::False,
                        Err(store::StoreError::NotFound(_)) => {
                            return Err(EvalError::Script(format!(
                                "included script {n:?} does not exist"
                            )));
                        }
                        Err(e) => return Err(EvalError::Temporary(e.to_string())),
                    },
                    // There are no global scripts.
                    ScriptName::Global(_) if optional => Input::False,
                    ScriptName::Global(n) => {
                        return Err(EvalError::Script(format!(
                            "global script {n:?} does not exist"
                        )));
                    }
                };
            }
            Event::MailboxExists {
                mailboxes,
                special_use,
            } => {
                input = mailboxes_exist(store, subject.account, &mailboxes, &special_use)
                    .await?
                    .into();
            }
            Event::ListContains { lists, values, .. } => {
                input = match extlists::contains(store, subject.account, &lists, &values).await? {
                    Some(value) => Input::ListMatch(value),
                    None => Input::False,
                };
            }
            Event::ValidExtList { lists } => {
                input = extlists::valid(store, subject.account, &lists)
                    .await?
                    .into();
            }
            Event::DuplicateId { id, expiry, .. } => {
                let expires = now().saturating_add(i64::try_from(expiry).unwrap_or(i64::MAX));
                // sieve-rs names vacation tracking "_v" + sender + handle.
                let vacation = id
                    .strip_prefix("_v")
                    .and_then(|rest| rest.strip_prefix(envelope_from.as_str()))
                    .filter(|_| !envelope_from.is_empty());
                let seen = match vacation {
                    Some(handle) => {
                        let seen = store
                            .vacation_replied(subject.account, handle, &envelope_from)
                            .await
                            .map_err(|e| EvalError::Temporary(e.to_string()))?;
                        if !seen {
                            out.vacations.push((
                                handle.to_string(),
                                envelope_from.clone(),
                                expires,
                            ));
                        }
                        seen
                    }
                    None => {
                        let seen = store
                            .duplicate_seen(subject.account, "", &id)
                            .await
                            .map_err(|e| EvalError::Temporary(e.to_string()))?;
                        out.duplicates.push((String::new(), id, expires));
                        seen
                    }
                };
                input = seen.into();
            }
            Event::SetEnvelope { .. } | Event::Function { .. } => input = Input::False,
            Event::Keep { flags, message_id } => out.actions.push(Action::File {
                folder: "INBOX".into(),
                flags,
                create: false,
                mailbox_id: None,
                special_use: None,
                message: message_id,
            }),
            Event::FileInto {
                folder,
                flags,
                mailbox_id,
                special_use,
                create,
                message_id,
            } => out.actions.push(Action::File {
                folder,
                flags,
                create,
                mailbox_id: mailbox_id.and_then(|m| m.parse().ok()).map(MailboxId),
                special_use,
                message: message_id,
            }),
            Event::Discard => {}
            Event::Reject { reason, .. } => out.actions.push(Action::Reject { reason }),
            Event::CreatedMessage {
                message_id,
                message,
            } => {
                out.created.insert(message_id, message);
            }
            Event::SendMessage {
                recipient,
                message_id,
                ..
            } => {
                let made = out.created.get(&message_id).map(Vec::as_slice);
                let source = match (&recipient, made) {
                    (Recipient::Group(_), _) => QueueSource::Notify,
                    (_, Some(m)) if header_is(m, "Auto-Submitted", "auto-replied") => {
                        QueueSource::Vacation
                    }
                    (_, Some(m)) if header_is(m, "Auto-Submitted", "auto-notified") => {
                        QueueSource::Notify
                    }
                    _ => QueueSource::Redirect,
                };
                if source == QueueSource::Vacation && automatic {
                    continue;
                }
                if source == QueueSource::Redirect && looped {
                    // RFC 5228 4.2: this message came back through a redirect
                    // of ours; keep it rather than loop.
                    tracing::info!("redirect suppressed: X-Loop shows a loop");
                    out.actions.push(Action::File {
                        folder: "INBOX".into(),
                        flags: Vec::new(),
                        create: false,
                        mailbox_id: None,
                        special_use: None,
                        message: message_id,
                    });
                    continue;
                }
                let recipients = match recipient {
                    Recipient::Address(a) => EmailAddress::parse(&a).into_iter().collect(),
                    Recipient::Group(g) => g
                        .iter()
                        .filter_map(|a| EmailAddress::parse(a).ok())
                        .collect(),
                    Recipient::List(name) => {
                        extlists::members(
                            store,
                            subject.account,
                            &name,
                            settings.max_list_recipients,
                        )
                        .await?
                    }
                };
                if !recipients.is_empty() {
                    out.actions.push(Action::Send {
                        source,
                        recipients,
                        message: message_id,
                    });
                }
            }
            // Only mailto is a valid notification method; others never get here.
            Event::Notify { method, .. } => {
                tracing::info!(%method, "notification method not supported; ignored");
            }
        }
    }
    if automatic {
        out.vacations.clear();
    }
    Ok(out)
}

/// Does `raw`'s header have `name` with a value other than `value`?
fn header_other_than(raw: &[u8], name: &str, value: &str) -> bool {
    mail_parser::MessageParser::new()
        .parse_headers(raw)
        .is_some_and(|m| {
            m.header_values(name).any(|v| {
                v.as_text()
                    .is_none_or(|t| !t.trim().eq_ignore_ascii_case(value))
            })
        })
}

fn runtime_error(e: &sieve::runtime::RuntimeError) -> String {
    use sieve::runtime::RuntimeError as E;
    match e {
        E::TooManyIncludes => "too many nested includes".into(),
        E::InvalidInstruction(i) => {
            format!("invalid instruction {} at line {}", i.name(), i.line_num())
        }
        E::ScriptErrorMessage(m) => format!("error: {m}"),
        E::CapabilityNotAllowed(c) => format!("extension {c} is not allowed"),
        E::CapabilityNotSupported(c) => format!("extension {c} is not supported"),
        E::CPULimitReached => "the script ran too long".into(),
    }
}

/// Does `raw`'s header have `name: value` (case-insensitively)?
fn header_is(raw: &[u8], name: &str, value: &str) -> bool {
    mail_parser::MessageParser::new()
        .parse_headers(raw)
        .is_some_and(|m| {
            m.header_values(name).any(|v| {
                v.as_text()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case(value))
            })
        })
}

async fn mailboxes_exist(
    store: &Store,
    account: AccountId,
    mailboxes: &[Mailbox],
    special_use: &[String],
) -> Result<bool, EvalError> {
    let temp = |e: store::StoreError| EvalError::Temporary(e.to_string());
    if mailboxes.is_empty() {
        // RFC 8579 3: specialuse_exists without a mailbox: any mailbox has each.
        for su in special_use {
            if !store
                .mailbox_exists(account, None, None, Some(su))
                .await
                .map_err(temp)?
            {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    for m in mailboxes {
        let (name, id) = match m {
            Mailbox::Name(n) => (Some(n.as_str()), None),
            Mailbox::Id(i) => match i.parse::<i64>() {
                Ok(i) => (None, Some(MailboxId(i))),
                Err(_) => return Ok(false),
            },
        };
        if special_use.is_empty() {
            if !store
                .mailbox_exists(account, name, id, None)
                .await
                .map_err(temp)?
            {
                return Ok(false);
            }
        } else {
            for su in special_use {
                if !store
                    .mailbox_exists(account, name, id, Some(su))
                    .await
                    .map_err(temp)?
                {
                    return Ok(false);
                }
            }
        }
    }
    Ok(true)
}
