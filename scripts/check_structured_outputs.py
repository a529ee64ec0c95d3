#!/usr/bin/env python3
"""End-to-end check of structured outputs against a running `tern serve`, with the official `openai` client.

    pip install openai jsonschema
    python3 scripts/check_structured_outputs.py --base-url http://127.0.0.1:8000/v1 [--model M] [--api-key K]
        [--corpus Tests/StructuredOutputsTests/Fixtures/schema_corpus.json] [--limit N] [--samples K]
        [--max-tokens 512] [--concurrency 8] [--json-report report.json] [--only corpus,forms,errors]
    python3 scripts/check_structured_outputs.py --self-test     # the local recognisers only, no server

1. The corpus (scripts/make_schema_corpus.py): for every schema, a chat request "Produce a JSON value for this schema"
   with response_format json_schema (strict), once greedy and --samples times at temperature 1 (seeds 1..K). Each
   output must parse with json.loads and validate with jsonschema under the schema's draft (format asserted); an
   output cut by max_tokens (finish_reason "length") is counted as truncated, not as a failure. A 400 is a refusal,
   and its message must name one of the schema's keywords (recorded). --limit N takes N schemas spread evenly over
   the corpus (every source), not the first N (and N of the form cases of part 2, taken round-robin over the
   forms and endpoints).
2. The other ways to ask for a constraint: structured_outputs {regex, choice, grammar, json}, the older guided_regex /
   guided_choice / guided_grammar / guided_json, response_format json_object and json_schema, on /v1/chat/completions
   and /v1/completions, streaming and not (for greedy the streamed text must equal the non-streamed text), plus one
   sampled request each. Regex outputs must re.fullmatch, choices must be one of the choices, grammar outputs are
   checked by the GBNF recogniser below (an Earley parser over characters, independent of the server's).
3. Errors: an invalid schema, an invalid regex, a malformed grammar, two constraints at once, wrong types: each must
   be a 400 with OpenAI's error body {"error": {"message", "type", "param", "code"}}; what came back is printed.

Exits non-zero on any failure; prints a summary table.
"""

import argparse
import concurrent.futures
import json
import os
import re
import sys
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CORPUS = os.path.join(ROOT, "Tests", "StructuredOutputsTests", "Fixtures", "schema_corpus.json")
PROMPT_SCHEMA_CHARS = 1500  # longer schemas are not written into the prompt (the constraint still carries them)

DRAFT_URIS = {"2020-12": "https://json-schema.org/draft/2020-12/schema",
              "2019-09": "https://json-schema.org/draft/2019-09/schema",
              "7": "http://json-schema.org/draft-07/schema#", "6": "http://json-schema.org/draft-06/schema#",
              "4": "http://json-schema.org/draft-04/schema#", "3": "http://json-schema.org/draft-03/schema#"}

# Every keyword of JSON Schema drafts 3 to 2020-12 (and OpenAPI's nullable), to tell what a refusal names.
KEYWORDS = {
    "$schema", "$id", "id", "$ref", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$anchor",
    "$defs", "definitions", "$vocabulary", "$comment", "type", "enum", "const", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "format", "items",
    "prefixItems", "additionalItems", "unevaluatedItems", "contains", "minContains", "maxContains", "maxItems",
    "minItems", "uniqueItems", "properties", "patternProperties", "additionalProperties", "unevaluatedProperties",
    "propertyNames", "required", "dependentRequired", "dependentSchemas", "dependencies", "maxProperties",
    "minProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "contentEncoding", "contentMediaType",
    "contentSchema", "title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly",
    "disallow", "extends", "divisibleBy", "nullable",
}
SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
SCHEMA_VALUES = {"additionalProperties", "not", "if", "then", "else", "contains", "propertyNames", "unevaluatedItems",
                 "unevaluatedProperties", "additionalItems", "contentSchema", "items", "extends"}


def schema_keywords(schema, out=None):
    """The keywords a schema uses, walking only schema positions (not property names, enum values or defaults)."""
    out = set() if out is None else out
    if not isinstance(schema, dict):
        return out
    for key, value in schema.items():
        # Every key at a schema position counts: an unknown keyword refused by name is named.
        out.add(key)
        if key in SCHEMA_MAPS and isinstance(value, dict):
            for sub in value.values():
                schema_keywords(sub, out)
        elif key in SCHEMA_LISTS and isinstance(value, list):
            for sub in value:
                schema_keywords(sub, out)
        elif key in SCHEMA_VALUES:
            for sub in (value if isinstance(value, list) else [value]):
                schema_keywords(sub, out)
        elif key == "dependencies" and isinstance(value, dict):
            for sub in value.values():
                schema_keywords(sub, out)
    return out


def named_keyword(message, keywords):
    """The schema keyword a refusal names: a quoted one first, then one written as a word; None if none."""
    quoted = [k for k in keywords if f'"{k}"' in message or f"'{k}'" in message or f"`{k}`" in message]
    if quoted:
        return min(quoted, key=lambda k: (message.find(k), -len(k)))
    words = [k for k in keywords if re.search(r"(?<![A-Za-z0-9_$])" + re.escape(k) + r"(?![A-Za-z0-9_])", message)]
    if words:
        return max(words, key=len)
    return None


