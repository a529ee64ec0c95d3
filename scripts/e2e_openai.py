#!/usr/bin/env python3
"""End-to-end test of `tern serve` with the official `openai` Python client.

    pip install openai
    swift build -c release --product tern
    python3 scripts/e2e_openai.py [--tern .build/release/tern] [--model MODEL]

Starts `tern serve` (the embedded SmolLM2 model unless --model is given) with an API key on a free
port, then checks: /v1/models; completions and chat, streaming equal to non-streaming; n > 1; stop
strings; logprobs of both endpoints; usage (and stream_options.include_usage); every error status
(400, 401, 404, 413, 503); 200 concurrent streaming requests all ending with [DONE] and the engine
back to idle in /metrics; SIGTERM finishing the request in flight before the process exits.
Exits non-zero on the first failed check.
"""

import argparse
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import openai

from serve_process import KEY, free_port, start



def raw(port, path, body=None, key=KEY, method=None):
    """(status, parsed JSON or text) of one HTTP request."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        status = error.code
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def raw_refused_body(port, path, body, key=KEY):
    """(status, parsed JSON) of a request whose body the server refuses before reading it all.

    The body is sent from a thread while the response is read, as a client that streams an
    upload does: the server answers as soon as it has the head, and may close before the last
    byte is sent (the sender's broken pipe is then expected, not a failure)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        def send():
            try:
                sock.sendall(head + body)
            except OSError:
                pass
        sender = threading.Thread(target=send)
        sender.start()
        response = b""
        try:
            while chunk := sock.recv(65536):
                response += chunk
        except OSError:
            pass
        sender.join()
    status_line, _, rest = response.partition(b"\r\n")
    _, _, payload = rest.partition(b"\r\n\r\n")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        return None, response[:200]
    try:
        return status, json.loads(payload)
    except json.JSONDecodeError:
        return status, payload[:200]


def check(condition, what):
    if not condition:
        sys.exit(f"FAILED: {what}")
    print(f"ok: {what}")


def check_error(port, path, body, status, what, key=KEY):
    got, payload = raw(port, path, body, key=key)
    check(got == status and isinstance(payload, dict) and set(payload.get("error", {})) >= {"message", "type", "param", "code"},
          f"{what} -> {status} with an OpenAI error body (got {got}: {str(payload)[:200]})")


def run_checks(client, port):
    model = client.models.list().data[0].id
    check(bool(model), f"/v1/models lists {model}")

    prompt = "The capital of France is"
    whole = client.completions.create(model=model, prompt=prompt, max_tokens=24, temperature=0)
    pieces = client.completions.create(model=model, prompt=prompt, max_tokens=24, temperature=0, stream=True,
                                       stream_options={"include_usage": True})
    text, usage = "", None
    for chunk in pieces:
        if chunk.choices:
            text += chunk.choices[0].text
        if chunk.usage:
            usage = chunk.usage
    check(text == whole.choices[0].text and len(text) > 0, "completions: streaming equals non-streaming")
    check(usage is not None and usage.completion_tokens == whole.usage.completion_tokens
          and usage.prompt_tokens == whole.usage.prompt_tokens, "completions: include_usage matches usage")
    check(whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens, "usage adds up")

    messages = [{"role": "user", "content": "Name three colors."}]
    chat = client.chat.completions.create(model=model, messages=messages, max_tokens=32, temperature=0)
    stream = client.chat.completions.create(model=model, messages=messages, max_tokens=32, temperature=0, stream=True)
    streamed, roles = "", []
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.role:
                roles.append(choice.delta.role)
            streamed += choice.delta.content or ""
    check(streamed == chat.choices[0].message.content and roles == ["assistant"], "chat: streaming equals non-streaming")
    check(chat.choices[0].finish_reason in ("stop", "length"), "chat: finish_reason")

    several = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12, n=3, temperature=1.0,
                                        seed=7)
    check(sorted(c.index for c in several.choices) == [0, 1, 2], "n = 3 gives three choices")
    check(several.usage.completion_tokens >= 3 and all(c.finish_reason for c in several.choices),
          "n = 3 usage counts every choice")
    again = client.completions.create(model=model, prompt="Once upon a time", max_tokens=12, n=3, temperature=1.0,
                                      seed=7)
    check([c.text for c in again.choices] == [c.text for c in several.choices], "seed makes n > 1 reproducible")

    base = whole.choices[0].text
    stop_word = base.strip().split()[1] if len(base.strip().split()) > 1 else base.strip()[:2]
    stopped = client.completions.create(model=model, prompt=prompt, max_tokens=24, temperature=0, stop=[stop_word])
    check(stop_word not in stopped.choices[0].text and stopped.choices[0].finish_reason == "stop"
          and base.startswith(stopped.choices[0].text), f"stop string {stop_word!r} ends the text before it")

    with_logprobs = client.completions.create(model=model, prompt=prompt, max_tokens=5, temperature=0, logprobs=3)
    lp = with_logprobs.choices[0].logprobs
    check(len(lp.tokens) == 5 and len(lp.token_logprobs) == 5 and all(len(t) <= 3 for t in lp.top_logprobs)
          and all(v <= 0 for v in lp.token_logprobs), "completions logprobs")
    greedy_best = all(max(top.values()) <= value + 1e-4 for top, value in zip(lp.top_logprobs, lp.token_logprobs))
    check(greedy_best, "greedy tokens are the most likely of their top_logprobs")
    chat_lp = client.chat.completions.create(model=model, messages=messages, max_tokens=5, temperature=0,
                                             logprobs=True, top_logprobs=2)
    content = chat_lp.choices[0].logprobs.content
    check(len(content) == 5 and all(len(e.top_logprobs) == 2 and e.bytes is not None for e in content),
          "chat logprobs with top_logprobs")

    for bad, what in [({"temperature": -1}, "temperature -1"), ({"top_p": 5}, "top_p 5"), ({"n": 0}, "n 0")]:
        try:
            client.completions.create(model=model, prompt="Hi", max_tokens=3, **bad)
            check(False, f"{what} is rejected")
        except openai.BadRequestError as error:
            check(error.status_code == 400, f"{what} -> 400 ({error.body['message'][:60]})")
    try:
        client.completions.create(model=model, prompt="Hi " * 100000, max_tokens=3)
        check(False, "a prompt longer than the context is rejected")
    except openai.BadRequestError:
        check(True, "prompt longer than the context -> 400")
    except openai.APIStatusError as error:
        check(error.status_code == 413, "prompt larger than the body limit -> 413")
    try:
        client.completions.create(model="no-such-model", prompt="Hi", max_tokens=3)
        check(False, "unknown model is rejected")
    except openai.NotFoundError:
        check(True, "unknown model -> 404")
    try:
        openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="wrong", max_retries=0).models.list()
        check(False, "wrong key is rejected")
    except openai.AuthenticationError:
        check(True, "wrong API key -> 401")
    got, payload = raw_refused_body(port, "/v1/completions", b"{" + b" " * (9 << 20) + b"}")
    check(got == 413 and isinstance(payload, dict) and set(payload.get("error", {})) >= {"message", "type", "param", "code"},
          f"a 9 MiB body -> 413 with an OpenAI error body (got {got}: {str(payload)[:200]})")
    check_error(port, "/v1/completions", {"model": model, "prompt": "Hi", "response_format": {"type": "json_schema"}},
                400, "response_format json_schema")
    check_error(port, "/v1/nothing", {"x": 1}, 404, "an unknown route")

    # 200 concurrent streams.
    def one(index):
        chunks = 0
        stream = client.completions.create(model=model, prompt=f"Story {index}:", max_tokens=16, temperature=0.8,
                                           seed=index, stream=True)
        for chunk in stream:
            chunks += 1
        return chunks

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        counts = list(pool.map(one, range(200)))
    check(len(counts) == 200 and all(c > 0 for c in counts), "200 concurrent streaming requests all finish")
    time.sleep(0.5)
    _, metrics = raw(port, "/metrics", key=None)
    running = [l for l in metrics.splitlines() if l.startswith("tern:num_requests_running")]
    usage_line = [l for l in metrics.splitlines() if l.startswith("tern:kv_cache_usage_perc")]
    check(running and float(running[0].split()[-1]) == 0, "num_requests_running back to 0")
    check(usage_line and float(usage_line[0].split()[-1]) == 0, "KV cache usage back to 0")


