#!/usr/bin/env python3
"""Fuzzes a real `tern serve` (the embedded SmolLM2 unless --model is given) as an attacker would,
and checks that the process stays up through all of it.

    swift build --product tern
    python3 scripts/fuzz_server.py --tern .build/debug/tern [--model MODEL] [--seed 1]

Sends, on both generation routes, streaming and not, every request field at its type's extremes
(Int64.max, -1, 2^64, 1e308, NaN, huge arrays, wrong types); path and header tricks under
--api-key; text that is not HTTP (garbage, bad Content-Length and chunk sizes, a 1 MB header,
bodies on GET); and seeded random byte mutations of valid request bodies. Every answer must be a
2xx or a 4xx with OpenAI's error body, never a 5xx, a dropped connection or silence; after each
group the server must still answer /health and complete a real request. Bounded: a few thousand
requests, each with a 30 s limit. Exits non-zero on the first failed check.
"""

import argparse
import json
import random
import socket
import subprocess
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from serve_process import KEY, free_port, start  # noqa: E402

EXTREMES = ["9223372036854775807", "-9223372036854775808", "18446744073709551616", "-1", "0", "1", "1e308",
            "-1e308", "1e-320", "0.5", "NaN", "Infinity", '"x"', "null", "true", "[]", "{}",
            "[9223372036854775807]", "[" + ",".join(["1"] * 3000) + "]", '{"1": 1e308}',
            '{"type": "json_schema", "json_schema": {}}', '["", " ", "a", "\\u0000"]']
FIELDS = ["max_tokens", "max_completion_tokens", "n", "best_of", "temperature", "top_p", "top_k", "min_p", "seed",
          "min_tokens", "presence_penalty", "frequency_penalty", "repetition_penalty", "stop", "stop_token_ids",
          "logit_bias", "logprobs", "top_logprobs", "response_format", "stream_options", "skip_special_tokens",
          "ignore_eos", "prompt", "messages", "echo", "add_generation_prompt", "tools", "tool_choice",
          # vLLM's extras
          "prompt_logprobs", "return_tokens_as_token_ids", "return_token_ids", "include_stop_str_in_output",
          "allowed_token_ids", "bad_words", "truncate_prompt_tokens", "use_beam_search", "continue_final_message",
          "chat_template_kwargs"]


