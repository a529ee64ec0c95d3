#!/usr/bin/env python3
"""Writes the ModelLoading test fixtures and the reference descriptions of them.

The reference is what independent readers see: gguf-py's GGUFReader for GGUF files and the
safetensors package's own deserializer for safetensors files. Tern's readers are tested by
comparing their view of each file with the JSON written here.

Outputs (in Tests/ModelLoadingTests/Fixtures):
  gguf-v3.gguf / .json   GGUFWriter, every metadata value type (nested arrays, unicode
                         strings, 64-bit values), tensors F32, F16, BF16, Q8_0, Q4_0, Q4_1
  gguf-v2.gguf / .json   version 2, written by hand (GGUFWriter only writes 3), alignment 64
  single.safetensors / single.json
  sharded/               a Hugging Face folder: config.json, generation_config.json, two
                         shards and model.safetensors.index.json; sharded.json describes it

Values are typed in the JSON as {"type": "UINT8", "value": ...}; integers are written as
decimal strings so that 64-bit values survive any JSON reader. Checksums are zlib CRC-32.

Run: python3 scripts/make_loading_fixtures.py   (needs: pip install gguf numpy safetensors)
"""

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import gguf
from gguf import GGUFReader, GGUFValueType, GGMLQuantizationType as Q
from safetensors import TensorSpec, deserialize, safe_open, serialize

OUT = Path(__file__).resolve().parent.parent / "Tests" / "ModelLoadingTests" / "Fixtures"
rng = np.random.default_rng(20261127)


def typed(parts, index, vtype):
    """Decodes one value from a GGUFReader field's parts, keeping nested arrays nested
    (ReaderField.contents() flattens them). Returns (typed value, next part index)."""
    if vtype == GGUFValueType.STRING:
        return {"type": "STRING", "value": bytes(parts[index + 1]).decode("utf-8")}, index + 2
    if vtype == GGUFValueType.ARRAY:
        item_type = GGUFValueType(int(parts[index][0]))
        count = int(parts[index + 1][0])
        index += 2
        items = []
        for _ in range(count):
            item, index = typed(parts, index, item_type)
            items.append(item)
        return {"type": "ARRAY", "value": items}, index
    raw = parts[index][0]
    if vtype == GGUFValueType.BOOL:
        value = bool(raw)
    elif vtype in (GGUFValueType.FLOAT32, GGUFValueType.FLOAT64):
        value = float(raw)
    else:
        value = str(int(raw))
    return {"type": vtype.name, "value": value}, index + 1


def plain(value):
    """A typed value as plain Python, to compare with ReaderField.contents()."""
    if value["type"] == "ARRAY":
        return [plain(v) for v in value["value"]]
    if value["type"] in ("STRING", "BOOL", "FLOAT32", "FLOAT64"):
        return value["value"]
    return int(value["value"])


def describe_gguf(path):
    reader = GGUFReader(path)
    metadata = []
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        value, end = typed(field.parts, 3, GGUFValueType(int(field.parts[2][0])))
        assert end == len(field.parts), key
        if not any(t == GGUFValueType.ARRAY for t in field.types[1:]):
            assert plain(value) == field.contents(), key
        metadata.append({"key": key, "offset": field.offset, "value": value})
    tensors = []
    for tensor in reader.tensors:
        data = tensor.data.tobytes()
        assert len(data) == tensor.n_bytes
        tensors.append({
            "name": tensor.name,
            "type": tensor.tensor_type.name,
            "type_id": int(tensor.tensor_type),
            "dims": [int(d) for d in tensor.shape],
            "n_bytes": int(tensor.n_bytes),
            "data_offset": int(tensor.data_offset),
            "info_offset": int(tensor.field.offset),
            "crc32": zlib.crc32(data),
        })
    description = {
        "version": int(reader.fields["GGUF.version"].parts[0][0]),
        "file_size": Path(path).stat().st_size,
        "alignment": int(reader.alignment),
        "data_offset": int(reader.data_offset),
        "metadata": metadata,
        "tensors": tensors,
    }
    Path(str(path)[: -len(".gguf")] + ".json").write_text(json.dumps(description, indent=1, ensure_ascii=False) + "\n")


