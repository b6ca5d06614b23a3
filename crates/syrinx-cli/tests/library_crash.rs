//! Crash safety of `syrinx library ingest`: the real binary is killed with SIGKILL at random moments
//! several times; after each kill the library must reopen consistent (every recording fully present
//! or absent, every window's vector live in the index, no vector referenced twice, counts agree) and
//! nothing committed before may be lost. A final run completes the rest (resumable).

// Skip notes go straight to stderr: libtest captures eprintln!, and a skip must be seen.
use std::io::Write as _;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use syrinx_library::Library;

fn corpus(test: &str) -> Option<PathBuf> {
    let shared = std::env::var_os("SYRINX_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("birdaudio");
    if !dir.join("MANIFEST.csv").is_file() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: {} not found (set SYRINX_SHARED_DIR)",
            dir.display()
        );
        return None;
    }
    if syrinx_embed::ModelPaths::resolve(None, None).is_err() {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: model or ONNX Runtime not installed (run scripts/setup)"
        );
        return None;
    }
    Some(dir)
}

/// Copy the clips of a few species with many recordings, plus bad files.
fn make_input(birdaudio: &Path, dest: &Path, species: &[&str], max_per_species: usize) -> usize {
    let mut rdr = csv::Reader::from_path(birdaudio.join("MANIFEST.csv")).expect("manifest");
    let mut counts = std::collections::HashMap::new();
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.expect("row");
        let (path, sp) = (&rec[0], &rec[5]);
        if !species.contains(&sp) {
            continue;
        }
        let c = counts.entry(sp.to_string()).or_insert(0usize);
        if *c >= max_per_species {
            continue;
        }
        *c += 1;
        let d = dest.join(sp.replace(' ', "_"));
        std::fs::create_dir_all(&d).unwrap();
        let src = birdaudio.join(path);
        let name = format!("{n:03}_{}", src.file_name().unwrap().to_string_lossy());
        std::fs::copy(&src, d.join(name)).expect("copy");
        n += 1;
    }
    std::fs::write(dest.join("empty.wav"), b"").unwrap();
    std::fs::write(
        dest.join("noise.wav"),
        (0..5000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    n
}

struct Lcg(u64);
impl Lcg {
    fn next_f64(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn ingest_cmd(lib: &Path, input: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_syrinx"));
    c.args(["library", "--library"])
        .arg(lib)
        .args([
            "ingest",
            "--threads",
            "1",
            "--commit-windows",
            "6",
            "--commit-secs",
            "0.2",
        ])
        .arg(input)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// Reopen, check the invariant in detail, return the set of (content hash) recordings.
fn check(lib_dir: &Path) -> std::collections::BTreeSet<String> {
    let lib = Library::open(lib_dir).expect("reopen after kill");
    if lib.recovery().orphan_vectors_removed > 0 {
        eprintln!(
            "  recovery removed {} orphan vectors",
            lib.recovery().orphan_vectors_removed
        );
    }
    let rep = lib.verify(false).expect("verify");
    assert!(rep.ok, "inconsistent after kill: {:?}", rep.problems);
    assert_eq!(
        rep.vectors_referenced, rep.index_live,
        "index live vectors == referenced windows"
    );
    let stats = lib.stats().unwrap();
    assert_eq!(stats.recordings as usize, lib.recordings().len());
    for r in lib.recordings() {
        assert_eq!(r.status, "ok");
    }
    lib.recordings()
        .into_iter()
        .map(|r| r.content_hash)
        .collect()
}

#[test]
fn library_survives_sigkill_during_ingest() {
    let Some(birdaudio) = corpus("library_survives_sigkill_during_ingest") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("audio");
    let n_good = make_input(
        &birdaudio,
        &input,
        &["Monk Parakeet", "Long-billed Hermit", "Zebra Finch"],
        60,
    );
    let lib_dir = tmp.path().join("lib");
    let st = Command::new(env!("CARGO_BIN_EXE_syrinx"))
        .args(["library", "--library"])
        .arg(&lib_dir)
        .arg("init")
        .status()
        .unwrap();
    assert!(st.success());

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let mut rng = Lcg(seed);
    let mut previous = std::collections::BTreeSet::new();
    let started = Instant::now();
    let mut kills = 0;
    for round in 0..10 {
        let mut child = ingest_cmd(&lib_dir, &input).spawn().expect("spawn syrinx");
        let delay = Duration::from_secs_f64(0.6 + rng.next_f64() * 1.6);
        std::thread::sleep(delay);
        let exited = child.try_wait().unwrap().is_some();
        if !exited {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        let now = check(&lib_dir);
        assert!(
            previous.is_subset(&now),
            "round {round}: committed recordings were lost"
        );
        eprintln!(
            "round {round}: killed after {delay:?} (exited first: {exited}); {} recordings",
            now.len()
        );
        previous = now;
        if now_len_done(&previous, n_good) {
            break;
        }
    }
    // Resume: a full run completes the rest.
    let status = ingest_cmd(&lib_dir, &input).status().unwrap();
    assert_eq!(status.code(), Some(1), "the bad files make the exit code 1");
    let done = check(&lib_dir);
    assert!(previous.is_subset(&done));
    // duplicates of content in the corpus collapse to one recording
    assert!(
        done.len() <= n_good && done.len() >= n_good * 9 / 10,
        "{} of {n_good} recordings",
        done.len()
    );
    let lib = Library::open(&lib_dir).unwrap();
    let failed = lib.failed_files().unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    eprintln!(
        "{kills} kills, {} recordings, {:.1} s",
        done.len(),
        started.elapsed().as_secs_f64()
    );
    // A repair run changes nothing on a consistent library.
    let rep = lib.verify(true).unwrap();
    assert!(rep.ok && rep.repaired.is_empty(), "{rep:?}");
}

fn now_len_done(s: &std::collections::BTreeSet<String>, n: usize) -> bool {
    s.len() >= n
}
