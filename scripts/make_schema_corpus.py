#!/usr/bin/env python3
"""Build the JSON Schema corpus for the structured-outputs tests, with reference verdicts.

    python3 scripts/make_schema_corpus.py            # writes Tests/StructuredOutputsTests/Fixtures/schema_corpus.json
    python3 scripts/make_schema_corpus.py --check    # reloads the file and reproduces every verdict

Every schema is real and comes from a pinned package on PyPI, downloaded with pip into a temporary folder:

  * the JSON-Schema-Test-Suite, shipped in the sdist of `jsonschema` (json/tests/draft2020-12 and draft7, with their
    optional/ and optional/format/ folders): each test case is a schema with valid and invalid instances;
  * SchemaStore schemas vendored by `check-jsonschema` (GitHub workflows, dependabot, readthedocs, ...), whole and as
    self-contained sub-schemas (one definition plus the definitions it references), with the real example files of
    check-jsonschema's own test suite (tests/example-files/hooks/{positive,negative}) as instances;
  * function-calling tool parameter schemas of the Berkeley Function Calling Leaderboard (`bfcl-eval`), converted to
    JSON Schema the way bfcl_eval/model_handler/utils.py does (GORILLA_TO_OPENAPI type names), with the arguments of
    its possible_answer ground truth as instances;
  * the draft-07, draft-06 and draft-04 metaschemas of `jsonschema-specifications`, with schemas as instances.

Instances that the sources do not provide are derived from the schema (a best-effort generated value and some
mutations of it: a property removed, a wrong type, an extra property, a value outside an enum). Whatever an instance
is, its verdict is the one Python's `jsonschema` gives with the validator of the schema's draft (Draft 2020-12 unless
`$schema` or the Test-Suite folder says otherwise), a FormatChecker (so `format` asserts) and an empty registry (so
nothing is fetched). Schemas that need a remote reference, that their draft's metaschema rejects, or on which the
validator fails (a pattern Python's `re` cannot compile) are left out.

Format checking depends on optional packages (rfc3339-validator, fqdn, idna, rfc3987, ...), so unless
--no-venv is given the script runs itself in a temporary virtual environment with the pinned versions below, which makes
the output the same for anyone who runs it.
"""

import argparse
import copy
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, OrderedDict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "Tests", "StructuredOutputsTests", "Fixtures", "schema_corpus.json")

# The validator and its format checkers, pinned (installed with --no-deps into a temporary venv).
VALIDATOR_PINS = [
    "jsonschema==4.26.0", "referencing==0.37.0", "jsonschema-specifications==2025.9.1", "rpds-py==2026.9.1",
    "attrs==26.1.0", "typing_extensions==4.16.0", "fqdn==1.6.0", "idna==3.20", "isoduration==20.11.0",
    "arrow==1.4.0", "python-dateutil==4.0.0", "six==1.17.0", "tzdata==2026.6", "jsonpointer==3.12",
    "rfc3339-validator==0.1.4", "rfc3987==1.3.8", "uri-template==1.3.0", "webcolors==25.10.0",
    "ruamel.yaml==0.19.1",
]
# The sources, pinned: (requirement, "sdist" or "wheel").
SOURCES = {
    "jsonschema": ("jsonschema==4.26.0", "sdist"),
    "check-jsonschema": ("check-jsonschema==0.39.0", "sdist"),
    "bfcl-eval": ("bfcl-eval==2026.3.23", "wheel"),
    "jsonschema-specifications": ("jsonschema-specifications==2025.9.1", "wheel"),
}

MAX_INSTANCES = 40
SUBSCHEMA_MAX_BYTES = 12_000
SUBSCHEMAS_PER_DOCUMENT = 8
WHOLE_SCHEMA_MAX_BYTES = 140_000
BFCL_PLAN = [  # (file, how many distinct functions to take)
    ("BFCL_v4_simple_python.json", 90),
    ("BFCL_v4_live_simple.json", 60),
    ("BFCL_v4_multiple.json", 25),
    ("BFCL_v4_live_multiple.json", 25),
    ("BFCL_v4_parallel.json", 10),
    ("BFCL_v4_simple_javascript.json", 10),
    ("BFCL_v4_simple_java.json", 10),
]
SCHEMASTORE_HOOKS = {  # check-jsonschema example-file folder -> vendored schema
    "bitbucket-pipelines": "bitbucket-pipelines.json", "buildkite": "buildkite.json",
    "citation-file-format": "citation-file-format.json", "cloudbuild": "cloudbuild.json", "codecov": "codecov.json",
    "drone-ci": "drone-ci.json", "github-actions": "github-actions.json", "github-discussion": "github-discussion.json",
    "github-issue-config": "github-issue-config.json", "github-issue-forms": "github-issue-forms.json",
    "github-workflows": "github-workflows.json", "gitlab-ci": "gitlab-ci.json", "meltano": "meltano.json",
    "readthedocs": "readthedocs.json", "travis": "travis.json", "woodpecker-ci": "woodpecker-ci.json",
}


