"""Sampling on the device against its references, through `tern serve`.

    python3 scripts/gpu/check_sampling.py TERN MODEL_DIR [--device cuda] [--samples 2000]

1. Filters: one completion request with n = SAMPLES, max_tokens 1 and temperature 0.8 with
   top_k / top_p / min_p (sampled on the device) and the same request with logprobs = 1
   (which makes Tern sample on the host). Each empirical distribution of the first token's
   text is compared with the distribution HF transformers' float32 logits of the prompt give
   after the same filters (total variation distance).
2. Processors: greedy requests with logit_bias, min_tokens, repetition / presence /
   frequency penalties and bad_words give the same 24 tokens on the device as on the host sampler.
3. Structured outputs (masks applied on the device): greedy requests constrained by a JSON
   schema, a regex, a choice and json_object give the same text on the device as on the host
   sampler (with and without a penalty), and 64 sampled constrained requests in flight together
   with unconstrained ones all follow their constraint.
Exits non-zero when a distance is over 1.25 times what sampling noise alone gives on average
(plus 0.02), or when the greedy tokens differ.
"""
import argparse
import collections
import concurrent.futures
import json
import math
import re
import subprocess
import sys
import time
import urllib.request

import torch
import transformers


def post(port, path, body):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)


def expected_distribution(logits, temperature, top_k, top_p, min_p):
    """The host sampler's filters (vLLM's order) on float64 probabilities."""
    scaled = logits.double() / temperature
    probs = torch.softmax(scaled, dim=-1)
    order = torch.argsort(probs, descending=True)
    keep = torch.zeros_like(probs, dtype=torch.bool)
    ranked = order[:top_k] if top_k > 0 else order
    kept = torch.softmax(scaled[ranked], dim=-1)
    cumulative = torch.cumsum(kept, dim=0)
    cut = int((cumulative < top_p).sum().item()) + 1 if top_p < 1 else len(ranked)
    ranked, kept = ranked[:cut], kept[:cut]
    if min_p > 0:
        ranked = ranked[kept >= min_p * kept[0]]
    keep[ranked] = True
    result = torch.where(keep, probs, torch.zeros_like(probs))
    return result / result.sum()


def sampling_noise(expected, samples):
    """The total variation that sampling alone gives on average: 0.5 * sum of E|p_hat - p|."""
    return 0.5 * sum((2 * p * (1 - p) / (math.pi * samples)) ** 0.5 for p in expected.values())


def total_variation(counts, expected):
    """Between sample counts and expected probabilities, both keyed by the token's text."""
    samples = sum(counts.values())
    keys = set(counts) | set(expected)
    return 0.5 * sum(abs(counts.get(k, 0) / samples - expected.get(k, 0.0)) for k in keys)


PERSON = {"type": "object", "properties": {"name": {"type": "string", "maxLength": 12},
                                           "age": {"type": "integer", "minimum": 0, "maximum": 120}},
          "required": ["name", "age"], "additionalProperties": False}
PHONE = r"\(\d{3}\) \d{3}-\d{4}"
CHOICES = ["red", "green", "blue"]


def follows(kind, text):
    """Whether a finished output follows its constraint."""
    if kind == "regex":
        return re.fullmatch(PHONE, text) is not None
    if kind == "choice":
        return text in CHOICES
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return False
    if kind == "json_object":
        return isinstance(value, dict)
    return (isinstance(value, dict) and set(value) == {"name", "age"} and isinstance(value["name"], str)
            and len(value["name"]) <= 12 and isinstance(value["age"], int) and 0 <= value["age"] <= 120)


