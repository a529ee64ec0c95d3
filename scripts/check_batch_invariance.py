#!/usr/bin/env python3
"""Greedy outputs alone and among others, with and without `--batch-invariant`.

    python3 scripts/check_batch_invariance.py TERN [MODEL] [--device cpu|cuda] [--targets 6]
        [--others 26] [--max-tokens 64] [--modes default,invariant] [--serve-args "--max-model-len 4096"]

For each mode a `tern serve` answers --targets greedy completions one at a time, then the same
targets again, sent at once among --others different prompts (each target twice in that batch,
at its start and at its end). A target is "same" when its token ids are equal in both runs, and
"bit-same" when its logprobs are equal too (the float the server computed, not a rounding of
it). It also prints the batched phase's output tokens/s, the mode's cost. Exits non-zero when a
batch-invariant target is not bit-same.
"""
import argparse
import concurrent.futures
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_process import serve_on_device  # noqa: E402

WORDS = ("river stone cloud market engine letter garden winter violin harbor candle mirror forest "
         "signal copper meadow lantern orbit canyon ribbon thunder pepper glacier saddle").split()


def prompt(seed, words):
    """A deterministic prompt of `words` words."""
    state = seed * 2654435761 % 2**32
    out = []
    for _ in range(words):
        state = (state * 1103515245 + 12345) % 2**31
        out.append(WORDS[state % len(WORDS)])
    return "Write about " + " ".join(out) + "."


def complete(port, model, text, max_tokens):
    body = {"model": model, "prompt": text, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "return_token_ids": True, "logprobs": 0}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=1800) as response:
        choice = json.load(response)["choices"][0]
    return choice["token_ids"], choice["logprobs"]["token_logprobs"]


def run(args, mode):
    extra = args.serve_args.split() + (["--batch-invariant"] if mode == "invariant" else [])
    process, port = serve_on_device(args.tern, args.model, args.device, extra)
    try:
        name = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models"))["data"][0]["id"]
        targets = [prompt(index, 6 + 7 * index % 23) for index in range(args.targets)]
        others = [prompt(1000 + index, 4 + 13 * index % 41) for index in range(args.others)]
        alone = [complete(port, name, text, args.max_tokens) for text in targets]
        batch = targets + others + targets
        started = time.time()
        with concurrent.futures.ThreadPoolExecutor(len(batch)) as pool:
            together = list(pool.map(lambda text: complete(port, name, text, args.max_tokens), batch))
        seconds = time.time() - started
        first, last = together[:args.targets], together[-args.targets:]
        same = sum(a[0] == f[0] and a[0] == l[0] for a, f, l in zip(alone, first, last))
        bit_same = sum(a == f and a == l for a, f, l in zip(alone, first, last))
        rate = len(batch) * args.max_tokens / seconds
        return same, bit_same, rate
    finally:
        process.terminate()
        process.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tern")
    parser.add_argument("model", nargs="?")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--targets", type=int, default=6)
    parser.add_argument("--others", type=int, default=26)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--modes", default="default,invariant")
    parser.add_argument("--serve-args", default="", help="more arguments for tern serve")
    args = parser.parse_args()
    failed = False
    rates = {}
    for mode in args.modes.split(","):
        same, bit_same, rate = run(args, mode)
        rates[mode] = rate
        print(f"{mode:9s}: {same}/{args.targets} targets' tokens equal alone and batched, {bit_same}/{args.targets} "
              f"with equal logprobs; batched phase {rate:.1f} output tokens/s", flush=True)
        failed |= mode == "invariant" and bit_same != args.targets
    if "default" in rates and "invariant" in rates:
        print(f"invariant / default throughput: {rates['invariant'] / rates['default']:.2f}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