# ---------------------------------------------------------------- environment

def in_pinned_env():
    try:
        import jsonschema  # noqa: F401  (only whether it imports)
        from importlib.metadata import version
    except ImportError:
        return False
    for pin in VALIDATOR_PINS:
        name, want = pin.split("==")
        try:
            if version(name) != want:
                return False
        except Exception:
            return False
    return True


def reexec_in_venv(argv):
    tmp = tempfile.mkdtemp(prefix="schema-corpus-venv-")
    print(f"creating a virtual environment with the pinned validator in {tmp}", file=sys.stderr)
    subprocess.check_call([sys.executable, "-m", "venv", tmp])
    python = os.path.join(tmp, "bin", "python")
    subprocess.check_call([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps",
                           *VALIDATOR_PINS])
    os.execv(python, [python, os.path.abspath(__file__), *argv, "--no-venv", "--remove-venv", tmp])


# ---------------------------------------------------------------- validation

def validator_classes():
    import jsonschema
    return {"2020-12": jsonschema.Draft202012Validator, "2019-09": jsonschema.Draft201909Validator,
            "7": jsonschema.Draft7Validator, "6": jsonschema.Draft6Validator, "4": jsonschema.Draft4Validator,
            "3": jsonschema.Draft3Validator}


def draft_of(schema, default="2020-12"):
    import jsonschema.validators
    classes = validator_classes()
    cls = jsonschema.validators.validator_for(schema, default=classes[default])
    for name, c in classes.items():
        if c is cls:
            return name
    return default


def make_validator(schema, draft):
    """A validator of the draft with format assertion and no way to fetch anything; raises on an invalid schema."""
    import referencing
    cls = validator_classes()[draft]
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER, registry=referencing.Registry())


def verdict(validator, instance):
    """True/False, or raises for anything but a validation failure (unresolvable $ref, bad pattern, ...)."""
    import jsonschema
    try:
        errors = list(validator.iter_errors(instance))
    except jsonschema.ValidationError:  # pragma: no cover - iter_errors yields them
        return False
    return not errors


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def contains_remote_ref(node):
    """A $ref / $dynamicRef / $recursiveRef to an absolute http(s) URI that the document does not itself define."""
    ids, refs = set(), []

    def walk(n):
        if isinstance(n, dict):
            for k, v in n.items():
                if k in ("$id", "id") and isinstance(v, str):
                    ids.add(v.split("#")[0].rstrip("/"))
                if k in ("$ref", "$dynamicRef", "$recursiveRef") and isinstance(v, str):
                    refs.append(v)
                walk(v)
        elif isinstance(n, list):
            for v in n:
                walk(v)
    walk(node)
    for r in refs:
        base = r.split("#")[0].rstrip("/")
        if base.startswith(("http://", "https://", "urn:")) and base not in ids:
            return True
    return False


class Builder:
    def __init__(self):
        self.entries = []
        self.ids = set()
        self.dropped = Counter()
        self.suite_disagreements = 0

    def add(self, id_, source, schema, instances, draft=None, kind=""):
        """instances: list of (value, expected-or-None). Returns True when the entry was kept."""
        draft = draft or draft_of(schema)
        if contains_remote_ref(schema):
            self.dropped[f"{kind}: remote $ref"] += 1
            return False
        try:
            validator = make_validator(schema, draft)
        except Exception:
            self.dropped[f"{kind}: rejected by its metaschema"] += 1
            return False
        seen, out = set(), []
        try:
            for value, expected in instances:
                text = compact(value)
                if text in seen:
                    continue
                seen.add(text)
                valid = verdict(validator, json.loads(text))
                if expected is not None and expected != valid:
                    self.suite_disagreements += 1
                out.append({"json": text, "valid": valid})
        except Exception as error:
            self.dropped[f"{kind}: validator error ({type(error).__name__})"] += 1
            return False
        if not out:
            self.dropped[f"{kind}: no instance"] += 1
            return False
        assert id_ not in self.ids, id_
        self.ids.add(id_)
        self.entries.append(OrderedDict([("id", id_), ("source", source), ("draft", draft), ("schema", schema),
                                         ("instances", out[:MAX_INSTANCES])]))
        return True


