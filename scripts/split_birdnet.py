#!/usr/bin/env python3
"""Split the converted BirdNET v2.4 ONNX model into its spectrogram front end and the network behind it.

Usage: split_birdnet.py --dir MODEL_DIR

Reads MODEL_DIR/birdnet_v2.4.onnx (written and verified by convert_birdnet.py) and writes into MODEL_DIR:
  birdnet_v2.4_backbone.onnx  inputs  spec1[batch,511,96], spec2[batch,511,96] float32
                              outputs embedding[batch,1024], logits[batch,6522] (the same tensors as the full model)
  frontend.json               what Syrinx computes in Rust to make spec1/spec2 from a 3 s window:
                              the window's min-max normalisation constants and, per spectrogram, frame length, hop,
                              frame count, the Hann window and the mel filterbank as sparse (bin, band, weight) triples

Why: in the full model the spectrograms are ~55% of the time (profiled with ONNX Runtime 1.31.1, one thread):
framing by Gather, windowing and the folded DFT x mel MatMul all run over a [511 x 2048] float tensor per window.
The model only keeps the REAL part of each RFFT and multiplies it by a mel filterbank; the filterbank uses bins
1-127 of 1025 (2048-point frames) and 11-319 of 513 (1024-point frames). A real FFT plus that sparse product in Rust
is ~5x cheaper than the graph's dense version.

The mel filterbank is recovered exactly from the folded matrix W = C @ M that convert_birdnet.py built (C is the
cosine DFT matrix): C's columns are orthogonal, so M = diag(C^T C)^-1 C^T W, computed in float64.

Verification (fails loudly, writes nothing): a float32 NumPy front end plus the backbone against the full model on
the reference windows and on noise (embedding cosine >= 0.99999), and against the TFLite outputs saved by the
conversion (cosine >= 0.9999, same top-1 species), as required of the full model.
"""
import argparse
import json
import os
import sys

import numpy as np

FULL = "birdnet_v2.4.onnx"
BACKBONE = "birdnet_v2.4_backbone.onnx"
FRONTEND = "frontend.json"
N = 144000
# Tensors of the converted graph (names fixed by tf2onnx for the pinned model and versions).
SPECS = [
    # (input name, folded DFT x mel matrix, its MatMul output, Hann window, frame length, frame step)
    ("spec1", "model/MEL_SPEC1/stft/rfft3_cosdft_mel__108", "model/MEL_SPEC1/stft/rfft3_fused__109:0",
     "model/MEL_SPEC1/stft/hann_window/sub_2", "model/MEL_SPEC1/stft/frame_length", "model/MEL_SPEC1/stft/frame_step"),
    ("spec2", "model/MEL_SPEC2/stft/rfft2_cosdft_mel__104", "model/MEL_SPEC2/stft/rfft2_fused__105:0",
     "model/MEL_SPEC2/stft/hann_window/sub_2", "model/MEL_SPEC2/stft/frame_length", "model/MEL_SPEC2/stft/frame_step"),
]
NORM = {"eps": "model/MEL_SPEC1/add/y", "offset": "model/MEL_SPEC1/Sub_1/y", "scale": "model/MEL_SPEC1/Mul/y"}


