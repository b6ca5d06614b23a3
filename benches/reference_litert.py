#!/usr/bin/env python3
"""Reference path for bench-embed: BirdNET v2.4 TFLite through the LiteRT interpreter (what birdnetlib and
BirdNET-Analyzer run), on the exact windows the Rust side dumped. Prints JSON with windows/s per thread count
and batch size, and saves the embeddings so the Rust side can compare them with its own.

usage: reference_litert.py MODEL.tflite WINDOWS.npy OUT_PREFIX --threads 1 2 --batches 1 16 --repeats 3
"""
import argparse
import json
import statistics
import time

import numpy as np
from ai_edge_litert.interpreter import Interpreter

EMB = "model/GLOBAL_AVG_POOL/Mean"


def run(model, x, threads, batch, keep):
    it = Interpreter(model_path=model, num_threads=threads, experimental_preserve_all_tensors=keep)
    inp = it.get_input_details()[0]["index"]
    emb_idx = next(d["index"] for d in it.get_tensor_details() if d["name"] == EMB) if keep else None
    out = []
    shape = None
    t0 = time.perf_counter()
    for i in range(0, len(x), batch):
        b = x[i : i + batch]
        if shape != b.shape:
            it.resize_tensor_input(inp, list(b.shape))
            it.allocate_tensors()
            shape = b.shape
        it.set_tensor(inp, b)
        it.invoke()
        if keep:
            out.append(it.get_tensor(emb_idx).copy())
    dt = time.perf_counter() - t0
    return dt, (np.concatenate(out) if keep else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("windows")
    ap.add_argument("out_prefix")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    x = np.load(a.windows, mmap_mode="r").astype(np.float32)
    n = len(x)
    # embeddings for the equivalence check (preserving all tensors is slower: not timed)
    _, emb = run(a.model, x, 2, 1, True)
    np.save(a.out_prefix + "_embedding.npy", emb)
    results = []
    for t in a.threads:
        for b in a.batches:
            run(a.model, x[: min(n, 2 * b)], t, b, False)  # warm-up
            times = [run(a.model, x, t, b, False)[0] for _ in range(a.repeats)]
            med = statistics.median(times)
            results.append({"threads": t, "batch": b, "windows": n, "median_s": med, "windows_per_s": n / med})
    print(json.dumps({"engine": "LiteRT (ai-edge-litert) + XNNPACK", "results": results}))


if __name__ == "__main__":
    main()