# ---------------------------------------------------------------- instance generation

FORMAT_EXAMPLES = {
    "date-time": "2024-05-06T07:08:09Z", "date": "2024-05-06", "time": "07:08:09Z", "email": "user@example.com",
    "idn-email": "user@example.com", "hostname": "example.com", "idn-hostname": "example.com", "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1", "uri": "https://example.com/a", "uri-reference": "/a/b", "iri": "https://example.com/a",
    "iri-reference": "/a", "uuid": "123e4567-e89b-12d3-a456-426614174000", "duration": "P1D",
    "json-pointer": "/a/0", "relative-json-pointer": "0/a", "regex": "^a+$", "uri-template": "/users/{id}",
}


def resolve_local(root, ref):
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def generate(schema, root, depth=0):
    """A plausible instance (not necessarily valid: the verdict comes from jsonschema)."""
    if depth > 8:
        return None
    if schema is True or schema is None:
        return "anything"
    if schema is False or not isinstance(schema, dict):
        return None
    if "$ref" in schema and isinstance(schema["$ref"], str):
        target = resolve_local(root, schema["$ref"])
        if target is not None:
            return generate(target, root, depth + 1)
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return copy.deepcopy(schema["enum"][0])
    if "default" in schema and schema["default"] is not None:
        return copy.deepcopy(schema["default"])
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return copy.deepcopy(schema["examples"][0])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            base = {k: v for k, v in schema.items() if k != key}
            branch = schema[key][0]
            if isinstance(branch, dict) and base.get("type") is None and "properties" not in base:
                return generate(branch, root, depth + 1)
            if isinstance(branch, dict):
                merged = dict(base)
                merged.update(branch)
                return generate(merged, root, depth + 1)
    if isinstance(schema.get("allOf"), list) and schema["allOf"]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                if "$ref" in part:
                    part = resolve_local(root, part["$ref"]) or {}
                for k, v in part.items():
                    if k == "properties" and isinstance(v, dict):
                        merged.setdefault("properties", {})
                        merged["properties"] = {**merged["properties"], **v}
                    elif k == "required" and isinstance(v, list):
                        merged["required"] = list(merged.get("required", [])) + v
                    else:
                        merged.setdefault(k, v)
        return generate(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), kind[0] if kind else None)
    if kind is None:
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            kind = "object"
        elif "items" in schema or "prefixItems" in schema:
            kind = "array"
        elif any(k in schema for k in ("minLength", "maxLength", "pattern", "format")):
            kind = "string"
        elif any(k in schema for k in ("minimum", "maximum", "multipleOf")):
            kind = "number"
        else:
            return {}
    if kind == "object":
        props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [r for r in schema.get("required", []) if isinstance(r, str)] if isinstance(
            schema.get("required"), list) else []
        names = list(dict.fromkeys(required + ([] if required else list(props)[:2])))
        return {name: generate(props.get(name, True), root, depth + 1) for name in names}
    if kind == "array":
        items = schema.get("items", True)
        if isinstance(items, list):
            return [generate(s, root, depth + 1) for s in items]
        prefix = schema.get("prefixItems")
        out = [generate(s, root, depth + 1) for s in prefix] if isinstance(prefix, list) else []
        need = max(schema.get("minItems", 1) if isinstance(schema.get("minItems"), int) else 1, len(out))
        while len(out) < min(need, 4):
            out.append(generate(items, root, depth + 1))
        return out
    if kind == "string":
        fmt = schema.get("format")
        if fmt in FORMAT_EXAMPLES:
            return FORMAT_EXAMPLES[fmt]
        text = "example"
        low = schema.get("minLength") if isinstance(schema.get("minLength"), int) else 0
        high = schema.get("maxLength") if isinstance(schema.get("maxLength"), int) else None
        text = text + "x" * max(0, low - len(text))
        return text[:high] if high is not None else text
    if kind in ("integer", "number"):
        for key in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
            bound = schema.get(key)
            if isinstance(bound, (int, float)) and not isinstance(bound, bool):
                value = bound + (1 if key == "exclusiveMinimum" else -1 if key == "exclusiveMaximum" else 0)
                return int(value) if kind == "integer" else value
        return 1 if kind == "integer" else 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def wrong_type(value):
    if isinstance(value, dict):
        return ["not", "an", "object"]
    if isinstance(value, str):
        return 12345
    if isinstance(value, bool) or value is None:
        return "not-a-boolean"
    if isinstance(value, (int, float)):
        return "not-a-number"
    return {"not": "an array"}


