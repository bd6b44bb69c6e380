//! Schema migrations: numbered SQL files embedded in the binary, applied at
//! start-up in one transaction, and a refusal to open a newer database.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Result, StoreError};
use crate::types::now;

/// Every migration, in order. Landed files are never edited; changes are new files.
pub(crate) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../../migrations/0001_initial.sql")),
    (2, include_str!("../../../migrations/0002_queue_lease.sql")),
    (3, include_str!("../../../migrations/0003_entry_size.sql")),
    (4, include_str!("../../../migrations/0004_urlauth.sql")),
    (5, include_str!("../../../migrations/0005_blob_files.sql")),
    (6, include_str!("../../../migrations/0006_sort_date.sql")),
    (
        7,
        include_str!("../../../migrations/0007_change_log_seq.sql"),
    ),
];

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
    use std::path::Path;

    use super::*;
    use crate::connection::{self, Role};
    use crate::{EmailAddress, OpenOptions, Store};

    type Rows = Vec<(String, String)>;

    /// Everything a migration could touch: the schema, the versions applied and the meta rows.
    fn snapshot(path: &Path) -> (Rows, Vec<i64>, Rows) {
        let conn = Connection::open(path).unwrap();
        let schema: Rows = conn
            .prepare("SELECT name, COALESCE(sql, '') FROM sqlite_master ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let has = |t: &str| schema.iter().any(|(n, _)| n == t);
        let versions = if has("schema_version") {
            conn.prepare("SELECT version FROM schema_version ORDER BY version")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        } else {
            Vec::new()
        };
        let meta = if has("meta") {
            conn.prepare("SELECT key, value FROM meta ORDER BY key")
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        } else {
            Vec::new()
        };
        (schema, versions, meta)
    }

    /// A database brought to `upto` by the migration code of that version.
    fn make_db(path: &Path, hostname: &str, upto: i64) {
        let mut conn = connection::open(path, Role::Writer).unwrap();
        assert_eq!(
            migrate(&mut conn, &InstallInfo { hostname }, upto).unwrap(),
            0
        );
        assert_eq!(current_version(&conn).unwrap(), upto);
    }

    fn options(hostname: &str) -> OpenOptions {
        OpenOptions {
            hostname: hostname.into(),
            ..OpenOptions::default()
        }
    }

    #[tokio::test]
    async fn a_new_database_gets_the_schema_and_the_installation_meta() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/zest.db");
        let before = civil_date(now());
        let store = Store::open_with(&path, options("Mail.Example.ORG."))
            .await
            .unwrap();
        let after = civil_date(now());
        assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
        let date = store.meta("installed_on").await.unwrap().unwrap();
        assert!(date == before || date == after, "{date}");
        assert_eq!(
            store.meta("hostname").await.unwrap(),
            Some("mail.example.org".to_string())
        );
        assert_eq!(
            store.meta("list_tag_prefix").await.unwrap(),
            Some(format!("tag:mail.example.org,{date}:"))
        );
        assert_eq!(
            store.list_prefix().await.unwrap(),
            format!("tag:mail.example.org,{date}:")
        );
        assert_eq!(store.meta("no such key").await.unwrap(), None);
        assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
        store.close().await;

        let (_, versions, meta) = snapshot(&path);
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        assert_eq!(
            meta,
            vec![
                ("hostname".to_string(), "mail.example.org".to_string()),
                ("installed_on".to_string(), date.clone()),
                (
                    "list_tag_prefix".to_string(),
                    format!("tag:mail.example.org,{date}:")
                ),
                ("next_uidvalidity".to_string(), "1".to_string()),
            ]
        );
    }

    #[tokio::test]
    async fn a_hostname_that_is_no_domain_name_becomes_localhost() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_with(&dir.path().join("zest.db"), options("not a host"))
            .await
            .unwrap();
        let date = store.meta("installed_on").await.unwrap().unwrap();
        assert_eq!(
            store.meta("hostname").await.unwrap(),
            Some("localhost".to_string())
        );
        assert_eq!(
            store.list_prefix().await.unwrap(),
            format!("tag:localhost,{date}:")
        );
    }

    #[tokio::test]
    async fn reopening_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zest.db");
        let store = Store::open_with(&path, options("one.example.org"))
            .await
            .unwrap();
        store.create_domain("example.org").await.unwrap();
        store.close().await;
        let first = snapshot(&path);

        // Another hostname later does not rewrite what the installation recorded.
        let store = Store::open_with(&path, options("two.example.org"))
            .await
            .unwrap();
        assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
        assert_eq!(store.list_domains().await.unwrap().len(), 1);
        store.close().await;
        assert_eq!(snapshot(&path), first);

        let mut conn = connection::open(&path, Role::Writer).unwrap();
        let install = InstallInfo {
            hostname: "three.example.org",
        };
        assert_eq!(
            migrate(&mut conn, &install, SCHEMA_VERSION).unwrap(),
            SCHEMA_VERSION
        );
        drop(conn);
        assert_eq!(snapshot(&path), first);
    }

    #[tokio::test]
    async fn a_newer_database_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zest.db");
        make_db(&path, "example.org", SCHEMA_VERSION);
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?1, 0)",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        drop(conn);
        let before = snapshot(&path);
        let bytes = std::fs::read(&path).unwrap();

        let err = Store::open(&path).await.err().unwrap();
        assert!(
            matches!(
                err,
                StoreError::SchemaTooNew { found, supported }
                    if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION
            ),
            "{err:?}"
        );
        assert!(!err.is_temporary());
        let mut conn = connection::open(&path, Role::Writer).unwrap();
        let err = migrate(
            &mut conn,
            &InstallInfo {
                hostname: "example.org",
            },
            SCHEMA_VERSION,
        )
        .unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { .. }), "{err:?}");
        drop(conn);

        assert_eq!(snapshot(&path), before);
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
    }

    #[tokio::test]
    async fn a_database_made_by_every_earlier_version_opens() {
        let dir = tempfile::tempdir().unwrap();
        // Version 0: an empty file, as a crashed first start could leave.
        let empty = dir.path().join("v0.db");
        std::fs::File::create(&empty).unwrap();
        let mut paths = vec![(0, empty)];
        for (version, _) in MIGRATIONS {
            let path = dir.path().join(format!("v{version}.db"));
            make_db(&path, "old.example.org", *version);
            paths.push((*version, path));
        }
        for (version, path) in paths {
            let store = Store::open(&path).await.unwrap();
            assert_eq!(
                store.schema_version().await.unwrap(),
                SCHEMA_VERSION,
                "from {version}"
            );
            let host = if version == 0 {
                "localhost"
            } else {
                "old.example.org"
            };
            assert_eq!(
                store.meta("hostname").await.unwrap(),
                Some(host.to_string())
            );
            // The current code's writes work on it.
            store.create_domain("example.org").await.unwrap();
            let address = EmailAddress::parse("alice@example.org").unwrap();
            let account = store.create_account(&address, "pw", false).await.unwrap();
            store
                .append(
                    account.id,
                    "INBOX",
                    b"Subject: x\r\n\r\nx\r\n".to_vec(),
                    Default::default(),
                    None,
                )
                .await
                .unwrap();
            assert_eq!(store.integrity_check().await.unwrap(), Vec::<String>::new());
            store.close().await;
            assert_eq!(
                snapshot(&path).1,
                (1..=SCHEMA_VERSION).collect::<Vec<_>>(),
                "from {version}"
            );
        }
    }

    #[tokio::test]
    async fn the_change_log_keeps_its_rows_and_numbers_without_autoincrement() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        make_db(&path, "old.example.org", 6);
        let conn = Connection::open(&path).unwrap();
        for name in ["a", "b", "c"] {
            conn.execute(
                "INSERT INTO change_log (kind, name, created_at) VALUES (1, ?1, 7)",
                [name],
            )
            .unwrap();
        }
        drop(conn);
        let store = Store::open(&path).await.unwrap();
        store.create_domain("example.org").await.unwrap();
        let address = EmailAddress::parse("alice@example.org").unwrap();
        store.create_account(&address, "pw", false).await.unwrap();
        store.close().await;
        let conn = Connection::open(&path).unwrap();
        let rows: Vec<(i64, Option<String>)> = conn
            .prepare("SELECT seq, name FROM change_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows[..3],
            [
                (1, Some("a".into())),
                (2, Some("b".into())),
                (3, Some("c".into()))
            ]
        );
        assert!(rows.len() > 3 && rows[3].0 == 4, "{rows:?}");
        let (schema, _, _) = snapshot(&path);
        let sql = &schema.iter().find(|(n, _)| n == "change_log").unwrap().1;
        assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
        assert!(!schema.iter().any(|(n, _)| n == "change_log_created"));
    }

    #[tokio::test]
    async fn a_failing_migration_rolls_back_entirely() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zest.db");
        // A table the last statement of 0001 creates: the migration fails at its end,
        // after every other table was made.
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE urlauth_keys (x)").unwrap();
        drop(conn);
        let before = snapshot(&path);

        let mut conn = connection::open(&path, Role::Writer).unwrap();
        let err = migrate(
            &mut conn,
            &InstallInfo {
                hostname: "example.org",
            },
            SCHEMA_VERSION,
        )
        .unwrap_err();
        assert!(
            matches!(err, StoreError::Migration { version: 1, .. }),
            "{err:?}"
        );
        drop(conn);
        assert_eq!(snapshot(&path), before);
        assert_eq!(
            before.0,
            vec![(
                "urlauth_keys".to_string(),
                "CREATE TABLE urlauth_keys (x)".to_string()
            )]
        );

        let err = Store::open(&path).await.err().unwrap();
        assert!(
            matches!(err, StoreError::Migration { version: 1, .. }),
            "{err:?}"
        );
        assert_eq!(snapshot(&path), before);
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(951_782_400), "2000-02-29");
        assert_eq!(civil_date(1_795_392_000), "2026-11-23");
    }
}
