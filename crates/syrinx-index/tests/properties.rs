//! Property tests: duplicates are found, deleted ids never return, reopen is identical,
//! truncated/corrupted files give errors (never panics or UB), filters are respected.

use std::path::Path;

use proptest::prelude::*;
use syrinx_index::{
    Bitset, Filter, Index, IndexError, IndexParams, Metric, Rerank, SearchOptions, StoreKind,
};

fn params(dim: usize, metric: Metric, store: StoreKind) -> IndexParams {
    let mut p = IndexParams::new(dim);
    p.metric = metric;
    p.m = 8;
    p.ef_construction = 40;
    p.ef_search = 32;
    p.store = store;
    p
}

/// Non-negative data with a few clusters (BirdNET-like in miniature), from a seed.
fn data(n: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 40) as f32 / (1u64 << 24) as f32
    };
    let centres: Vec<f32> = (0..4 * dim).map(|_| next()).collect();
    (0..n)
        .flat_map(|i| {
            let c = (i % 4) * dim;
            (0..dim)
                .map(|j| (centres[c + j] + 0.5 * next() - 0.2).max(0.0) + 1e-3)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn graph_opts<'a>(ef: usize) -> SearchOptions<'a> {
    SearchOptions {
        ef: Some(ef),
        exact_scan_below: Some(0), // force the graph path
        ..Default::default()
    }
}

/// `graph_opts` with an exact distance for every hit.
fn exact_opts<'a>(ef: usize) -> SearchOptions<'a> {
    SearchOptions {
        rerank: Rerank::Exact,
        ..graph_opts(ef)
    }
}

/// Exact distance from `q` to stored row `id` of `v`.
fn exact_to(metric: Metric, q: &[f32], v: &[f32], dim: usize, id: u32) -> f32 {
    syrinx_index::exact_distance(metric, q, &v[id as usize * dim..(id as usize + 1) * dim])
}

fn build(
    dir: &Path,
    n: usize,
    dim: usize,
    seed: u64,
    metric: Metric,
    store: StoreKind,
) -> (Index, Vec<f32>) {
    let v = data(n, dim, seed);
    let mut idx = Index::create(dir, params(dim, metric, store)).expect("create");
    // Two batches: exercises incremental insert and re-centring.
    let half = (n / 3) * dim;
    idx.insert_batch(&v[..half]).expect("insert 1");
    idx.insert_batch(&v[half..]).expect("insert 2");
    idx.commit().expect("commit");
    (idx, v)
}

/// A stored vector queried on the graph and with the default options comes back first
/// (or an identical vector does; under inner product, something at least as good).
fn check_duplicate_found(
    n: usize,
    dim: usize,
    seed: u64,
    pick: prop::sample::Index,
    metric: Metric,
) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let (idx, v) = build(dir.path(), n, dim, seed, metric, StoreKind::F32);
    let i = pick.index(n);
    let q = &v[i * dim..(i + 1) * dim];
    let exact_default = SearchOptions {
        rerank: Rerank::Exact,
        ..Default::default()
    };
    let exact = syrinx_index::exact_distance(metric, q, q);
    let self_d = match metric {
        Metric::Cosine => 0.0,
        _ => exact,
    };
    // The default rerank: hits the codes' bounds place keep their estimate, so the property is
    // checked on the exact distance of the top hit's vector; hits marked exact are exact.
    for opts in [graph_opts(64), SearchOptions::default()] {
        let hits = idx.search(q, 5, &opts).unwrap();
        prop_assert!(!hits.is_empty());
        let top = exact_to(metric, q, &v, dim, hits[0].id);
        prop_assert!(
            hits[0].id == i as u32 || top <= self_d + 1e-3 * (1.0 + self_d.abs()),
            "top {:?} at exact {} self {}",
            hits[0],
            top,
            self_d
        );
        for h in hits.iter().filter(|h| h.exact) {
            let d = exact_to(metric, q, &v, dim, h.id);
            prop_assert!(
                (d - h.distance).abs() <= 1e-4 * (1.0 + d.abs()),
                "{:?} exact {}",
                h,
                d
            );
        }
    }
    for opts in [exact_opts(64), exact_default] {
        let hits = idx.search(q, 5, &opts).unwrap();
        prop_assert!(!hits.is_empty());
        prop_assert!(hits.iter().all(|h| h.exact));
        // The query itself (or an identical vector) is at the top.
        prop_assert!(
            hits[0].distance <= self_d + 1e-3 * (1.0 + self_d.abs()),
            "top {:?} self {}",
            hits[0],
            self_d
        );
        if metric != Metric::InnerProduct {
            prop_assert!(
                hits.iter().any(|h| h.id == i as u32) || hits[0].distance <= 1e-5,
                "self {} not in {:?}",
                i,
                hits
            );
        }
    }
    Ok(())
}

fn idx_deleted_before(id: u32, n: usize, del_frac: f64) -> bool {
    (id as f64 / n as f64) < del_frac && id % 2 == 1
}

fn metric_strategy() -> impl Strategy<Value = Metric> {
    prop_oneof![
        Just(Metric::Cosine),
        Just(Metric::InnerProduct),
        Just(Metric::L2)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn finds_exact_duplicate(n in 50usize..400, dim in 8usize..80, seed in any::<u64>(), pick in any::<prop::sample::Index>(), metric in metric_strategy()) {
        check_duplicate_found(n, dim, seed, pick, metric)?;
    }

    /// The same with dimensions where construction takes its distances from the codes.
    #[test]
    fn finds_exact_duplicate_code_built(n in 50usize..300, dim in 500usize..600, seed in any::<u64>(), pick in any::<prop::sample::Index>(), l2 in any::<bool>()) {
        check_duplicate_found(n, dim, seed, pick, if l2 { Metric::L2 } else { Metric::Cosine })?;
    }

    #[test]
    fn deleted_ids_never_return(n in 50usize..400, dim in 8usize..48, seed in any::<u64>(), del_frac in 0.0f64..0.9) {
        let dir = tempfile::tempdir().unwrap();
        let (mut idx, v) = build(dir.path(), n, dim, seed, Metric::Cosine, StoreKind::F32);
        let ndel = (n as f64 * del_frac) as u32;
        let deleted: Vec<u32> = (0..ndel).map(|i| (i * 7919) % n as u32).collect();
        for &d in &deleted { idx.delete(d).unwrap(); }
        let check = |idx: &Index| -> Result<(), TestCaseError> {
            for qi in (0..n).step_by(7) {
                let q = &v[qi * dim..(qi + 1) * dim];
                for opts in [graph_opts(32), SearchOptions::default()] {
                    for h in idx.search(q, 10, &opts).unwrap() {
                        prop_assert!(!deleted.contains(&h.id), "deleted id {} returned", h.id);
                    }
                }
            }
            Ok(())
        };
        check(&idx)?;
        idx.commit().unwrap();
        let re = Index::open(dir.path()).unwrap();
        prop_assert_eq!(re.len(), idx.len());
        check(&re)?;
    }

    #[test]
    fn a_beam_below_k_still_returns_k_live_hits(n in 50usize..300, dim in 8usize..48, seed in any::<u64>(), del_frac in 0.0f64..0.8, ef in 1usize..10) {
        // The refined walk accepts ef < k (its rerank draws on every node it re-scored); it must
        // still walk until k live nodes were scored, however many are deleted.
        let dir = tempfile::tempdir().unwrap();
        let (mut idx, v) = build(dir.path(), n, dim, seed, Metric::Cosine, StoreKind::F32);
        let ndel = (n as f64 * del_frac) as u32;
        let deleted: Vec<u32> = (0..ndel).map(|i| (i * 7919) % n as u32).collect();
        for &d in &deleted { idx.delete(d).unwrap(); }
        let k = 10;
        for qi in (0..n).step_by(11) {
            let q = &v[qi * dim..(qi + 1) * dim];
            let hits = idx.search(q, k, &graph_opts(ef)).unwrap();
            prop_assert_eq!(hits.len(), k.min(idx.len()), "ef {}: {} hits", ef, hits.len());
            let mut ids: Vec<u32> = hits.iter().map(|h| h.id).collect();
            prop_assert!(hits.windows(2).all(|w| w[0].distance <= w[1].distance), "not sorted");
            ids.sort_unstable();
            ids.dedup();
            prop_assert_eq!(ids.len(), hits.len(), "duplicate ids");
            prop_assert!(ids.iter().all(|id| !deleted.contains(id)), "a deleted id returned");
        }
    }

    #[test]
    fn reorder_keeps_results_under_new_ids(n in 20usize..300, dim in 8usize..64, seed in any::<u64>(), metric in metric_strategy(), del_frac in 0.0f64..0.5) {
        let dir = tempfile::tempdir().unwrap();
        let (mut idx, v) = build(dir.path(), n, dim, seed, metric, StoreKind::F32);
        for id in 0..n as u32 {
            if idx_deleted_before(id, n, del_frac) {
                idx.delete(id).unwrap();
            }
        }
        idx.commit().unwrap();
        let queries: Vec<usize> = (0..n).step_by(7).collect();
        let before: Vec<Vec<syrinx_index::Hit>> = queries
            .iter()
            .map(|&qi| idx.search(&v[qi * dim..(qi + 1) * dim], 11, &graph_opts(24)).unwrap())
            .collect();
        let stored: Vec<Vec<Vec<f32>>> = before
            .iter()
            .map(|b| b.iter().take(2).map(|h| idx.vector(h.id).unwrap()).collect())
            .collect();
        let map = idx.reorder_for_locality().unwrap();
        let mut seen = vec![false; n];
        for &m in &map {
            prop_assert!(!std::mem::replace(&mut seen[m as usize], true), "not a permutation");
        }
        for old in 0..n as u32 {
            prop_assert_eq!(idx.is_deleted(map[old as usize]), idx_deleted_before(old, n, del_frac));
        }
        idx.commit().unwrap();
        let re = Index::open(dir.path()).unwrap();
        re.verify().unwrap();
        for ((b, &qi), old_vs) in before.iter().zip(&queries).zip(&stored) {
            let q = &v[qi * dim..(qi + 1) * dim];
            let after = re.search(q, 11, &graph_opts(24)).unwrap();
            // The same graph walked in the same order: the same vectors at the same distances.
            // Hits are ordered by (distance, id), so vectors at exactly equal distances swap
            // places when their ids do, and which members of a tie straddling the k-th place
            // are kept depends on the ids too. So: the first k distances in order, and the ids
            // of each group of equal distances as a set, except a group that the cut at k
            // splits (the (k+1)-th hit has the k-th distance).
            let k = 10;
            let key = |d: f32, id: u32| (d.to_bits(), id);
            let want: Vec<(u32, u32)> = b.iter().map(|h| key(h.distance, map[h.id as usize])).collect();
            let got: Vec<(u32, u32)> = after.iter().map(|h| key(h.distance, h.id)).collect();
            let dists = |hits: &[(u32, u32)]| hits.iter().take(k).map(|p| p.0).collect::<Vec<_>>();
            prop_assert_eq!(dists(&got), dists(&want));
            let split = want.get(k).filter(|p| Some(p.0) == want.get(k - 1).map(|q| q.0)).map(|p| p.0);
            let groups = |hits: &[(u32, u32)]| -> Vec<(u32, u32)> {
                let mut g: Vec<(u32, u32)> = hits.iter().take(k).copied().filter(|p| Some(p.0) != split).collect();
                g.sort_unstable();
                g
            };
            prop_assert_eq!(groups(&got), groups(&want));
            // And each returned id holds the vector its old id held.
            for (h, old_v) in b.iter().zip(old_vs) {
                let new_v = re.vector(map[h.id as usize]).unwrap();
                prop_assert_eq!(&new_v, old_v);
            }
        }
        // Inserting after a reorder still works and finds the new vector.
        let mut re = re;
        let extra = data(1, dim, seed ^ 0x5555);
        let id = re.insert(&extra).unwrap();
        prop_assert_eq!(id as usize, n);
        if metric != Metric::InnerProduct {
            // (Under inner product a larger vector may beat the query's own copy.)
            prop_assert_eq!(re.search(&extra, 1, &graph_opts(32)).unwrap()[0].id, id);
        }
    }

    #[test]
    fn reopen_gives_identical_results(n in 20usize..300, dim in 8usize..64, seed in any::<u64>(), metric in metric_strategy(), f16 in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let store = if f16 { StoreKind::F16 } else { StoreKind::F32 };
        let (idx, v) = build(dir.path(), n, dim, seed, metric, store);
        let re = Index::open(dir.path()).unwrap();
        re.verify().unwrap();
        prop_assert_eq!(re.generation(), idx.generation());
        for qi in (0..n).step_by(5) {
            let q = &v[qi * dim..(qi + 1) * dim];
            for opts in [graph_opts(24), SearchOptions::default()] {
                prop_assert_eq!(idx.search(q, 10, &opts).unwrap(), re.search(q, 10, &opts).unwrap());
            }
        }
    }

    #[test]
    fn filters_only_return_allowed(n in 50usize..400, dim in 8usize..48, seed in any::<u64>(), modulus in 1u32..40, use_bitset in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let (idx, v) = build(dir.path(), n, dim, seed, Metric::Cosine, StoreKind::F32);
        let allowed = |id: u32| id.is_multiple_of(modulus);
        let bits = Bitset::from_ids(n, (0..n as u32).filter(|&i| allowed(i)));
        let pred = |id: u32| id.is_multiple_of(modulus);
        let filter = if use_bitset { Filter::Bitset(&bits) } else { Filter::Predicate(&pred) };
        for qi in (0..n).step_by(9) {
            let q = &v[qi * dim..(qi + 1) * dim];
            for scan in [Some(0), None, Some(usize::MAX)] {
                let opts = SearchOptions { ef: Some(32), filter: Some(filter), exact_scan_below: scan, ..Default::default() };
                let hits = idx.search(q, 10, &opts).unwrap();
                prop_assert!(!hits.is_empty());
                for h in &hits { prop_assert!(allowed(h.id), "id {} not allowed", h.id); }
            }
        }
    }

    #[test]
    fn corrupted_or_truncated_files_are_detected(seed in any::<u64>(), which in 0usize..5, truncate in any::<bool>(), pos in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let dir = tempfile::tempdir().unwrap();
        let (idx, v) = build(dir.path(), 120, 16, seed, Metric::Cosine, StoreKind::F32);
        let q = &v[..16];
        let before = idx.search(q, 10, &graph_opts(32)).unwrap();
        drop(idx);
        let names: Vec<String> = std::fs::read_dir(dir.path()).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        let prefix = ["MANIFEST", "graph-", "codes-", "vectors-", "excodes-"][which];
        let name = names.iter().find(|s| s.starts_with(prefix)).expect("file").clone();
        let path = dir.path().join(&name);
        let mut bytes = std::fs::read(&path).unwrap();
        prop_assume!(!bytes.is_empty());
        let p = pos.index(bytes.len());
        if truncate { bytes.truncate(p); } else { bytes[p] ^= flip; }
        std::fs::write(&path, &bytes).unwrap();
        match Index::open(dir.path()) {
            Err(e) => {
                // A clear error, naming the problem.
                let msg = e.to_string();
                prop_assert!(matches!(e, IndexError::Corrupt { .. } | IndexError::Checksum { .. } | IndexError::Version { .. }), "unexpected error kind: {msg}");
            }
            Ok(re) => {
                // Only a bit flip in a mapped file (vectors or extended codes, verified on demand),
                // or a byte of the manifest that does not change its meaning, may open.
                if prefix == "vectors-" || prefix == "excodes-" {
                    prop_assert!(!truncate, "truncated mapped file opened");
                    prop_assert!(re.verify().is_err(), "corrupted mapped file passed verify");
                    // Searching a corrupted mapped file must not panic.
                    let _ = re.search(q, 10, &graph_opts(32)).unwrap();
                } else {
                    prop_assert_eq!(prefix, "MANIFEST");
                    prop_assert_eq!(re.search(q, 10, &graph_opts(32)).unwrap(), before);
                }
            }
        }
    }
}

#[test]
fn uncommitted_changes_are_invisible_after_reopen_and_recoverable() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 16;
    let (mut idx, v) = build(dir.path(), 200, dim, 5, Metric::Cosine, StoreKind::F32);
    let g = idx.generation();
    // Simulate a crash after appending (vector file grows) but before commit.
    idx.insert_batch(&data(50, dim, 99)).unwrap();
    idx.delete(3).unwrap();
    drop(idx);
    let mut re = Index::open(dir.path()).unwrap();
    assert_eq!(re.len(), 200);
    assert_eq!(re.generation(), g);
    assert!(!re.is_deleted(3));
    re.verify().unwrap();
    // The stale tail is dropped by the next append.
    let ids = re.insert_batch(&v[..dim * 10]).unwrap();
    assert_eq!(ids, 200..210);
    assert_eq!(re.commit().unwrap(), g + 1);
    let re2 = Index::open(dir.path()).unwrap();
    re2.verify().unwrap();
    assert_eq!(re2.len(), 210);
    let hits = re2.search(&v[..dim], 2, &graph_opts(32)).unwrap();
    assert!(hits.iter().any(|h| h.id == 0 || h.id == 200));
}

#[test]
fn compaction_renumbers_and_keeps_results() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 24;
    let (mut idx, v) = build(dir.path(), 300, dim, 11, Metric::L2, StoreKind::F32);
    for id in (0..300).step_by(3) {
        idx.delete(id).unwrap();
    }
    let map = idx.compact().unwrap();
    assert_eq!(idx.len(), 200);
    assert_eq!(idx.id_bound(), 200);
    idx.commit().unwrap();
    let re = Index::open(dir.path()).unwrap();
    re.verify().unwrap();
    for old in [1u32, 2, 4, 299] {
        let new = map[old as usize].expect("live id mapped");
        let q = &v[old as usize * dim..(old as usize + 1) * dim];
        let hits = re.search(q, 1, &exact_opts(64)).unwrap();
        assert_eq!(hits[0].id, new);
        assert!(hits[0].distance < 1e-4);
        assert_eq!(re.search(q, 1, &graph_opts(64)).unwrap()[0].id, new);
    }
    assert!(map[0].is_none() && map[3].is_none());
    // Old files are gone after the commit.
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(
        files.iter().filter(|f| f.starts_with("vectors-")).count(),
        1,
        "{files:?}"
    );
}

