//! Opening SQLite connections with the settings every Zest connection needs.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::error::Result;

/// How long SQLite itself waits for another process's write lock before we
/// retry at our level (see writer.rs).
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) enum Role {
    Writer,
    Reader,
    Checkpointer,
}

pub(crate) fn open(path: &Path, role: Role) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer, and another process can write too.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(64);
    match role {
        Role::Writer => {
            // An acknowledged write (250 to DATA, OK to APPEND) is on disk.
            conn.pragma_update(None, "synchronous", "FULL")?;
            // The WAL keeps its size when it restarts: commits then overwrite
            // blocks it already has, and no commit pays for giving blocks back
            // to the filesystem. The checkpointer keeps it small (checkpoint.rs).
            conn.pragma_update(None, "journal_size_limit", -1)?;
            // The checkpointer thread copies the WAL back (checkpoint.rs), so
            // commits never wait for that copy.
            conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            // A batch of messages fits in the cache without spilling mid-transaction.
            conn.pragma_update(None, "cache_size", -16 * 1024)?;
            // Every kind of write goes through this one connection: keep all
            // their statements parsed.
            conn.set_prepared_statement_cache_capacity(256);
        }
        Role::Reader => {
            conn.pragma_update(None, "query_only", "ON")?;
        }
        Role::Checkpointer => {
            // The main file is written here; FULL makes it durable before the WAL restarts.
            conn.pragma_update(None, "synchronous", "FULL")?;
        }
    }
    Ok(conn)
}
