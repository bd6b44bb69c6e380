//! Large message bodies live in segment files next to the database instead of
//! inside it.
//!
//! Each process appends to a segment of its own (`<created>-<random>` in the
//! `<database>.blobs` directory), reserving a range under a lock and then
//! writing it on the caller's thread, so many callers write at once instead of
//! queueing behind the one writer thread, and no file is created per message.
//! Its data sync runs while the job naming it waits for the writer, and the
//! writer waits for that sync before it commits: a committed row always has
//! its bytes on disk. Space is allocated ahead of the writes, so a sync
//! carries little metadata.
//!
//! A range whose row never commits, or whose row is deleted, has its space
//! released (a hole is punched). A process stops appending to a segment once
//! it is [`SEGMENT_MAX_AGE`] old; [`BlobDir::sweep`] removes segments older
//! than [`ORPHAN_AGE`] that no row names any more, which nothing can still be
//! about to name.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Result, StoreError};

/// Bodies at least this large go to segments; smaller ones stay in the
/// database, where group commit makes them cheaper.
pub(crate) const FILE_THRESHOLD: usize = 16 * 1024;

/// A segment gets no new bodies after this long.
const SEGMENT_MAX_AGE: Duration = Duration::from_secs(1800);
/// Nor once it holds this much.
const SEGMENT_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Space is allocated ahead in steps from the first to the largest size.
const FIRST_ALLOCATION: u64 = 256 * 1024;
const MAX_ALLOCATION: u64 = 16 * 1024 * 1024;
/// Ranges start on this boundary, so releasing one frees whole blocks.
const ALIGN: u64 = 4096;

/// A segment no row names is removed once it is at least this old.
pub(crate) const ORPHAN_AGE: Duration = Duration::from_secs(3600);

/// The segment files that belong to one database.
#[derive(Debug)]
pub(crate) struct BlobDir {
    root: PathBuf,
    active: Mutex<Option<Segment>>,
}

#[derive(Debug)]
struct Segment {
    name: String,
    file: Arc<File>,
    created: u64,
    /// Where the next range starts.
    next: u64,
    /// How far space is allocated.
    allocated: u64,
    step: u64,
}

impl BlobDir {
    /// The blob directory of the database at `db`: `<db>.blobs` beside it.
    pub(crate) fn for_database(db: &Path) -> BlobDir {
        let mut name = db.file_name().unwrap_or_default().to_os_string();
        name.push(".blobs");
        BlobDir {
            root: db.with_file_name(name),
            active: Mutex::new(None),
        }
    }

    fn path(&self, name: &str) -> Result<PathBuf> {
        // Names come from the database; refuse anything that could leave the directory.
        let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        if !ok {
            return Err(StoreError::Internal(format!("bad blob file name {name:?}")));
        }
        Ok(self.root.join(name))
    }

