/// How the CUDA backend holds the weights of the linear layers (`--quantization`, vLLM's flag).
/// Without one they are bf16; embeddings, norms and the LM head stay bf16/f32 in every mode.
public enum WeightQuantization: String, Sendable, CaseIterable {
    /// FP8 e4m3 with one f32 scale per output channel (its largest magnitude over 448), made at
    /// load from the file's weights. Steps of a few tokens read the FP8 weights in the GEMV
    /// kernels against bf16 activations; larger steps quantize the activations per token and
    /// multiply FP8 by FP8 on the tensor cores (W8A8), both scales applied in cuBLASLt's epilogue.
    case fp8
}
