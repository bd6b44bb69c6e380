//! `zest deliver --to ADDRESS [--from ADDRESS] < MESSAGE`: local delivery
//! through the MDA's full path (Sieve included), like an LDA.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mda::{BatchOutcome, Mda, Outcome, RecipientCheck};

use super::App;
use crate::cli::DeliverArgs;

/// sysexits.h, as CONTRACT.md names them.
const EX_DATAERR: u8 = 65;
const EX_NOUSER: u8 = 67;
const EX_TEMPFAIL: u8 = 75;

pub async fn run(app: &App, args: DeliverArgs) -> Result<ExitCode> {
    if args.to.is_empty() {
        eprintln!("zest deliver: --to ADDRESS is required");
        return Ok(ExitCode::from(EX_DATAERR));
    }
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .context("reading the message from stdin")?;
    let max = app.config.limits.max_message_size;
    if input.is_empty() || input.len() as u64 > max || input.contains(&0) {
        eprintln!("zest deliver: the message is empty, contains NUL or exceeds {max} octets");
        return Ok(ExitCode::from(EX_DATAERR));
    }
    let from = args.from.unwrap_or_default();
    if !from.is_empty() && store::EmailAddress::parse(&from).is_err() {
        eprintln!("zest deliver: --from {from:?} is not an address");
        return Ok(ExitCode::from(EX_DATAERR));
    }
    let store = match app.store().await {
        Ok(s) => s.clone(),
        Err(e) => {
            eprintln!("zest deliver: {e:#}");
            return Ok(ExitCode::from(EX_TEMPFAIL));
        }
    };
    let mda = Mda::new(&app.config, store);
    let raw = mda::local_message(&app.config.hostname, &from, &input);
    // Every recipient is looked up first: a lookup that fails temporarily
    // fails the whole call before anything is stored, so the caller's retry
    // cannot deliver twice.
    let mut worst = 0u8;
    let mut local = Vec::new();
    for to in &args.to {
        match mda.check_recipient(to).await {
            RecipientCheck::Local(rcpt) => local.push(rcpt),
            RecipientCheck::Unknown | RecipientCheck::NotLocal => {
                eprintln!("zest deliver: {to}: no such user here");
                worst = EX_NOUSER;
            }
            RecipientCheck::Temporary(e) => {
                eprintln!("zest deliver: {to}: temporary failure: {e}");
                return Ok(ExitCode::from(EX_TEMPFAIL));
            }
        }
    }
    if local.is_empty() {
        return Ok(ExitCode::from(worst));
    }
    // One transaction for all recipients, as for inbound SMTP: a recipient
    // that cannot take the message now (over quota) while others can is
    // queued for redelivery instead of failing the call.
    let requeue = raw
        .iter()
        .position(|b| *b == b'\n')
        .and_then(|nl| raw.get(nl + 1..))
        .unwrap_or_default();
    match mda.deliver_batch(&from, &local, &raw, requeue, false).await {
        BatchOutcome::Accepted {
            queued, rejected, ..
        } => {
            for to in queued {
                eprintln!("zest deliver: {to}: cannot take it now; queued for redelivery");
            }
            for (to, reason) in rejected {
                eprintln!("zest deliver: {to}: rejected: {reason}");
                worst = EX_NOUSER;
            }
        }
        BatchOutcome::Refused(outcome) => {
            let to = args.to.join(", ");
            return Ok(ExitCode::from(match outcome {
                Outcome::Delivered => 0,
                Outcome::Rejected(reason) => {
                    eprintln!("zest deliver: {to}: rejected: {reason}");
                    EX_NOUSER
                }
                Outcome::Temporary(e) => {
                    eprintln!("zest deliver: {to}: temporary failure: {e}");
                    EX_TEMPFAIL
                }
                Outcome::DiskFull => {
                    eprintln!("zest deliver: {to}: the disk is full");
                    EX_TEMPFAIL
                }
                Outcome::OverQuota => {
                    eprintln!("zest deliver: {to}: over quota");
                    EX_TEMPFAIL
                }
            }));
        }
    }
    Ok(ExitCode::from(worst))
}
