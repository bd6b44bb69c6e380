//! `zest backup DIR` and `zest restore DIR`: a consistent, verified copy of a
//! live database, and a restore that checks what it wrote.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use store::BackupManifest;

use super::App;

fn summary(m: &BackupManifest) -> String {
    let count = |t: &str| m.rows(t);
    format!(
        "schema version {}, {} bytes, sha256 {}; {} domains, {} users, {} mailboxes, {} messages",
        m.schema_version,
        m.bytes,
        m.sha256,
        count("domains"),
        count("accounts"),
        count("mailboxes"),
        count("mailbox_messages"),
    )
}

pub async fn backup(app: &App, dir: &Path) -> Result<ExitCode> {
    let store = app.store().await?;
    let manifest = store
        .backup(dir)
        .await
        .with_context(|| format!("backing up to {}", dir.display()))?;
    // Read back what was written, as a restore would.
    store::verify_backup(dir)
        .await
        .with_context(|| format!("verifying the backup in {}", dir.display()))?;
    println!("backup: {} verified", dir.display());
    println!("{}", summary(&manifest));
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(app: &App, dir: &Path, force: bool) -> Result<ExitCode> {
    // The store is not opened here: that would create (and lock) the target.
    let target = app.config.db_path();
    let manifest = store::restore_backup(dir, &target, force)
        .await
        .with_context(|| format!("restoring {} to {}", dir.display(), target.display()))?;
    println!(
        "restored {} to {} and verified it",
        dir.display(),
        target.display()
    );
    println!("{}", summary(&manifest));
    Ok(ExitCode::SUCCESS)
}
