#!/usr/bin/env python3
"""End-to-end check of tool calling against a running `tern serve`, with the official `openai` client.

    pip install openai jsonschema
    python3 scripts/check_tool_calls.py --base-url http://127.0.0.1:8000/v1 [--rounds 6]

For tool_choice "required" and a named function, greedy and sampled, streaming and not: every answer
has finish_reason "tool_calls", tool_calls with ids and names of offered tools and arguments that
validate against the tool's parameter schema (jsonschema); streamed deltas assemble (id and name
once, argument fragments concatenated) into the non-streamed calls for greedy. Then a second turn
with the assistant's tool_calls and a tool result in the history (rendered by the model's template),
tool_choice "none" answering in text, and "auto" answering either way coherently. Exits non-zero on
the first violation.
"""

import argparse
import json
import sys

import jsonschema
import openai

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
     "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                     "unit": {"enum": ["celsius", "fahrenheit"]}},
                    "required": ["city", "unit"]}}},
    {"type": "function", "function": {"name": "add", "description": "Add two numbers",
     "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                    "required": ["a", "b"]}}},
]
SCHEMAS = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}


def fail(message):
    sys.exit(f"FAIL: {message}")


def check_calls(calls, label, only=None):
    if not calls:
        fail(f"{label}: no tool_calls")
    for call in calls:
        if not call["id"]:
            fail(f"{label}: a call without an id")
        if call["name"] not in SCHEMAS or (only and call["name"] != only):
            fail(f"{label}: unexpected function {call['name']!r}")
        try:
            arguments = json.loads(call["arguments"])
            jsonschema.validate(arguments, SCHEMAS[call["name"]])
        except Exception as error:
            fail(f"{label}: arguments {call['arguments']!r} invalid: {error}")


def whole(client, model, messages, choice, **extra):
    response = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, tool_choice=choice, **extra)
    message = response.choices[0].message
    calls = [{"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in message.tool_calls or []]
    return response.choices[0].finish_reason, message.content, calls


def streamed(client, model, messages, choice, **extra):
    calls, content, finish = {}, "", None
    stream = client.chat.completions.create(model=model, messages=messages, tools=TOOLS, tool_choice=choice,
                                            stream=True, **extra)
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        content += delta.content or ""
        for part in delta.tool_calls or []:
            entry = calls.setdefault(part.index, {"id": None, "name": None, "arguments": ""})
            if part.id:
                if entry["id"]:
                    fail("a call's id came twice")
                entry["id"] = part.id
            if part.function and part.function.name:
                if entry["name"]:
                    fail("a call's name came twice")
                entry["name"] = part.function.name
            if part.function and part.function.arguments:
                entry["arguments"] += part.function.arguments
        finish = chunk.choices[0].finish_reason or finish
    return finish, content, [calls[i] for i in sorted(calls)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", default="unused")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=600)
    model = client.models.list().data[0].id
    questions = ["What's the weather in Paris?", "Add 2 and 40.", "Is it cold in Oslo in fahrenheit?", "What is 7 plus 5?"]
    checked = 0
    for question in questions[:args.rounds]:
        messages = [{"role": "user", "content": question}]
        for choice, only in [("required", None), ({"type": "function", "function": {"name": "add"}}, "add")]:
            label = f"{question!r} tool_choice={choice if isinstance(choice, str) else only}"
            finish, _, calls = whole(client, model, messages, choice, temperature=0)
            if finish != "tool_calls":
                fail(f"{label}: finish_reason {finish}")
            check_calls(calls, label, only)
            s_finish, _, s_calls = streamed(client, model, messages, choice, temperature=0)
            if s_finish != "tool_calls" or [(c["name"], c["arguments"]) for c in s_calls] != [(c["name"], c["arguments"]) for c in calls]:
                fail(f"{label}: streamed {s_calls} ({s_finish}) != {calls}")
            check_calls(s_calls, label + " streamed", only)
            # Sampled, a small model may keep adding parallel calls to the required array until
            # max_tokens (seen with seed 2 on an AVX2 machine, whose kernels round differently):
            # then the answer must end with "length" and no tool_calls, never a broken call.
            # One call at a time (parallel_tool_calls false) must always complete.
            sampled = 0
            for seed in (1, 2):
                finish, _, calls_sampled = whole(client, model, messages, choice, temperature=1, seed=seed,
                                                 max_tokens=256)
                if finish == "length" and not calls_sampled:
                    continue
                if finish != "tool_calls":
                    fail(f"{label} seed {seed}: finish_reason {finish}")
                check_calls(calls_sampled, f"{label} seed {seed}", only)
                sampled += 1
            finish, _, single = whole(client, model, messages, choice, temperature=1, seed=3, max_tokens=256,
                                      parallel_tool_calls=False)
            if finish != "tool_calls" or len(single) != 1:
                fail(f"{label} parallel_tool_calls false, seed 3: {len(single)} calls, finish_reason {finish}")
            check_calls(single, f"{label} parallel_tool_calls false", only)
            if sampled == 0:
                print(f"note: {label}: both sampled answers reached max_tokens adding calls")
            checked += 1
        # A second turn: the call and its result in the history, then an answer in text.
        call = calls[0]
        history = messages + [
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]},
            {"role": "tool", "tool_call_id": call["id"], "content": "42"},
        ]
        finish, content, calls = whole(client, model, history, "none", temperature=0, max_tokens=48)
        if calls or finish not in ("stop", "length") or not content:
            fail(f"second turn with tool_choice none: {finish} {content!r} {calls}")
        finish, content, calls = whole(client, model, history, "auto", temperature=0, max_tokens=48)
        if calls:
            check_calls(calls, "auto")
        if (finish == "tool_calls") != bool(calls):
            fail(f"auto: finish_reason {finish} with {len(calls)} calls")
    for bad, param in [({"tool_choice": "required"}, "tool_choice"),
                       ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice")]:
        try:
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}], **bad)
            fail(f"{bad} was accepted")
        except openai.BadRequestError as error:
            if error.body.get("param") != param:
                fail(f"{bad}: param {error.body.get('param')}")
    print(f"check_tool_calls: {checked} tool-choice cases passed (whole, streamed, sampled), second turns rendered")


if __name__ == "__main__":
    main()