def mutations(value, schema, root):
    """Instances derived from a generated one, most of them invalid."""
    out = [wrong_type(value)]
    if isinstance(value, dict):
        out.append({})
        if value:
            first = next(iter(value))
            out.append({k: v for k, v in value.items() if k != first})
            out.append({k: (wrong_type(v) if k == first else v) for k, v in value.items()})
        out.append({**value, "unexpected_property_x": True})
        props = schema.get("properties") if isinstance(schema, dict) and isinstance(schema.get("properties"),
                                                                                   dict) else {}
        for name, sub in props.items():
            if isinstance(sub, dict) and "$ref" in sub:
                sub = resolve_local(root, sub["$ref"]) or sub
            if isinstance(sub, dict) and isinstance(sub.get("enum"), list):
                out.append({**value, name: "__not_in_enum__"})
                break
    elif isinstance(value, list):
        out.append([])
        out.append(value + value)
    out.append(None)
    return out


def derived_instances(schema):
    value = generate(schema, schema)
    return [(value, None)] + [(m, None) for m in mutations(value, schema, schema)]


# ---------------------------------------------------------------- sources

def download(tmp):
    paths = {}
    for key, (requirement, kind) in SOURCES.items():
        dest = os.path.join(tmp, key)
        os.makedirs(dest)
        binary = ["--no-binary", ":all:"] if kind == "sdist" else ["--only-binary", ":all:"]
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                               "--no-deps", *binary, "-d", dest, requirement])
        (name,) = os.listdir(dest)
        paths[key] = os.path.join(dest, name)
    return paths


class Archive:
    def __init__(self, path):
        self.path = path
        self.name = os.path.basename(path)
        if path.endswith(".whl") or path.endswith(".zip"):
            self.zip = zipfile.ZipFile(path)
            self.names = sorted(self.zip.namelist())
        else:
            self.tar = tarfile.open(path)
            self.zip = None
            self.members = {m.name: m for m in self.tar.getmembers() if m.isfile()}
            self.names = sorted(self.members)

    def read(self, name):
        if self.zip:
            return self.zip.read(name)
        return self.tar.extractfile(self.members[name]).read()

    def json(self, name):
        return json.loads(self.read(name).decode("utf-8"), object_pairs_hook=OrderedDict)

    @staticmethod
    def inner(name):
        """The path inside the package, without an sdist's top folder."""
        parts = name.split("/")
        return "/".join(parts[1:]) if "-" in parts[0] and not parts[0].endswith(".dist-info") and len(
            parts) > 1 and parts[0][0].isalpha() and any(c.isdigit() for c in parts[0]) else name


def add_test_suite(builder, archive, pin):
    for folder, draft, prefix in (("draft2020-12", "2020-12", "ts2020"), ("draft7", "7", "ts7")):
        names = [n for n in archive.names if f"/json/tests/{folder}/" in n and n.endswith(".json")]
        for name in names:
            inner = Archive.inner(name)
            rel = inner.split(f"json/tests/{folder}/", 1)[1]
            if rel in ("refRemote.json",):
                builder.dropped["test-suite: remote $ref"] += len(archive.json(name))
                continue
            for index, case in enumerate(archive.json(name)):
                schema = case["schema"]
                case_draft = draft_of(schema, default=draft) if isinstance(schema, dict) else draft
                instances = [(t["data"], t["valid"]) for t in case["tests"]]
                builder.add(f"{prefix}/{rel[:-5]}/{index}",
                            f"{pin} sdist: {inner} (JSON-Schema-Test-Suite), case {index}: {case['description']}",
                            schema, instances, draft=case_draft, kind="test-suite")


