//! Schema migrations: numbered SQL files embedded in the binary, applied at
//! start-up in one transaction, and a refusal to open a newer database.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Result, StoreError};
use crate::types::now;

/// Every migration, in order. Landed files are never edited; changes are new files.
pub(crate) const MIGRATIONS: &[(i64, &str)] =
    &[(1, include_str!("../../../migrations/0001_initial.sql"))];

pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].0;

/// What a new database records about the installation (hostname for the
/// `tag:` list prefix, the date it was made).
pub(crate) struct InstallInfo<'a> {
    pub hostname: &'a str,
}

pub(crate) fn current_version(conn: &Connection) -> Result<i64> {
    let has_table: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type='table' AND name='schema_version')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(0);
    }
    Ok(conn
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| {
            r.get::<_, Option<i64>>(0)
        })?
        .unwrap_or(0))
}

/// Brings the database up to `upto` (normally SCHEMA_VERSION). Returns the
/// version it found. Two processes starting at once are serialised by the
/// immediate transaction; the second finds nothing left to do.
pub(crate) fn migrate(conn: &mut Connection, install: &InstallInfo<'_>, upto: i64) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    INTEGER PRIMARY KEY,
             applied_at INTEGER NOT NULL
         )",
    )?;
    let found = current_version(&tx)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found && *v <= upto) {
        tx.execute_batch(sql).map_err(|e| StoreError::Migration {
            version: *version,
            reason: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)",
            (version, now()),
        )?;
        tracing::info!(version, "applied schema migration");
    }
    if found == 0 {
        record_install(&tx, install)?;
    }
    tx.commit()?;
    Ok(found)
}

fn record_install(conn: &Connection, install: &InstallInfo<'_>) -> Result<()> {
    let existing: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'installed_on'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if existing.is_some() {
        return Ok(());
    }
    let date = civil_date(now());
    let host = crate::types::DomainName::parse(install.hostname)
        .map(|d| d.as_str().to_string())
        .unwrap_or_else(|_| "localhost".to_string());
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('installed_on', ?1), ('hostname', ?2), \
         ('list_tag_prefix', ?3), ('next_uidvalidity', '1')",
        (&date, &host, format!("tag:{host},{date}:")),
    )?;
    Ok(())
}

/// YYYY-MM-DD of a Unix time (UTC), by the days-from-civil inverse.
pub(crate) fn civil_date(t: i64) -> String {
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_795_392_000), "2026-11-23");
    }
}
