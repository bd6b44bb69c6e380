//! `zest queue`: the outbound queue (list, flush, retry, del).

use std::process::ExitCode;

use anyhow::{Result, anyhow};
use store::QueueId;

use super::App;
use crate::cli::QueueCmd;

pub async fn run(app: &App, cmd: QueueCmd) -> Result<ExitCode> {
    let store = app.store().await?;
    match cmd {
        QueueCmd::List => {
            let queue = store.list_queue().await?;
            if queue.is_empty() {
                println!("the queue is empty");
            }
            for m in queue {
                let sender = if m.sender.is_empty() { "<>" } else { &m.sender };
                let held = m
                    .hold_until
                    .map(|t| format!("\theld until {}", submission::rfc3339(t)))
                    .unwrap_or_default();
                println!(
                    "{}\t{}\t{} bytes\t{}\t{}{held}",
                    m.id,
                    submission::rfc3339(m.created_at),
                    m.size,
                    sender,
                    m.source
                );
                for r in &m.recipients {
                    let next = if r.status == store::RecipientStatus::Pending {
                        format!("\tnext {}", submission::rfc3339(r.next_attempt))
                    } else {
                        String::new()
                    };
                    let error = r
                        .last_error
                        .as_deref()
                        .map(|e| format!("\t{e}"))
                        .unwrap_or_default();
                    println!(
                        "\t{}\t{}\t{} attempts{next}{error}",
                        r.address,
                        r.status.as_str(),
                        r.attempts
                    );
                }
            }
        }
        QueueCmd::Flush => {
            let n = store.flush_queue(None).await?;
            println!("{n} recipients due now");
        }
        QueueCmd::Retry { id } => {
            let n = store.flush_queue(Some(vec![parse_id(&id)?])).await?;
            println!("{n} recipients of {id} due now");
        }
        QueueCmd::Del { id } => {
            store.delete_queued(vec![parse_id(&id)?]).await?;
            println!("deleted {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_id(s: &str) -> Result<QueueId> {
    s.trim()
        .parse()
        .map(QueueId)
        .map_err(|_| anyhow!("{s:?} is not a queue id (see zest queue list)"))
}
