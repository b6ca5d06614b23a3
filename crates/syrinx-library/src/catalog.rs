//! The SQLite catalog (WAL): schema, versioned migrations and the queries the engine needs.
//! The catalog is the source of truth; the index only stores vectors under the ids it lists.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction};

use crate::error::Result;
use crate::LibraryError;

/// Latest schema version this build writes.
pub const SCHEMA_VERSION: i64 = 1;

/// Migrations in order; `MIGRATIONS[i]` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE recordings (
    id            INTEGER PRIMARY KEY,
    path          TEXT NOT NULL,          -- relative to the library root when under it, else absolute
    relative      INTEGER NOT NULL,       -- 1 if `path` is relative to the root
    content_hash  TEXT NOT NULL UNIQUE,   -- xxh3-128 of the file bytes, hex
    duration_s    REAL NOT NULL,
    sample_rate   INTEGER NOT NULL,
    channels      INTEGER NOT NULL,
    size_bytes    INTEGER NOT NULL,
    container     TEXT NOT NULL,
    codec         TEXT NOT NULL,
    added_at      INTEGER NOT NULL,       -- unix seconds
    status        TEXT NOT NULL DEFAULT 'ok',  -- ok | missing
    n_windows     INTEGER NOT NULL        -- rows in `windows` for this recording (checked by verify)
);
CREATE INDEX recordings_path ON recordings(path);
CREATE TABLE windows (
    id            INTEGER PRIMARY KEY,
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    start_s       REAL NOT NULL,
    end_s         REAL NOT NULL,
    silent        INTEGER NOT NULL,
    vector_id     INTEGER UNIQUE,         -- NULL for silent windows (not embedded)
    species       INTEGER,                -- best species (label index), NULL if silent
    score         REAL,
    top           TEXT NOT NULL           -- JSON [[species, score], ...]
);
CREATE INDEX windows_rec ON windows(recording_id, start_s);
CREATE INDEX windows_species ON windows(species, score);
CREATE TABLE labels (
    id            INTEGER PRIMARY KEY,
    recording_id  INTEGER NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
    vector_id     INTEGER,                -- the labelled window, or NULL for a time range
    start_s       REAL NOT NULL,
    end_s         REAL NOT NULL,
    label         TEXT NOT NULL,
    verdict       TEXT NOT NULL CHECK (verdict IN ('positive', 'negative', 'unsure')),
    note          TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE INDEX labels_label ON labels(label, verdict);
CREATE INDEX labels_rec ON labels(recording_id, start_s);
CREATE TABLE failed_files (
    path          TEXT PRIMARY KEY,
    reason        TEXT NOT NULL,
    attempted_at  INTEGER NOT NULL
);
"#];

pub(crate) fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Open (creating if `create`) the catalog and bring its schema up to date.
pub(crate) fn open_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // FULL: a committed ingest batch survives power loss, not only a process crash.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Apply pending migrations, each in its own transaction, recorded in `schema_migrations`.
pub(crate) fn migrate(conn: &mut Connection) -> Result<i64> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    if current > SCHEMA_VERSION {
        return Err(LibraryError::SchemaTooNew {
            found: current,
            supported: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations(version, applied_at) VALUES (?1, ?2)",
            params![i as i64 + 1, now_s()],
        )?;
        tx.commit()?;
    }
    Ok(SCHEMA_VERSION)
}

pub(crate) fn get_meta(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

pub(crate) fn set_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// One window about to be written (vector id assigned by the index, or None if silent).
pub(crate) struct NewWindow {
    pub idx: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub silent: bool,
    pub vector_id: Option<u32>,
    pub top: Vec<(u16, f32)>,
}

/// One recording with all its windows.
pub(crate) struct NewRecording {
    pub path: String,
    pub relative: bool,
    pub content_hash: String,
    pub duration_s: f64,
    pub sample_rate: u32,
    pub channels: usize,
    pub size_bytes: u64,
    pub container: String,
    pub codec: String,
    pub windows: Vec<NewWindow>,
}

/// Insert a recording and all its windows inside `tx`; returns the recording id.
pub(crate) fn insert_recording(tx: &Transaction<'_>, rec: &NewRecording) -> Result<i64> {
    tx.execute(
        "INSERT INTO recordings(path, relative, content_hash, duration_s, sample_rate, channels, size_bytes,
                                container, codec, added_at, status, n_windows)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'ok', ?11)",
        params![
            rec.path,
            rec.relative as i64,
            rec.content_hash,
            rec.duration_s,
            rec.sample_rate,
            rec.channels as i64,
            rec.size_bytes as i64,
            rec.container,
            rec.codec,
            now_s(),
            rec.windows.len() as i64
        ],
    )?;
    let rid = tx.last_insert_rowid();
    let mut st = tx.prepare_cached(
        "INSERT INTO windows(recording_id, idx, start_s, end_s, silent, vector_id, species, score, top)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    for w in &rec.windows {
        let best = w.top.first();
        let top = serde_json::to_string(&w.top).unwrap_or_else(|_| "[]".into());
        st.execute(params![
            rid,
            w.idx as i64,
            w.start_s,
            w.end_s,
            w.silent as i64,
            w.vector_id.map(i64::from),
            best.map(|b| b.0 as i64),
            best.map(|b| b.1 as f64),
            top
        ])?;
    }
    tx.execute("DELETE FROM failed_files WHERE path = ?1", [&rec.path])?;
    Ok(rid)
}
