#!/usr/bin/env python3
"""Reference data for the CPU kernel tests (Tests/CPUBackendTests/Fixtures/quant).

For every GGML type the kernels support, writes ROWS x COLS weights as raw GGUF block
bytes (random quantized values, scales drawn as sane float16 numbers, a few of them
subnormal or negative) and the floats that the `gguf` package's
gguf.quants.dequantize gives for those bytes. index.json lists the files.

    python3 scripts/make_kernel_fixtures.py
"""
import json
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

ROWS, COLS = 13, 512
OUT = Path(__file__).resolve().parent.parent / "Tests" / "CPUBackendTests" / "Fixtures" / "quant"

# Byte offsets of the float16 scale fields in a block: (d offsets, min offsets).
SCALE_FIELDS = {
    T.Q4_0: ([0], []), T.Q4_1: ([0], [2]), T.Q5_0: ([0], []), T.Q5_1: ([0], [2]),
    T.Q8_0: ([0], []), T.Q2_K: ([80], [82]), T.Q3_K: ([108], []), T.Q4_K: ([0], [2]),
    T.Q5_K: ([0], [2]), T.Q6_K: ([208], []),
}
QUANTIZED = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K]


def half_bytes(values: np.ndarray) -> np.ndarray:
    return values.astype(np.float16).view(np.uint8).reshape(-1, 2)


def quantized_blocks(rng: np.random.Generator, qtype: T) -> np.ndarray:
    block_values, block_bytes = GGML_QUANT_SIZES[qtype]
    n_blocks = ROWS * COLS // block_values
    blocks = rng.integers(0, 256, size=(n_blocks, block_bytes), dtype=np.uint8)
    d_fields, m_fields = SCALE_FIELDS[qtype]
    for off in d_fields:
        d = rng.normal(0.0, 0.02, n_blocks)
        d[0] = 3.0e-6   # a subnormal float16
        d[1] = -0.05    # a negative scale
        blocks[:, off:off + 2] = half_bytes(d)
    for off in m_fields:
        blocks[:, off:off + 2] = half_bytes(rng.normal(-0.1, 0.05, n_blocks))
    return blocks.reshape(ROWS, -1)


def plain_rows(rng: np.random.Generator, qtype: T) -> np.ndarray:
    values = rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32)
    if qtype == T.F32:
        return values.view(np.uint8)
    if qtype == T.F16:
        return values.astype(np.float16).view(np.uint8)
    # BF16: the upper half of each float32 (gguf's own rounding is not under test here).
    return (values.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)


def main() -> None:
    rng = np.random.default_rng(20261127)
    OUT.mkdir(parents=True, exist_ok=True)
    entries = []
    for qtype in [T.F32, T.F16, T.BF16] + QUANTIZED:
        raw = quantized_blocks(rng, qtype) if qtype in QUANTIZED else plain_rows(rng, qtype)
        raw = np.ascontiguousarray(raw)
        values = dequantize(raw, qtype).astype(np.float32)
        assert values.shape == (ROWS, COLS), (qtype.name, values.shape)
        name = qtype.name.lower()
        (OUT / f"{name}.bin").write_bytes(raw.tobytes())
        (OUT / f"{name}.f32").write_bytes(values.astype("<f4").tobytes())
        entries.append({"name": qtype.name, "type": int(qtype), "blocks": f"{name}.bin",
                        "values": f"{name}.f32"})
    index = {"rows": ROWS, "cols": COLS, "source": "gguf.quants.dequantize", "types": entries}
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
