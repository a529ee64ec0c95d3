import CTernNCCL

/// NCCL (`libnccl.so.2`), opened with `dlopen` like the rest of CUDA: communicators among the
/// GPUs of this one process, bootstrapped in process with a unique id, and their all-reduce
/// queued on each device's stream. Tensor parallelism's ranks are threads of one process, so
/// one `communicators(devices:)` call makes every rank's communicator.
public final class NCCL: @unchecked Sendable {
    /// NCCL's element types (ncclDataType_t).
    public enum DataType: Int32, Sendable {
        case float32 = 7
        case bfloat16 = 9

        var bytes: Int { self == .float32 ? 4 : 2 }
    }

    typealias Result = Int32
    private let library: DynamicLibrary
    private let ncclGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    private let ncclGetUniqueId: @convention(c) (UnsafeMutablePointer<tern_nccl_unique_id>) -> Result
    private let ncclCommInitRank: UnsafeMutableRawPointer
    private let ncclCommDestroy: @convention(c) (OpaquePointer?) -> Result
    private let ncclGroupStart: @convention(c) () -> Result
    private let ncclGroupEnd: @convention(c) () -> Result
    private let ncclAllReduce: @convention(c) (CUdeviceptr, CUdeviceptr, Int, Int32, Int32, OpaquePointer?,
                                               OpaquePointer?) -> Result
    private let ncclGetErrorString: @convention(c) (Result) -> UnsafePointer<CChar>?
    /// NCCL's version as it reports it (major · 10000 + minor · 100 + patch).
    public let version: Int

    public init() throws {
        let lib = try DynamicLibrary(
            candidates: ["libnccl.so.2", "libnccl.so", "/usr/local/cuda/lib64/libnccl.so.2",
                         "/usr/lib/x86_64-linux-gnu/libnccl.so.2"],
            missing: "NCCL (libnccl.so.2) was not found; tensor parallelism over GPUs needs it. Install it (the CUDA toolkit's libnccl2 package, or `pip install nvidia-nccl-cu13`) and put its lib directory on LD_LIBRARY_PATH")
        library = lib
        ncclGetVersion = try lib.function("ncclGetVersion")
        ncclGetUniqueId = try lib.function("ncclGetUniqueId")
        ncclCommInitRank = try lib.function("ncclCommInitRank", as: UnsafeMutableRawPointer.self)
        ncclCommDestroy = try lib.function("ncclCommDestroy")
        ncclGroupStart = try lib.function("ncclGroupStart")
        ncclGroupEnd = try lib.function("ncclGroupEnd")
        ncclAllReduce = try lib.function("ncclAllReduce")
        ncclGetErrorString = try lib.function("ncclGetErrorString")
        var version: Int32 = 0
        let status = ncclGetVersion(&version)
        guard status == 0 else { throw Self.failure("ncclGetVersion", status, ncclGetErrorString) }
        self.version = Int(version)
    }

    /// "2.27.3" for version 22703.
    public var versionString: String { "\(version / 10000).\(version / 100 % 100).\(version % 100)" }

    func check(_ status: Result, _ call: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw Self.failure(call(), status, ncclGetErrorString)
    }

    /// A failed call's error, with NCCL's own message for the result.
    private static func failure(_ call: String, _ status: Result,
                                _ errorString: @convention(c) (Result) -> UnsafePointer<CChar>?) -> CUDAError {
        .callFailed(call: call, code: status, message: errorString(status).map { String(cString: $0) } ?? "unknown NCCL result")
    }

    /// One communicator per device, rank i on `devices[i]`: a unique id made here, then every
    /// rank's ncclCommInitRank inside one group (one thread initialises them all).
    public func communicators(devices: [CUDADevice]) throws -> [NCCLCommunicator] {
        guard !devices.isEmpty else { throw CUDAError.unsupported("NCCL needs at least one device") }
        guard Set(devices.map(\.ordinal)).count == devices.count else {
            throw CUDAError.unsupported("NCCL ranks need distinct GPUs; devices \(devices.map(\.ordinal)) repeat one")
        }
        var id = tern_nccl_unique_id()
        try check(ncclGetUniqueId(&id), "ncclGetUniqueId")
        var handles = [OpaquePointer?](repeating: nil, count: devices.count)
        try check(ncclGroupStart(), "ncclGroupStart")
        var failure: (any Error)?
        for (rank, device) in devices.enumerated() {
            do {
                try device.makeCurrent()
                var comm: UnsafeMutableRawPointer?
                try check(tern_nccl_comm_init_rank(ncclCommInitRank, &comm, Int32(devices.count), &id, Int32(rank)),
                          "ncclCommInitRank(rank \(rank) of \(devices.count))")
                handles[rank] = OpaquePointer(comm)
            } catch {
                failure = error
                break
            }
        }
        try check(ncclGroupEnd(), "ncclGroupEnd (initialising \(devices.count) ranks)")
        if let failure { throw failure }
        return try devices.enumerated().map { rank, device in
            guard let handle = handles[rank] else { throw CUDAError.unsupported("ncclCommInitRank gave rank \(rank) no communicator") }
            return NCCLCommunicator(nccl: self, handle: handle, rank: rank, size: devices.count, device: device)
        }
    }

    /// Queues, for every communicator, the in-place sum of `buffers[i]` (`count` elements of
    /// `type` on rank i's device) over all ranks, as one group: each rank's buffer holds the
    /// total when its stream reaches that point.
    public func allReduceSum(_ communicators: [NCCLCommunicator], buffers: [CUdeviceptr], count: Int,
                             type: DataType) throws {
        precondition(buffers.count == communicators.count, "one buffer per rank")
        try check(ncclGroupStart(), "ncclGroupStart")
        var failure: (any Error)?
        for (communicator, buffer) in zip(communicators, buffers) {
            do {
                try communicator.allReduceSum(buffer, count: count, type: type)
            } catch {
                failure = error
                break
            }
        }
        try check(ncclGroupEnd(), "ncclGroupEnd (all-reduce over \(communicators.count) ranks)")
        if let failure { throw failure }
    }

    fileprivate func allReduce(_ buffer: CUdeviceptr, count: Int, type: DataType, comm: OpaquePointer,
                               stream: OpaquePointer) throws {
        // ncclSum = 0
        try check(ncclAllReduce(buffer, buffer, count, type.rawValue, 0, comm, stream),
                  "ncclAllReduce(\(count) x \(type))")
    }

    fileprivate func destroy(_ comm: OpaquePointer) { _ = ncclCommDestroy(comm) }
}

/// One rank's NCCL communicator, bound to its device; destroyed with the object.
public final class NCCLCommunicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let device: CUDADevice
    private let nccl: NCCL
    private let handle: OpaquePointer

    fileprivate init(nccl: NCCL, handle: OpaquePointer, rank: Int, size: Int, device: CUDADevice) {
        self.nccl = nccl
        self.handle = handle
        self.rank = rank
        self.size = size
        self.device = device
    }

    deinit { nccl.destroy(handle) }

    /// Queues this rank's part of an in-place sum over the ranks on its device's stream. With
    /// one thread driving several ranks, call `NCCL.allReduceSum`, which groups them.
    public func allReduceSum(_ buffer: CUdeviceptr, count: Int, type: NCCL.DataType) throws {
        try nccl.allReduce(buffer, count: count, type: type, comm: handle, stream: device.stream)
    }
}
