#!/usr/bin/env python3
"""Reference data for Tests/OpenAIServerTests, produced by Hugging Face `tokenizers`, `transformers`
and `jinja2` (never by Tern).

Run from the repository root:

    pip install tokenizers transformers jinja2
    python3 scripts/make_server_fixtures.py

What it writes under Tests/OpenAIServerTests/Fixtures:

- tiny_tokenizer/: a byte-level BPE (GPT-2 style, vocabulary of about 400) trained here on a small
  English text, with ChatML special tokens and SmolLM2-135M-Instruct's chat template in
  tokenizer_config.json, so that the server tests load a real tokenizer in milliseconds.
- benchmark_stats.json: sample latency lists (seconds) and numpy's mean, median, std and p99 of
  them in ms, as vLLM's benchmark_serving computes its TTFT/TPOT/ITL/E2EL figures.
- smollm2_greedy.json: for the prompts of Tests/ModelsTests/Fixtures/smollm2_reference.json (greedy
  token ids from transformers), the text HF's SmolLM2 tokenizer decodes from the greedy ids, cut
  at 12 tokens, before the first step whose top two logits are within 0.01 and before the first
  EOS, for the end-to-end test of the server over the real engine.
- expected.json: for a few prompts, the ids HF's tokenizer gives and the text its decode gives;
  for a few conversations, the prompt transformers' `apply_chat_template` renders (jinja2 with
  trim_blocks and lstrip_blocks) and its ids.
"""

import json
import random
from pathlib import Path

import numpy as np

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "OpenAIServerTests" / "Fixtures"
FOLDER = FIXTURES / "tiny_tokenizer"

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world! How are you today? I am fine, thank you.",
    "The capital of France is Paris. The capital of Italy is Rome.",
    "Once upon a time there was a little server that answered every request.",
    "Count: one, two, three, four, five, six, seven, eight, nine, ten.",
    "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
    "system user assistant: what is the answer? The answer is forty-two.",
] * 20

PROMPTS = [
    "Hello, world!",
    "The capital of France is",
    "Once upon a time",
    "Caf\u00e9 \u2014 na\u00efve r\u00e9sum\u00e9 \U0001F600",
    "<|im_start|>user\nHi<|im_end|>",
]
CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [
        {"role": "system", "content": "You answer briefly."},
        {"role": "user", "content": "Count to three."},
        {"role": "assistant", "content": "one, two, three"},
        {"role": "user", "content": "Again."},
    ],
]


def main():
    FOLDER.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIALS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False)
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.save(str(FOLDER / "tokenizer.json"))
    config = {
        "bos_token": "<|im_start|>",
        "eos_token": "<|im_end|>",
        "unk_token": "<|endoftext|>",
        "pad_token": "<|im_end|>",
        "tokenizer_class": "GPT2Tokenizer",
        "chat_template": CHAT_TEMPLATE,
    }
    (FOLDER / "tokenizer_config.json").write_text(json.dumps(config, indent=1) + "\n")

    hf = PreTrainedTokenizerFast.from_pretrained(str(FOLDER))
    prompts = []
    for prompt in PROMPTS:
        ids = hf.encode(prompt, add_special_tokens=False)
        prompts.append({"prompt": prompt, "ids": ids, "decoded": hf.decode(ids)})
    chats = []
    for messages in CONVERSATIONS:
        text = hf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        chats.append({"messages": messages, "rendered": text,
                      "ids": hf.encode(text, add_special_tokens=False)})
    expected = {"vocab_size": len(hf), "eos_token_id": hf.convert_tokens_to_ids("<|im_end|>"),
                "prompts": prompts, "chats": chats}
    (FIXTURES / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")


def smollm2_greedy():
    reference = json.loads((ROOT / "Tests" / "ModelsTests" / "Fixtures" / "smollm2_reference.json").read_text())
    hf = PreTrainedTokenizerFast.from_pretrained(str(ROOT / "Tests" / "TokenizationTests" / "Fixtures" / "smollm2"))
    eos = {hf.convert_tokens_to_ids("<|im_end|>"), hf.convert_tokens_to_ids("<|endoftext|>")}
    cases = []
    for case in reference["cases"]:
        ids = case["greedy_token_ids"]
        count = len(ids)
        for step, margin in enumerate(case["top2_margins"]):
            if margin < 0.01 or ids[step] in eos:
                count = step
                break
        count = min(count, 12)  # enough to compare, short enough for a debug-build test
        text = hf.decode(ids[:count], skip_special_tokens=True)
        if count == 0 or "\ufffd" in text:
            continue
        cases.append({"prompt": case["prompt"], "prompt_token_ids": case["prompt_token_ids"], "tokens": count,
                      "text": text})
        if len(cases) == 6:
            break
    (FIXTURES / "smollm2_greedy.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False) + "\n")


def benchmark_stats():
    rng = random.Random(7)
    cases = []
    for count in [1, 2, 5, 100, 1001]:
        values = [round(rng.expovariate(4.0), 6) for _ in range(count)]
        ms = np.array(values) * 1000
        cases.append({"seconds": values, "mean_ms": float(np.mean(ms)), "median_ms": float(np.median(ms)),
                      "std_ms": float(np.std(ms)), "p99_ms": float(np.percentile(ms, 99))})
    (FIXTURES / "benchmark_stats.json").write_text(json.dumps(cases) + "\n")


if __name__ == "__main__":
    benchmark_stats()
    smollm2_greedy()
    main()
