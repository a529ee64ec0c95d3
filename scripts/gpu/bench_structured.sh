#!/usr/bin/env bash
# What structured outputs cost on the GPU: offline throughput of Llama-3-8B's shape (random
# bf16 weights, made if absent) with every request constrained by a JSON schema, beside the
# same run unconstrained, alternated twice in one process order so that drift shows.
#   scripts/gpu/bench_structured.sh TERN_BINARY MODELS_DIR [NUM_PROMPTS] [OUTPUT_LEN]
# NUM_PROMPTS (default 256) requests of 512 random prompt tokens run at once (--max-num-seqs
# 256), OUTPUT_LEN (default 128) tokens out. The constrained run masks every row on the device
# (tern_apply_token_mask), its masks filled on the host while the forward pass runs; it
# reports the host's mask time per token. Compare output tokens/s: a constrained output may
# end early where its schema does.
set -euo pipefail
tern=$1
models=$2
prompts=${3:-256}
output=${4:-128}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$models/llama3-8b/config.json" ] || python3 "$here/make_models.py" "$models" --large
model=$models/llama3-8b
for round in 1 2; do
    for mode in plain structured; do
        flag=$([ "$mode" = structured ] && echo "--structured" || true)
        echo "round $round, $mode:"
        "$tern" bench throughput "$model" --device cuda --num-prompts "$prompts" --input-len 512 \
            --output-len "$output" --max-num-seqs 256 --max-num-batched-tokens 8192 $flag --json 2>/dev/null
    done
done
