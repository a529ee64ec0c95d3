#!/usr/bin/env bash
# Batch-1 decode of any model folder against its bandwidth floor, measured in the same run.
#   scripts/gpu/bench_decode.sh TERN_BINARY MODEL_DIR [TOKENS] [RUNS] [QUANTIZATION]
# The floor is the GPU's device-to-device copy bandwidth (torch, 4 GiB copied 20 times; a copy
# reads and writes, so bytes moved = 2 x size) over the bytes one decode step must read: every
# weight once (a tied embedding counts once, as the LM head; an untied one's table is read a
# row at a time, so it is left out). Decode: 128 prompt tokens, TOKENS generated (default 256),
# greedy, `tern generate` with CUDA graphs, RUNS runs (default 3; each loads the model anew).
# QUANTIZATION (fp8) runs `--quantization fp8`: the linear layers' weights then count one byte
# each (and a 4-byte scale a row); the embedding, LM head and norms stay as they are.
#   python3 scripts/gpu/make_models.py MODELS --gemma-27b && scripts/gpu/bench_decode.sh TERN MODELS/gemma3-27b
set -euo pipefail
tern=$1
model=$2
tokens=${3:-256}
runs=${4:-3}
quantization=${5:-}
flags=()
[ -n "$quantization" ] && flags=(--quantization "$quantization")
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
bytes=$(python3 - "$model" "$quantization" "$(cd "$(dirname "$0")" && pwd)" <<'PY'
import json, os, struct, sys
folder, quantization = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
import fp8
config = json.load(open(os.path.join(folder, "config.json")))
tied = config.get("tie_word_embeddings", False)
total = 0
for name in sorted(os.listdir(folder)):
    if not name.endswith(".safetensors"):
        continue
    with open(os.path.join(folder, name), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    for tensor, info in header.items():
        if tensor == "__metadata__" or (not tied and tensor.endswith("embed_tokens.weight")):
            continue
        begin, end = info["data_offsets"]
        if quantization == "fp8" and fp8.is_linear_weight(tensor):
            rows, columns = info["shape"]
            total += rows * columns + 4 * rows
            continue
        # Norms are kept in f32 on the GPU, but they are a rounding error of the total.
        total += end - begin
print(total)
PY
)
bandwidth=$(python3 - <<'PY'
import torch
n = 1 << 31  # 4 GiB of bf16
a = torch.empty(n, dtype=torch.bfloat16, device="cuda")
b = torch.empty_like(a)
for _ in range(3):
    b.copy_(a)
torch.cuda.synchronize()
start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
start.record()
for _ in range(20):
    b.copy_(a)
end.record()
torch.cuda.synchronize()
print(2 * 2 * n * 20 / (start.elapsed_time(end) / 1000))
PY
)
echo "format: ${quantization:-bf16}"
python3 -c "print(f'weights read per token: {$bytes / 1e9:.2f} GB; copy bandwidth {$bandwidth / 1e12:.2f} TB/s; floor {$bandwidth / $bytes:.1f} tokens/s')"
prompt=$(python3 -c "print('x' * 128, end='')")
log=$(mktemp)
for run in $(seq 1 "$runs"); do
    # A 4096-token context: the model's own (128k for Gemma 3) is not what batch-1 decode needs.
    if ! "$tern" generate "$model" --device cuda --max-model-len 4096 --prompt "$prompt" --max-tokens "$tokens" \
            ${flags[@]+"${flags[@]}"} 2> "$log" > /dev/null; then
        echo "run $run: tern generate failed:"; tail -5 "$log"; exit 1
    fi
    line=$(grep "tokens/s" "$log" | tail -1)
    rate=$(echo "$line" | grep -oE '[0-9]+(\.[0-9]+)? tokens/s' | tail -1 | cut -d' ' -f1)
    python3 -c "print(f'run $run: {$rate} tokens/s = {100 * $rate * $bytes / $bandwidth:.1f}% of the floor   ($line)')"
done
