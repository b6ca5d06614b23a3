#!/usr/bin/env python3
"""Peers for the syrinx-index benchmark: hnswlib, faiss (IndexHNSWFlat) and usearch (f32, f16, i8, b1)
on the SAME vector files and ground truth as `bench-index`, writing rows in the same JSON schema.

  peers_index.py run   --base B.npy --queries Q.npy --gt GT.npy --dataset NAME --json OUT.json
  peers_index.py stats FILE.npy [FILE.npy ...]     # BirdNET statistics side by side
  peers_index.py ratios --dir RESULTS --dataset NAME  # syrinx / each peer at equal recall, per round

Build uses --threads threads (default 2); every search is single-threaded, one query at a time
(the Python call overhead, ~5-10 us per query, is included in the peers' latencies).
Metric: cosine (vectors L2-normalised; the same ground truth as the Rust bench).
"""
import argparse, json, os, sys, tempfile, time

import numpy as np


def hwm_bytes():
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def normalise(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1
    return (x / n).astype(np.float32)


MIN_TIME = 0.0  # set from --min-time: repeat each ef's pass until this many seconds, QPS of the median pass


def timed_passes(one_pass):
    """Run one_pass() (-> its result) until MIN_TIME seconds have passed (at least once);
    return (first pass's result, median pass seconds, number of passes)."""
    times, first = [], None
    start = time.perf_counter()
    while not times or time.perf_counter() - start < MIN_TIME:
        t0 = time.perf_counter()
        out = one_pass()
        times.append(time.perf_counter() - t0)
        if first is None:
            first = out
    times.sort()
    return first, times[len(times) // 2], len(times)


def sweep(name, dataset, search_one, efs, set_ef, queries, gt, k, build_s, index_bytes, note=""):
    rows = []
    # warm-up
    for q in queries[: min(100, len(queries))]:
        search_one(q, k)
    for ef in efs:
        set_ef(ef)
        lat = []

        def one_pass():
            found = []
            for q in queries:
                t = time.perf_counter()
                ids = search_one(q, k)
                lat.append((time.perf_counter() - t) * 1000)
                found.append(ids)
            return found
        found, total, passes = timed_passes(one_pass)
        hits = sum(len(set(int(x) for x in found[i][:k]) & set(int(x) for x in gt[i, :k])) for i in range(len(queries)))
        row = dict(system=name, dataset=dataset, n=0, nq=len(queries), param=f"ef={ef}",
                   recall=hits / (len(queries) * k), qps=len(queries) / total,
                   p50_ms=float(np.percentile(lat, 50)), p99_ms=float(np.percentile(lat, 99)),
                   build_s=build_s, index_bytes=int(index_bytes), hwm_bytes=0,
                   note=(note + "; " if note else "") + f"{passes} pass(es), median")
        print(f"  {name:<40} {row['param']:>8} recall {row['recall']:.4f}  QPS {row['qps']:>8.0f}  "
              f"p50 {row['p50_ms']:.3f} ms  p99 {row['p99_ms']:.3f} ms", flush=True)
        rows.append(row)
    return rows


def sweep_batch(name, dataset, search_all, efs, set_ef, queries, gt, k, build_s, index_bytes):
    """The same sweep with ONE call for all queries (single-threaded): the library's own loop,
    without the per-query Python overhead of `sweep`. No per-query latencies in this mode."""
    rows = []
    search_all(queries[: min(100, len(queries))], k)  # warm-up
    for ef in efs:
        set_ef(ef)
        ids, total, passes = timed_passes(lambda: search_all(queries, k))
        hits = sum(len(set(int(x) for x in ids[i, :k]) & set(int(x) for x in gt[i, :k])) for i in range(len(queries)))
        row = dict(system=name + " (one call)", dataset=dataset, n=0, nq=len(queries), param=f"ef={ef}",
                   recall=hits / (len(queries) * k), qps=len(queries) / total,
                   p50_ms=None, p99_ms=None,
                   build_s=build_s, index_bytes=int(index_bytes), hwm_bytes=0,
                   note="all queries in one call on one thread: no per-query Python overhead, no latencies; "
                        f"{passes} pass(es), median")
        print(f"  {row['system']:<40} {row['param']:>8} recall {row['recall']:.4f}  QPS {row['qps']:>8.0f}", flush=True)
        rows.append(row)
    return rows


def cached_build(cache, key, build, save, load):
    """Build an index, or load it from `cache/key` (with its recorded build time) when present."""
    if cache:
        path = os.path.join(cache, key)
        meta = path + ".json"
        if os.path.exists(path) and os.path.exists(meta):
            idx = load(path)
            with open(meta) as f:
                bs = json.load(f)["build_s"]
            print(f"  loaded {path} (built in {bs:.0f} s)", flush=True)
            return idx, bs
    t = time.perf_counter(); idx = build(); bs = time.perf_counter() - t
    if cache:
        os.makedirs(cache, exist_ok=True)
        save(idx, path)
        with open(meta, "w") as f:
            json.dump({"build_s": bs}, f)
    return idx, bs


def run(args):
    global MIN_TIME
    MIN_TIME = args.min_time
    base = normalise(np.load(args.base, mmap_mode="r")[:])
    queries = normalise(np.load(args.queries))
    gt = np.load(args.gt)
    k, n, d = args.k, base.shape[0], base.shape[1]
    efs = [int(x) for x in args.ef.split(",")]
    libs = args.libs.split(",")
    rows = []
    ids = np.arange(n)
    if "hnswlib" in libs:
        import hnswlib

        def build():
            idx = hnswlib.Index(space="ip", dim=d)  # vectors normalised: ip == cosine
            idx.init_index(max_elements=n, M=16, ef_construction=200, random_seed=100)
            idx.set_num_threads(args.threads)
            idx.add_items(base, ids)
            return idx

        def load(path):
            idx = hnswlib.Index(space="ip", dim=d)
            idx.load_index(path, max_elements=n)
            return idx
        idx, bs = cached_build(args.index_cache, f"hnswlib-{args.dataset}-M16-efc200.bin", build,
                               lambda idx, p: idx.save_index(p), load)
        idx.set_num_threads(1)
        size = n * (8 * 16 + 4 + 4 * d + 8)  # hnswlib's own per-element memory (level 0 + data + label)
        rows += sweep("hnswlib M=16 efC=200", args.dataset, lambda q, k: idx.knn_query(q, k=k)[0][0], efs,
                      lambda ef: idx.set_ef(max(ef, k)), queries, gt, k, bs, size)
        if args.one_call:
            rows += sweep_batch("hnswlib M=16 efC=200", args.dataset, lambda qs, k: idx.knn_query(qs, k=k)[0], efs,
                                lambda ef: idx.set_ef(max(ef, k)), queries, gt, k, bs, size)
        del idx
    if "faiss" in libs:
        import faiss
        faiss.omp_set_num_threads(args.threads)

        def build():
            idx = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
            idx.hnsw.efConstruction = 200
            idx.add(base)
            return idx
        key = f"faiss-{args.dataset}-HNSWFlat-M16-efc200.index"
        idx, bs = cached_build(args.index_cache, key, build,
                               lambda idx, p: faiss.write_index(idx, p), faiss.read_index)
        faiss.omp_set_num_threads(1)
        # Its serialised size (the cached file is that serialisation).
        size = os.path.getsize(os.path.join(args.index_cache, key)) if args.index_cache \
            else len(faiss.serialize_index(idx))
        rows += sweep("faiss HNSWFlat M=16 efC=200", args.dataset, lambda q, k: idx.search(q[None, :], k)[1][0], efs,
                      lambda ef: setattr(idx.hnsw, "efSearch", max(ef, k)), queries, gt, k, bs, size)
        if args.one_call:
            rows += sweep_batch("faiss HNSWFlat M=16 efC=200", args.dataset, lambda qs, k: idx.search(qs, k)[1], efs,
                                lambda ef: setattr(idx.hnsw, "efSearch", max(ef, k)), queries, gt, k, bs, size)
        del idx
    for dt in ("f32", "f16", "i8"):
        if f"usearch-{dt}" not in libs:
            continue
        from usearch.index import Index as UIndex
        idx = UIndex(ndim=d, metric="cos", dtype=dt, connectivity=16, expansion_add=200)
        t = time.perf_counter(); idx.add(ids, base, threads=args.threads); bs = time.perf_counter() - t
        rows += sweep(f"usearch {dt} conn=16 add=200", args.dataset,
                      lambda q, k, idx=idx: idx.search(q, k, threads=1).keys, efs,
                      lambda ef, idx=idx: setattr(idx, "expansion_search", max(ef, k)), queries, gt, k, bs, idx.memory_usage)
        del idx
    if "usearch-b1" in libs:
        from usearch.index import Index as UIndex
        mu = base.mean(0)
        bits = np.packbits((base - mu) > 0, axis=1)
        idx = UIndex(ndim=d, metric="hamming", dtype="b1", connectivity=16, expansion_add=200)
        t = time.perf_counter(); idx.add(ids, bits, threads=args.threads); bs = time.perf_counter() - t
        cand = 16 * k

        def s1(q, k):
            qb = np.packbits((q - mu) > 0)
            c = idx.search(qb, cand, threads=1).keys
            sc = base[c] @ q  # exact cosine rerank
            return c[np.argsort(-sc)[:k]]
        rows += sweep(f"usearch b1 (centred signs) + rerank {cand}", args.dataset, s1, efs,
                      lambda ef: setattr(idx, "expansion_search", max(ef, cand)), queries, gt, k, bs, idx.memory_usage,
                      note="float rerank from RAM")
        del idx
    hwm = hwm_bytes()
    for r in rows:
        r["n"] = n
        r["hwm_bytes"] = hwm
        r["note"] = (r["note"] + "; " if r["note"] else "") + "python process peak includes the loaded base set"
    with open(args.json, "w") as f:
        json.dump(rows, f, indent=1)


def recordings_of(path, n):
    """The recording of each row, where known: `X.csv` (bench-embed dump: a `file` column) or
    `X.recordings.u32` (bench-index gen --generator recordings)."""
    stem = os.path.splitext(path)[0]
    if os.path.exists(stem + ".recordings.u32"):
        r = np.fromfile(stem + ".recordings.u32", dtype="<u4")
        return r if len(r) == n else None
    if os.path.exists(stem + ".csv"):
        import csv
        with open(stem + ".csv") as f:
            names = [row["file"] for row in csv.DictReader(f)]
        if len(names) != n:
            return None
        ids = {}
        return np.array([ids.setdefault(x, len(ids)) for x in names])
    return None


def stats(files):
    out = {}
    for p in files:
        X = np.load(p, mmap_mode="r")
        r = np.random.default_rng(0)
        sel = np.sort(r.choice(len(X), min(len(X), 5000), replace=False))
        X = np.asarray(X[sel], dtype=np.float64)
        i, j = r.integers(0, len(X), 3000), r.integers(0, len(X), 3000)
        nr = np.linalg.norm(X, axis=1)
        cos = ((X[i] * X[j]).sum(1) / (nr[i] * nr[j]))[i != j]
        Xc = X - X.mean(0)
        nc = np.linalg.norm(Xc, axis=1)
        cosc = ((Xc[i] * Xc[j]).sum(1) / (nc[i] * nc[j]))[i != j]
        ev = np.clip(np.linalg.eigvalsh(np.cov(Xc.T))[::-1], 0, None)
        ev = ev / ev.sum()
        out[os.path.basename(p)] = {
            "rows (sampled)": f"{len(X)}", "min": f"{X.min():.3f}", "exact zeros": f"{(X == 0).mean():.1%}",
            "mean": f"{X.mean():.3f}", "L2 norm": f"{nr.mean():.1f} +- {nr.std():.1f}",
            "random-pair cosine raw": f"{cos.mean():.3f}", "... centred": f"{cosc.mean():.3f}",
            "PCA top16/64/256": f"{ev[:16].sum():.0%} / {ev[:64].sum():.0%} / {ev[:256].sum():.0%}",
            "participation ratio": f"{1 / (ev ** 2).sum():.0f}"}
    # Neighbourhoods, at one size for every file (what makes a k-NN search hard is how close the
    # nearest neighbours are relative to everything else, which depends on the sample size):
    # held-out rows as queries against the rest, cosine distance (1 - cos).
    n_eq = min(min(len(np.load(p, mmap_mode="r")) for p in files), 20000)
    for p in files:
        X = np.load(p, mmap_mode="r")
        r = np.random.default_rng(1)
        rec = recordings_of(p, len(X))
        if rec is None:
            sel = r.choice(len(X), n_eq, replace=False)
        else:
            # Whole recordings (in a seeded random order) until n_eq rows: a smaller library, not
            # a thinned one, so that a window's neighbours from its own recording stay in it.
            order = r.permutation(rec.max() + 1)
            rows_of = {}
            for i, x in enumerate(rec):
                rows_of.setdefault(x, []).append(i)
            sel = []
            for x in order:
                sel.extend(rows_of.get(x, []))
                if len(sel) >= n_eq:
                    break
            sel = r.permutation(np.array(sel[:n_eq]))
        nq = min(500, n_eq // 5)
        Q = normalise(np.asarray(X[sel[:nq]], dtype=np.float32)).astype(np.float64)
        B = normalise(np.asarray(X[sel[nq:]], dtype=np.float32)).astype(np.float64)
        D = np.clip(1.0 - Q @ B.T, 0, None)
        Ds = np.sort(D, axis=1)
        med = np.median(D, axis=1)
        k = 20
        e = np.sqrt(2 * Ds[:, :k])  # Euclidean between unit vectors
        lid = -1.0 / np.mean(np.log(np.maximum(e[:, :k - 1], 1e-12) / e[:, k - 1:k]), axis=1)
        o = out[os.path.basename(p)]
        o["neighbourhood sample (base + queries)"] = f"{len(B)} + {nq}"
        o["d(1st NN) / median d"] = f"{np.median(Ds[:, 0] / med):.3f}"
        o["d(10th NN) / median d"] = f"{np.median(Ds[:, 9] / med):.3f}"
        o["gap 10th -> 11th NN (relative)"] = f"{np.median((Ds[:, 10] - Ds[:, 9]) / Ds[:, 9]):.4f}"
        o["local intrinsic dim. (MLE, k=20)"] = f"{np.median(lid):.1f}"
        if rec is not None:
            rq, rb = rec[sel[:nq]], rec[sel[nq:]]
            o10 = np.argsort(D, axis=1)[:, :10]
            o["10 NN from the query's recording"] = f"{(rb[o10] == rq[:, None]).mean():.0%}"
            other = np.sort(np.where(rb[None, :] == rq[:, None], np.inf, D), axis=1)
            o["d(1st NN of another recording) / median d"] = f"{np.median(other[:, 0] / med):.3f}"
        else:
            o["10 NN from the query's recording"] = "-"
            o["d(1st NN of another recording) / median d"] = "-"
    keys = list(next(iter(out.values())).keys())
    names = list(out)
    lines = ["| statistic | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(out[n][k] for n in names) + " |")
    print("\n".join(lines))


def qps_at(points, r):
    """QPS of a system at recall r, on its recall-QPS Pareto front (linear between the two front
    points around r; the fastest point if it already reaches r; None if r is never reached)."""
    front = []
    for rec, q in sorted(points, key=lambda p: (-p[0], -p[1])):
        if not front or q > front[-1][1]:
            front.append((rec, q))
    front.sort()
    if not front or r > front[-1][0]:
        return None
    if r <= front[0][0]:
        return front[0][1]
    for (r0, q0), (r1, q1) in zip(front, front[1:]):
        if r0 <= r <= r1:
            return q0 + (q1 - q0) * (r - r0) / (r1 - r0) if r1 > r0 else max(q0, q1)
    return None


def ratios(args):
    """Equal-recall QPS ratios of syrinx (best of its default refined walk, the refined walk at
    half the error bound and the estimated walk) against each peer system, per round (round 1:
    *.json; round N: *.json-rN). The refined walk with an exact distance for every hit
    (ours-refined-exact, `--rerank exact`) is reported on its own as syrinx-exact."""
    import glob
    targets = [float(t) for t in args.recalls.split(",")]
    rounds = {}
    for path in sorted(glob.glob(os.path.join(args.dir, f"*-{args.dataset}.json*"))):
        if os.path.basename(path).startswith("ours-refined-vectors"):
            continue  # the non-default float re-scoring: over the 2 GB RSS target at 1M
        sfx = path.rsplit(".json", 1)[1]
        rnd = int(sfx[2:]) if sfx.startswith("-r") else 1
        for row in json.load(open(path)):
            base = os.path.basename(path)
            if base.startswith("ours-refined-exact"):
                sysname = "syrinx-exact"
            elif base.startswith("ours-"):
                sysname = "syrinx"
            else:
                sysname = row["system"]
            rounds.setdefault(rnd, {}).setdefault(sysname, []).append((row["recall"], row["qps"]))
    for rnd in sorted(rounds):
        systems = rounds[rnd]
        peers = sorted(s for s in systems if not s.startswith("syrinx"))
        for i, p in enumerate(peers):
            print(f"  peer {i + 1}: {p}")
        for us in [s for s in ("syrinx", "syrinx-exact") if s in systems]:
            print(f"round {rnd} ({args.dataset}): QPS at equal recall, and {us} / peer")
            ratio_rows(systems, us, peers, targets)


def ratio_rows(systems, us, peers, targets):
    """One table of `us` against each peer at the target recalls."""
    print(f"{'recall':>7} {us:>12} " + " ".join(f"{'peer ' + str(i + 1):>28}" for i in range(len(peers))))
    for t in targets:
        ours = qps_at(systems.get(us, []), t)
        cells = []
        for p in peers:
            theirs = qps_at(systems[p], t)
            if theirs is None:
                cells.append(f"{'not reached':>28}")
            elif ours is None:
                cells.append(f"{theirs:>10.0f} {'(syrinx: not reached)':>17}")
            else:
                cells.append(f"{theirs:>10.0f} {ours / theirs:>16.2f}x")
        o = f"{ours:>12.0f}" if ours is not None else f"{'-':>12}"
        print(f"{t:>7} {o} " + " ".join(cells))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True); r.add_argument("--queries", required=True)
    r.add_argument("--gt", required=True); r.add_argument("--dataset", required=True)
    r.add_argument("--json", required=True); r.add_argument("--k", type=int, default=10)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--ef", default="10,16,24,32,48,64,96,128,192,256")
    r.add_argument("--libs", default="hnswlib,faiss,usearch-f32,usearch-f16,usearch-i8,usearch-b1")
    r.add_argument("--index-cache", default=None,
                   help="directory to save built hnswlib/faiss indexes in and load them from (build time kept)")
    r.add_argument("--one-call", action=argparse.BooleanOptionalAction, default=True,
                   help="also sweep hnswlib/faiss with all queries in one single-threaded call")
    r.add_argument("--min-time", type=float, default=0.0,
                   help="repeat each ef's pass over the queries until this many seconds; QPS of the median pass")
    s = sub.add_parser("stats"); s.add_argument("files", nargs="+")
    q = sub.add_parser("ratios", help="equal-recall QPS ratios from a results directory of run_index.sh")
    q.add_argument("--dir", required=True); q.add_argument("--dataset", required=True)
    q.add_argument("--recalls", default="0.95,0.96,0.97,0.98,0.99,0.995,0.999")
    a = ap.parse_args()
    {"run": run, "stats": lambda a: stats(a.files), "ratios": ratios}[a.cmd](a)


if __name__ == "__main__":
    main()
