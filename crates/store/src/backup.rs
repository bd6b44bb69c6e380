//! Online backup and verified restore.
//!
//! A backup is a directory holding `zest.db`, a consistent snapshot taken with
//! `VACUUM INTO` inside one read transaction (writers, in this process or
//! another, carry on meanwhile), and `manifest.json`, which records the
//! snapshot's size, SHA-256, schema version and the row count of every table.
//! Both files are written under temporary names, synced and renamed, so a
//! directory with a manifest holds a complete backup.
//!
//! Restoring checks the backup against its manifest, refuses to overwrite a
//! database that has data unless told to, copies the snapshot next to the
//! target, checks the copy again, and only then renames it into place.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::blobfile::BlobDir;
use crate::connection::{self, Role};
use crate::error::{Result, StoreError};
use crate::migrate::{self, SCHEMA_VERSION};
use crate::{Store, blocking};

/// The database file inside a backup directory.
pub const BACKUP_DATABASE: &str = "zest.db";
/// The manifest inside a backup directory.
pub const BACKUP_MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;

/// What a backup holds; written as `manifest.json` next to the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    pub format: u32,
    /// The schema version of the snapshot.
    pub schema_version: i64,
    /// Seconds since the Unix epoch when the snapshot was taken.
    pub created_at: i64,
    /// The snapshot's file name inside the backup directory.
    pub database: String,
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the snapshot file.
    pub sha256: String,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
}

impl BackupManifest {
    /// Rows in the table `name` (0 if it has none or does not exist).
    pub fn rows(&self, name: &str) -> u64 {
        self.tables.get(name).copied().unwrap_or(0)
    }
}

fn invalid(reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what: "backup",
        reason: reason.into(),
    }
}

impl Store {
    /// Writes a consistent copy of the live database to `dir` (created if
    /// missing; it must not already hold a backup) and returns its manifest.
    /// The copy is integrity-checked before the manifest is written.
    pub async fn backup(&self, dir: &Path) -> Result<BackupManifest> {
        let live = self.inner.path.clone();
        let dir = dir.to_path_buf();
        blocking(move || backup_blocking(&live, &dir)).await
    }
}

fn backup_blocking(live: &Path, dir: &Path) -> Result<BackupManifest> {
    fs::create_dir_all(dir)?;
    let target = dir.join(BACKUP_DATABASE);
    let manifest_path = dir.join(BACKUP_MANIFEST);
    if target.exists() || manifest_path.exists() {
        return Err(StoreError::Refused(format!(
            "{} already holds a backup; choose an empty directory",
            dir.display()
        )));
    }
    let partial = dir.join(format!("{BACKUP_DATABASE}.partial"));
    let created_at = now();
    let mut attempt = 0;
    loop {
        remove_if_exists(&partial)?;
        {
            // A connection of its own: VACUUM INTO reads one snapshot in one read
            // transaction, which in WAL mode never blocks writers.
            let conn = connection::open(live, Role::Checkpointer)?;
            let dest = partial
                .to_str()
                .ok_or_else(|| invalid(format!("{} is not valid UTF-8", partial.display())))?;
            conn.execute("VACUUM INTO ?1", [dest])?;
        }
        // A message removed after the snapshot may have lost its body before
        // it is copied; take a new snapshot then.
        match inline_blob_files(&partial, &BlobDir::for_database(live)) {
            Ok(true) => break,
            Ok(false) if attempt < 3 => attempt += 1,
            Ok(false) => {
                remove_if_exists(&partial)?;
                return Err(StoreError::Internal(
                    "message bodies kept changing while the backup was taken; try again".into(),
                ));
            }
            Err(e) => {
                remove_if_exists(&partial)?;
                return Err(e);
            }
        }
    }
    File::open(&partial)?.sync_all()?;
    let (schema_version, tables) = inspect(&partial)?;
    let (bytes, sha256) = digest(&partial)?;
    fs::rename(&partial, &target)?;
    let manifest = BackupManifest {
        format: FORMAT,
        schema_version,
        created_at,
        database: BACKUP_DATABASE.into(),
        bytes,
        sha256,
        tables,
    };
    let json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| StoreError::Internal(format!("encoding the manifest: {e}")))?;
    let partial_manifest = dir.join(format!("{BACKUP_MANIFEST}.partial"));
    {
        let mut f = File::create(&partial_manifest)?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
    }
    fs::rename(&partial_manifest, &manifest_path)?;
    sync_dir(dir)?;
    Ok(manifest)
}

