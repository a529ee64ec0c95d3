#!/usr/bin/env python3
"""Writes the seed files of the model-file fuzzer (Tests/ModelsTests/ModelFileFuzzTests.swift).

The same tiny Llama (vocabulary 64, hidden 16, one layer, 2 heads over 1 KV head, random
weights) in both formats Tern reads, each with a 64-token byte-level BPE tokenizer:
  Tests/ModelsTests/Fixtures/fuzz/tiny.gguf        GGUF v3 (gguf-py's GGUFWriter), F32 tensors
  Tests/ModelsTests/Fixtures/fuzz/tiny-hf/         config.json, tokenizer.json, model.safetensors
The fuzzer damages copies of these (metadata values at their type's extremes, truncations,
flipped bytes, overlapping tensors, huge ids) and expects a one-line error naming the file,
or a model that runs. Nothing here is compared numerically.

Run: python3 scripts/make_fuzz_fixtures.py   (needs: pip install gguf numpy safetensors)
"""

import json
from pathlib import Path

import numpy as np
import gguf
from safetensors.numpy import save_file

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ModelsTests" / "Fixtures" / "fuzz"
rng = np.random.default_rng(20261204)

VOCAB, HIDDEN, FFN, HEADS, KV_HEADS, CONTEXT = 64, 16, 32, 2, 1, 64
HEAD_DIM = HIDDEN // HEADS


def byte_alphabet():
    """GPT-2's byte-to-character map (bytes_to_unicode)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


ALPHABET = byte_alphabet()
TEXT_BYTES = b" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345678"
# One merge, so that the BPE has a rule to apply (llama.cpp requires the merges key).
MERGES = [ALPHABET[ord(" ")] + " t"]
TOKENS = ["<|endoftext|>"] + [ALPHABET[b] for b in TEXT_BYTES] + [ALPHABET[ord(" ")] + "t"]
assert len(TOKENS) == VOCAB


def weights():
    def w(*shape):
        return (rng.standard_normal(shape) * 0.2).astype(np.float32)
    return {
        "model.embed_tokens.weight": w(VOCAB, HIDDEN),
        "model.layers.0.input_layernorm.weight": np.ones(HIDDEN, np.float32),
        "model.layers.0.self_attn.q_proj.weight": w(HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.k_proj.weight": w(KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.v_proj.weight": w(KV_HEADS * HEAD_DIM, HIDDEN),
        "model.layers.0.self_attn.o_proj.weight": w(HIDDEN, HEADS * HEAD_DIM),
        "model.layers.0.post_attention_layernorm.weight": np.ones(HIDDEN, np.float32),
        "model.layers.0.mlp.gate_proj.weight": w(FFN, HIDDEN),
        "model.layers.0.mlp.up_proj.weight": w(FFN, HIDDEN),
        "model.layers.0.mlp.down_proj.weight": w(HIDDEN, FFN),
        "model.norm.weight": np.ones(HIDDEN, np.float32),
    }


GGUF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
    "input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
    "self_attn.q_proj.weight": "attn_q.weight", "self_attn.k_proj.weight": "attn_k.weight",
    "self_attn.v_proj.weight": "attn_v.weight", "self_attn.o_proj.weight": "attn_output.weight",
    "mlp.gate_proj.weight": "ffn_gate.weight", "mlp.up_proj.weight": "ffn_up.weight",
    "mlp.down_proj.weight": "ffn_down.weight",
}


def gguf_name(name):
    if name in GGUF_NAMES:
        return GGUF_NAMES[name]
    tail = name.split(".", 3)[3]
    return "blk.0." + GGUF_NAMES[tail]


def write_gguf(tensors):
    writer = gguf.GGUFWriter(str(OUT / "tiny.gguf"), "llama")
    writer.add_name("fuzz-tiny")
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(1)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(VOCAB)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(TOKENS)
    writer.add_token_types([3] + [1] * (VOCAB - 1))
    writer.add_token_merges(MERGES)
    writer.add_bos_token_id(0)
    writer.add_eos_token_id(0)
    writer.add_chat_template("{% for m in messages %}{{ m['content'] }}{% endfor %}")
    for name, value in tensors.items():
        writer.add_tensor(gguf_name(name), value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_hf(tensors):
    folder = OUT / "tiny-hf"
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"))
    (folder / "model.safetensors").chmod(0o644)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
        "hidden_size": HIDDEN, "intermediate_size": FFN, "num_hidden_layers": 1,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM,
        "max_position_embeddings": CONTEXT, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
        "tie_word_embeddings": True, "bos_token_id": 0, "eos_token_id": 0,
    }
    (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    tokenizer = {
        "version": "1.0",
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
                  "vocab": {token: index for index, token in enumerate(TOKENS)}, "merges": MERGES},
    }
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False, indent=1) + "\n")
    (folder / "tokenizer_config.json").write_text(json.dumps({"eos_token": "<|endoftext|>"}) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    tensors = weights()
    write_gguf(tensors)
    write_hf(tensors)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
