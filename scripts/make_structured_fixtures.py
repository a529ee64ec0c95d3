#!/usr/bin/env python3
"""Writes the regex reference of the grammar engine's tests: for each pattern and string, whether
Python's `re.fullmatch` matches (Tests/StructuredOutputsTests/Fixtures/regex_cases.json).

Run: python3 scripts/make_structured_fixtures.py
"""

import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "Tests" / "StructuredOutputsTests" / "Fixtures" / "regex_cases.json"

PATTERNS = [
    r"\d{3}-\d{4}", r"[A-Z][a-z]+( [A-Z][a-z]+)*", r"(yes|no|maybe)", r"#[0-9a-fA-F]{6}", r"\w+@\w+\.com",
    r"(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}", r"[^aeiou ]+", r"a{2,4}b?",
    r"(ab|cd)+e*", r"\s*x\s*", r"[-+]?\d+(\.\d+)?", r"colou?r", r"(?:foo|bar){1,3}", r"[\u00e9\u00e8]\w*",
    r"日本語?", r"\$\d+\.\d\d", r"[a-c]{0,2}[x-z]{1,}", r"(a|b|c)(d|e)?", r"\[\w+\]", r"[.][*]\\",
    r"(?P<year>\d{4})-(?P<month>\d{2})", r"x*?y+?", r"[^\d\s]{2}",
]
STRINGS = [
    "", "555-1234", "55-1234", "John Smith", "john", "yes", "no", "maybe", "yess", "#a1B2c3", "#a1B2c", "bob@site.com",
    "192.168.0.1", "256.1.1.1", "1.2.3", "xyz", "hello world", "aab", "aaaab", "aa", "abcde", "abab", "cdeee", " x ",
    "x", "+3.14", "-7", "1.", "color", "colour", "foobar", "barbarbar", "foofoofoofoo", "\u00e9t\u00e9", "日本", "日本語",
    "$12.50", "$1.5", "abzz", "cx", "[word]", "[]", ".*\\", "2024-05", "2024-5", "xyy", "y", "ab", "a1",
]


def main():
    cases = []
    for pattern in PATTERNS:
        compiled = re.compile(pattern)
        for text in STRINGS:
            cases.append({"pattern": pattern, "text": text, "match": compiled.fullmatch(text) is not None})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(cases, ensure_ascii=False, indent=0) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