#[test]
fn concurrent_searches() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 32;
    let (idx, v) = build(dir.path(), 400, dim, 3, Metric::Cosine, StoreKind::F32);
    let want: Vec<_> = (0..8)
        .map(|i| {
            idx.search(&v[i * dim..(i + 1) * dim], 5, &graph_opts(32))
                .unwrap()
        })
        .collect();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (idx, v, want) = (&idx, &v, &want);
            s.spawn(move || {
                for r in 0..50 {
                    let i = (t + r) % 8;
                    assert_eq!(
                        idx.search(&v[i * dim..(i + 1) * dim], 5, &graph_opts(32))
                            .unwrap(),
                        want[i]
                    );
                }
            });
        }
    });
}

#[test]
fn errors_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let mut idx = Index::create(dir.path(), params(8, Metric::Cosine, StoreKind::F32)).unwrap();
    assert!(matches!(
        idx.insert(&[1.0; 7]),
        Err(IndexError::Dimension { .. })
    ));
    assert!(matches!(
        idx.insert(&[f32::NAN; 8]),
        Err(IndexError::InvalidVector(_))
    ));
    assert!(matches!(
        idx.insert(&[0.0; 8]),
        Err(IndexError::InvalidVector(_))
    ));
    assert!(matches!(idx.delete(0), Err(IndexError::UnknownId(0))));
    // The finite check rides on the squared norm: a query with a NaN, and under L2 (no
    // normalisation) an infinite component, are still refused as non-finite.
    assert!(matches!(
        idx.search(
            &[1.0, f32::NAN, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
            3,
            &SearchOptions::default()
        ),
        Err(IndexError::InvalidVector(_))
    ));
    let d_l2 = tempfile::tempdir().unwrap();
    let mut l2 = Index::create(d_l2.path(), params(8, Metric::L2, StoreKind::F32)).unwrap();
    let mut inf = [1.0f32; 8];
    inf[3] = f32::INFINITY;
    assert!(matches!(l2.insert(&inf), Err(IndexError::InvalidVector(_))));
    assert!(matches!(
        l2.search(&inf, 3, &SearchOptions::default()),
        Err(IndexError::InvalidVector(_))
    ));
    assert!(l2.is_empty(), "nothing stored by a refused insert");
    assert!(idx
        .search(&[1.0; 8], 3, &SearchOptions::default())
        .unwrap()
        .is_empty());
    assert!(matches!(
        Index::create(dir.path(), params(8, Metric::Cosine, StoreKind::F32)),
        Err(IndexError::AlreadyExists(_))
    ));
    let mut p = params(8, Metric::Cosine, StoreKind::F32);
    p.memory_budget = 1000;
    let d2 = tempfile::tempdir().unwrap();
    let mut small = Index::create(d2.path(), p).unwrap();
    assert!(matches!(
        small.insert_batch(&data(100, 8, 1)),
        Err(IndexError::MemoryBudget { .. })
    ));
    assert!(matches!(
        Index::open(tempfile::tempdir().unwrap().path()),
        Err(IndexError::NotFound(_))
    ));
}