def load_yaml(text):
    from ruamel.yaml import YAML
    import datetime
    yaml = YAML(typ="safe", pure=True)
    value = yaml.load(text)

    def plain(v):
        if isinstance(v, dict):
            return OrderedDict((str(k) if not isinstance(k, str) else k, plain(x)) for k, x in v.items())
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, (datetime.date, datetime.datetime)):
            return v.isoformat()
        return v
    return plain(value)


def refs_in(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                out.add(v)
            else:
                refs_in(v, out)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, out)


def subschema(document, key, name):
    """The definition document[key][name] as a schema of its own, with the definitions it references."""
    target = copy.deepcopy(document[key][name])
    if not isinstance(target, dict):
        return None
    needed, queue = {}, [target]
    while queue:
        refs = set()
        refs_in(queue.pop(), refs)
        for ref in sorted(refs):
            if ref == "#":
                return None  # a reference to the whole document
            parts = ref.split("/")
            if len(parts) < 3 or parts[0] != "#" or parts[1] not in ("definitions", "$defs"):
                if ref.startswith("#"):
                    return None
                continue
            dname = parts[2].replace("~1", "/").replace("~0", "~")
            if (parts[1], dname) not in needed and dname in document.get(parts[1], {}):
                needed[(parts[1], dname)] = copy.deepcopy(document[parts[1]][dname])
                queue.append(needed[(parts[1], dname)])
    out = OrderedDict()
    if "$schema" in document:
        out["$schema"] = document["$schema"]
    for k, v in target.items():
        if k not in (key,):
            out[k] = v
    for (dkey, dname), value in needed.items():
        out.setdefault(dkey, OrderedDict())[dname] = value
    return out


def interesting(schema):
    """A definition worth a response_format: an object with properties, an enum, or a union of such."""
    if not isinstance(schema, dict):
        return False
    if isinstance(schema.get("properties"), dict) and len(schema["properties"]) >= 2:
        return True
    return isinstance(schema.get("enum"), list) and len(schema["enum"]) >= 3


def add_schemastore(builder, archive, pin):
    vendor = [n for n in archive.names if "/builtin_schemas/vendor/" in n and n.endswith(".json")]
    examples = [n for n in archive.names if "/tests/example-files/hooks/" in n]
    for name in vendor:
        inner = Archive.inner(name)
        file = name.rsplit("/", 1)[1]
        stem = file[:-5]
        document = archive.json(name)
        size = len(compact(document).encode())
        # The whole document, with check-jsonschema's example files as instances.
        if size <= WHOLE_SCHEMA_MAX_BYTES:
            instances = []
            for hook, schema_file in SCHEMASTORE_HOOKS.items():
                if schema_file != file:
                    continue
                for ex in examples:
                    parts = Archive.inner(ex).split("/")
                    # tests/example-files/hooks/<positive|negative>/<hook>/<file>
                    if len(parts) >= 6 and parts[4] == hook:
                        text = archive.read(ex).decode("utf-8")
                        try:
                            value = json.loads(text) if ex.endswith(".json") else load_yaml(text)
                        except Exception:  # a YAML tag of the tool's own (GitLab's !reference)
                            builder.dropped["schemastore: example file that plain YAML cannot load"] += 1
                            continue
                        instances.append((value, parts[3] == "positive"))
            instances += derived_instances(document)
            builder.add(f"schemastore/{stem}", f"{pin} sdist: {inner} (SchemaStore, vendored by check-jsonschema)",
                        document, instances, kind="schemastore")
        # Sub-schemas: definitions that would make a response_format of their own.
        taken = 0
        for key in ("definitions", "$defs"):
            for dname in list(document.get(key, {})):
                if taken >= SUBSCHEMAS_PER_DOCUMENT:
                    break
                if not interesting(document[key][dname]):
                    continue
                schema = subschema(document, key, dname)
                if schema is None or len(compact(schema).encode()) > SUBSCHEMA_MAX_BYTES:
                    continue
                if builder.add(f"schemastore/{stem}/{key}/{dname}",
                               f"{pin} sdist: {inner}#/{key}/{dname} (SchemaStore, vendored by check-jsonschema; "
                               f"the definition with the definitions it references)",
                               schema, derived_instances(schema), kind="schemastore-definition"):
                    taken += 1


