#!/usr/bin/env python3
"""Random-weight HF model folders of real architectures, for Tern's GPU checks and benchmarks.

    python3 scripts/gpu/make_models.py OUT_DIR [--small] [--large] [--draft] [--gemma] [--gemma-27b] [--fp8]

--small: tiny-llama3 (Llama 3 rope scaling, head_dim 128), tiny-qwen2 (Q/K/V bias, tied
embeddings, head_dim 64) and tiny-qwen3 (Q/K norm), for scripts/gpu/check.py.
--large: llama3-8b, Llama-3-8B's exact shape in bf16 (~16 GB; made on the GPU when there is
one), for scripts/gpu/bench.sh.
--draft: llama3-draft, Llama-3.2-1B's shape (same vocabulary as llama3-8b, ~2.5 GB), the draft
model of scripts/gpu/bench_spec.sh.
--gemma: tiny-gemma3 (head_dim 128, the tensor-core prompt attention) and tiny-gemma3-d256
(head_dim 256 and one KV head, as Gemma 3 270M), both with a 16-token sliding window on five
layers of six (local RoPE base 10000, global 1e6 with linear scaling), for scripts/gpu/check.py.
--gemma-27b: gemma3-27b, Gemma 3 27B's text model in bf16 (~54 GB), for bench.sh --model.
--fp8: FP8 checkpoints of tiny-llama3 and tiny-qwen3 (made first with --small), in the two
layouts vLLM reads: tiny-llama3-fp8 as compressed-tensors' FP8-Dynamic (a scale per output
channel, weight_scale [out, 1]) and tiny-qwen3-fp8 as the "fp8" method with one scale per
tensor; each linear weight quantized by torch (round to nearest even into float8_e4m3fn after
dividing by its scale, max|w| / 448), the rest kept, for scripts/gpu/check.py.
Weights: normal(0, 0.02); norm weights normal(1, 0.1) in the small models (1 in the large;
Gemma stores w of a factor 1 + w, so its norms are normal(0, 0.1) and 0).
Each folder gets a tokenizer.json (byte-level BPE over the whole vocabulary) so that Tern can
load it as it loads any HF folder. Seeded: the same command makes the same weights.
"""
import argparse
import json
import os

import torch
import transformers

import fp8


