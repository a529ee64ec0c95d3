"""HF transformers on the same random-weight model folder, as the peer of scripts/gpu/bench.sh.

    python3 scripts/gpu/peer_hf.py MODEL_DIR [--batch 128]

Prints batch-1 decode tokens/s (128 random prompt tokens, 256 generated, greedy, EOS ignored;
the prefill's time measured apart and taken out) and offline throughput of one batch of
`--batch` prompts of 512 random tokens with 128 generated (total tokens/s and output tokens/s),
with bf16 weights and PyTorch's SDPA attention.
"""
import argparse
import time

import torch
import transformers


def timed(fn):
    torch.cuda.synchronize()
    start = time.perf_counter()
    result = fn()
    torch.cuda.synchronize()
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.bfloat16, device_map="cuda")
    model.eval()
    generator = torch.Generator(device="cuda").manual_seed(0)
    vocab = model.config.vocab_size - 2

    def generate(ids, new):
        return model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=new, min_new_tokens=new,
                              do_sample=False, pad_token_id=0)

    with torch.inference_mode():
        ids = torch.randint(0, vocab, (1, 128), device="cuda", generator=generator)
        generate(ids, 8)
        _, prefill = timed(lambda: model(ids))
        out, total = timed(lambda: generate(ids, 256))
        assert out.shape[1] == 128 + 256
        print(f"HF transformers {transformers.__version__} batch-1 decode (128 in, 256 out): "
              f"{256 / (total - prefill):.1f} tokens/s ({total:.2f} s in all)", flush=True)

        ids = torch.randint(0, vocab, (args.batch, 512), device="cuda", generator=generator)
        out, total = timed(lambda: generate(ids, 128))
        assert out.shape == (args.batch, 640)
        print(f"HF transformers throughput, {args.batch} prompts of 512 in, 128 out: "
              f"{args.batch * 640 / total:.0f} total tokens/s, {args.batch * 128 / total:.0f} output tokens/s "
              f"({total:.2f} s)", flush=True)


if __name__ == "__main__":
    main()