def frontend_np(x, fe):
    """The front end exactly as Rust computes it, in float32 (FFT in float64 by NumPy, then rounded)."""
    x = x.astype(np.float32)
    n = fe["normalize"]
    mn = x.min(1, keepdims=True)
    s = x - mn
    s = s / (s.max(1, keepdims=True) + np.float32(n["eps"]))
    s = (s - np.float32(n["offset"])) * np.float32(n["scale"])
    outs = []
    for sp in fe["specs"]:
        L, hop, T, bands = sp["frame_len"], sp["hop"], sp["frames"], sp["bands"]
        idx = np.arange(T)[:, None] * hop + np.arange(L)[None, :]
        fr = s[:, idx] * np.asarray(sp["window"], dtype=np.float32)
        re = np.fft.rfft(fr, axis=-1).real.astype(np.float32)
        m = np.zeros((L // 2 + 1, bands), dtype=np.float32)
        for b, band, w in sp["mel"]:
            m[b, band] = w
        outs.append((re @ m).astype(np.float32))
    return outs


def cosine(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper, utils

    full_path = os.path.join(args.dir, FULL)
    model = onnx.load(full_path)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}

    def const(name):
        if name not in init:
            sys.exit(f"split FAILED: tensor {name} not in {full_path} (not the model convert_birdnet.py writes)")
        return init[name]

    fe = {
        "version": 1,
        "source": FULL,
        "window_samples": N,
        "normalize": {k: float(const(v)) for k, v in NORM.items()},
        "specs": [],
    }
    for name, w_name, _, hann_name, len_name, hop_name in SPECS:
        W = const(w_name).astype(np.float64)  # [frame_len, bands] = C @ M
        L, hop = int(const(len_name)), int(const(hop_name))
        if W.shape[0] != L:
            sys.exit(f"split FAILED: {w_name} has {W.shape[0]} rows, frame length is {L}")
        bins = L // 2 + 1
        n = np.arange(L, dtype=np.float64)[:, None]
        k = np.arange(bins, dtype=np.float64)[None, :]
        C = np.cos(2.0 * np.pi * ((n * k) % L) / L)
        M = (C.T @ W) / (C * C).sum(0)[:, None]
        recon = np.abs(C @ M - W).max()
        if recon > 1e-6 * np.abs(W).max():
            sys.exit(f"split FAILED: {w_name} is not a cosine-DFT x mel product (error {recon})")
        M[np.abs(M) < 1e-5 * np.abs(M).max()] = 0.0
        hann = const(hann_name).astype(np.float32)
        frames = (N - L) // hop + 1
        nz = np.argwhere(M != 0)
        fe["specs"].append({
            "input": name,
            "frame_len": L,
            "hop": hop,
            "frames": int(frames),
            "bands": int(W.shape[1]),
            "window": [float(v) for v in hann],
            "mel": [[int(b), int(m), float(np.float32(M[b, m]))] for b, m in nz],
        })

    tmp = os.path.join(args.dir, BACKBONE + ".tmp")
    utils.extract_model(full_path, tmp, [s[2] for s in SPECS], ["embedding", "logits"])
    bb = onnx.load(tmp)
    rename = {s[2]: s[0] for s in SPECS}
    for node in bb.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
    for vi in bb.graph.input:
        old = vi.name
        vi.name = rename.get(old, old)
        dims = vi.type.tensor_type.shape.dim
        for d, v in zip(dims, ["batch", "frames", None]):
            if v is not None:
                d.ClearField("dim_value")
                d.dim_param = v
    bb.doc_string = model.doc_string + "; the network after the two mel spectrograms (frontend.json makes them)"
    onnx.checker.check_model(bb)
    onnx.save(bb, tmp)

    ref = os.path.join(args.dir, "reference")
    x = np.load(os.path.join(ref, "inputs.npy"))
    rng = np.random.default_rng(7)
    x = np.concatenate([x, (rng.normal(0, 0.2, (2, N)) * np.linspace(0.05, 1, N)).astype(np.float32)])
    s_full = ort.InferenceSession(full_path, providers=["CPUExecutionProvider"])
    s_bb = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
    e_full, l_full = s_full.run(["embedding", "logits"], {"audio": x})
    spec1, spec2 = frontend_np(x, fe)
    e_bb, l_bb = s_bb.run(["embedding", "logits"], {"spec1": spec1, "spec2": spec2})
    cos_full = cosine(e_full, e_bb)
    tfl_e = np.load(os.path.join(ref, "tflite_embedding.npy"))
    tfl_l = np.load(os.path.join(ref, "tflite_logits.npy"))
    k = len(tfl_e)
    cos_tfl = cosine(e_bb[:k], tfl_e)
    top1 = bool((l_bb[:k].argmax(1) == tfl_l.argmax(1)).all())
    report = {
        "backbone_vs_full_embedding_cosine_min": float(cos_full.min()),
        "backbone_vs_full_logits_max_abs_diff": float(np.abs(l_full - l_bb).max()),
        "backbone_vs_tflite_embedding_cosine_min": float(cos_tfl.min()),
        "backbone_top1_agrees_with_tflite": top1,
        "mel_nonzeros": [len(s["mel"]) for s in fe["specs"]],
    }
    print(json.dumps(report, indent=2))
    if cos_full.min() < 0.99999 or cos_tfl.min() < 0.9999 or not top1:
        os.remove(tmp)
        sys.exit("split FAILED: front end + backbone do not reproduce the full model")
    fe["verification"] = report
    ftmp = os.path.join(args.dir, FRONTEND + ".tmp")
    with open(ftmp, "w") as f:
        json.dump(fe, f)
    os.replace(tmp, os.path.join(args.dir, BACKBONE))
    os.replace(ftmp, os.path.join(args.dir, FRONTEND))


if __name__ == "__main__":
    main()