GORILLA_TO_OPENAPI = {
    "integer": "integer", "number": "number", "float": "number", "string": "string", "boolean": "boolean",
    "bool": "boolean", "array": "array", "list": "array", "dict": "object", "object": "object", "tuple": "array",
    "any": "string", "byte": "integer", "short": "integer", "long": "integer", "double": "number", "char": "string",
    "ArrayList": "array", "Array": "array", "HashMap": "object", "Hashtable": "object", "Queue": "array",
    "Stack": "array", "Any": "string", "String": "string", "Bigint": "integer",
}


def bfcl_to_json_schema(node):
    """bfcl_eval's convert_to_tool / _cast_to_openai_type, applied at every level."""
    if isinstance(node, dict):
        out = OrderedDict()
        for k, v in node.items():
            if k == "type" and isinstance(v, str):
                out[k] = GORILLA_TO_OPENAPI.get(v, "string")
            elif k == "properties" and isinstance(v, dict):
                out[k] = OrderedDict((p, bfcl_to_json_schema(s)) for p, s in v.items())
            elif k in ("items", "additionalProperties") and isinstance(v, dict):
                out[k] = bfcl_to_json_schema(v)
            else:
                out[k] = v
        return out
    return node


def bfcl_arguments(truth, required):
    """Argument objects from a possible_answer entry: every argument at its first answer, the required ones only."""
    full, minimal = OrderedDict(), OrderedDict()
    for arg, answers in truth.items():
        values = [a for a in answers if a != ""] if isinstance(answers, list) else []
        if not values:
            continue
        full[arg] = values[0]
        if arg in required:
            minimal[arg] = values[0]
        if len(values) > 1 and arg in required:
            pass
    out = [full, minimal]
    # Alternative answers of the first argument that has several.
    for arg, answers in truth.items():
        values = [a for a in answers if a != ""] if isinstance(answers, list) else []
        if len(values) > 1:
            alt = OrderedDict(full)
            alt[arg] = values[1]
            out.append(alt)
            break
    return out


def add_bfcl(builder, archive, pin):
    seen = set()
    for file, quota in BFCL_PLAN:
        data = f"bfcl_eval/data/{file}"
        answers_name = f"bfcl_eval/data/possible_answer/{file}"
        truth = {}
        if answers_name in archive.names:
            for line in archive.read(answers_name).decode().splitlines():
                if line.strip():
                    row = json.loads(line, object_pairs_hook=OrderedDict)
                    truth[row["id"]] = row["ground_truth"]
        taken = 0
        for line in archive.read(data).decode().splitlines():
            if taken >= quota:
                break
            if not line.strip():
                continue
            row = json.loads(line, object_pairs_hook=OrderedDict)
            calls = {}
            for call in truth.get(row["id"], []):
                for fname, args in call.items():
                    calls.setdefault(fname, args)
            for function in row["function"]:
                if function["name"] not in calls:
                    continue
                params = copy.deepcopy(function["parameters"])
                params["type"] = "dict"
                schema = bfcl_to_json_schema(params)
                key = compact(schema)
                if key in seen:
                    continue
                seen.add(key)
                required = schema.get("required", []) if isinstance(schema.get("required"), list) else []
                instances = [(a, None) for a in bfcl_arguments(calls[function["name"]], required)]
                value = instances[0][0]
                instances += [(m, None) for m in mutations(value, schema, schema)]
                if builder.add(f"bfcl/{row['id']}/{function['name']}",
                               f"{pin} wheel: {data} (Berkeley Function Calling Leaderboard), {row['id']}, "
                               f"parameters of {function['name']}; arguments from possible_answer/{file}",
                               schema, instances, kind="bfcl"):
                    taken += 1
                break


def add_metaschemas(builder, archive, pin, suite_schemas):
    for folder, draft in (("draft7", "7"), ("draft6", "6"), ("draft4", "4")):
        (name,) = [n for n in archive.names if n.endswith(f"jsonschema_specifications/schemas/{folder}/metaschema.json")]
        schema = archive.json(name)
        instances = [(s, None) for s in suite_schemas[:6]]
        instances += [({"type": 5}, None), ({"minLength": -1}, None), ({"required": "name"}, None),
                      ({"properties": {"a": {"type": "strin"}}}, None), ({"enum": []}, None),
                      ({"$ref": 7}, None)]
        builder.add(f"metaschema/{folder}", f"{pin} wheel: {name} (the {folder} metaschema)", schema, instances,
                    draft=draft, kind="metaschema")