fn files_with(dir: &Path, prefix: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.starts_with(prefix))
        .collect()
}

#[test]
fn an_index_without_extended_codes_keeps_the_old_format_and_works() {
    // Indexes written before extended codes existed have neither `ex_bits` nor `excodes` in
    // their manifest; `ex_bits = 0` writes exactly that format, so this also covers them.
    let dir = tempfile::tempdir().unwrap();
    let dim = 24;
    let v = data(300, dim, 21);
    let mut p = params(dim, Metric::Cosine, StoreKind::F32);
    p.ex_bits = 0;
    let mut idx = Index::create(dir.path(), p).unwrap();
    idx.insert_batch(&v).unwrap();
    idx.commit().unwrap();
    let manifest = std::fs::read_to_string(dir.path().join("MANIFEST.json")).unwrap();
    assert!(!manifest.contains("ex_bits") && !manifest.contains("excodes"));
    assert!(files_with(dir.path(), "excodes-").is_empty());
    assert_eq!(idx.memory_report().mapped_excode_bytes, 0);
    let before = idx.search(&v[..dim], 5, &graph_opts(32)).unwrap();
    drop(idx);
    let re = Index::open(dir.path()).unwrap();
    re.verify().unwrap();
    assert_eq!(re.params().ex_bits, 0);
    assert_eq!(re.search(&v[..dim], 5, &graph_opts(32)).unwrap(), before);
    assert_eq!(before[0].id, 0);
}

