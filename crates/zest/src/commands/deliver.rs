//! `zest deliver --to ADDRESS [--from ADDRESS] < MESSAGE`: local delivery
//! through the MDA's full path (Sieve included), like an LDA.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result};
use mda::{Mda, Outcome, RecipientCheck};

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
    let mut worst = 0u8;
    for to in &args.to {
        let code = match mda.check_recipient(to).await {
            RecipientCheck::Local(rcpt) => match mda.deliver(&from, &rcpt, &raw).await {
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
            },
            RecipientCheck::Unknown | RecipientCheck::NotLocal => {
                eprintln!("zest deliver: {to}: no such user here");
                EX_NOUSER
            }
            RecipientCheck::Temporary(e) => {
                eprintln!("zest deliver: {to}: temporary failure: {e}");
                EX_TEMPFAIL
            }
        };
        // A temporary failure wins: the caller retries.
        if code == EX_TEMPFAIL {
            worst = EX_TEMPFAIL;
        } else if worst != EX_TEMPFAIL && code != 0 {
            worst = code;
        }
    }
    Ok(ExitCode::from(worst))
}