# ---------------------------------------------------------------- main

def write(entries, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        f.write(",\n".join(compact(e) for e in entries))
        f.write("\n]\n")


def source_key(entry):
    return entry["id"].split("/")[0]


def summary(entries):
    counts = Counter(source_key(e) for e in entries)
    instances = Counter()
    for e in entries:
        for i in e["instances"]:
            instances[(source_key(e), i["valid"])] += 1
    print(f"{'source':<14} {'schemas':>8} {'valid':>8} {'invalid':>8}")
    for key in sorted(counts):
        print(f"{key:<14} {counts[key]:>8} {instances[(key, True)]:>8} {instances[(key, False)]:>8}")
    print(f"{'total':<14} {len(entries):>8} {sum(v for (k, b), v in instances.items() if b):>8} "
          f"{sum(v for (k, b), v in instances.items() if not b):>8}")
    drafts = Counter(e["draft"] for e in entries)
    print("drafts: " + ", ".join(f"{d}: {n}" for d, n in sorted(drafts.items())))


def check(path):
    with open(path, encoding="utf-8") as f:
        entries = json.load(f, object_pairs_hook=OrderedDict)
    problems = 0
    ids = set()
    for e in entries:
        assert set(e) == {"id", "source", "draft", "schema", "instances"}, e.get("id")
        assert e["id"] not in ids, e["id"]
        ids.add(e["id"])
        validator = make_validator(e["schema"], e["draft"])
        for inst in e["instances"]:
            value = json.loads(inst["json"])
            if compact(value) != inst["json"]:
                print(f"{e['id']}: instance not in compact form: {inst['json'][:80]}")
                problems += 1
            if verdict(validator, value) != inst["valid"]:
                print(f"{e['id']}: verdict differs for {inst['json'][:80]}")
                problems += 1
    size = os.path.getsize(path)
    summary(entries)
    print(f"{path}: {len(entries)} schemas, {sum(len(e['instances']) for e in entries)} instances, "
          f"{size / 1e6:.2f} MB, {problems} problems")
    if problems or len(entries) < 300:
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="reload --out and reproduce every verdict")
    parser.add_argument("--no-venv", action="store_true",
                        help="use this interpreter's jsonschema instead of a temporary venv with the pinned one")
    parser.add_argument("--remove-venv", help=argparse.SUPPRESS)  # the temporary venv, removed at exit
    args = parser.parse_args()
    if args.remove_venv:
        import atexit
        import shutil
        atexit.register(shutil.rmtree, args.remove_venv, True)
    if not args.no_venv and not in_pinned_env():
        reexec_in_venv(sys.argv[1:])
    if not in_pinned_env():
        print("warning: the installed validator packages differ from the pinned ones; format verdicts may differ",
              file=sys.stderr)
    if args.check:
        check(args.out)
        return
    import warnings
    warnings.simplefilter("ignore")
    builder = Builder()
    with tempfile.TemporaryDirectory(prefix="schema-corpus-") as tmp:
        paths = download(tmp)
        archives = {k: Archive(p) for k, p in paths.items()}
        pins = {k: SOURCES[k][0].replace("==", " ") for k in SOURCES}
        add_test_suite(builder, archives["jsonschema"], pins["jsonschema"])
        suite_schemas = [e["schema"] for e in builder.entries if e["draft"] == "7" and isinstance(e["schema"], dict)]
        add_schemastore(builder, archives["check-jsonschema"], pins["check-jsonschema"])
        add_bfcl(builder, archives["bfcl-eval"], pins["bfcl-eval"])
        add_metaschemas(builder, archives["jsonschema-specifications"], pins["jsonschema-specifications"],
                        suite_schemas[::40])
    write(builder.entries, args.out)
    summary(builder.entries)
    print("left out: " + (", ".join(f"{k}: {v}" for k, v in sorted(builder.dropped.items())) or "none"))
    print(f"instances where jsonschema (format assertion on) disagrees with the Test-Suite's expectation: "
          f"{builder.suite_disagreements}")
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
