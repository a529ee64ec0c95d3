#!/usr/bin/env bash
# Tern's speed on one GPU with Llama-3-8B's shape (random bf16 weights; ~16 GB), beside HF
# transformers on the same weights in the same run.
#   scripts/gpu/bench.sh TERN_BINARY MODELS_DIR [NUM_PROMPTS] [--no-peers]
# 1. startup to first token, with a cold and then a warm kernel cache;
# 2. batch-1 decode: 128 prompt tokens, 256 generated (greedy), tokens/s from `tern generate`,
#    with CUDA graphs, with --enforce-eager, and with graphs but no programmatic dependent
#    launch (TERN_CUDA_PDL=0); graphs once more at the end, to see the spread;
# 3. offline throughput: NUM_PROMPTS (default 1000) random prompts of 512 tokens, 128 out, EOS
#    ignored (`tern bench throughput`), with the GPU's used memory sampled every 0.5 s by
#    nvidia-smi (it must not grow across the requests);
# 4. the peer: HF transformers batch-1 decode and one batch of 128 prompts (peer_hf.py).
# The model folder's tokenizer has no merges, so each prompt byte is one token.
set -euo pipefail
tern=$1
models=$2
prompts=${3:-1000}
peers=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$models/llama3-8b/config.json" ] || python3 "$here/make_models.py" "$models" --large
model=$models/llama3-8b
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

prompt=$(python3 -c "print('x' * 128, end='')")
export TERN_KERNEL_CACHE=${TERN_KERNEL_CACHE:-$(mktemp -d)}
rm -rf "$TERN_KERNEL_CACHE"
for cache in cold warm; do
    start=$(date +%s.%N)
    "$tern" generate "$model" --device cuda --prompt "$prompt" --max-tokens 1 >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "startup to first token, $cache kernel cache: $(python3 -c "print(f'{$end - $start:.2f}')") s"
done

for mode in "CUDA graphs" "--enforce-eager" "CUDA graphs, TERN_CUDA_PDL=0" "CUDA graphs"; do
    flag=$([ "$mode" = "--enforce-eager" ] && echo "--enforce-eager" || true)
    pdl=$([ "$mode" = "CUDA graphs, TERN_CUDA_PDL=0" ] && echo 0 || echo 1)
    echo "batch-1 decode (128 in, 256 out), $mode:"
    TERN_CUDA_PDL=$pdl "$tern" generate "$model" --device cuda $flag --prompt "$prompt" --max-tokens 256 2>&1 >/dev/null \
        | grep "tokens/s"
done

echo "offline throughput ($prompts prompts, 512 in, 128 out):"
memory_log=$(mktemp)
nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$memory_log" &
sampler=$!
"$tern" bench throughput "$model" --device cuda --num-prompts "$prompts" --input-len 512 --output-len 128 \
    --max-num-seqs 256 --max-num-batched-tokens 8192 --json 2>/dev/null
kill $sampler
python3 - "$memory_log" <<'PY'
import sys
used = [int(line) for line in open(sys.argv[1]) if line.strip().isdigit()]
loaded = [u for u in used if u > max(used) // 2]  # samples after the model and cache were allocated
print(f"GPU memory used during the run (MiB, {len(loaded)} samples after load): first {loaded[0]}, "
      f"max {max(loaded)}, last {loaded[-1]}; growth {max(loaded) - loaded[0]} MiB")
PY

if [ "$peers" != "--no-peers" ]; then
    python3 "$here/peer_hf.py" "$model"
fi