def check_queue_limit(tern, model):
    port = free_port()
    process = start(tern, model, port, ["--max-waiting-requests", "1", "--max-num-seqs", "1"])
    try:
        body = {"prompt": "Tell me a long story.", "max_tokens": 64, "ignore_eos": True}
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            statuses = [s for s, _ in pool.map(lambda _: raw(port, "/v1/completions", body), range(8))]
        check(503 in statuses and 200 in statuses, f"a full waiting queue -> 503 (statuses {sorted(statuses)})")
    finally:
        process.terminate()
        process.wait(60)


def check_vllm_fields(client, port):
    """vLLM's extra fields through the official client's extra_body, and its metric names."""
    model = client.models.list().data[0].id
    first = client.completions.create(model=model, prompt="The capital of France is", max_tokens=4, temperature=0,
                                      extra_body={"return_token_ids": True, "prompt_logprobs": 1}).model_dump()
    choice = first["choices"][0]
    check(len(choice.get("token_ids") or []) == 4 and choice.get("prompt_token_ids"),
          "return_token_ids gives prompt_token_ids and token_ids")
    prompt_logprobs = choice.get("prompt_logprobs") or []
    check(len(prompt_logprobs) == len(choice["prompt_token_ids"]) and prompt_logprobs[0] is None
          and all(str(t) in p for t, p in zip(choice["prompt_token_ids"][1:], prompt_logprobs[1:])),
          "prompt_logprobs: one entry per prompt token, the first null, each with the prompt's token")
    echoed = client.completions.create(model=model, prompt="Hello there", max_tokens=2, temperature=0, echo=True,
                                       logprobs=1)
    check(echoed.choices[0].text.startswith("Hello there") and echoed.choices[0].logprobs.token_logprobs[0] is None,
          "echo with logprobs starts with the prompt's tokens")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/completions", data=b"prompt=Hi", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("Authorization", f"Bearer {KEY}")
    try:
        urllib.request.urlopen(request, timeout=60)
        check(False, "a form body is refused")
    except urllib.error.HTTPError as error:
        body = json.loads(error.read().decode())
        check(error.code == 415 and body["error"]["code"] == 415, "a non-JSON body -> 415, code = status")


