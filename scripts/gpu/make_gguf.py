"""An HF Qwen2 or Llama folder (scripts/gpu/make_models.py --small) as a GGUF file, with the
matrices quantized (Q8_0 by default) by the `gguf` package, so that the GGUF path of Tern's
GPU backend (quantized blocks dequantized to bf16 at load) can be checked like the folders.

    python3 scripts/gpu/make_gguf.py MODEL_DIR OUT.gguf [--type Q8_0|Q4_0|F16]

Llama Q/K rows are permuted as llama.cpp's converter stores them (Tern and transformers undo
it). Tokenizer: the folder's byte-level vocabulary as a `gpt2` GGUF tokenizer with no merges.
Rope scaling is not written, so use a folder without it (tiny-qwen2).
"""
import argparse
import json
import os

import gguf
import numpy as np
import safetensors.torch


def permute(weights, heads):
    """llama.cpp's convert_hf_to_gguf permutation of Q/K rows (interleaved RoPE pairs)."""
    return weights.reshape(heads, 2, weights.shape[0] // heads // 2, *weights.shape[1:]).swapaxes(1, 2) \
        .reshape(weights.shape)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("out")
    parser.add_argument("--type", default="Q8_0")
    args = parser.parse_args()
    config = json.load(open(os.path.join(args.folder, "config.json")))
    architecture = {"Qwen2ForCausalLM": "qwen2", "LlamaForCausalLM": "llama"}[config["architectures"][0]]
    assert not (config.get("rope_scaling") or (config.get("rope_parameters") or {}).get("rope_type", "default")
                != "default"), "rope scaling is not written; use a folder without it"
    path = os.path.join(args.folder, "model.safetensors")
    assert os.path.exists(path), "expects one model.safetensors"
    tensors = {name: t.float().numpy() for name, t in safetensors.torch.load_file(path).items()}
    heads, kv_heads = config["num_attention_heads"], config["num_key_value_heads"]
    hidden = config["hidden_size"]
    head_dim = config.get("head_dim") or hidden // heads
    theta = (config.get("rope_parameters") or {}).get("rope_theta") or config.get("rope_theta", 10000.0)
    writer = gguf.GGUFWriter(args.out, architecture)
    writer.add_name(os.path.basename(os.path.normpath(args.folder)))
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(hidden)
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_rope_freq_base(theta)
    tokenizer = json.load(open(os.path.join(args.folder, "tokenizer.json")))
    vocab = sorted(tokenizer["model"]["vocab"].items(), key=lambda item: item[1])
    assert [i for _, i in vocab] == list(range(config["vocab_size"]))
    special = {t["id"] for t in tokenizer["added_tokens"]}
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    # GGUF BPE tokenizers carry merges (an empty list is not written): one filler piece
    # becomes the merge of "t" and "o". Checks pass token ids, so this changes no logits.
    pieces = [piece for piece, _ in vocab]
    filler = next(i for i, piece in enumerate(pieces) if piece.startswith("tok"))
    pieces[filler] = "to"
    writer.add_token_list(pieces)
    writer.add_token_types([gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for _, i in vocab])
    writer.add_token_merges(["t o"])
    writer.add_eos_token_id(config["eos_token_id"])
    writer.add_bos_token_id(config["bos_token_id"])
    writer.add_add_bos_token(False)
    quant = gguf.GGMLQuantizationType[args.type]
    names = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
             "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"}
    for name, value in sorted(tensors.items()):
        value = value.astype(np.float32)
        if name == "model.embed_tokens.weight":
            target = "token_embd.weight"
        elif name == "model.norm.weight":
            target = "output_norm.weight"
        elif name == "lm_head.weight":
            target = "output.weight"
        else:
            _, _, layer, *rest = name.split(".")
            module, kind = ".".join(rest[:-1]), rest[-1]
            target = f"blk.{layer}.{names[module]}.{kind}"
            if architecture == "llama" and module in ("self_attn.q_proj", "self_attn.k_proj"):
                value = permute(value, heads if module == "self_attn.q_proj" else kv_heads)
        if value.ndim == 2:
            writer.add_tensor(target, gguf.quants.quantize(value, quant), raw_dtype=quant)
        else:
            writer.add_tensor(target, value)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, matrices {args.type})")


if __name__ == "__main__":
    main()