    /// Writes `bytes` to a segment and starts making them durable: on a
    /// thread of the runtime's blocking pool where there is one, so that the
    /// job naming them can queue for the writer meanwhile, else here. The
    /// returned guard releases the range again unless it is kept.
    pub(crate) fn write(&self, bytes: &[u8]) -> Result<BlobFile> {
        let len = bytes.len() as u64;
        let (file, name, offset) = self.reserve(len)?;
        let guard = BlobFile {
            file,
            name,
            offset,
            len,
            keep: false,
            durable: Arc::new(Durable::default()),
        };
        guard.file.write_all_at(bytes, offset)?;
        let pending = PendingSync {
            file: guard.file.clone(),
            durable: guard.durable.clone(),
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(move || pending.run())),
            Err(_) => pending.run(),
        }
        Ok(guard)
    }

    /// A range of `len` bytes in this process's segment, with its space allocated.
    fn reserve(&self, len: u64) -> Result<(Arc<File>, String, u64)> {
        let mut active = self
            .active
            .lock()
            .map_err(|_| StoreError::Internal("blob segment lock poisoned".into()))?;
        let now = unix_now();
        let usable = active.as_ref().is_some_and(|s| {
            now.saturating_sub(s.created) < SEGMENT_MAX_AGE.as_secs()
                && (s.next == 0 || s.next + len <= SEGMENT_MAX_BYTES)
        });
        if !usable {
            *active = Some(self.new_segment(now)?);
        }
        let Some(seg) = active.as_mut() else {
            return Err(StoreError::Internal("no blob segment".into()));
        };
        let offset = seg.next;
        let end = offset + len;
        if end > seg.allocated {
            let grow = (end - seg.allocated).max(seg.step);
            allocate(&seg.file, seg.allocated, grow)?;
            seg.allocated += grow;
            seg.step = (seg.step * 2).min(MAX_ALLOCATION);
        }
        seg.next = end.div_ceil(ALIGN) * ALIGN;
        Ok((seg.file.clone(), seg.name.clone(), offset))
    }

    fn new_segment(&self, now: u64) -> Result<Segment> {
        fs::create_dir_all(&self.root)?;
        loop {
            let name = format!("{now:010x}-{:016x}", rand::random::<u64>());
            let path = self.root.join(&name);
            let file = match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e.into()),
            };
            file.sync_all()?;
            sync_dir(&self.root)?;
            if let Some(parent) = self.root.parent() {
                sync_dir(parent)?;
            }
            return Ok(Segment {
                name,
                file: Arc::new(file),
                created: now,
                next: 0,
                allocated: 0,
                step: FIRST_ALLOCATION,
            });
        }
    }

    /// `len` bytes of segment `name` from `offset`; fewer means the segment
    /// was damaged, which is an error.
    pub(crate) fn read(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>> {
        let file = File::open(self.path(name)?)?;
        let mut out = vec![0; usize::try_from(len).unwrap_or(usize::MAX)];
        file.read_exact_at(&mut out, offset).map_err(|e| {
            StoreError::Internal(format!("reading blob {name}@{offset}+{len}: {e}"))
        })?;
        Ok(out)
    }

    /// Releases the space of a range whose row is gone.
    pub(crate) fn release(&self, name: &str, offset: u64, len: u64) {
        let Ok(path) = self.path(name) else { return };
        match OpenOptions::new().write(true).open(&path) {
            Ok(f) => punch_hole(&f, offset, len),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot release blob space")
            }
        }
    }

    /// Removes segments older than `min_age` that no row of `conn`'s database
    /// names. Returns how many were removed.
    pub(crate) fn sweep(&self, conn: &Connection, min_age: Duration) -> Result<usize> {
        let entries = match fs::read_dir(&self.root) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e.into()),
        };
        let now = unix_now();
        let mut stmt = conn.prepare_cached("SELECT 1 FROM blobs WHERE file = ?1 LIMIT 1")?;
        let mut removed = 0;
        for entry in entries {
            let name = entry?.file_name().to_string_lossy().into_owned();
            let Some(created) = name
                .split_once('-')
                .and_then(|(c, _)| u64::from_str_radix(c, 16).ok())
            else {
                continue;
            };
            if now.saturating_sub(created) < min_age.as_secs() {
                continue;
            }
            if stmt.query_row([&name], |_| Ok(())).optional()?.is_none()
                && let Ok(path) = self.path(&name)
            {
                match fs::remove_file(&path) {
                    Ok(()) => removed += 1,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(removed)
    }
}

/// A body written to a segment on its way into the database: its space is
/// released when dropped unless kept.
#[derive(Debug)]
pub(crate) struct BlobFile {
    file: Arc<File>,
    name: String,
    offset: u64,
    len: u64,
    keep: bool,
    durable: Arc<Durable>,
}

/// The outcome of a range's data sync, once there is one.
#[derive(Debug, Default)]
struct Durable {
    outcome: Mutex<Option<std::result::Result<(), String>>>,
    done: Condvar,
}

impl Durable {
    fn set(&self, r: io::Result<()>) {
        if let Ok(mut outcome) = self.outcome.lock()
            && outcome.is_none()
        {
            *outcome = Some(r.map_err(|e| e.to_string()));
            self.done.notify_all();
        }
    }
}

/// A data sync still to run. Dropped without running (a runtime shutting
/// down drops its queued tasks), it reports failure, so nothing waits for it
/// for ever and no row names bytes that may not be on disk.
struct PendingSync {
    file: Arc<File>,
    durable: Arc<Durable>,
}

impl PendingSync {
    fn run(self) {
        self.durable.set(self.file.sync_data());
    }
}

impl Drop for PendingSync {
    fn drop(&mut self) {
        self.durable
            .set(Err(io::Error::other("the data sync never ran")));
    }
}

impl BlobFile {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Waits until the bytes are on disk; a row may name them only after.
    pub(crate) fn wait_durable(&self) -> Result<()> {
        let poisoned = || StoreError::Internal("blob sync lock poisoned".into());
        let outcome = self.durable.outcome.lock().map_err(|_| poisoned())?;
        let outcome = self
            .durable
            .done
            .wait_while(outcome, |o| o.is_none())
            .map_err(|_| poisoned())?;
        match &*outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) => Err(StoreError::Internal(format!(
                "syncing blob {}@{}: {e}",
                self.name, self.offset
            ))),
            None => Err(poisoned()),
        }
    }

    /// The row naming this range has committed: it stays.
    pub(crate) fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for BlobFile {
    fn drop(&mut self) {
        if !self.keep {
            punch_hole(&self.file, self.offset, self.len);
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// Allocates `len` bytes from `offset` so that later writes there change no
/// file metadata; where the filesystem cannot, writes still work, they only
/// make each sync carry metadata too.
fn allocate(file: &File, offset: u64, len: u64) -> Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        match fallocate(file, FallocateFlags::empty(), offset, len) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::NOSPC) => {
                return Err(io::Error::from(rustix::io::Errno::NOSPC).into());
            }
            Err(_) => {}
        }
    }
    let _ = (file, offset, len);
    Ok(())
}

