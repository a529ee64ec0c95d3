#!/usr/bin/env bash
# Tern's speed on one GPU with Llama-3-8B's shape (random bf16 weights; ~16 GB).
#   scripts/gpu/bench.sh TERN_BINARY MODELS_DIR [NUM_PROMPTS]
# 1. startup to first token, with a cold and then a warm kernel cache;
# 2. batch-1 decode: 128 prompt tokens, 256 generated (greedy), tokens/s from `tern generate`;
# 3. offline throughput: NUM_PROMPTS (default 1000) random prompts of 512 tokens, 128 out, EOS
#    ignored (`tern bench throughput`).
# The model folder's tokenizer has no merges, so each prompt byte is one token.
set -euo pipefail
tern=$1
models=$2
prompts=${3:-1000}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$models/llama3-8b/config.json" ] || python3 "$here/make_models.py" "$models" --large
model=$models/llama3-8b
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

prompt=$(python3 -c "print('x' * 128, end='')")
export TERN_KERNEL_CACHE=${TERN_KERNEL_CACHE:-$(mktemp -d)}
for cache in cold warm; do
    start=$(date +%s.%N)
    "$tern" generate "$model" --device cuda --prompt "$prompt" --max-tokens 1 >/dev/null
    end=$(date +%s.%N)
    echo "startup to first token, $cache kernel cache: $(python3 -c "print(f'{$end - $start:.2f}')") s"
done

echo "batch-1 decode (128 in, 256 out):"
"$tern" generate "$model" --device cuda --prompt "$prompt" --max-tokens 256 --log-level info 2>&1 >/dev/null \
    | grep -E "tokens/s|KV cache|model ready|weights" || true

echo "offline throughput ($prompts prompts, 512 in, 128 out):"
"$tern" bench throughput "$model" --device cuda --num-prompts "$prompts" --input-len 512 --output-len 128 \
    --max-num-seqs 256 --max-num-batched-tokens 8192 --json