def write_gguf_v3(path):
    writer = gguf.GGUFWriter(path, arch="tern_fixture")
    writer.add_name("Tern loading fixture")
    writer.add_uint8("test.u8", 200)
    writer.add_int8("test.i8", -100)
    writer.add_uint16("test.u16", 65000)
    writer.add_int16("test.i16", -32000)
    writer.add_uint32("test.u32", 4_000_000_000)
    writer.add_int32("test.i32", -2_000_000_000)
    writer.add_float32("test.f32", 3.14159)
    writer.add_bool("test.bool_true", True)
    writer.add_bool("test.bool_false", False)
    writer.add_string("test.string", 'héllo wörld — 世界 🦙\n\ttab "quoted" \\ backslash')
    writer.add_uint64("test.u64", 2**64 - 1)
    writer.add_int64("test.i64", -(2**63))
    writer.add_float64("test.f64", -1.2345678901234567e300)
    arrays = {
        GGUFValueType.UINT8: [0, 1, 255],
        GGUFValueType.INT8: [-128, 0, 127],
        GGUFValueType.UINT16: [0, 65535],
        GGUFValueType.INT16: [-32768, 32767],
        GGUFValueType.UINT32: [0, 4_294_967_295],
        GGUFValueType.INT32: [-2_147_483_648, 7, 2_147_483_647],
        GGUFValueType.FLOAT32: [0.5, -1.25, 1e-7],
        GGUFValueType.BOOL: [True, False, True],
        GGUFValueType.STRING: ["a", "", "ü", "🦙🦙", "with space"],
        GGUFValueType.UINT64: [0, 2**64 - 1],
        GGUFValueType.INT64: [-(2**63), 2**63 - 1],
        GGUFValueType.FLOAT64: [1.0 / 3.0, -0.0, 6.02214076e23],
    }
    for item_type, values in arrays.items():
        writer.add_key_value(f"test.array.{item_type.name.lower()}", values, GGUFValueType.ARRAY, sub_type=item_type)
    writer.add_array("test.array.nested_i32", [[1, 2, 3], [4], [5, 6]])
    writer.add_array("test.array.nested_strings", [["a", "b"], ["ç"]])
    writer.add_array("test.array.nested3", [[[1], [2, 3]], [[4]]])
    writer.add_array("tokenizer.ggml.tokens", [f"tok{i}" if i % 7 else f"Ġ▁{i}é" for i in range(2000)])

    def rand(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    writer.add_tensor("f32.vector", rand(64))
    writer.add_tensor("f32.cube", rand(2, 3, 4))
    writer.add_tensor("f32.four_d", rand(2, 1, 3, 2))
    writer.add_tensor("f16.matrix", rand(8, 32).astype(np.float16))
    writer.add_tensor("bf16.matrix", gguf.quants.quantize(rand(4, 16), Q.BF16), raw_dtype=Q.BF16)
    for name, qtype, shape in [("q8_0.weight", Q.Q8_0, (4, 64)), ("q4_0.weight", Q.Q4_0, (3, 32)),
                               ("q4_1.weight", Q.Q4_1, (2, 128))]:
        writer.add_tensor(name, gguf.quants.quantize(rand(*shape), qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def write_gguf_v2(path):
    """GGUF version 2 by hand: same layout as 3, here with general.alignment = 64."""
    def string(s):
        data = s.encode("utf-8")
        return struct.pack("<Q", len(data)) + data

    kvs = [
        string("general.architecture") + struct.pack("<I", 8) + string("llama"),
        string("general.alignment") + struct.pack("<II", 4, 64),
        string("llama.block_count") + struct.pack("<II", 4, 2),
        string("test.i16") + struct.pack("<Ih", 3, -7),
        string("test.words") + struct.pack("<IIQ", 9, 8, 3) + string("one") + string("двa") + string("三"),
        string("test.nested") + struct.pack("<IIQ", 9, 9, 2)
        + struct.pack("<IQ", 6, 2) + struct.pack("<ff", 1.5, -2.0)
        + struct.pack("<IQ", 6, 1) + struct.pack("<f", 0.25),
    ]
    vector = rng.standard_normal(8).astype(np.float32).tobytes()
    q8 = gguf.quants.quantize(rng.standard_normal((2, 32)).astype(np.float32), Q.Q8_0).tobytes()
    infos = [
        string("output_norm.weight") + struct.pack("<IQIQ", 1, 8, int(Q.F32), 0),
        string("output.weight") + struct.pack("<IQQIQ", 2, 32, 2, int(Q.Q8_0), 64),
    ]
    head = b"GGUF" + struct.pack("<IQQ", 2, len(infos), len(kvs)) + b"".join(kvs) + b"".join(infos)
    head += b"\0" * (-len(head) % 64)
    data = vector + b"\0" * (64 - len(vector)) + q8
    Path(path).write_bytes(head + data)


def specs(arrays):
    """safetensors TensorSpecs over numpy arrays; the arrays must outlive serialize()."""
    dtype_names = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
                   "U8": "uint8", "F64": "float64"}
    return {name: TensorSpec(dtype=dtype_names[dtype], shape=list(shape), data_ptr=array.ctypes.data,
                             data_len=array.nbytes)
            for name, (dtype, shape, array) in arrays.items()}


def safetensors_arrays(names_and_kinds):
    arrays = {}
    for name, dtype, shape in names_and_kinds:
        values = rng.standard_normal(shape).astype(np.float32)
        if dtype == "F32":
            array = values
        elif dtype == "F16":
            array = values.astype(np.float16)
        elif dtype == "BF16":
            array = gguf.quants.quantize(values, Q.BF16)
        elif dtype == "F64":
            array = values.astype(np.float64)
        elif dtype == "I64":
            array = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
        else:
            array = rng.integers(0, 256, shape, dtype=np.uint8)
        arrays[name] = (dtype, shape, np.ascontiguousarray(array))
    return arrays


def describe_safetensors(path):
    raw = Path(path).read_bytes()
    tensors = {name: {"dtype": info["dtype"], "shape": info["shape"], "crc32": zlib.crc32(bytes(info["data"]))}
               for name, info in sorted(deserialize(raw))}
    with safe_open(path, framework="numpy") as handle:
        metadata = handle.metadata() or {}
    return {"metadata": metadata, "tensors": tensors}


def write_safetensors(path, arrays, metadata):
    Path(path).write_bytes(bytes(serialize(specs(arrays), metadata=metadata)))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_gguf_v3(OUT / "gguf-v3.gguf")
    describe_gguf(OUT / "gguf-v3.gguf")
    write_gguf_v2(OUT / "gguf-v2.gguf")
    describe_gguf(OUT / "gguf-v2.gguf")

    single = safetensors_arrays([
        ("embed.weight", "F32", (6, 4)), ("norm.weight", "F16", (4,)), ("proj.weight", "BF16", (3, 4)),
        ("position_ids", "I64", (1, 5)), ("mask", "U8", (2, 3)), ("scale", "F64", (2,)),
    ])
    # One metadata key: the serializer writes several in hash order, which would make the
    # file differ from run to run.
    write_safetensors(OUT / "single.safetensors", single, {"format": "pt ✓"})
    (OUT / "single.json").write_text(json.dumps(describe_safetensors(OUT / "single.safetensors"), indent=1,
                                                ensure_ascii=False) + "\n")

    folder = OUT / "sharded"
    folder.mkdir(exist_ok=True)
    shards = {
        "model-00001-of-00002.safetensors": safetensors_arrays([
            ("model.embed_tokens.weight", "BF16", (16, 8)), ("model.layers.0.input_layernorm.weight", "F32", (8,)),
            ("model.layers.0.self_attn.q_proj.weight", "F16", (8, 8))]),
        "model-00002-of-00002.safetensors": safetensors_arrays([
            ("model.layers.1.self_attn.q_proj.weight", "F16", (8, 8)), ("model.norm.weight", "F32", (8,)),
            ("lm_head.weight", "BF16", (16, 8))]),
    }
    weight_map = {}
    description = {"weight_map": {}, "tensors": {}}
    for shard, arrays in shards.items():
        write_safetensors(folder / shard, arrays, {"format": "pt"})
        weight_map.update({name: shard for name in arrays})
        description["tensors"].update(describe_safetensors(folder / shard)["tensors"])
    description["tensors"] = dict(sorted(description["tensors"].items()))
    total = sum(array.nbytes for arrays in shards.values() for _, _, array in arrays.values())
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    description["weight_map"] = index["weight_map"]
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8,
              "num_hidden_layers": 2, "num_attention_heads": 2, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
              "tie_word_embeddings": False, "torch_dtype": "bfloat16", "vocab_size": 16, "bos_token_id": None,
              "name": "fixture ✓"}
    (folder / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    (folder / "generation_config.json").write_text(json.dumps({"do_sample": True, "temperature": 0.6}) + "\n")
    description["config"] = config
    (OUT / "sharded.json").write_text(json.dumps(description, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
