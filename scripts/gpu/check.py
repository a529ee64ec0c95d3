#!/usr/bin/env python3
"""Checks Tern's logits against HF transformers (float32) on the same random-weight folders.

    python3 scripts/gpu/check.py TERN_BINARY MODEL... [--device cuda] [--compare-device cpu]

MODEL is an HF folder or a .gguf file (HF reads it through the `gguf` package, dequantized;
scripts/gpu/make_gguf.py makes one from a folder). For each model: three token sequences (A; B sharing A's first 33 tokens; C), HF's
teacher-forced logits of each in float32 (on the GPU when there is one; cached in the folder
as reference-logits.f32 with the tokens they are for), and Tern's from `tern debug logits`, which runs them as ragged
batches with a prefix-cache hit, a chunked prefill and a decode. Prints the relative error
||tern - hf|| / ||hf|| over all computed rows, the largest absolute difference and the share
of rows whose argmax agrees; exits 1 if any relative error is above --tolerance.
With --compare-device, Tern's two backends are also compared with each other.

With --quantization fp8, Tern runs with `--quantization fp8` and the reference is HF float32 on
the same weights after the FP8 round trip Tern makes at load (each linear layer's rows divided by
max|row| / 448, rounded to e4m3, multiplied back); the comparison run (--compare-device, which may
then be cuda itself) runs without quantization, so its argmax agreement is FP8's greedy agreement
with Tern's bf16 path. Tern also quantizes the activations per token in prompt steps (W8A8),
which the reference does not, so its error is larger than bf16's: see --tolerance.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import zlib

import numpy as np
import torch
import transformers

import fp8

LENGTHS = (37, 50, 45)
SHARED = 33


def sequences(vocab, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, vocab - 2, LENGTHS[0])
    b = np.concatenate([a[:SHARED], rng.integers(0, vocab - 2, LENGTHS[1] - SHARED)])
    c = rng.integers(0, vocab - 2, LENGTHS[2])
    return [a.tolist(), b.tolist(), c.tolist()]


def cache_paths(model, quantization=None):
    suffix = f"-{quantization}" if quantization else ""
    if model.endswith(".gguf"):
        return model + f".reference-logits{suffix}.f32", model + f".reference-tokens{suffix}.txt"
    return (os.path.join(model, f"reference-logits{suffix}.f32"),
            os.path.join(model, f"reference-tokens{suffix}.txt"))


def fp8_round_trip(model):
    """Every linear layer's weight as Tern holds it with --quantization fp8: from bf16 (as Tern
    uploads it), quantized a row at a time (fp8.quantize), multiplied back."""
    with torch.no_grad():
        for name, module in model.named_modules():
            if isinstance(module, torch.nn.Linear) and name.split(".")[-1] in fp8.LINEARS:
                q, scale = fp8.quantize(module.weight.to(torch.bfloat16))
                module.weight.copy_(q.float() * scale)


def vocabulary(model):
    if not model.endswith(".gguf"):
        return transformers.AutoConfig.from_pretrained(model).vocab_size
    try:
        import gguf
        return len(gguf.GGUFReader(model).fields["tokenizer.ggml.tokens"].data)
    except ImportError:  # no gguf package: the cached reference tells
        path, tokens_path = cache_paths(model)
        total = sum(len(line.split()) for line in open(tokens_path))
        return os.path.getsize(path) // 4 // total


def load_dequantized(folder, config):
    """An FP8 checkpoint (make_models.py --fp8) in float32: each F8_E4M3 weight times its
    weight_scale, into the model its config describes without the quantization_config."""
    from safetensors.torch import load_file
    config = {k: v for k, v in config.items() if k != "quantization_config"}
    model_config = transformers.AutoConfig.for_model(config.pop("model_type"), **config)
    model = transformers.AutoModelForCausalLM.from_config(model_config, dtype=torch.float32)
    stored = {}
    for file in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        stored.update(load_file(file))
    state = fp8.dequantized(stored)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k == "lm_head.weight" for k in missing), (missing, unexpected)
    model.tie_weights()
    return model


def load_float32(model):
    config_path = os.path.join(model, "config.json")
    if os.path.exists(config_path):
        config = json.load(open(config_path))
        if "quantization_config" in config:
            return load_dequantized(model, config)
    if model.endswith(".gguf"):
        return transformers.AutoModelForCausalLM.from_pretrained(
            os.path.dirname(os.path.abspath(model)), gguf_file=os.path.basename(model), dtype=torch.float32)
    try:
        return transformers.AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    except TypeError:
        return transformers.AutoModelForCausalLM.from_pretrained(model, torch_dtype=torch.float32)


def reference(folder, seqs, vocab, quantization=None):
    path, tokens_path = cache_paths(folder, quantization)
    tokens = "\n".join(" ".join(map(str, s)) for s in seqs) + "\n"
    if os.path.exists(path) and os.path.exists(tokens_path) and open(tokens_path).read() == tokens:
        return np.fromfile(path, dtype=np.float32).reshape(-1, vocab)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load_float32(folder).to(device).eval()
    if quantization == "fp8":
        fp8_round_trip(model)
    rows = []
    with torch.no_grad():
        for seq in seqs:
            ids = torch.tensor([seq], device=device)
            rows.append(model(ids).logits[0].float().cpu().numpy())
    logits = np.concatenate(rows).astype(np.float32)
    logits.tofile(path)
    with open(tokens_path, "w") as f:
        f.write(tokens)
    return logits


def tern(binary, folder, seqs, device, workdir, quantization=None):
    tokens = os.path.join(workdir, "tokens.txt")
    with open(tokens, "w") as f:
        f.write("\n".join(" ".join(map(str, s)) for s in seqs) + "\n")
    out = os.path.join(workdir, f"tern-{device}{'-' + quantization if quantization else ''}.f32")
    flags = ["--quantization", quantization] if quantization else []
    subprocess.run([binary, "debug", "logits", folder, "--device", device, "--tokens", tokens, "--out", out,
                    "--log-level", "info"] + flags, check=True)
    return np.fromfile(out, dtype=np.float32)


def compare(name, got, want):
    computed = ~np.isnan(got).any(axis=1)
    g, w = got[computed].astype(np.float64), want[computed].astype(np.float64)
    relative = np.linalg.norm(g - w) / np.linalg.norm(w)
    largest = np.abs(g - w).max()
    agree = (g.argmax(axis=1) == w.argmax(axis=1)).mean()
    print(f"{name}: {computed.sum()} rows, relative error {relative:.2e}, max |diff| {largest:.3e}, "
          f"argmax agreement {agree:.1%}", flush=True)
    return relative


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("folders", nargs="+")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--compare-device")
    parser.add_argument("--quantization", choices=["fp8"])
    parser.add_argument("--tolerance", type=float, default=2e-2)
    args = parser.parse_args()
    worst = 0.0
    for folder in args.folders:
        name = os.path.basename(os.path.normpath(folder))
        vocab = vocabulary(folder)
        seqs = sequences(vocab, zlib.crc32(name.encode()))
        want = reference(folder, seqs, vocab, args.quantization)
        workdir = folder + ".check" if folder.endswith(".gguf") else os.path.join(folder, "check")
        os.makedirs(workdir, exist_ok=True)
        q = args.quantization
        label = f"--device {args.device}" + (f" --quantization {q}" if q else "")
        got = tern(args.binary, folder, seqs, args.device, workdir, q).reshape(-1, vocab)
        worst = max(worst, compare(f"{name} tern {label} vs HF float32" + (f" ({q} round trip)" if q else ""),
                                   got, want))
        if args.compare_device:
            other = tern(args.binary, folder, seqs, args.compare_device, workdir).reshape(-1, vocab)
            compare(f"{name} tern {label} vs --device {args.compare_device}", got, other)
    print(f"worst relative error {worst:.2e} (tolerance {args.tolerance:.0e})")
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