#[test]
fn extended_codes_follow_recentring_and_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 40;
    // `build` inserts a third, then the rest: the second batch re-centres and re-encodes all.
    let (mut idx, v) = build(dir.path(), 300, dim, 3, Metric::Cosine, StoreKind::F32);
    assert_eq!(idx.params().ex_bits, 4);
    assert_eq!(files_with(dir.path(), "excodes-").len(), 1);
    let rb = 64 / 2 + 8; // padded dimension 64
    assert_eq!(idx.memory_report().mapped_excode_bytes, 300 * rb as u64);
    for id in [0u32, 150, 299] {
        let q = &v[id as usize * dim..(id as usize + 1) * dim];
        let hits = idx.search(q, 3, &graph_opts(32)).unwrap();
        assert_eq!(hits[0].id, id);
    }
    for id in (0..300).step_by(2) {
        idx.delete(id).unwrap();
    }
    let map = idx.compact().unwrap();
    idx.commit().unwrap();
    assert_eq!(files_with(dir.path(), "excodes-").len(), 1);
    let re = Index::open(dir.path()).unwrap();
    re.verify().unwrap();
    assert_eq!(re.memory_report().mapped_excode_bytes, 150 * rb as u64);
    for old in [1u32, 151, 299] {
        let q = &v[old as usize * dim..(old as usize + 1) * dim];
        let hits = re.search(q, 3, &exact_opts(32)).unwrap();
        assert_eq!(Some(hits[0].id), map[old as usize]);
        assert!(hits[0].distance < 1e-4);
        assert_eq!(
            Some(re.search(q, 3, &graph_opts(32)).unwrap()[0].id),
            map[old as usize]
        );
    }
}