def bytes_to_unicode():
    """GPT-2's printable stand-ins for the 256 byte values."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    codes = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(printable, codes)}


def write_tokenizer(path, vocab_size, eos_id):
    """A byte-level BPE tokenizer: the 256 byte tokens, then filler pieces up to vocab_size."""
    vocab = {}
    for b, ch in sorted(bytes_to_unicode().items()):
        vocab[ch] = b
    for i in range(256, vocab_size):
        vocab[f"tok{i}"] = i
    eos = "<|end|>"
    assert eos_id >= 256, "the end-of-sequence id must not be a byte token"
    del vocab[f"tok{eos_id}"]
    vocab[eos] = eos_id
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": eos_id, "content": eos, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "ignore_merges": False, "vocab": vocab, "merges": []},
    }
    with open(os.path.join(path, "tokenizer.json"), "w") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(path, "tokenizer_config.json"), "w") as f:
        json.dump({"eos_token": eos, "model_max_length": 8192}, f)


def randomize(model, norm_std, seed, device, norm_mean=1.0):
    generator = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            values = torch.randn(p.shape, generator=generator, dtype=torch.float32, device=device)
            if name.endswith("norm.weight"):
                values = norm_mean + norm_std * values
            else:
                values = 0.02 * values
            p.copy_(values.to(p.device, p.dtype))


def rope(theta, scaling=None):
    """RoPE settings in the spelling of the installed transformers (5.x: rope_parameters)."""
    if int(transformers.__version__.split(".")[0]) >= 5:
        return {"rope_parameters": {"rope_type": "default", "rope_theta": theta, **(scaling or {})}}
    return {"rope_theta": theta, "rope_scaling": scaling}


def gemma3_config(**fields):
    """A Gemma 3 text config: the global layers' RoPE 1e6 scaled linearly by 8, the local ones'
    10000, as the released checkpoints have it."""
    full, local = {"rope_type": "linear", "factor": 8.0, "rope_theta": 1000000.0}, {"rope_type": "default", "rope_theta": 10000.0}
    if int(transformers.__version__.split(".")[0]) >= 5:
        rope_fields = {"rope_parameters": {"full_attention": full, "sliding_attention": local}}
    else:
        rope_fields = {"rope_theta": 1000000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0},
                       "rope_local_base_freq": 10000.0}
    return transformers.Gemma3TextConfig(**fields, **rope_fields)


def make(out, name, config, norm_std, seed, device, norm_mean=1.0):
    path = os.path.join(out, name)
    os.makedirs(path, exist_ok=True)
    torch.manual_seed(seed)
    with torch.device(device):
        try:
            model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        except TypeError:  # transformers 4.x spells it torch_dtype
            model = transformers.AutoModelForCausalLM.from_config(config, torch_dtype=torch.bfloat16)
    randomize(model, norm_std, seed, device, norm_mean)
    model.save_pretrained(path, max_shard_size="5GB")
    write_tokenizer(path, config.vocab_size, config.eos_token_id)
    print(f"wrote {path}: {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M parameters", flush=True)


def make_fp8(out, source, name, per_channel):
    """An FP8 copy of model folder `source` (see --fp8), with its tokenizer."""
    import shutil
    src, path = os.path.join(out, source), os.path.join(out, name)
    fp8.write_checkpoint(src, path, per_channel)
    for file in ("tokenizer.json", "tokenizer_config.json", "generation_config.json"):
        if os.path.exists(os.path.join(src, file)):
            shutil.copy(os.path.join(src, file), path)
    print(f"wrote {path}: FP8 ({'per channel' if per_channel else 'per tensor'})", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--large", action="store_true")
    parser.add_argument("--fp8", action="store_true")
    parser.add_argument("--draft", action="store_true")
    parser.add_argument("--gemma", action="store_true")
    parser.add_argument("--gemma-27b", action="store_true")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.small:
        make(args.out, "tiny-llama3", transformers.LlamaConfig(
            vocab_size=512, hidden_size=512, intermediate_size=1024, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=128, rms_norm_eps=1e-5,
            max_position_embeddings=2048, bos_token_id=510, eos_token_id=511, tie_word_embeddings=False,
            **rope(500000.0, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                              "high_freq_factor": 4.0, "original_max_position_embeddings": 64})), 0.1, 1, "cpu")
        make(args.out, "tiny-qwen2", transformers.Qwen2Config(
            vocab_size=512, hidden_size=256, intermediate_size=768, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=2048,
            bos_token_id=510, eos_token_id=511, tie_word_embeddings=True, **rope(1000000.0)), 0.1, 2, "cpu")
        make(args.out, "tiny-qwen3", transformers.Qwen3Config(
            vocab_size=512, hidden_size=256, intermediate_size=768, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, head_dim=128, rms_norm_eps=1e-6,
            max_position_embeddings=2048, bos_token_id=510, eos_token_id=511, tie_word_embeddings=True,
            **rope(1000000.0)), 0.1, 3, "cpu")
    if args.large:
        make(args.out, "llama3-8b", transformers.LlamaConfig(
            vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
            num_attention_heads=32, num_key_value_heads=8, head_dim=128, rms_norm_eps=1e-5,
            max_position_embeddings=8192, bos_token_id=128000, eos_token_id=128001,
            tie_word_embeddings=False, **rope(500000.0)), 0.0, 4, device)
    if args.draft:
        make(args.out, "llama3-draft", transformers.LlamaConfig(
            vocab_size=128256, hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
            num_attention_heads=32, num_key_value_heads=8, head_dim=64, rms_norm_eps=1e-5,
            max_position_embeddings=8192, bos_token_id=128000, eos_token_id=128001,
            tie_word_embeddings=True, **rope(500000.0)), 0.0, 5, device)
    if args.gemma:
        # Gemma stores its norms as w for a factor (1 + w): normal(0, 0.1) here.
        make(args.out, "tiny-gemma3", gemma3_config(
            vocab_size=512, hidden_size=512, intermediate_size=1024, num_hidden_layers=6,
            num_attention_heads=4, num_key_value_heads=2, head_dim=128, query_pre_attn_scalar=96,
            sliding_window=16, rms_norm_eps=1e-6, max_position_embeddings=2048, bos_token_id=2,
            eos_token_id=511, pad_token_id=0, tie_word_embeddings=True), 0.1, 6, "cpu", norm_mean=0.0)
        make(args.out, "tiny-gemma3-d256", gemma3_config(
            vocab_size=512, hidden_size=256, intermediate_size=768, num_hidden_layers=6,
            num_attention_heads=4, num_key_value_heads=1, head_dim=256, query_pre_attn_scalar=256,
            sliding_window=16, rms_norm_eps=1e-6, max_position_embeddings=2048, bos_token_id=2,
            eos_token_id=511, pad_token_id=0, tie_word_embeddings=True), 0.1, 7, "cpu", norm_mean=0.0)
    if args.gemma_27b:
        make(args.out, "gemma3-27b", gemma3_config(
            vocab_size=262208, hidden_size=5376, intermediate_size=21504, num_hidden_layers=62,
            num_attention_heads=32, num_key_value_heads=16, head_dim=128, query_pre_attn_scalar=168,
            sliding_window=1024, rms_norm_eps=1e-6, max_position_embeddings=131072, bos_token_id=2,
            eos_token_id=262207, pad_token_id=0, tie_word_embeddings=True), 0.0, 8, device, norm_mean=0.0)
    if args.fp8:
        make_fp8(args.out, "tiny-llama3", "tiny-llama3-fp8", per_channel=True)
        make_fp8(args.out, "tiny-qwen3", "tiny-qwen3-fp8", per_channel=False)


if __name__ == "__main__":
    main()
