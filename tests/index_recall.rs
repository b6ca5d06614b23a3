//! Small-scale recall checks of syrinx-index (run in `cargo test`, no timing assertions): 20k
//! BirdNET-like generated vectors from each generator (the mixture, locally much harder than real
//! embeddings, with queries from another seed; the recordings generator, with new windows of base
//! recordings as queries), cosine, recall@10 against exact search must be >= 0.95 at the default
//! effort.

use rayon::prelude::*;
use syrinx_index::synth::{RecordingsModel, SynthModel};
use syrinx_index::{exact_distance, Index, IndexParams, Metric, SearchOptions};

const N: usize = 20_000;
const NQ: usize = 200;
const DIM: usize = 1024;
const K: usize = 10;

fn exact_knn(base: &[f32], q: &[f32], metric: Metric) -> Vec<u32> {
    let mut d: Vec<(f32, u32)> = base
        .chunks_exact(DIM)
        .enumerate()
        .map(|(i, x)| (exact_distance(metric, q, x), i as u32))
        .collect();
    d.select_nth_unstable_by(K, |a, b| a.0.total_cmp(&b.0));
    d.truncate(K);
    d.into_iter().map(|x| x.1).collect()
}

/// Recall@10 at the default effort of an index built (and reopened) over `base`.
fn recall_at_default_effort(base: &[f32], queries: &[f32]) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = IndexParams::new(DIM);
    let mut idx = Index::create(dir.path().join("idx"), params).expect("create");
    idx.insert_batch(base).expect("insert");
    idx.commit().expect("commit");
    let truth: Vec<Vec<u32>> = queries
        .par_chunks_exact(DIM)
        .map(|q| exact_knn(base, q, Metric::Cosine))
        .collect();
    let idx = Index::open(dir.path().join("idx")).expect("reopen");
    let mut hits = 0;
    for (q, t) in queries.chunks_exact(DIM).zip(&truth) {
        let res = idx.search(q, K, &SearchOptions::default()).expect("search");
        assert_eq!(res.len(), K);
        hits += res.iter().filter(|h| t.contains(&h.id)).count();
    }
    hits as f64 / (queries.len() / DIM * K) as f64
}

#[test]
fn recall_at_default_effort_20k() {
    let model = SynthModel::birdnet_like(DIM, 42);
    let recall = recall_at_default_effort(&model.sample(N, 1), &model.sample(NQ, 2));
    eprintln!("mixture: recall@10 at default ef = {recall:.4}");
    assert!(recall >= 0.95, "recall@10 {recall:.4} < 0.95");
}

#[test]
fn recall_at_default_effort_20k_recordings() {
    let model = RecordingsModel::birdnet_like(DIM, 42);
    let (base, _) = model.sample(N, 1);
    let queries = model.sample_queries(NQ, N, 1, 2);
    let recall = recall_at_default_effort(&base, &queries);
    eprintln!("recordings: recall@10 at default ef = {recall:.4}");
    assert!(recall >= 0.95, "recall@10 {recall:.4} < 0.95");
}