#[test]
fn extended_codes_agree_with_exact_search() {
    // Same data, with and without extended codes: the hits (exact distances) agree on nearly
    // every query, since both re-score the final candidates from the float vectors.
    let dim = 64;
    let v = data(2000, dim, 8);
    let mk = |ex: u8| {
        let dir = tempfile::tempdir().unwrap();
        let mut p = params(dim, Metric::Cosine, StoreKind::F32);
        p.ex_bits = ex;
        let mut idx = Index::create(dir.path(), p).unwrap();
        idx.insert_batch(&v).unwrap();
        (dir, idx)
    };
    let ((_d1, a), (_d2, b)) = (mk(4), mk(0));
    let qs = data(50, dim, 77);
    let (mut same, mut total) = (0, 0);
    for q in qs.chunks_exact(dim) {
        let ha = a.search(q, 10, &exact_opts(64)).unwrap();
        let hb = b.search(q, 10, &exact_opts(64)).unwrap();
        for h in &ha {
            // Distances are exact in both.
            let d = syrinx_index::exact_distance(
                Metric::Cosine,
                q,
                &v[h.id as usize * dim..(h.id as usize + 1) * dim],
            );
            assert!((d - h.distance).abs() < 1e-4, "{d} vs {}", h.distance);
        }
        same += ha
            .iter()
            .filter(|h| hb.iter().any(|x| x.id == h.id))
            .count();
        total += 10;
    }
    assert!(same * 100 >= total * 95, "{same}/{total} hits agree");
}