/// Gives a range's blocks back to the filesystem, keeping the file's size.
fn punch_hole(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        let flags = FallocateFlags::PUNCH_HOLE | FallocateFlags::KEEP_SIZE;
        let len = len.div_ceil(ALIGN) * ALIGN;
        if let Err(e) = fallocate(file, flags, offset, len) {
            tracing::debug!(error = %e, "cannot punch a hole in a blob segment");
        }
    }
    let _ = (file, offset, len);
}

/// The bytes of blob `id`, from the row or from its segment.
pub(crate) fn blob_bytes(conn: &Connection, dir: &BlobDir, id: i64) -> Result<Option<Vec<u8>>> {
    blob_range(conn, dir, id, 0, u64::MAX)
}

/// A blob row: its segment, offset and size, or the bytes asked for when it has none.
type BlobRow = (Option<String>, i64, i64, Option<Vec<u8>>);

/// Up to `len` bytes of blob `id` from `offset`, without reading the rest.
pub(crate) fn blob_range(
    conn: &Connection,
    dir: &BlobDir,
    id: i64,
    offset: u64,
    len: u64,
) -> Result<Option<Vec<u8>>> {
    let row: Option<BlobRow> = conn
        .prepare_cached(
            "SELECT file, COALESCE(file_offset, 0), size, \
               CASE WHEN file IS NULL THEN substr(data, ?2 + 1, ?3) END \
             FROM blobs WHERE id = ?1",
        )?
        .query_row(
            (
                id,
                offset.min(i64::MAX as u64) as i64,
                len.min(i64::MAX as u64) as i64,
            ),
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match row {
        None => Ok(None),
        Some((Some(file), start, size, _)) => {
            let (start, size) = (start.max(0) as u64, size.max(0) as u64);
            let from = offset.min(size);
            let len = len.min(size - from);
            dir.read(&file, start + from, len).map(Some)
        }
        Some((None, _, _, data)) => Ok(Some(data.unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        let dir = BlobDir::for_database(Path::new("/tmp/x/zest.db"));
        assert_eq!(dir.root, Path::new("/tmp/x/zest.db.blobs"));
        for bad in ["../etc/passwd", "ab/../../x", "/abs", "", "a b"] {
            assert!(dir.path(bad).is_err(), "{bad}");
        }
        assert!(dir.path("0123-ff").is_ok());
    }

    #[test]
    fn ranges_share_a_segment_and_read_back() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = BlobDir::for_database(&tmp.path().join("zest.db"));
        let big = vec![b'x'; 300 * 1024];
        let a = dir.write(b"first").unwrap();
        let b = dir.write(&big).unwrap();
        let c = dir.write(b"third bytes").unwrap();
        assert_eq!(a.name(), c.name());
        assert_eq!(a.offset() % ALIGN, 0);
        assert_eq!(c.offset() % ALIGN, 0);
        assert_eq!(dir.read(a.name(), a.offset(), 5).unwrap(), b"first");
        assert_eq!(
            dir.read(b.name(), b.offset(), big.len() as u64).unwrap(),
            big
        );
        assert_eq!(dir.read(c.name(), c.offset() + 6, 5).unwrap(), b"bytes");
        // Reading past what was written is an error, not short data.
        assert!(dir.read(c.name(), c.offset(), 10 * 1024 * 1024).is_err());
        let (name, offset) = (c.name().to_string(), c.offset());
        c.keep();
        drop(b);
        assert_eq!(dir.read(&name, offset, 11).unwrap(), b"third bytes");
        a.keep();
    }

    #[test]
    fn a_range_is_durable_once_its_sync_ran_and_never_before() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = BlobDir::for_database(&tmp.path().join("zest.db"));
        // Outside a runtime the sync runs at once.
        let here = dir.write(b"synced here").unwrap();
        here.wait_durable().unwrap();
        // Inside one it runs on the blocking pool.
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let pooled = rt.block_on(async { dir.write(b"synced on the pool").unwrap() });
        pooled.wait_durable().unwrap();
        // A sync that is dropped unrun reports failure instead of leaving its
        // waiter waiting.
        let unsynced = BlobFile {
            file: here.file.clone(),
            name: here.name.clone(),
            offset: 0,
            len: 0,
            keep: true,
            durable: Arc::new(Durable::default()),
        };
        drop(PendingSync {
            file: unsynced.file.clone(),
            durable: unsynced.durable.clone(),
        });
        let err = unsynced.wait_durable().unwrap_err().to_string();
        assert!(err.contains("never ran"), "{err}");
        here.keep();
        pooled.keep();
    }

    #[test]
    fn sweep_removes_old_segments_no_row_names() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = BlobDir::for_database(&tmp.path().join("zest.db"));
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE blobs (file TEXT)")
            .unwrap();
        let named = dir.write(b"named").unwrap();
        let named_segment = named.name().to_string();
        named.keep();
        conn.execute("INSERT INTO blobs (file) VALUES (?1)", [&named_segment])
            .unwrap();
        // A second segment, whose only range was never committed.
        *dir.active.lock().unwrap() = None;
        let orphan = dir.write(b"orphan").unwrap();
        let orphan_segment = orphan.name().to_string();
        drop(orphan);
        assert_ne!(named_segment, orphan_segment);
        // Young segments are left alone whatever names them.
        assert_eq!(dir.sweep(&conn, ORPHAN_AGE).unwrap(), 0);
        assert_eq!(dir.sweep(&conn, Duration::ZERO).unwrap(), 1);
        assert!(dir.path(&named_segment).unwrap().exists());
        assert!(!dir.path(&orphan_segment).unwrap().exists());
    }
}