# ---------------------------------------------------------------- a GBNF recogniser (Earley, over characters)

class GBNFError(ValueError):
    pass


class Grammar:
    """llama.cpp's GBNF: rules `name ::= alternatives`, literals, [classes] (with ^, ranges, escapes), `.`, groups,
    `*`, `+`, `?`, `{m}`, `{m,}`, `{m,n}`, `#` comments. Repetitions become left-recursive helper rules."""

    def __init__(self, text):
        self.rules = {}  # name -> list of alternatives; an alternative is a list of symbols
        self.counter = 0
        self.text = text
        self.pos = 0
        self._parse()
        for name, alternatives in self.rules.items():
            for alternative in alternatives:
                for symbol in alternative:
                    if symbol[0] == "ref" and symbol[1] not in self.rules:
                        raise GBNFError(f"rule {name!r} refers to undefined rule {symbol[1]!r}")
        if "root" not in self.rules:
            raise GBNFError("no root rule")
        self._nullable()

    # -- parsing
    def _skip(self, newlines=True):
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                while self.pos < len(self.text) and self.text[self.pos] != "\n":
                    self.pos += 1
            elif c in " \t\r" or (newlines and c == "\n"):
                self.pos += 1
            else:
                break

    def _name(self):
        m = re.compile(r"[A-Za-z0-9_-]+").match(self.text, self.pos)
        if not m:
            raise GBNFError(f"expected a rule name at offset {self.pos}")
        self.pos = m.end()
        return m.group()

    def _parse(self):
        self._skip()
        while self.pos < len(self.text):
            name = self._name()
            self._skip()
            if not self.text.startswith("::=", self.pos):
                raise GBNFError(f"expected ::= after {name!r}")
            self.pos += 3
            alternatives = self._alternatives(top=True)
            self.rules.setdefault(name, []).extend(alternatives)
            self._skip()

    def _at_rule_start(self):
        return re.compile(r"[A-Za-z0-9_-]+[ \t]*::=").match(self.text, self.pos) is not None

    def _alternatives(self, top):
        alternatives = [self._sequence(top)]
        while self.pos < len(self.text) and self.text[self.pos] == "|":
            self.pos += 1
            alternatives.append(self._sequence(top))
        return alternatives

    def _sequence(self, top):
        items = []
        while True:
            self._skip(newlines=True)
            if self.pos >= len(self.text):
                break
            c = self.text[self.pos]
            if c in "|)":
                break
            if top and self._at_rule_start():
                break
            items.extend(self._repeat(self._atom()))
        return items

    def _fresh(self, alternatives):
        self.counter += 1
        name = f"__gen{self.counter}"
        self.rules[name] = alternatives
        return ("ref", name)

    def _atom(self):
        c = self.text[self.pos]
        if c == '"':
            self.pos += 1
            chars = []
            while True:
                if self.pos >= len(self.text):
                    raise GBNFError("unterminated literal")
                c = self.text[self.pos]
                if c == '"':
                    self.pos += 1
                    break
                chars.append(self._char())
            return [("chars", [(False, [(ch, ch)])]) for ch in chars] if chars else []
        if c == "[":
            self.pos += 1
            negated = self.text.startswith("^", self.pos)
            if negated:
                self.pos += 1
            ranges = []
            while True:
                if self.pos >= len(self.text):
                    raise GBNFError("unterminated character class")
                if self.text[self.pos] == "]":
                    self.pos += 1
                    break
                low = self._char()
                high = low
                if self.text.startswith("-", self.pos) and not self.text.startswith("-]", self.pos):
                    self.pos += 1
                    high = self._char()
                ranges.append((low, high))
            return [("chars", [(negated, ranges)])]
        if c == ".":
            self.pos += 1
            return [("chars", [(True, [])])]
        if c == "(":
            self.pos += 1
            alternatives = self._alternatives(top=False)
            if self.pos >= len(self.text) or self.text[self.pos] != ")":
                raise GBNFError("unbalanced parenthesis")
            self.pos += 1
            return [self._fresh(alternatives)]
        if re.compile(r"[A-Za-z0-9_-]").match(c):
            return [("ref", self._name())]
        raise GBNFError(f"unexpected {c!r} at offset {self.pos}")

    def _char(self):
        c = self.text[self.pos]
        if c != "\\":
            self.pos += 1
            return c
        e = self.text[self.pos + 1: self.pos + 2]
        self.pos += 2
        simple = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "[": "[", "]": "]", "-": "-", "^": "^",
                  "/": "/", "0": "\0"}
        if e in simple:
            return simple[e]
        width = {"x": 2, "u": 4, "U": 8}.get(e)
        if width:
            digits = self.text[self.pos: self.pos + width]
            if not re.fullmatch(r"[0-9a-fA-F]+", digits or "") or len(digits) != width:
                raise GBNFError(f"bad escape \\{e}{digits}")
            self.pos += width
            return chr(int(digits, 16))
        raise GBNFError(f"unknown escape \\{e}")

    def _repeat(self, atom):
        while self.pos < len(self.text) and self.text[self.pos] in "*+?{":
            op = self.text[self.pos]
            self.pos += 1
            if op == "{":
                m = re.compile(r"\s*(\d+)\s*(,\s*(\d*)\s*)?}").match(self.text, self.pos)
                if not m:
                    raise GBNFError("bad {m,n} repetition")
                self.pos = m.end()
                low = int(m.group(1))
                high = low if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
                if high is not None and high < low:
                    raise GBNFError("{m,n} with n < m")
            else:
                low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[op]
            atom = self._expand(atom, low, high)
        return atom

    def _expand(self, atom, low, high):
        out = list(atom) * low
        if high is None:
            star = self._fresh([[]])
            self.rules[star[1]].append([star] + list(atom))  # R ::= ε | R atom (left recursion: Earley-friendly)
            out.append(star)
        else:
            for _ in range(high - low):
                out.append(self._fresh([[], list(atom)]))
        return out

    def _nullable(self):
        self.nullable = set()
        changed = True
        while changed:
            changed = False
            for name, alternatives in self.rules.items():
                if name in self.nullable:
                    continue
                if any(all(s[0] == "ref" and s[1] in self.nullable for s in alt) for alt in alternatives):
                    self.nullable.add(name)
                    changed = True

    # -- recognising
    @staticmethod
    def _accepts(symbol, ch):
        for negated, ranges in symbol[1]:
            inside = any(low <= ch <= high for low, high in ranges)
            return inside != negated
        return False

    def matches(self, text, start="root"):
        """Whether all of text derives from the start rule."""
        chart = [dict() for _ in range(len(text) + 1)]  # position -> {(rule, alt, dot, origin): None}

        def add(i, item, agenda):
            if item not in chart[i]:
                chart[i][item] = None
                agenda.append(item)

        agenda = []
        for a in range(len(self.rules[start])):
            add(0, (start, a, 0, 0), agenda)
        for i in range(len(text) + 1):
            if i > 0:
                agenda = list(chart[i])
            while agenda:
                rule, a, dot, origin = agenda.pop()
                body = self.rules[rule][a]
                if dot < len(body):
                    symbol = body[dot]
                    if symbol[0] == "ref":
                        for b in range(len(self.rules[symbol[1]])):
                            add(i, (symbol[1], b, 0, i), agenda)
                        if symbol[1] in self.nullable:
                            add(i, (rule, a, dot + 1, origin), agenda)
                    elif i < len(text) and self._accepts(symbol, text[i]):
                        chart[i + 1][(rule, a, dot + 1, origin)] = None
                else:
                    for (r2, a2, d2, o2) in list(chart[origin]):
                        body2 = self.rules[r2][a2]
                        if d2 < len(body2) and body2[d2] == ("ref", rule):
                            add(i, (r2, a2, d2 + 1, o2), agenda)
            if i < len(text) and not chart[i + 1]:
                return False
        return any(r == start and d == len(self.rules[r][a]) and o == 0 for (r, a, d, o) in chart[len(text)])


