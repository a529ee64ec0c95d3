#!/usr/bin/env bash
# Quantized weights on the GPU beside bf16, in one run, on one model folder (default: the
# Llama-3-8B shape of make_models.py --large):
#   scripts/gpu/bench_quant.sh TERN_BINARY MODEL_DIR [NUM_PROMPTS] [FORMATS]
# For each format of FORMATS (default "bf16 fp8"): batch-1 decode against that format's
# bandwidth floor (bench_decode.sh: 128 in, 256 out, two runs), then offline throughput,
# NUM_PROMPTS (default 1000) random prompts of 512 tokens with 128 out (`tern bench throughput`).
set -euo pipefail
tern=$1
model=$2
prompts=${3:-1000}
formats=${4:-bf16 fp8}
here=$(cd "$(dirname "$0")" && pwd)
for format in $formats; do
    quantization=$([ "$format" = bf16 ] && echo "" || echo "$format")
    flags=()
    [ -n "$quantization" ] && flags=(--quantization "$quantization")
    echo "== $format: batch-1 decode"
    bash "$here/bench_decode.sh" "$tern" "$model" 256 2 "$quantization" | grep -v "^NVIDIA\|^Tesla" || true
    echo "== $format: offline throughput ($prompts prompts, 512 in, 128 out)"
    "$tern" bench throughput "$model" --device cuda --num-prompts "$prompts" --input-len 512 --output-len 128 \
        --max-num-seqs 256 --max-num-batched-tokens 8192 --json ${flags[@]+"${flags[@]}"} 2>/dev/null
done
