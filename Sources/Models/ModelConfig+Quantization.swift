import ModelLoading

/// A checkpoint's own quantization, from HF `quantization_config`, that Tern reads.
public enum CheckpointQuantization: String, Sendable, Equatable {
    /// FP8 e4m3 linear weights with an f32 scale per output channel (`weight_scale` [out, 1]
    /// or [out]) or one per tensor ([] or [1]): compressed-tensors' float8 schemes (FP8-Dynamic,
    /// channel or tensor strategy) and the "fp8" method without blocks. Layers the checkpoint
    /// leaves out (its `ignore` list, often lm_head) stay in their file type. Tern quantizes
    /// activations per token on the fly; a static `input_scale` is not used.
    case fp8
}

extension ModelConfig {
    /// Reads `quantization_config`; nil when the checkpoint has none. Methods and schemes Tern
    /// does not run are refused by name, before any weight is read.
    static func checkpointQuantization(_ json: JSONValue?, fail: (String) -> ModelConfigError) throws
        -> CheckpointQuantization?
    {
        guard let json, !json.isNull else { return nil }
        guard let method = json["quant_method"]?.string else {
            throw fail("quantization_config has no 'quant_method'")
        }
        switch method {
        case "fp8":
            if let block = json["weight_block_size"], !block.isNull {
                throw fail("quantization_config: block-wise FP8 (weight_block_size \(block)) is not supported; Tern runs FP8 with a scale per output channel or per tensor")
            }
            return .fp8
        case "compressed-tensors":
            guard let groups = json["config_groups"]?.object, !groups.isEmpty else {
                throw fail("quantization_config (compressed-tensors) has no 'config_groups'")
            }
            for (name, group) in groups.sorted(by: { $0.key < $1.key }) {
                let weights = group["weights"]
                let bits = weights?["num_bits"]?.int
                let type = weights?["type"]?.string
                let strategy = weights?["strategy"]?.string ?? "tensor"
                guard bits == 8, type == "float" else {
                    throw fail("quantization_config (compressed-tensors) group '\(name)': weights of \(bits.map(String.init) ?? "?") bits, type \(type ?? "?"); Tern runs 8-bit float (FP8) weights")
                }
                guard strategy == "channel" || strategy == "tensor" else {
                    throw fail("quantization_config (compressed-tensors) group '\(name)': weight strategy '\(strategy)'; Tern runs FP8 with a scale per channel or per tensor")
                }
            }
            return .fp8
        default:
            throw fail("quantization_config: quant_method '\(method)' is not supported; Tern reads FP8 checkpoints (fp8, compressed-tensors float8), or quantizes bf16 weights itself with --quantization fp8 on --device cuda")
        }
    }
}
