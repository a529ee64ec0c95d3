#!/usr/bin/env python3
"""Reference values for EngineCore's xxHash64 and block hashes, from the `xxhash` package.

    pip install xxhash && python3 scripts/engine_core_xxh64_vectors.py

Prints the Swift literals pasted into Tests/EngineCoreTests/BlockHashTests.swift.
Block hash layout (BlockHash.swift): parent hash as u64 LE (0 for a first block), each token id
as i32 LE, then for a first block the UTF-8 of the cache salt; XXH64 with seed 0.
"""
import struct

import xxhash


def pattern(n):
    """Bytes 0, 7, 14, ... mod 251: covers every tail branch of XXH64 for the lengths below."""
    return bytes((i * 7) % 251 for i in range(n))


def block_hash(parent, tokens, salt=None):
    data = struct.pack("<Q", parent or 0) + struct.pack(f"<{len(tokens)}i", *tokens)
    if parent is None and salt is not None:
        data += salt.encode()
    return xxhash.xxh64_intdigest(data, seed=0)


print("// Raw XXH64, seed 0: (input length of pattern(n), digest)")
for n in [0, 1, 3, 4, 8, 15, 31, 32, 33, 63, 64, 100, 257]:
    print(f"    ({n}, 0x{xxhash.xxh64_intdigest(pattern(n)):016X}),")
print(f'// "abc": 0x{xxhash.xxh64_intdigest(b"abc"):016X}')

first = list(range(1, 17))
second = list(range(17, 33))
h0 = block_hash(None, first)
h1 = block_hash(h0, second)
salted = block_hash(None, first, "tenant-a")
negative = block_hash(None, [-1, 0, 2147483647, -2147483648])
print(f"// first block 1...16: 0x{h0:016X}")
print(f"// second block 17...32 after it: 0x{h1:016X}")
print(f'// first block 1...16 salted "tenant-a": 0x{salted:016X}')
print(f"// first block [-1, 0, Int32.max, Int32.min]: 0x{negative:016X}")
