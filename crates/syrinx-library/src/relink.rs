//! Moved or renamed audio: find it again by content hash ("locate folder...").

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::ingest::{collect_files, hash_file};
use crate::{lock, write, Library};

/// Result of [`Library::relink`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct RelinkReport {
    /// (recording id, old path, new path)
    pub relinked: Vec<(i64, String, String)>,
    /// Recordings still missing after the scan.
    pub still_missing: Vec<String>,
    pub files_scanned: u64,
}

impl Library {
    /// Mark each recording `ok` or `missing` by whether its file exists; returns how many are
    /// missing. Missing recordings stay in the library (searchable), their audio is unavailable.
    pub fn check_files(&self) -> Result<usize> {
        let recs = self.recordings();
        let mut missing = 0;
        let conn = lock(&self.writer);
        let mut changes = Vec::new();
        for r in &recs {
            let status = if r.path.is_file() { "ok" } else { "missing" };
            missing += usize::from(status == "missing");
            if status != r.status {
                conn.execute(
                    "UPDATE recordings SET status = ?1 WHERE id = ?2",
                    params![status, r.id],
                )?;
                changes.push((r.id, status));
            }
        }
        drop(conn);
        let mut st = write(&self.state);
        for (id, s) in changes {
            if let Some(r) = st.recs.get_mut(&id) {
                r.status = s.to_string();
            }
        }
        Ok(missing)
    }

    /// Scan `folder` (recursively) for the audio of recordings whose file is missing, matching by
    /// size then content hash, and point the catalog at the found files.
    pub fn relink(&self, folder: &Path) -> Result<RelinkReport> {
        self.check_files()?;
        let missing: Vec<_> = self
            .recordings()
            .into_iter()
            .filter(|r| r.status == "missing")
            .collect();
        let mut rep = RelinkReport::default();
        if missing.is_empty() {
            return Ok(rep);
        }
        let mut by_size: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, r) in missing.iter().enumerate() {
            by_size.entry(r.size_bytes).or_default().push(i);
        }
        let mut found: HashMap<usize, PathBuf> = HashMap::new();
        let (files, _) = collect_files(&[folder.to_path_buf()]);
        for f in files {
            rep.files_scanned += 1;
            let Ok(meta) = std::fs::metadata(&f) else {
                continue;
            };
            let Some(cands) = by_size.get(&meta.len()) else {
                continue;
            };
            if cands.iter().all(|i| found.contains_key(i)) {
                continue;
            }
            let Ok(h) = hash_file(&f) else { continue };
            for &i in cands {
                if missing[i].content_hash == h && !found.contains_key(&i) {
                    found.insert(i, f.clone());
                }
            }
        }
        let _g = lock(&self.ingest_lock);
        {
            let mut conn = lock(&self.writer);
            let tx = conn.transaction()?;
            for (&i, p) in &found {
                let (stored, rel) = self.store_path(p);
                tx.execute(
                    "UPDATE recordings SET path = ?1, relative = ?2, status = 'ok' WHERE id = ?3",
                    params![stored, rel as i64, missing[i].id],
                )?;
                rep.relinked.push((
                    missing[i].id,
                    missing[i].path.display().to_string(),
                    p.display().to_string(),
                ));
            }
            tx.commit()?;
        }
        for (i, r) in missing.iter().enumerate() {
            if !found.contains_key(&i) {
                rep.still_missing.push(r.path.display().to_string());
            }
        }
        self.reload_state()?;
        drop(_g);
        Ok(rep)
    }
}
