#!/usr/bin/env python3
"""An input-copying prompt set for speculative-decoding benchmarks (n-gram prompt lookup).

Code edits and quotations whose answers repeat long runs of their prompts, built from real
text: functions and docstrings of Python's own standard library (the interpreter running
this script), picked with a fixed seed. Writes vLLM's custom JSONL (one {"prompt": ...} a
line) for `tern bench latency --dataset-path` and `tern bench serve --dataset custom`.

    python3 scripts/make_copy_dataset.py [--count 32] [--seed 0] [--format chatml|plain] > copy.jsonl

--format chatml wraps each request in SmolLM2's (ChatML) chat template, as `tern serve`
would render it; plain leaves the bare instruction (for base models and random weights).
"""
import argparse
import ast
import inspect
import json
import random
import sys

MODULES = ["json", "textwrap", "shlex", "fractions", "statistics", "heapq", "bisect", "calendar",
           "difflib", "string", "colorsys", "base64", "csv", "configparser", "argparse", "glob",
           "fnmatch", "pprint", "dataclasses", "enum", "functools", "tokenize", "ipaddress", "uuid"]


def functions(module):
    """(name, source, argument names) of the module's functions of 8 to 40 lines."""
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return []
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.end_lineno:
            body = lines[node.lineno - 1:node.end_lineno]
            indent = len(body[0]) - len(body[0].lstrip())
            text = "\n".join(line[indent:] for line in body)
            names = [a.arg for a in node.args.args if a.arg not in ("self", "cls") and len(a.arg) > 2]
            if 8 <= len(body) <= 40 and names and len(text) < 1800:
                found.append((node.name, text, names))
    return found


def docstrings(module):
    """Paragraphs of prose from the module's docstrings, 200 to 900 characters."""
    found = []
    for _, obj in inspect.getmembers(module):
        doc = inspect.getdoc(obj) if callable(obj) or inspect.isclass(obj) else None
        for paragraph in (doc or "").split("\n\n"):
            paragraph = " ".join(paragraph.split())
            if 200 <= len(paragraph) <= 900 and paragraph.count(" ") > 30 and ">>>" not in paragraph and "|" not in paragraph and "--" not in paragraph:
                found.append(paragraph)
    return sorted(set(found))


def chatml(user):
    return f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=["chatml", "plain"], default="chatml")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    code, prose = [], []
    for name in MODULES:
        module = __import__(name)
        code += functions(module)
        prose += docstrings(module)
    rng.shuffle(code)
    rng.shuffle(prose)
    wrap = chatml if args.format == "chatml" else (lambda text: text + "\n\n")
    for index in range(args.count):
        if index % 2 == 0:
            name, text, names = code[index // 2 % len(code)]
            old = rng.choice(names)
            new = old + "_value" if not old.endswith("_value") else old + "2"
            user = (f"Rename the parameter `{old}` of this Python function to `{new}` everywhere it is used. "
                    f"Reply with the whole updated function and nothing else.\n\n```python\n{text}\n```")
        else:
            paragraph = prose[index // 2 % len(prose)]
            user = f"Repeat the following paragraph word for word, then stop.\n\n\"{paragraph}\""
        print(json.dumps({"prompt": wrap(user)}, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())