def check_pooling(tern, model):
    """`--runner pooling` through the official client (which asks for base64 and decodes it)."""
    port = free_port()
    process = start(tern, model, port, ["--runner", "pooling"])
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=120)
        name = client.models.list().data[0].id
        result = client.embeddings.create(model=name, input=["The cat sat.", "A dog ran."])
        vectors = [item.embedding for item in result.data]
        norms = [sum(v * v for v in vector) ** 0.5 for vector in vectors]
        check(len(vectors) == 2 and len(vectors[0]) == 576 and all(abs(n - 1) < 1e-3 for n in norms),
              "embeddings: two unit vectors of the model's width (576)")
        check(result.usage.prompt_tokens > 0, "embeddings usage counts the input tokens")
        try:
            client.completions.create(model=name, prompt="Hi", max_tokens=2)
            check(False, "the pooling runner refuses generation")
        except openai.BadRequestError:
            check(True, "the pooling runner refuses generation with a 400")
    finally:
        process.terminate()
        process.wait(60)


def check_sigterm(tern, model):
    port = free_port()
    process = start(tern, model, port)
    result = {}

    def long_request():
        result["response"] = raw(port, "/v1/completions",
                                 {"prompt": "Count:", "max_tokens": 48, "ignore_eos": True, "temperature": 0})

    thread = threading.Thread(target=long_request)
    thread.start()
    time.sleep(1.0)
    process.send_signal(signal.SIGTERM)
    thread.join(120)
    code = process.wait(120)
    status, payload = result.get("response", (None, None))
    check(status == 200 and payload["usage"]["completion_tokens"] == 48, "SIGTERM lets the request in flight finish")
    check(code == 0, f"tern serve exits cleanly after SIGTERM (code {code})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tern", default=os.path.join(".build", "release", "tern"))
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    port = free_port()
    process = start(args.tern, args.model, port)
    try:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=300)
        run_checks(client, port)
        check_vllm_fields(client, port)
    finally:
        process.terminate()
        process.wait(60)
    check_queue_limit(args.tern, args.model)
    check_pooling(args.tern, args.model)
    check_sigterm(args.tern, args.model)
    print("all end-to-end checks passed")


if __name__ == "__main__":
    main()