# ---------------------------------------------------------------- test material

REGEXES = [
    ("US phone", r"\(\d{3}\) \d{3}-\d{4}", "Write a US phone number."),
    ("international phone", r"\+\d{1,3} \d{2,4} \d{3,4} \d{3,4}", "Write an international phone number."),
    ("ISO date", r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", "When did the Berlin Wall fall? Give the date."),
    ("US date", r"(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])/(19|20)\d{2}", "Write today's date."),
    ("time", r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?", "What time is lunch?"),
    ("ISO date-time", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})", "Give a timestamp."),
    ("email", r"[a-z0-9._%+-]{1,20}@[a-z0-9-]{1,20}\.(com|org|net|io)", "Write the email address of a support desk."),
    ("hex colour", r"#[0-9a-fA-F]{6}", "What is the hex colour of the sky?"),
    ("short or long hex colour", r"#([0-9a-f]{3}|[0-9a-f]{6})", "Give a CSS colour."),
    ("IPv4", r"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", "Give an IP address."),
    ("identifier", r"[A-Za-z_][A-Za-z0-9_]{0,15}", "Name a variable that counts users."),
    ("snake_case", r"[a-z]{1,8}(_[a-z]{1,8}){1,3}", "Name a Python function that loads a file."),
    ("thousands", r"-?[1-9]\d{0,2}(,\d{3}){0,3}", "How many people live in Paris?"),
    ("decimal", r"-?(0|[1-9]\d{0,5})\.\d{2}", "What does a coffee cost?"),
    ("3 to 5 digits", r"[1-9]\d{2,4}", "Pick a number."),
    ("UUID", r"[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", "Generate a UUID."),
    ("semver", r"(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})(-(alpha|beta|rc)\.\d)?", "Version number?"),
    ("ZIP code", r"\d{5}(-\d{4})?", "What is a ZIP code in New York?"),
    ("URL", r"https://[a-z0-9]{1,20}(\.[a-z0-9]{1,20}){0,2}\.(com|org)(/[a-z0-9_-]{1,12}){0,3}", "Link a website."),
    ("MAC address", r"([0-9A-F]{2}:){5}[0-9A-F]{2}", "Give a MAC address."),
    ("alternation", r"(yes|no|maybe)", "Is the sky blue?"),
    ("colour phrase", r"(red|green|blue)( (and|or) (red|green|blue))?", "Which colours do you like?"),
    ("sentence", r"[A-Z][a-z]{1,10}( [a-z]{1,10}){2,8}\.", "Describe the weather."),
    ("JSON-like", r'\{"name": "[A-Za-z ]{1,20}", "age": \d{1,2}\}', "Describe a person."),
]

CHOICES = [
    ("capitals", ["Paris", "London", "Berlin", "Madrid"], "What is the capital of France?"),
    ("sentiment", ["positive", "negative", "neutral"], "Sentiment of 'I love this film'?"),
    ("prefixes", ["yes", "yes please", "no", "no thanks"], "Would you like some tea?"),
    ("unicode", ["日本", "中国", "한국", "Ελλάδα"], "Which country is Tokyo in?"),
    ("punctuation", ["A) 4", "B) 5", "C) \"22\"", "D) none of these"], "What is 2 + 2?"),
]

ARITHMETIC_GBNF = r'''
root   ::= expr
expr   ::= term (("+" | "-") term)*
term   ::= factor (("*" | "/") factor)*
factor ::= number | "(" expr ")"
number ::= [0-9] [0-9]? [0-9]?
'''

LIST_GBNF = r'''
# a list of lower-case words
root ::= "[" item ("," " "? item){0,5} "]"
item ::= "\"" [a-z]{1,12} "\""
'''

# llama.cpp's grammars/json.gbnf.
JSON_GBNF = r'''
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null") ws

object ::=
  "{" ws (
            string ":" ws value
    ("," ws string ":" ws value)*
  )? "}" ws

array  ::=
  "[" ws (
            value
    ("," ws value)*
  )? "]" ws

string ::=
  "\"" (
    [^"\\\x7F\x00-\x1F] |
    "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) # escapes
  )* "\"" ws

number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9] [1-9]{0,15})? ws

# Optional space: by convention, applied in this grammar after literal chars when allowed
ws ::= | " " | "\n" [ \t]{0,20}
'''

GRAMMARS = [
    ("arithmetic", ARITHMETIC_GBNF, "Write an arithmetic expression that equals 10."),
    ("word list", LIST_GBNF, "List three fruits."),
    ("json.gbnf", JSON_GBNF, "Describe a book as a JSON object."),
]

PERSON_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 40},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "email": {"type": "string", "format": "email"},
        "role": {"enum": ["admin", "editor", "viewer"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 16}, "maxItems": 4},
    },
    "required": ["name", "age", "role"],
    "additionalProperties": False,
}
EVENT_SCHEMA = {
    "type": "object",
    "$defs": {"place": {"type": "object", "properties": {"city": {"type": "string"}, "country": {
        "type": "string", "pattern": "^[A-Z]{2}$"}}, "required": ["city", "country"], "additionalProperties": False}},
    "properties": {
        "title": {"type": "string", "maxLength": 60},
        "date": {"type": "string", "format": "date"},
        "where": {"$ref": "#/$defs/place"},
        "price": {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1000}, {"type": "null"}]},
    },
    "required": ["title", "date", "where", "price"],
    "additionalProperties": False,
}
SCHEMAS = [("person", PERSON_SCHEMA, "Describe a user of a CMS."), ("event", EVENT_SCHEMA, "Describe a concert.")]