#[test]
fn default_rerank_places_hits_by_bounds_and_keeps_the_exact_hits() {
    // The default rerank keeps the estimate of hits whose place in the top k the extended codes'
    // error bounds decide, and reads float rows only for the rest: the same hits as the exact
    // rerank, with the same first hit (always exact), estimates close to the exact distances, and
    // fewer rows read.
    let dim = 64;
    let v = data(3000, dim, 5);
    let dir = tempfile::tempdir().unwrap();
    let mut idx = Index::create(dir.path(), params(dim, Metric::Cosine, StoreKind::F32)).unwrap();
    idx.insert_batch(&v).unwrap();
    assert_eq!(idx.params().ex_bits, 4);
    let qs = data(60, dim, 91);
    let (mut same, mut same_first, mut placed, mut reads_b, mut reads_e) = (0, 0, 0, 0, 0);
    for q in qs.chunks_exact(dim) {
        let (hb, cb) = idx.search_counted(q, 10, &graph_opts(64)).unwrap();
        let (he, ce) = idx.search_counted(q, 10, &exact_opts(64)).unwrap();
        reads_b += cb.exact;
        reads_e += ce.exact;
        assert_eq!(hb.len(), 10);
        assert!(
            hb.windows(2).all(|w| w[0].distance <= w[1].distance),
            "not sorted"
        );
        assert!(hb[0].exact, "first hit not re-scored: {:?}", hb[0]);
        same_first += usize::from(hb[0].id == he[0].id || hb[0].distance == he[0].distance);
        for h in &hb {
            let d = exact_to(Metric::Cosine, q, &v, dim, h.id);
            if h.exact {
                assert!((d - h.distance).abs() < 1e-4, "{d} vs {:?}", h);
            } else {
                placed += 1;
                assert!((d - h.distance).abs() < 0.02, "estimate {:?} exact {d}", h);
            }
        }
        let mut ib: Vec<u32> = hb.iter().map(|h| h.id).collect();
        let mut ie: Vec<u32> = he.iter().map(|h| h.id).collect();
        ib.sort_unstable();
        ie.sort_unstable();
        same += usize::from(ib == ie);
    }
    assert!(same >= 58, "{same}/60 queries with the same hits");
    assert!(
        same_first >= 58,
        "{same_first}/60 queries with the same first hit"
    );
    assert!(placed > 0, "no hit was placed by its bounds");
    assert!(
        reads_b < reads_e,
        "rows read: bounded {reads_b}, exact {reads_e}"
    );
}
