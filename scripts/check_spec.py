#!/usr/bin/env python3
"""Speculative decoding through `tern serve`: outputs, acceptance and speed against plain decoding.

    python3 scripts/check_spec.py TERN MODEL --dataset FILE.jsonl [--device cpu|cuda] [--prompts 8]
        [--max-tokens 128] [--config JSON ...] [--draft-config JSON]

For each --config (vLLM's --speculative-config JSON; default: n-gram k=4), a server with it and a
plain server answer the same greedy completions (the dataset's prompts, one at a time, then all
at once): the token ids must be equal, or first differ where the plain run's top two logprobs are
within --tie of each other (a near-tie: on a GPU, a verification step runs other kernels than a
one-token decode, whose bf16 rounding can swap two near-equal logits, as plain decoding's own
batch sizes do). Then it prints, per config, the acceptance from /metrics
and the batch-1 decode rate (output tokens over the time after the first streamed token, median
over the prompts) beside the plain server's. Exits non-zero when outputs differ.
"""
import argparse
import concurrent.futures
import json
import os
import re
import statistics
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_process import serve_on_device  # noqa: E402


def post(port, body, stream=False):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=1200)


def greedy(port, model, prompt, max_tokens):
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "return_token_ids": True}
    with post(port, body) as response:
        return json.load(response)["choices"][0]["token_ids"]


def greedy_with_margins(port, model, prompt, max_tokens):
    """Greedy token ids, and per position the top two (logprob, id) pairs."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "return_token_ids": True, "logprobs": 2, "return_tokens_as_token_ids": True}
    with post(port, body) as response:
        choice = json.load(response)["choices"][0]
    tops = []
    for entry in choice["logprobs"]["top_logprobs"]:
        pairs = sorted(((lp, int(token.split(":", 1)[1])) for token, lp in entry.items()), reverse=True)
        tops.append(pairs)
    return choice["token_ids"], tops


def decode_rate(port, model, prompt, max_tokens):
    """Output tokens per second after the first streamed chunk (batch 1)."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0, "ignore_eos": True,
            "stream": True, "return_token_ids": True}
    first, tokens, last = None, 0, None
    with post(port, body) as response:
        for line in response:
            if not line.startswith(b"data: {"):
                continue
            chunk = json.loads(line[6:])
            ids = chunk["choices"][0].get("token_ids") or [] if chunk.get("choices") else []
            now = time.perf_counter()
            if first is None:
                first, tokens = now, len(ids)
                continue
            tokens += len(ids)
            last = now
    return (tokens - 1) / (last - first) if last and tokens > 1 else 0.0


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    values = {}
    for name in ("num_drafts", "num_draft_tokens", "num_accepted_tokens"):
        match = re.search(rf"spec_decode_{name}_total{{[^}}]*}} (\S+)", text)
        values[name] = float(match.group(1)) if match else 0.0
    return values


def run(tern, model, device, extra, prompts, max_tokens, margins=None):
    """Outputs alone and batched, decode rates, metrics; with `margins` (a list), the alone
    outputs come with their top-two logprobs, appended to it."""
    process, port = serve_on_device(tern, model, device, extra)
    try:
        name = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models"))["data"][0]["id"]
        if margins is None:
            alone = [greedy(port, name, p, max_tokens) for p in prompts]
        else:
            alone = []
            for p in prompts:
                ids, tops = greedy_with_margins(port, name, p, max_tokens)
                alone.append(ids)
                margins.append(tops)
        with concurrent.futures.ThreadPoolExecutor(len(prompts)) as pool:
            together = list(pool.map(lambda p: greedy(port, name, p, max_tokens), prompts))
        rates = [decode_rate(port, name, p, max_tokens) for p in prompts]
        return alone, together, rates, metrics(port)
    finally:
        process.terminate()
        process.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tern")
    parser.add_argument("model")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--config", action="append")
    parser.add_argument("--tie", type=float, default=0.01,
                        help="a first difference where plain's top two logprobs are closer than this is a near-tie")
    args = parser.parse_args()
    with open(args.dataset) as f:
        prompts = [json.loads(line)["prompt"] for line in f if line.strip()][:args.prompts]
    configs = args.config or ['{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_min": 2, "prompt_lookup_max": 4}']
    tops = []
    plain_alone, plain_together, plain_rates, _ = run(args.tern, args.model, args.device, [], prompts, args.max_tokens,
                                                      margins=tops)

    def near_tie(index, output):
        """Whether `output` first leaves plain's output at a near-tie (its token plain's
        runner-up, within --tie); prints the margin either way."""
        plain = plain_alone[index]
        first = next(i for i, (x, y) in enumerate(zip(output + [None], plain + [None])) if x != y)
        if first >= min(len(output), len(plain)):
            return first, None
        pairs = tops[index][first]
        margin = pairs[0][0] - pairs[1][0] if len(pairs) > 1 and pairs[1][1] == output[first] else None
        return first, margin
    plain_rate = statistics.median(plain_rates)
    print(f"plain: batch-1 decode {plain_rate:.1f} tokens/s (median of {len(prompts)} prompts)")
    failed = False
    for config in configs:
        alone, together, rates, m = run(args.tern, args.model, args.device, ["--speculative-config", config], prompts,
                                        args.max_tokens)
        same_alone = sum(a == b for a, b in zip(alone, plain_alone))
        same_together = sum(a == b for a, b in zip(together, plain_alone))
        rate = statistics.median(rates)
        acceptance = m["num_accepted_tokens"] / m["num_draft_tokens"] if m["num_draft_tokens"] else 0.0
        length = 1 + m["num_accepted_tokens"] / m["num_drafts"] if m["num_drafts"] else 0.0
        print(f"{config}\n  greedy outputs equal to plain: {same_alone}/{len(prompts)} alone, "
              f"{same_together}/{len(prompts)} batched; acceptance {acceptance:.3f}, mean accepted length "
              f"{length:.2f}, drafts {m['num_drafts']:.0f}; batch-1 decode {rate:.1f} tokens/s = "
              f"{rate / plain_rate:.2f}x plain")
        ties = 0
        for label, outputs in (("alone", alone), ("batched", together)):
            for index, (a, b) in enumerate(zip(outputs, plain_alone)):
                if a != b:
                    first, margin = near_tie(index, a)
                    tie = margin is not None and margin < args.tie
                    ties += tie
                    failed |= not tie
                    where = (f"plain's runner-up, {margin:.4f} below its choice" if margin is not None
                             else "not plain's runner-up")
                    print(f"  prompt {index} ({label}) first differs at output token {first} of {len(b)}: "
                          f"{where}{' (near-tie)' if tie else ''}")
        print(f"  differences at near-ties (< {args.tie}): {ties} of "
              f"{2 * len(prompts) - same_alone - same_together}")
    batched = sum(a == b for a, b in zip(plain_together, plain_alone))
    print(f"plain batched equal to plain alone: {batched}/{len(prompts)}")
    for index, (a, b) in enumerate(zip(plain_together, plain_alone)):
        if a != b:
            first, margin = near_tie(index, a)
            print(f"  plain prompt {index} batched first differs at output token {first}: "
                  + (f"plain's runner-up, {margin:.4f} below its choice" if margin is not None else "not the runner-up"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