def exchange(port, data, timeout=30):
    """The raw bytes the server sends back before closing (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        out = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
        except ConnectionResetError:
            pass
        except socket.timeout:
            sys.exit(f"no end of answer within {timeout} s to {data[:120]!r}")
        return out


def request(method, path, body=b"", key=KEY, extra=""):
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    head = (f"{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n")
    return head.encode() + body


def status_and_body(answer):
    head, _, body = answer.partition(b"\r\n\r\n")
    try:
        return int(head.split(b" ", 2)[1]), body
    except (IndexError, ValueError):
        return -1, body


def check_answer(answer, label, expect=None):
    status, body = status_and_body(answer)
    if status == -1:
        sys.exit(f"{label}: no HTTP answer: {answer[:200]!r}")
    if status >= 500:
        sys.exit(f"{label}: {status} {body[:300]!r}")
    if expect is not None and status != expect:
        sys.exit(f"{label}: expected {expect}, got {status} {body[:300]!r}")
    if status >= 400:
        try:
            error = json.loads(body)["error"]
            assert isinstance(error["message"], str) and isinstance(error["type"], str)
        except Exception:
            sys.exit(f"{label}: {status} without an OpenAI error body: {body[:300]!r}")
    return status


def check_alive(process, port, label):
    if process.poll() is not None:
        sys.exit(f"the server died during {label} (exit {process.returncode}):\n{process.stdout.read()[-3000:]}")
    check_answer(exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), f"{label}: health", 200)
    body = json.dumps({"prompt": "Hello", "max_tokens": 2}).encode()
    check_answer(exchange(port, request("POST", "/v1/completions", body)), f"{label}: real request", 200)
    print(f"ok: {label}", flush=True)


def fields(port):
    count = 0
    for route, base in [("/v1/completions", '"prompt": "Hi"'),
                        ("/v1/chat/completions", '"messages": [{"role": "user", "content": "Hi"}]')]:
        for stream in ["false", "true"]:
            for field in FIELDS:
                for value in EXTREMES:
                    body = f'{{{base}, "max_tokens": 2, "stream": {stream}, "{field}": {value}}}'.encode()
                    check_answer(exchange(port, request("POST", route, body)), f"{route} stream={stream} {field}={value[:30]}")
                    count += 1
    return count


def paths(port):
    body = json.dumps({"prompt": "Hi", "max_tokens": 1}).encode()
    for path in ["/v1/models", "//v1/models", "/v1/models/", "/V1/MODELS", "/v1//models", "/v1%2Fmodels",
                 "/%76%31/models", "/v1/models?x=1", "///v1///completions", "/v1/chat/completions/",
                 "//v1/chat/completions", "/v1/./models", "/tokenize", "/detokenize", "/%2F/v1/completions"]:
        for method in ["GET", "POST"]:
            check_answer(exchange(port, request(method, path, body if method == "POST" else b"", key=None)),
                         f"{method} {path} without a key", 401)
    for key in ["wrong", "e2e-ke", "e2e-key2", "E2E-KEY", ""]:
        check_answer(exchange(port, request("GET", "/v1/models", key=key)), f"key {key!r}", 401)
    check_answer(exchange(port, request("GET", "/v1/models", key=None, extra="Authorization: Basic e2e-key\r\n")),
                 "Basic scheme", 401)
    for path in ["/health", "/metrics", "/version"]:
        check_answer(exchange(port, request("GET", path, key=None)), f"{path} is open", 200)


def malformed(port):
    cases = [
        ("garbage", b"\x00\x01\xffGARBAGE\r\n\r\n", 400),
        ("bad Content-Length", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", 400),
        ("negative Content-Length", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        ("1 MB header", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1 << 20) + b"\r\n\r\n", 431),
        ("bad chunk size", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
         + b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
        ("9 MB body on GET /health", b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (9 << 20)
         + b"x" * (9 << 20), 413),
        ("small body on GET /health", b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 400),
        ("body over the limit", request("POST", "/v1/completions", b"{" + b" " * (9 << 20) + b"}"), 413),
        ("truncated body", b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + KEY.encode()
         + b"\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"prompt\"", None),
    ]
    for label, data, expect in cases:
        if expect is None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                s.recv(65536)
            continue
        check_answer(exchange(port, data), label, expect)


def mutations(port, seed, rounds):
    rng = random.Random(seed)
    bodies = [json.dumps({"prompt": "Hi there", "max_tokens": 3, "n": 2, "logprobs": 2, "stop": ["x"]}),
              json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3, "stream": True,
                          "top_k": 5, "seed": 7, "logit_bias": {"12": 5}})]
    for round in range(rounds):
        body = bytearray(rng.choice(bodies).encode())
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            index = rng.randrange(len(body))
            if kind < 0.4:
                body[index] = rng.randrange(256)
            elif kind < 0.7:
                body[index:index] = rng.choice([b"9" * 25, b"-", b"1e999", b"\\u0000", b"[", b"{", b"\"", b"\xff"])
            else:
                del body[index:index + rng.randint(1, 8)]
        route = "/v1/chat/completions" if b"messages" in body else "/v1/completions"
        check_answer(exchange(port, request("POST", route, bytes(body))), f"mutation {round}: {bytes(body)[:80]!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", default=".build/debug/tern")
    parser.add_argument("--model")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mutations", type=int, default=400)
    args = parser.parse_args()
    port = free_port()
    process = start(args.tern, args.model, port)
    started = time.time()
    try:
        check_alive(process, port, "start")
        count = fields(port)
        check_alive(process, port, f"{count} requests with fields at their extremes")
        paths(port)
        check_alive(process, port, "path and key tricks")
        malformed(port)
        check_alive(process, port, "malformed HTTP")
        mutations(port, args.seed, args.mutations)
        check_alive(process, port, f"{args.mutations} mutated bodies")
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
    print(f"fuzz_server: all checks passed in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
