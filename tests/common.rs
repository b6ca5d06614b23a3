//! Helpers shared by the integration tests: where the shared corpus and the model are.

// Skip notes go straight to stderr: libtest captures eprintln!, and a skip must be seen.
use std::io::Write as _;

use std::path::PathBuf;

/// Repository root (the parent of this package).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// `../shared` beside the checkout, or `SYRINX_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("SYRINX_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("..").join("shared"))
}

/// The bird audio corpus, or `None` after printing why the caller skips.
pub fn birdaudio_dir(test: &str) -> Option<PathBuf> {
    let dir = shared_dir().join("birdaudio");
    if dir.join("MANIFEST.csv").is_file() {
        Some(dir)
    } else {
        let _ =
            writeln!(std::io::stderr(),
            "SKIPPED {test}: {} not found (set SYRINX_SHARED_DIR to the folder holding birdaudio/)",
            dir.display()
        );
        None
    }
}
