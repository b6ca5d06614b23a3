//! Recovery on open and `verify`: the catalog and the index must agree.

use std::collections::HashMap;

use serde::Serialize;

use crate::error::Result;
use crate::{catalog, lock, read, write, Library};

/// What [`Library::open`] repaired.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RecoveryReport {
    /// Index vectors no catalog window referenced (a crash between the index commit and the
    /// catalog commit); they were tombstoned.
    pub orphan_vectors_removed: u64,
    /// Index generation before / after recovery, and the generation the catalog recorded.
    pub index_generation_before: u64,
    pub index_generation_after: u64,
    pub catalog_index_generation: u64,
}

/// Result of [`Library::verify`].
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    pub recordings: u64,
    pub windows: u64,
    pub vectors_referenced: u64,
    pub index_live: u64,
    pub index_id_bound: u64,
    /// Problems found (each one line).
    pub problems: Vec<String>,
    /// What was repaired (with `repair`).
    pub repaired: Vec<String>,
    /// Recordings whose file is not where the catalog says (reported, never dropped).
    pub missing_files: Vec<String>,
    /// Whether the library is consistent now.
    pub ok: bool,
}

impl Library {
    /// Tombstone index vectors the catalog does not reference (crash between steps 2 and 3).
    pub(crate) fn reconcile(&self) -> Result<crate::RecoveryReport> {
        let _g = lock(&self.ingest_lock);
        let cgen = catalog::get_meta(&lock(&self.reader), "index_generation")?
            .and_then(|g| g.parse().ok())
            .unwrap_or(0);
        let st = read(&self.state);
        let mut idx = write(&self.index);
        let before = idx.generation();
        let mut orphans = 0u64;
        for id in 0..idx.id_bound() {
            if !idx.is_deleted(id) && st.win(id).is_none() {
                idx.delete(id)?;
                orphans += 1;
            }
        }
        drop(st);
        let after = if orphans > 0 {
            idx.commit()?
        } else {
            idx.generation()
        };
        drop(idx);
        if after != cgen {
            catalog::set_meta(&lock(&self.writer), "index_generation", &after.to_string())?;
        }
        Ok(RecoveryReport {
            orphan_vectors_removed: orphans,
            index_generation_before: before,
            index_generation_after: after,
            catalog_index_generation: cgen,
        })
    }

    /// Check that catalog and index agree (and the files' checksums); with `repair`, fix what can
    /// be fixed: orphan vectors are tombstoned, recordings whose vectors are gone or whose window
    /// rows are incomplete are removed (re-ingesting restores them). Missing audio files are
    /// reported and marked `missing`, never dropped.
    pub fn verify(&self, repair: bool) -> Result<VerifyReport> {
        let mut rep = VerifyReport::default();
        let mut bad_recs: Vec<i64> = Vec::new();
        {
            let _g = lock(&self.ingest_lock);
            let conn = lock(&self.reader);
            let ic: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if ic != "ok" {
                rep.problems.push(format!("SQLite integrity check: {ic}"));
            }
            let fk: i64 =
                conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if fk > 0 {
                rep.problems.push(format!("{fk} rows violate foreign keys"));
            }
            let idx = read(&self.index);
            if let Err(e) = idx.verify() {
                rep.problems.push(format!("index vector file: {e}"));
            }
            rep.index_live = idx.len() as u64;
            rep.index_id_bound = idx.id_bound() as u64;
            // Recordings fully present: n_windows == window rows.
            let mut q = conn.prepare(
                "SELECT r.id, r.path, r.n_windows, (SELECT COUNT(*) FROM windows w WHERE w.recording_id = r.id)
                 FROM recordings r",
            )?;
            let rows = q.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            for row in rows {
                let (id, path, n, have) = row?;
                rep.recordings += 1;
                if n != have {
                    rep.problems
                        .push(format!("recording {id} ({path}) has {have} of {n} windows"));
                    bad_recs.push(id);
                }
            }
            // Every referenced vector exists, is live, and is referenced once.
            let mut seen: HashMap<i64, i64> = HashMap::new();
            let mut q = conn.prepare("SELECT recording_id, vector_id, silent FROM windows")?;
            let mut rows = q.query([])?;
            while let Some(r) = rows.next()? {
                rep.windows += 1;
                let rec: i64 = r.get(0)?;
                let vid: Option<i64> = r.get(1)?;
                let silent: i64 = r.get(2)?;
                match vid {
                    None if silent == 0 => {
                        rep.problems
                            .push(format!("recording {rec}: a sounding window has no vector"));
                        bad_recs.push(rec);
                    }
                    None => {}
                    Some(v) => {
                        rep.vectors_referenced += 1;
                        if v < 0 || v >= idx.id_bound() as i64 || idx.is_deleted(v as u32) {
                            rep.problems
                                .push(format!("recording {rec}: vector {v} is not in the index"));
                            bad_recs.push(rec);
                        }
                        if let Some(other) = seen.insert(v, rec) {
                            rep.problems.push(format!(
                                "vector {v} referenced twice (recordings {other} and {rec})"
                            ));
                            bad_recs.push(rec);
                        }
                    }
                }
            }
            let orphans = (0..idx.id_bound())
                .filter(|&id| !idx.is_deleted(id) && !seen.contains_key(&(id as i64)))
                .count();
            if orphans > 0 {
                rep.problems.push(format!(
                    "{orphans} index vectors are not referenced by the catalog"
                ));
            }
            let cgen: u64 = catalog::get_meta(&conn, "index_generation")?
                .and_then(|g| g.parse().ok())
                .unwrap_or(0);
            if cgen > idx.generation() {
                rep.problems.push(format!(
                    "catalog recorded index generation {cgen} but the index is at {}",
                    idx.generation()
                ));
            }
        }
        for r in self.recordings() {
            if !r.path.is_file() {
                rep.missing_files.push(r.path.display().to_string());
            }
        }
        if repair {
            bad_recs.sort_unstable();
            bad_recs.dedup();
            if !bad_recs.is_empty() {
                self.remove_recordings(&bad_recs)?;
                rep.repaired.push(format!(
                    "removed {} inconsistent recording(s) (re-ingest to restore)",
                    bad_recs.len()
                ));
            }
            self.reload_state()?;
            let rec = self.reconcile()?;
            if rec.orphan_vectors_removed > 0 {
                rep.repaired.push(format!(
                    "tombstoned {} orphan vector(s)",
                    rec.orphan_vectors_removed
                ));
            }
            let marked = self.check_files()?;
            if marked > 0 {
                rep.repaired
                    .push(format!("marked {marked} recording(s) missing"));
            }
            let again = self.verify(false)?;
            rep.ok = again.problems.is_empty();
        } else {
            rep.ok = rep.problems.is_empty();
        }
        Ok(rep)
    }
}
