"""FP8 (e4m3) as Tern makes and reads it, in one place for make_models.py, check.py and
scripts/make_model_reference.py: which weights are the linear layers, the quantization (each
row, or the whole tensor, divided by max|w| / 448 and rounded by torch into float8_e4m3fn, to
nearest even), and the FP8 checkpoint layouts vLLM reads (compressed-tensors' FP8-Dynamic with a
scale per output channel, weight_scale [out, 1]; the "fp8" method with one scale per tensor)."""
import json
import os

import torch

LINEARS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def is_linear_weight(key):
    return key.endswith(".weight") and key.split(".")[-2] in LINEARS


def quantize(w, per_channel=True):
    """(e4m3 values, f32 scales [rows, 1] or [1]) of weight w [rows, columns]."""
    w = w.float()
    amax = w.abs().amax(dim=1, keepdim=True) if per_channel else w.abs().amax().reshape(1)
    scale = amax.clamp(min=1e-30) / 448.0
    return (w / scale).clamp(-448.0, 448.0).to(torch.float8_e4m3fn), scale.float()


def dequantized(stored):
    """A checkpoint's tensors in float32, each F8_E4M3 weight times its weight_scale (as HF
    would compute it), without the scales."""
    return {key: (value.float() * stored[key + "_scale"].float() if value.dtype == torch.float8_e4m3fn
                  else value.float())
            for key, value in stored.items() if not key.endswith(".weight_scale")}


def quantization_config(per_channel):
    if not per_channel:
        return {"quant_method": "fp8", "activation_scheme": "dynamic"}
    return {"quant_method": "compressed-tensors", "format": "float-quantized", "ignore": ["lm_head"],
            "config_groups": {"group_0": {
                "targets": ["Linear"],
                "weights": {"num_bits": 8, "type": "float", "strategy": "channel", "symmetric": True,
                            "dynamic": False},
                "input_activations": {"num_bits": 8, "type": "float", "strategy": "token", "symmetric": True,
                                      "dynamic": True}}}}


def write_checkpoint(source, folder, per_channel=True):
    """Folder `folder` as an FP8 copy of model folder `source` (its model.safetensors and
    config.json): the linear weights quantized, the rest kept. Returns the tensors written and
    the config."""
    from safetensors.torch import load_file, save_file
    os.makedirs(folder, exist_ok=True)
    stored = {}
    for key, value in load_file(os.path.join(source, "model.safetensors")).items():
        if is_linear_weight(key):
            stored[key], stored[key[:-len("weight")] + "weight_scale"] = quantize(value, per_channel)
        else:
            stored[key] = value
    save_file(stored, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    config = json.load(open(os.path.join(source, "config.json")))
    config["quantization_config"] = quantization_config(per_channel)
    json.dump(config, open(os.path.join(folder, "config.json"), "w"), indent=2)
    return stored, config
