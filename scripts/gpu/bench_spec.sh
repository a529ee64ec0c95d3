#!/usr/bin/env bash
# Speculative decoding on one GPU with Llama-3-8B's shape (random bf16 weights), beside plain
# decoding in the same run.
#   scripts/gpu/bench_spec.sh TERN_BINARY MODELS_DIR [PROMPTS]
# 1. scripts/check_spec.py on an input-copying prompt set (scripts/make_copy_dataset.py, plain
#    text; the models' tokenizer has no merges, so a byte is a token): greedy outputs with
#    n-gram drafts (k = 4, fixed; k = 8, adaptive) and with a draft model (llama3-draft,
#    Llama-3.2-1B's shape, k = 4) against plain decoding, acceptance, batch-1 decode rates.
# 2. random prompts (`tern bench latency`, 128 in, 256 out, greedy): plain and adaptive n-gram,
#    which must not be slower (the policy turns drafting off when it does not pay).
# On the GPU a verification step (several tokens a sequence: cuBLASLt and the prompt attention)
# rounds differently in bf16 from a one-token decode (the GEMV and the split attention), as plain
# decoding of different batch sizes does; random weights give many near-ties, so outputs are
# also accepted where they first differ at one (plain's top two logprobs within 0.1; the plain
# batched-vs-alone differences are printed beside them for comparison).
# Random weights do not copy their prompt: acceptance here is whatever the model's own
# repetitions give, not what a trained model reaches on the same prompts.
set -euo pipefail
tern=$1
models=$2
prompts=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$models/llama3-8b/config.json" ] || python3 "$here/make_models.py" "$models" --large
[ -f "$models/llama3-draft/config.json" ] || python3 "$here/make_models.py" "$models" --draft
python3 "$here/../make_copy_dataset.py" --count "$prompts" --format plain > "$models/copy.jsonl"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
model=$models/llama3-8b
python3 "$here/../check_spec.py" "$tern" "$model" --device cuda --dataset "$models/copy.jsonl" --prompts "$prompts" \
    --max-tokens 256 --tie 0.1 \
    --config '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_min": 2, "prompt_lookup_max": 4, "adaptive": false}' \
    --config '{"method": "ngram", "num_speculative_tokens": 8, "prompt_lookup_min": 2, "prompt_lookup_max": 4}' \
    --config "{\"method\": \"draft_model\", \"model\": \"$models/llama3-draft\", \"num_speculative_tokens\": 4, \"adaptive\": false}" \
    || echo "check_spec.py: some outputs differ (see above)"
for config in "" '{"method": "ngram", "num_speculative_tokens": 8, "prompt_lookup_min": 2, "prompt_lookup_max": 4}'; do
    echo "random prompts, batch 1, 128 in, 256 out, greedy: ${config:-plain}"
    "$tern" bench latency "$model" --device cuda --batch-size 1 --input-len 128 --output-len 256 --temperature 0 \
        --num-iters 3 --num-iters-warmup 1 ${config:+--speculative-config "$config"} 2>/dev/null | grep -E "decode|spec"
done