/// Copies the bodies the snapshot keeps in segment files into the snapshot
/// itself, so that a backup is one self-contained database file. False when a
/// body no longer matches its hash: its message was removed after the snapshot
/// and its space released, so the snapshot must be taken again.
fn inline_blob_files(snapshot: &Path, blobs: &BlobDir) -> Result<bool> {
    let conn = Connection::open_with_flags(snapshot, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
    conn.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN")?;
    let files: Vec<(i64, Vec<u8>, String, i64, i64)> = conn
        .prepare("SELECT id, hash, file, file_offset, size FROM blobs WHERE file IS NOT NULL")?
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut update =
        conn.prepare("UPDATE blobs SET data = ?2, file = NULL, file_offset = NULL WHERE id = ?1")?;
    for (id, hash, file, offset, size) in files {
        let bytes = match blobs.read(&file, offset.max(0) as u64, size.max(0) as u64) {
            Ok(b) => b,
            Err(_) => return Ok(false),
        };
        if Sha256::digest(&bytes).as_slice() != hash.as_slice() {
            return Ok(false);
        }
        update.execute((id, bytes))?;
    }
    drop(update);
    conn.execute_batch("COMMIT")?;
    Ok(true)
}

/// Checks a backup directory against its manifest: the snapshot's size and
/// SHA-256, SQLite's integrity check, the row count of every table, and a
/// schema this version can open.
pub async fn verify_backup(dir: &Path) -> Result<BackupManifest> {
    let dir = dir.to_path_buf();
    blocking(move || verify_blocking(&dir)).await
}

fn read_manifest(dir: &Path) -> Result<BackupManifest> {
    let path = dir.join(BACKUP_MANIFEST);
    let raw = fs::read(&path).map_err(|e| {
        invalid(format!(
            "cannot read {}: {e} (not a directory made by zest backup?)",
            path.display()
        ))
    })?;
    let manifest: BackupManifest = serde_json::from_slice(&raw)
        .map_err(|e| invalid(format!("{} is not a valid manifest: {e}", path.display())))?;
    if manifest.format != FORMAT {
        return Err(invalid(format!(
            "manifest format {} is not supported (expected {FORMAT})",
            manifest.format
        )));
    }
    if manifest.database.contains('/') || manifest.database.contains("..") {
        return Err(invalid("the manifest names a file outside the backup"));
    }
    if manifest.schema_version > SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found: manifest.schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(manifest)
}

fn verify_blocking(dir: &Path) -> Result<BackupManifest> {
    let manifest = read_manifest(dir)?;
    check_file(&dir.join(&manifest.database), &manifest)?;
    Ok(manifest)
}

/// Checks one database file against a manifest: bytes, SHA-256, integrity,
/// schema version and row counts.
fn check_file(path: &Path, manifest: &BackupManifest) -> Result<()> {
    let (bytes, sha256) = digest(path)?;
    if bytes != manifest.bytes || sha256 != manifest.sha256 {
        return Err(invalid(format!(
            "{} does not match the manifest ({bytes} bytes, sha256 {sha256}; expected {} bytes, sha256 {})",
            path.display(),
            manifest.bytes,
            manifest.sha256
        )));
    }
    let (schema_version, tables) = inspect(path)?;
    if schema_version != manifest.schema_version {
        return Err(invalid(format!(
            "{} has schema version {schema_version}, the manifest says {}",
            path.display(),
            manifest.schema_version
        )));
    }
    if tables != manifest.tables {
        return Err(invalid(format!(
            "{}: row counts differ from the manifest",
            path.display()
        )));
    }
    Ok(())
}

/// Restores the backup in `dir` to the database file `target`.
///
/// A `target` that exists and is not empty is refused unless `replace` is
/// set; then the old database (and its WAL) is kept beside it, renamed with
/// the suffix `.before-restore-<unix time>`. The daemons must be stopped.
/// Nothing is renamed into place before the copy has been verified, and the
/// restored file is verified once more where it ends up.
pub async fn restore_backup(dir: &Path, target: &Path, replace: bool) -> Result<BackupManifest> {
    let dir = dir.to_path_buf();
    let target = target.to_path_buf();
    blocking(move || restore_blocking(&dir, &target, replace)).await
}

fn sidecars(db: &Path) -> [PathBuf; 2] {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut shm = db.as_os_str().to_owned();
    shm.push("-shm");
    [PathBuf::from(wal), PathBuf::from(shm)]
}

fn has_data(db: &Path) -> Result<bool> {
    let [wal, _] = sidecars(db);
    for p in [db, wal.as_path()] {
        match fs::metadata(p) {
            Ok(m) if m.len() > 0 => return Ok(true),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(false)
}

fn restore_blocking(dir: &Path, target: &Path, replace: bool) -> Result<BackupManifest> {
    let manifest = verify_blocking(dir)?;
    if has_data(target)? && !replace {
        return Err(StoreError::Refused(format!(
            "{} already holds a database; stop the daemons and pass --force to replace it \
             (the old one is kept beside it)",
            target.display()
        )));
    }
    let parent = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent)?;
    let file_name = target
        .file_name()
        .ok_or_else(|| invalid(format!("{} is not a file path", target.display())))?
        .to_string_lossy()
        .into_owned();
    let staging = parent.join(format!("{file_name}.restoring"));
    remove_if_exists(&staging)?;
    fs::copy(dir.join(&manifest.database), &staging)?;
    File::open(&staging)?.sync_all()?;
    if let Err(e) = check_file(&staging, &manifest) {
        let _ = fs::remove_file(&staging);
        return Err(e);
    }
    if has_data(target)? {
        let suffix = format!(".before-restore-{}", now());
        let [wal, shm] = sidecars(target);
        for p in [target.to_path_buf(), wal, shm] {
            if p.exists() {
                let mut aside = p.as_os_str().to_owned();
                aside.push(&suffix);
                fs::rename(&p, PathBuf::from(aside))?;
            }
        }
    } else {
        // An empty file or stale WAL index would otherwise be read with the new database.
        for p in sidecars(target) {
            remove_if_exists(&p)?;
        }
    }
    fs::rename(&staging, target)?;
    sync_dir(parent)?;
    check_file(target, &manifest)?;
    Ok(manifest)
}

/// Schema version and row counts of a database file, after `PRAGMA
/// integrity_check` passed. Opens it read-only.
fn inspect(path: &Path) -> Result<(i64, BTreeMap<String, u64>)> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let problems: Vec<String> = conn
        .prepare("PRAGMA integrity_check")?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    if problems.iter().any(|p| p != "ok") {
        return Err(invalid(format!(
            "{} failed its integrity check: {}",
            path.display(),
            problems.join("; ")
        )));
    }
    let names: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = BTreeMap::new();
    for name in names {
        let quoted = name.replace('"', "\"\"");
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{quoted}\""), [], |r| {
            r.get(0)
        })?;
        tables.insert(name, n as u64);
    }
    Ok((migrate::current_version(&conn)?, tables))
}

fn digest(path: &Path) -> Result<(u64, String)> {
    let mut f = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        bytes += n as u64;
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

fn remove_if_exists(p: &Path) -> Result<()> {
    match fs::remove_file(p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