# (what, endpoint, body fields, expected param prefix or None)
ERROR_CASES = [
    ("invalid schema: unknown type", "chat", {"response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "properties": {"a": {"type": "nonsense"}}}}}}),
    ("invalid schema: minLength is a string", "chat", {"structured_outputs": {"json": {"type": "string",
                                                                                       "minLength": "five"}}}),
    ("invalid schema: not an object", "chat", {"guided_json": [1, 2, 3]}),
    ("invalid regex: unbalanced", "chat", {"structured_outputs": {"regex": "([a-z]+"}}),
    ("invalid regex: bad repetition", "completions", {"guided_regex": "a{3,1}"}),
    ("malformed grammar: unbalanced", "chat", {"structured_outputs": {"grammar": 'root ::= ("a" | "b"'}}),
    ("malformed grammar: undefined rule", "completions", {"guided_grammar": "root ::= item+"}),
    ("malformed grammar: no ::=", "chat", {"guided_grammar": 'root = "a"'}),
    ("two constraints: regex and choice", "chat", {"structured_outputs": {"regex": "a+", "choice": ["a", "b"]}}),
    ("two constraints: response_format and guided_regex", "chat", {"response_format": {"type": "json_object"},
                                                                   "guided_regex": "[0-9]+"}),
    ("two constraints: guided_json and guided_choice", "completions", {"guided_json": {"type": "string"},
                                                                       "guided_choice": ["a"]}),
    ("wrong type: regex 5", "chat", {"structured_outputs": {"regex": 5}}),
    ("wrong type: guided_choice a string", "chat", {"guided_choice": "abc"}),
    ("wrong type: empty choice list", "completions", {"structured_outputs": {"choice": []}}),
    ("wrong type: structured_outputs a list", "chat", {"structured_outputs": ["regex"]}),
    ("wrong type: grammar 1", "chat", {"structured_outputs": {"grammar": 1}}),
    ("json_schema without schema", "chat", {"response_format": {"type": "json_schema"}}),
    ("unknown response_format type", "chat", {"response_format": {"type": "yaml"}}),
]


# ---------------------------------------------------------------- talking to the server

class Results:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows = {}        # category -> Counter-like dict
        self.failures = []
        self.report = {"corpus": [], "forms": [], "errors": []}

    def count(self, category, key, n=1):
        with self.lock:
            row = self.rows.setdefault(category, {})
            row[key] = row.get(key, 0) + n

    def fail(self, what):
        with self.lock:
            self.failures.append(what)
            sys.stdout.write(f"FAIL: {what}\n")
            sys.stdout.flush()


def completion(client, endpoint, model, prompt, *, temperature, seed=None, max_tokens, stream=False,
               response_format=None, extra_body=None):
    """(text, finish_reason) of one request; streamed pieces are checked to assemble."""
    kwargs = dict(model=model, max_tokens=max_tokens, temperature=temperature)
    if seed is not None:
        kwargs["seed"] = seed
    body = dict(extra_body or {})
    if endpoint == "chat":
        if response_format is not None:
            kwargs["response_format"] = response_format
        messages = [{"role": "user", "content": prompt}]
        if not stream:
            r = client.chat.completions.create(messages=messages, extra_body=body or None, **kwargs)
            return r.choices[0].message.content or "", r.choices[0].finish_reason
        text, finish = "", None
        for chunk in client.chat.completions.create(messages=messages, stream=True, extra_body=body or None, **kwargs):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                if choice.finish_reason:
                    if finish is not None:
                        raise AssertionError("two finish_reason chunks in one stream")
                    finish = choice.finish_reason
        return text, finish
    if response_format is not None:
        body["response_format"] = response_format
    if not stream:
        r = client.completions.create(prompt=prompt, extra_body=body or None, **kwargs)
        return r.choices[0].text, r.choices[0].finish_reason
    text, finish = "", None
    for chunk in client.completions.create(prompt=prompt, stream=True, extra_body=body or None, **kwargs):
        for choice in chunk.choices:
            text += choice.text or ""
            if choice.finish_reason:
                finish = choice.finish_reason
    return text, finish


def error_message(error):
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return str(error)


def make_validator(schema, draft):
    import jsonschema
    import referencing
    classes = {"2020-12": jsonschema.Draft202012Validator, "2019-09": jsonschema.Draft201909Validator,
               "7": jsonschema.Draft7Validator, "6": jsonschema.Draft6Validator, "4": jsonschema.Draft4Validator,
               "3": jsonschema.Draft3Validator}
    cls = classes[draft]
    return cls(schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry())


def judge_json(text, validator):
    """('valid'|'invalid', detail)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return "invalid", f"not JSON ({error}): {text[:120]!r}"
    try:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.path))
    except Exception as error:  # an unresolvable reference, a pattern Python cannot compile
        return "invalid", f"validator error {type(error).__name__}: {error}"
    if errors:
        return "invalid", f"{errors[0].message[:160]} at {'/'.join(map(str, errors[0].path))} in {text[:120]!r}"
    return "valid", ""


# ---------------------------------------------------------------- 1. the corpus

def spread(entries, limit):
    if not limit or limit >= len(entries):
        return entries
    return [entries[(i * len(entries)) // limit] for i in range(limit)]


def check_corpus(client, model, args, results):
    import openai
    with open(args.corpus, encoding="utf-8") as f:
        entries = spread(json.load(f), args.limit)
    print(f"== corpus: {len(entries)} schemas, greedy + {args.samples} samples each", flush=True)
    category = "corpus"

    def one(entry):
        schema = entry["schema"]
        sent = schema
        if args.inject_schema_uri and isinstance(schema, dict) and "$schema" not in schema and entry["draft"] != "2020-12":
            sent = {"$schema": DRAFT_URIS[entry["draft"]], **schema}
        validator = make_validator(schema, entry["draft"])
        text = json.dumps(sent, ensure_ascii=False)
        prompt = "Produce a JSON value for this schema" + (f":\n{text}" if len(text) <= PROMPT_SCHEMA_CHARS else ".")
        response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": sent, "strict": True}}
        record = {"id": entry["id"], "outputs": []}
        runs = [(0.0, None)] + [(1.0, seed) for seed in range(1, args.samples + 1)]
        for temperature, seed in runs:
            try:
                out, finish = completion(client, "chat", model, prompt, temperature=temperature, seed=seed,
                                         max_tokens=args.max_tokens, response_format=response_format)
            except openai.BadRequestError as error:
                message = error_message(error)
                if seed is not None:
                    results.fail(f"corpus {entry['id']}: greedy was served but seed {seed} got 400: {message}")
                    record["outputs"].append({"seed": seed, "status": 400, "message": message})
                    continue
                keyword = named_keyword(message, schema_keywords(sent))
                record.update(refused=True, message=message, keyword=keyword)
                if keyword is None:
                    results.count(category, "refused naming no keyword of the schema")
                    results.fail(f"corpus {entry['id']}: 400 whose message names no keyword of the schema: {message}")
                else:
                    results.count(category, "refused")
                    results.count("refused by keyword", keyword)
                return record
            except openai.APIError as error:
                results.fail(f"corpus {entry['id']}: {type(error).__name__}: {error_message(error)}")
                results.count(category, "request errors")
                record["error"] = error_message(error)
                return record
            if finish == "length":
                verdict, detail = "truncated", ""
            else:
                verdict, detail = judge_json(out, validator)
                if finish != "stop":
                    verdict, detail = "invalid", f"finish_reason {finish!r}"
            results.count(category, f"outputs {verdict}")
            record["outputs"].append({"seed": seed, "text": out, "finish_reason": finish, "verdict": verdict,
                                      "detail": detail})
            if verdict == "invalid":
                results.fail(f"corpus {entry['id']} ({'greedy' if seed is None else f'seed {seed}'}): {detail}")
        results.count(category, "supported")
        record["refused"] = False
        return record

    done = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for record in pool.map(one, entries):
            results.report["corpus"].append(record)
            done += 1
            if done % 25 == 0:
                print(f"   {done}/{len(entries)} schemas", flush=True)
    row = results.rows.setdefault(category, {})
    row["total"] = len(entries)
    supported = row.get("supported", 0)
    row["coverage %"] = round(100.0 * supported / len(entries), 1) if entries else 0.0


# ---------------------------------------------------------------- 2. the other forms

def form_cases():
    """(form name, endpoint, prompt, fields, checker): fields are (response_format, extra_body)."""
    cases = []
    for endpoint in ("chat", "completions"):
        for name, pattern, prompt in REGEXES:
            check = (lambda p: lambda t: (re.fullmatch(p, t) is not None, f"{t!r} does not fullmatch {p!r}"))(pattern)
            cases.append((f"structured_outputs.regex/{name}", endpoint, prompt,
                          (None, {"structured_outputs": {"regex": pattern}}), check))
        for name, pattern, prompt in REGEXES[::6]:
            check = (lambda p: lambda t: (re.fullmatch(p, t) is not None, f"{t!r} does not fullmatch {p!r}"))(pattern)
            cases.append((f"guided_regex/{name}", endpoint, prompt, (None, {"guided_regex": pattern}), check))
        for name, options, prompt in CHOICES:
            check = (lambda o: lambda t: (t in o, f"{t!r} is not one of {o}"))(options)
            cases.append((f"structured_outputs.choice/{name}", endpoint, prompt,
                          (None, {"structured_outputs": {"choice": options}}), check))
            cases.append((f"guided_choice/{name}", endpoint, prompt, (None, {"guided_choice": options}), check))
        for name, text, prompt in GRAMMARS:
            grammar = Grammar(text)
            check = (lambda g, n: lambda t: (g.matches(t), f"{t[:160]!r} is not in the {n} grammar"))(grammar, name)
            cases.append((f"structured_outputs.grammar/{name}", endpoint, prompt,
                          (None, {"structured_outputs": {"grammar": text}}), check))
            cases.append((f"guided_grammar/{name}", endpoint, prompt, (None, {"guided_grammar": text}), check))
        for name, schema, prompt in SCHEMAS:
            validator = make_validator(schema, "2020-12")
            check = (lambda v: lambda t: (lambda r: (r[0] == "valid", r[1]))(judge_json(t, v)))(validator)
            cases.append((f"structured_outputs.json/{name}", endpoint, prompt,
                          (None, {"structured_outputs": {"json": schema}}), check))
            cases.append((f"guided_json/{name}", endpoint, prompt, (None, {"guided_json": schema}), check))
            cases.append((f"response_format json_schema/{name}", endpoint, prompt,
                          ({"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}},
                           None), check))

        def object_check(t):
            try:
                return isinstance(json.loads(t), dict), f"{t[:160]!r} is not a JSON object"
            except json.JSONDecodeError as error:
                return False, f"{t[:160]!r} is not JSON: {error}"
        for prompt in ("Describe a cat in JSON.", "Give the weather in Paris as JSON."):
            cases.append(("response_format json_object", endpoint, prompt, ({"type": "json_object"}, None),
                          object_check))
    return cases


def interleaved(cases):
    """The cases taken round-robin over (form family, endpoint), so that the first N cover every form."""
    groups = {}
    for case in cases:
        groups.setdefault((case[0].split("/")[0], case[1]), []).append(case)
    out = []
    while any(groups.values()):
        for key in list(groups):
            if groups[key]:
                out.append(groups[key].pop(0))
    return out


def check_forms(client, model, args, results):
    import openai
    cases = form_cases()
    if args.limit:
        cases = interleaved(cases)[:args.limit]
    print(f"== forms: {len(cases)} cases x (greedy, greedy streamed, sampled)", flush=True)

    def one(case):
        form, endpoint, prompt, (response_format, extra_body), check = case
        family = form.split("/")[0]
        category = f"{family} ({endpoint})"
        record = {"form": form, "endpoint": endpoint, "runs": []}
        texts = {}
        for mode, temperature, seed, stream in (("greedy", 0.0, None, False), ("greedy stream", 0.0, None, True),
                                                ("sampled", 1.0, 7, False)):
            try:
                text, finish = completion(client, endpoint, model, prompt, temperature=temperature, seed=seed,
                                          max_tokens=args.max_tokens, stream=stream,
                                          response_format=response_format, extra_body=extra_body)
            except (openai.APIError, AssertionError) as error:
                message = error_message(error) if isinstance(error, openai.APIError) else str(error)
                results.fail(f"{form} on {endpoint} ({mode}): {type(error).__name__}: {message}")
                results.count(category, "request errors")
                record["runs"].append({"mode": mode, "error": message})
                continue
            texts[mode] = (text, finish)
            if finish == "length":
                verdict, detail = "truncated", ""
            else:
                ok, detail = check(text)
                verdict = "valid" if ok and finish == "stop" else "invalid"
                if ok and finish != "stop":
                    detail = f"finish_reason {finish!r}"
            results.count(category, verdict)
            record["runs"].append({"mode": mode, "text": text, "finish_reason": finish, "verdict": verdict})
            if verdict == "invalid":
                results.fail(f"{form} on {endpoint} ({mode}): {detail}")
        if "greedy" in texts and "greedy stream" in texts:
            if texts["greedy"] != texts["greedy stream"]:
                results.fail(f"{form} on {endpoint}: streamed {texts['greedy stream']!r} != "
                             f"non-streamed {texts['greedy']!r}")
                results.count(category, "stream differs")
            else:
                results.count(category, "stream equal")
        return record

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for record in pool.map(one, cases):
            results.report["forms"].append(record)


# ---------------------------------------------------------------- 3. errors

def raw_post(args, path, body):
    url = args.base_url.rstrip("/") + path
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {args.api_key}")
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        return status, json.loads(text)
    except json.JSONDecodeError:
        return status, text


def check_errors(model, args, results):
    print(f"== errors: {len(ERROR_CASES)} requests that must be 400s", flush=True)
    for what, endpoint, fields in ERROR_CASES:
        if endpoint == "chat":
            body = {"model": model, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, **fields}
            path = "/chat/completions"
        else:
            body = {"model": model, "prompt": "Hi", "max_tokens": 8, **fields}
            path = "/completions"
        status, payload = raw_post(args, path, body)
        error = payload.get("error") if isinstance(payload, dict) else None
        ok = status == 400 and isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)
        print(f"   {'ok  ' if ok else 'FAIL'} {what} ({endpoint}) -> {status} {json.dumps(payload)[:300]}", flush=True)
        results.count("errors", "400 with OpenAI error body" if ok else "wrong answer")
        results.report["errors"].append({"what": what, "endpoint": endpoint, "status": status, "body": payload})
        if not ok:
            results.fail(f"error case {what!r} on {endpoint}: expected 400 with an OpenAI error body, got {status}")


# ---------------------------------------------------------------- self-test and main

def self_test():
    """The recognisers and keyword logic, without a server."""
    arithmetic, words, js = (Grammar(g) for g in (ARITHMETIC_GBNF, LIST_GBNF, JSON_GBNF))
    for text, want in [("1+2*3", True), ("(1+2)*3", True), ("12/(3-1)", True), ("1+", False), ("(1", False),
                       ("1234", False), ("", False), ("((7))", True)]:
        assert arithmetic.matches(text) == want, (text, want)
    for text, want in [('["apple", "pear","fig"]', True), ('["a"]', True), ("[]", False), ('["A"]', False),
                       ('["a","b","c","d","e","f","g"]', False), ('["a","b","c","d","e","f"]', True)]:
        assert words.matches(text) == want, (text, want)
    for text, want in [('{"a": 1}', True), ('{"a":[1,2.5e3,"x\\n\\u00e9",true,null,{}]}', True), ("{}", True),
                       ('{"a": 01}', False), ('[1]', False), ('{"a" : 1}', True), ('{"a":1}\n\n', False), ('{"a": "\x01"}', False),
                       ('{\n  "a": -0.5,\n  "b": "é"\n}', True), ('{"a": 1,}', False), ('{"a": 1} ', True)]:
        assert js.matches(text) == want, (text, want)
    for bad in ['root ::= ("a" | "b"', "root ::= item+", 'root = "a"', 'root ::= "a', "item ::= [a-z]"]:
        try:
            Grammar(bad)
        except GBNFError:
            continue
        raise AssertionError(f"accepted a malformed grammar: {bad!r}")
    for _, pattern, _ in REGEXES:
        re.compile(pattern)
    assert named_keyword('the JSON Schema keyword "uniqueItems" (at #/x) is not supported',
                         {"type", "uniqueItems", "items"}) == "uniqueItems"
    assert named_keyword("minLength/maxLength together with pattern are not supported",
                         {"type", "minLength", "pattern"}) in ("minLength", "pattern")
    assert named_keyword("the prompt is too long", {"type", "properties"}) is None
    assert schema_keywords({"type": "object", "properties": {"pattern": {"enum": ["minLength"]}}}) == {
        "type", "properties", "enum"}
    validator = make_validator(PERSON_SCHEMA, "2020-12")
    assert judge_json('{"name": "Ann", "age": 30, "role": "admin"}', validator)[0] == "valid"
    assert judge_json('{"name": "Ann", "age": 300, "role": "admin"}', validator)[0] == "invalid"
    assert judge_json('{"name": "Ann", "age": 30, "role": "admin", "email": "nope"}', validator)[0] == "invalid"
    if os.path.exists(DEFAULT_CORPUS):
        with open(DEFAULT_CORPUS, encoding="utf-8") as f:
            entries = json.load(f)
        keywords = {k for e in entries for k in schema_keywords(e["schema"])}
        assert {"type", "properties", "$ref", "anyOf"} <= keywords
        print(f"corpus: {len(entries)} schemas, {len(keywords)} distinct keywords; --limit 20 picks "
              + ", ".join(sorted({e['id'].split('/')[0] for e in spread(entries, 20)})))
    print(f"self-test passed: {len(form_cases())} form cases, {len(ERROR_CASES)} error cases")


def print_summary(results):
    rows = results.rows
    print("\n== summary")
    corpus = rows.get("corpus")
    if corpus:
        print(f"corpus: {corpus.get('total', 0)} schemas, {corpus.get('supported', 0)} supported, "
              f"{corpus.get('refused', 0)} refused naming a keyword, "
              f"{corpus.get('refused naming no keyword of the schema', 0)} refused naming none, "
              f"{corpus.get('request errors', 0)} request errors; coverage {corpus.get('coverage %', 0.0)}%")
        print(f"corpus outputs: {corpus.get('outputs valid', 0)} valid, {corpus.get('outputs invalid', 0)} invalid, "
              f"{corpus.get('outputs truncated', 0)} truncated")
        refused = rows.get("refused by keyword", {})
        if refused:
            print("refused by keyword: " + ", ".join(f"{k} {v}" for k, v in sorted(refused.items(),
                                                                                   key=lambda kv: (-kv[1], kv[0]))))
    columns = ["valid", "invalid", "truncated", "stream equal", "stream differs", "request errors"]
    forms = sorted(c for c in rows if c.endswith("(chat)") or c.endswith("(completions)"))
    if forms:
        width = max(len(c) for c in forms)
        print(f"\n{'form (endpoint)':<{width}}  " + "  ".join(f"{c:>14}" for c in columns))
        for category in forms:
            print(f"{category:<{width}}  " + "  ".join(f"{rows[category].get(c, 0):>14}" for c in columns))
    if "errors" in rows:
        e = rows["errors"]
        print(f"\nerror cases: {e.get('400 with OpenAI error body', 0)} answered 400 with OpenAI's error body, "
              f"{e.get('wrong answer', 0)} not")
    print(f"\n{len(results.failures)} failures")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8000/v1")
    parser.add_argument("--api-key", default=os.environ.get("OPENAI_API_KEY", "unused"))
    parser.add_argument("--model", help="served model name (default: the first of /v1/models)")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=0,
                        help="schemas (and form cases) to take, spread over the corpus and the cases (0: all)")
    parser.add_argument("--samples", type=int, default=2, help="sampled requests per schema (seeds 1..K)")
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--only", default="corpus,forms,errors", help="comma-separated parts to run")
    parser.add_argument("--json-report", help="write every request's outcome here")
    parser.add_argument("--no-inject-schema-uri", dest="inject_schema_uri", action="store_false",
                        help="send draft-7/6/4 corpus schemas without adding their $schema")
    parser.add_argument("--self-test", action="store_true", help="check the local recognisers; needs no server")
    args = parser.parse_args()
    if args.self_test:
        self_test()
        return
    import openai
    client = openai.OpenAI(base_url=args.base_url, api_key=args.api_key, max_retries=0, timeout=args.timeout)
    model = args.model or client.models.list().data[0].id
    print(f"server {args.base_url}, model {model}", flush=True)
    results = Results()
    parts = set(args.only.split(","))
    started = time.time()
    if "errors" in parts:
        check_errors(model, args, results)
    if "forms" in parts:
        check_forms(client, model, args, results)
    if "corpus" in parts:
        check_corpus(client, model, args, results)
    print_summary(results)
    print(f"took {time.time() - started:.0f} s")
    if args.json_report:
        with open(args.json_report, "w", encoding="utf-8") as f:
            json.dump({"model": model, "summary": results.rows, "failures": results.failures, **results.report}, f,
                      ensure_ascii=False, indent=1)
        print(f"wrote {args.json_report}")
    sys.exit(1 if results.failures else 0)


if __name__ == "__main__":
    main()
