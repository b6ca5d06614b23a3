//! Generated windows for the benchmark libraries (shared by `bench-app` and `bench-ingest`).

use syrinx_library::ImportedWindow;

/// `n` consecutive 3 s windows (the default hop) carrying the rows of `vectors` (`n` x 1024), with a
/// made-up best species and score that vary with `i` and the file number `k`.
pub fn generated_windows(vectors: &[f32], n: usize, k: u64) -> Vec<ImportedWindow> {
    (0..n)
        .map(|i| ImportedWindow {
            start_s: i as f64 * 3.0,
            end_s: i as f64 * 3.0 + 3.0,
            embedding: Some(vectors[i * 1024..(i + 1) * 1024].to_vec()),
            top: vec![(
                ((i as u64 * 2_654_435_761 + k) % 6522) as u16,
                0.05 + (i % 90) as f32 / 100.0,
            )],
        })
        .collect()
}
