/// Matrix products through cuBLASLt (`libcublasLt.so.13`, else `.12`), opened with `dlopen`.
///
/// Tern's layers are row-major `Y [T, N] = X [T, K] · Wᵀ` with `W [N, K]` (an HF linear
/// weight). cuBLASLt is column-major, so the same memory is the product
/// `Yᵀ [N, T] = op(W) · Xᵀ` with `op = transpose` on W stored as a column-major [K, N].
/// bf16 inputs, or FP8 (e4m3) inputs with a scale per weight row and per token applied in the
/// epilogue (cuBLASLt's outer-vector scaling); f32 accumulation, bf16 or f32 output; a plan
/// (descriptors and the chosen algorithm) is kept per shape, so a step's GEMMs cost no heuristic
/// search after the first.
public final class CUBLASLt: @unchecked Sendable {
    /// Element type of an output matrix.
    public enum OutputType: Hashable, Sendable {
        case bf16
        case f32
        var cudaDataType: Int32 { self == .bf16 ? 14 : 0 }  // CUDA_R_16BF, CUDA_R_32F
    }

    private typealias Status = Int32
    private let library: DynamicLibrary
    private let device: CUDADevice
    private let cublasLtCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Status
    private let cublasLtMatmulDescCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32, Int32) -> Status
    private let cublasLtMatmulDescSetAttribute: @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer, Int) -> Status
    private let cublasLtMatrixLayoutCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32, UInt64, UInt64,
                                                            Int64) -> Status
    private let cublasLtMatmulPreferenceCreate: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Status
    private let cublasLtMatmulPreferenceSetAttribute: @convention(c) (OpaquePointer?, Int32, UnsafeRawPointer, Int) -> Status
    private let cublasLtMatmulAlgoGetHeuristic: @convention(c) (OpaquePointer?, OpaquePointer?, OpaquePointer?,
                                                                OpaquePointer?, OpaquePointer?, OpaquePointer?,
                                                                OpaquePointer?, Int32, UnsafeMutableRawPointer,
                                                                UnsafeMutablePointer<Int32>) -> Status
    private let cublasLtMatmul: @convention(c) (OpaquePointer?, OpaquePointer?, UnsafeRawPointer, CUdeviceptr,
                                                OpaquePointer?, CUdeviceptr, OpaquePointer?, UnsafeRawPointer,
                                                CUdeviceptr, OpaquePointer?, CUdeviceptr, OpaquePointer?,
                                                UnsafeRawPointer?, CUdeviceptr, Int, OpaquePointer?) -> Status
    private let cublasLtGetStatusString: @convention(c) (Status) -> UnsafePointer<CChar>?

    private let handle: OpaquePointer
    private let preference: OpaquePointer
    private let workspace: DeviceMemory
    private var plans: [PlanKey: Plan] = [:]

    private struct PlanKey: Hashable {
        let tokens: Int, outFeatures: Int, inFeatures: Int, output: OutputType
        var fp8 = false
    }

    private struct Plan {
        let key: PlanKey
        let description: OpaquePointer
        let weightLayout: OpaquePointer
        let inputLayout: OpaquePointer
        let outputLayout: OpaquePointer
        /// cublasLtMatmulAlgo_t: 64 opaque bytes.
        let algorithm: UnsafeMutableRawPointer
    }

    public init(device: CUDADevice, workspaceBytes: Int = 32 << 20) throws {
        self.device = device
        let lib = try DynamicLibrary(
            candidates: ["libcublasLt.so.13", "libcublasLt.so.12", "/usr/local/cuda/lib64/libcublasLt.so.13",
                         "/usr/local/cuda/lib64/libcublasLt.so.12"],
            missing: "cuBLASLt (libcublasLt.so.13 or .12) was not found; Tern's matrix products need it. Install the CUDA toolkit (or `pip install nvidia-cublas`) and put its lib directory on LD_LIBRARY_PATH")
        library = lib
        cublasLtCreate = try lib.function("cublasLtCreate")
        cublasLtMatmulDescCreate = try lib.function("cublasLtMatmulDescCreate")
        cublasLtMatmulDescSetAttribute = try lib.function("cublasLtMatmulDescSetAttribute")
        cublasLtMatrixLayoutCreate = try lib.function("cublasLtMatrixLayoutCreate")
        cublasLtMatmulPreferenceCreate = try lib.function("cublasLtMatmulPreferenceCreate")
        cublasLtMatmulPreferenceSetAttribute = try lib.function("cublasLtMatmulPreferenceSetAttribute")
        cublasLtMatmulAlgoGetHeuristic = try lib.function("cublasLtMatmulAlgoGetHeuristic")
        cublasLtMatmul = try lib.function("cublasLtMatmul")
        cublasLtGetStatusString = try lib.function("cublasLtGetStatusString")

        var handle: OpaquePointer?
        var preference: OpaquePointer?
        workspace = try device.allocate(bytes: workspaceBytes, label: "cuBLASLt workspace")
        // Locals, since the checks run before every stored property is set.
        let statusString = cublasLtGetStatusString
        func check(_ status: Status, _ call: String) throws {
            guard status != 0 else { return }
            throw CUDAError.callFailed(call: call, code: status,
                                       message: statusString(status).map { String(cString: $0) } ?? "unknown status")
        }
        try check(cublasLtCreate(&handle), "cublasLtCreate")
        try check(cublasLtMatmulPreferenceCreate(&preference), "cublasLtMatmulPreferenceCreate")
        var limit = UInt64(workspaceBytes)
        // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1
        try check(cublasLtMatmulPreferenceSetAttribute(preference, 1, &limit, 8), "cublasLtMatmulPreferenceSetAttribute")
        guard let handle, let preference else { throw CUDAError.unsupported("cublasLtCreate returned no handle") }
        self.handle = handle
        self.preference = preference
    }

    private func check(_ status: Status, _ call: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw CUDAError.callFailed(call: call(), code: status,
                                   message: cublasLtGetStatusString(status).map { String(cString: $0) } ?? "unknown status")
    }

    /// Queues `Y [tokens, outFeatures] (+)= X [tokens, inFeatures] · Wᵀ` on the device's stream.
    /// X and W are bf16, row-major; Y is `output`, overwritten, or added to when `accumulate`.
    public func linear(input x: CUdeviceptr, weight w: CUdeviceptr, output y: CUdeviceptr, tokens: Int,
                       outFeatures: Int, inFeatures: Int, output type: OutputType, accumulate: Bool = false) throws {
        guard tokens > 0 else { return }
        let plan = try self.plan(PlanKey(tokens: tokens, outFeatures: outFeatures, inFeatures: inFeatures, output: type))
        try matmul(plan, input: x, weight: w, output: y, accumulate: accumulate)
    }

    /// Queues `Y [tokens, outFeatures] (+)= (X [tokens, inFeatures] · Wᵀ) ⊙ (sx ⊗ sw)`: X and W
    /// FP8 (e4m3), row-major, with `inputScales` sx [tokens] and `weightScales` sw [outFeatures]
    /// f32 (each product element times its token's and its weight row's scale); Y as in `linear`.
    public func linearFP8(input x: CUdeviceptr, inputScales: CUdeviceptr, weight w: CUdeviceptr,
                          weightScales: CUdeviceptr, output y: CUdeviceptr, tokens: Int, outFeatures: Int,
                          inFeatures: Int, output type: OutputType, accumulate: Bool = false) throws {
        guard tokens > 0 else { return }
        let plan = try self.plan(PlanKey(tokens: tokens, outFeatures: outFeatures, inFeatures: inFeatures, output: type,
                                         fp8: true))
        // CUBLASLT_MATMUL_DESC_A_SCALE_POINTER = 17 (the weights are cuBLASLt's A), B = 18.
        var weightScalePointer = weightScales
        var inputScalePointer = inputScales
        try check(cublasLtMatmulDescSetAttribute(plan.description, 17, &weightScalePointer, 8),
                  "cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)")
        try check(cublasLtMatmulDescSetAttribute(plan.description, 18, &inputScalePointer, 8),
                  "cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)")
        try matmul(plan, input: x, weight: w, output: y, accumulate: accumulate)
    }

    /// Queues `plan`'s product on the device's stream (α = 1, β = 1 when accumulating, else 0).
    private func matmul(_ plan: Plan, input x: CUdeviceptr, weight w: CUdeviceptr, output y: CUdeviceptr,
                        accumulate: Bool) throws {
        var alpha: Float = 1
        var beta: Float = accumulate ? 1 : 0
        try check(cublasLtMatmul(handle, plan.description, &alpha, w, plan.weightLayout, x, plan.inputLayout, &beta,
                                 y, plan.outputLayout, y, plan.outputLayout, plan.algorithm, workspace.address,
                                 workspace.bytes, device.stream),
                  "cublasLtMatmul(\(plan.key.fp8 ? "FP8 " : "")\(plan.key.tokens)x\(plan.key.inFeatures) · \(plan.key.outFeatures)x\(plan.key.inFeatures)ᵀ)")
    }

    private func plan(_ key: PlanKey) throws -> Plan {
        if let plan = plans[key] { return plan }
        var description: OpaquePointer?
        // CUBLAS_COMPUTE_32F = 68, scale type CUDA_R_32F = 0
        try check(cublasLtMatmulDescCreate(&description, 68, 0), "cublasLtMatmulDescCreate")
        var transpose: Int32 = 1  // CUBLAS_OP_T
        // CUBLASLT_MATMUL_DESC_TRANSA = 3
        try check(cublasLtMatmulDescSetAttribute(description, 3, &transpose, 4), "cublasLtMatmulDescSetAttribute(TRANSA)")
        if key.fp8 {
            // CUBLASLT_MATMUL_DESC_A_SCALE_MODE = 31, B = 32: CUBLASLT_MATMUL_MATRIX_SCALE_OUTER_VEC_32F = 3,
            // a vector of M (A's, the weight rows) and of N (B's, the tokens) f32 scales.
            var outerVector: Int32 = 3
            try check(cublasLtMatmulDescSetAttribute(description, 31, &outerVector, 4),
                      "cublasLtMatmulDescSetAttribute(A_SCALE_MODE)")
            try check(cublasLtMatmulDescSetAttribute(description, 32, &outerVector, 4),
                      "cublasLtMatmulDescSetAttribute(B_SCALE_MODE)")
        }
        func layout(_ type: Int32, rows: Int, columns: Int, leading: Int) throws -> OpaquePointer {
            var layout: OpaquePointer?
            try check(cublasLtMatrixLayoutCreate(&layout, type, UInt64(rows), UInt64(columns), Int64(leading)),
                      "cublasLtMatrixLayoutCreate")
            guard let layout else { throw CUDAError.unsupported("cublasLtMatrixLayoutCreate returned no layout") }
            return layout
        }
        let inputType: Int32 = key.fp8 ? 28 : 14  // CUDA_R_8F_E4M3, CUDA_R_16BF
        let weightLayout = try layout(inputType, rows: key.inFeatures, columns: key.outFeatures, leading: key.inFeatures)
        let inputLayout = try layout(inputType, rows: key.inFeatures, columns: key.tokens, leading: key.inFeatures)
        let outputLayout = try layout(key.output.cudaDataType, rows: key.outFeatures, columns: key.tokens,
                                      leading: key.outFeatures)
        // cublasLtMatmulHeuristicResult_t is 96 bytes, the algorithm its first 64.
        let result = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 16)
        var found: Int32 = 0
        try check(cublasLtMatmulAlgoGetHeuristic(handle, description, weightLayout, inputLayout, outputLayout,
                                                 outputLayout, preference, 1, result, &found),
                  "cublasLtMatmulAlgoGetHeuristic")
        guard found > 0, let description else {
            result.deallocate()
            throw CUDAError.unsupported("cuBLASLt has no algorithm for a \(key.tokens)x\(key.inFeatures) by \(key.outFeatures)x\(key.inFeatures) \(key.fp8 ? "FP8 (per-row scaled)" : "bf16") product")
        }
        let plan = Plan(key: key, description: description, weightLayout: weightLayout, inputLayout: inputLayout,
                        outputLayout: outputLayout, algorithm: result)
        plans[key] = plan
        return plan
    }
}