def check_structured(port, model_name, ids):
    constraints = {
        "json_schema": {"response_format": {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}},
        "regex": {"structured_outputs": {"regex": PHONE}},
        "choice": {"structured_outputs": {"choice": CHOICES}},
        "json_object": {"response_format": {"type": "json_object"}},
    }
    failures = []
    for kind, fields in constraints.items():
        for extra in [{}, {"repetition_penalty": 1.2, "min_tokens": 2}]:
            body = {"model": model_name, "prompt": ids, "max_tokens": 48, "temperature": 0, **fields, **extra}
            device = post(port, "/v1/completions", body)["choices"][0]
            host = post(port, "/v1/completions", {**body, "logprobs": 1})["choices"][0]
            same = device["text"] == host["text"]
            valid = device["finish_reason"] != "stop" or follows(kind, device["text"])
            print(f"structured {kind} {extra}: greedy device == host sampler: {same}; follows: {valid} "
                  f"({device['finish_reason']}, {device['text'][:60]!r})", flush=True)
            if not same or not valid:
                failures.append(f"structured greedy {kind} {extra}")
    # Sampled, many in flight: constrained rows beside unconstrained ones in the same steps.
    jobs = []
    for index in range(64):
        kind = list(constraints)[index % 4]
        jobs.append((kind, {"model": model_name, "prompt": ids, "max_tokens": 48, "temperature": 1.0, "seed": index,
                            **constraints[kind]}))
        jobs.append((None, {"model": model_name, "prompt": ids, "max_tokens": 24, "temperature": 1.0, "seed": index}))
    with concurrent.futures.ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: post(port, "/v1/completions", job[1])["choices"][0], jobs))
    finished = broken = 0
    for (kind, _), choice in zip(jobs, results):
        if kind is None or choice["finish_reason"] != "stop":
            continue
        finished += 1
        if not follows(kind, choice["text"]):
            broken += 1
            print(f"  {kind} output does not follow its constraint: {choice['text']!r}")
    print(f"structured, 64 sampled constrained requests beside 64 unconstrained: {finished} finished, "
          f"{broken} broken", flush=True)
    if broken or finished < 16:
        failures.append("structured sampled")
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("tern")
    parser.add_argument("model")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--port", type=int, default=18123)
    args = parser.parse_args()
    server = subprocess.Popen([args.tern, "serve", args.model, "--device", args.device, "--port", str(args.port),
                               "--max-num-seqs", "256", "--max-waiting-requests", str(4 * args.samples + 64),
                               "--max-n", str(args.samples)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    failures = []
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        model_name = post(args.port, "/v1/completions", {"model": args.model, "prompt": "x", "max_tokens": 1})["model"]
        prompt = "The quick brown fox jumps over the lazy dog. Then"
        ids = post(args.port, "/tokenize", {"model": model_name, "prompt": prompt})["tokens"]
        hf = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32)
        with torch.no_grad():
            logits = hf(torch.tensor([ids])).logits[0, -1]
        texts = {}

        def text_of(token):
            if token not in texts:
                texts[token] = post(args.port, "/detokenize", {"model": model_name, "tokens": [token]})["prompt"]
            return texts[token]

        for top_k, top_p, min_p in [(20, 1.0, 0.0), (0, 0.8, 0.0), (0, 1.0, 0.2), (30, 0.9, 0.05)]:
            body = {"model": model_name, "prompt": ids, "max_tokens": 1, "n": args.samples, "temperature": 0.8,
                    "top_k": top_k, "top_p": top_p, "min_p": min_p, "skip_special_tokens": False}
            distribution = expected_distribution(logits, 0.8, top_k, top_p, min_p)
            # Compared by the token's text (what a completion returns); tokens of equal text merge.
            expected = collections.Counter()
            for token in torch.nonzero(distribution).flatten().tolist():
                expected[text_of(token)] += float(distribution[token])
            for where, extra in [("device", {}), ("host", {"logprobs": 1})]:
                choices = post(args.port, "/v1/completions", {**body, **extra})["choices"]
                counts = collections.Counter(c["text"] for c in choices)
                distance = total_variation(counts, expected)
                limit = 1.25 * sampling_noise(expected, len(choices)) + 0.02
                print(f"top_k {top_k} top_p {top_p} min_p {min_p}: {where} sampler vs HF float32 after the filters: "
                      f"total variation {distance:.3f} (limit {limit:.3f}) over {len(choices)} samples, "
                      f"{len(counts)} distinct texts (HF keeps {int((distribution > 0).sum())} tokens)", flush=True)
                if distance > limit:
                    failures.append(f"{where} top_k {top_k} top_p {top_p} min_p {min_p}")
        for params in [{"repetition_penalty": 1.3}, {"presence_penalty": 0.8, "frequency_penalty": 0.4},
                       {"logit_bias": {str(t): 3.0 for t in ids[:3]}, "min_tokens": 8},
                       {"repetition_penalty": 0.8, "frequency_penalty": -0.3, "logit_bias": {"5": -2.0}},
                       {"bad_words": [text_of(t) for t in ids[-4:]] + ["th"]}]:
            body = {"model": model_name, "prompt": ids, "max_tokens": 24, "temperature": 0, "ignore_eos": True,
                    **params}
            device = post(args.port, "/v1/completions", body)["choices"][0]["text"]
            host = post(args.port, "/v1/completions", {**body, "logprobs": 1})["choices"][0]["text"]
            same = device == host
            print(f"greedy with {params}: device == host sampler: {same}", flush=True)
            if not same:
                failures.append(f"greedy {params}")
        failures += check_structured(args.port, model_name, ids)
    finally:
        server.terminate()
        server.wait()
    print("sampling checks:", "FAILED " + "; ".join(failures) if failures else "passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
