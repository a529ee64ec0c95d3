/// One CUDA device with its primary context and the stream every Tern kernel runs on.
///
/// The driver is loaded with `dlopen` when the first device is opened; where there is no
/// driver or no GPU, `init` throws an error that names CUDA and says what is missing.
/// Not thread-safe: one engine thread drives a device.
public final class CUDADevice: @unchecked Sendable {
    let driver: CUDADriver
    /// Device ordinal, name and compute capability (9.0 for the H100).
    public let ordinal: Int
    public let name: String
    public let computeCapability: (major: Int, minor: Int)
    public let multiprocessorCount: Int
    /// The driver's CUDA version, e.g. 13000 for 13.0.
    public let driverVersion: Int
    let context: OpaquePointer
    /// The stream all work is queued on, in order.
    let stream: OpaquePointer

    /// Kernel arguments are packed here before each launch, so that launching allocates nothing.
    private let argumentStorage = UnsafeMutableRawPointer.allocate(byteCount: 8 * 32, alignment: 8)
    private let argumentPointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 32)
    /// CUlaunchConfig (56 bytes) and its one CUlaunchAttribute (72 bytes), for launches that
    /// may overlap the kernel before them.
    private let launchConfig = UnsafeMutableRawPointer.allocate(byteCount: 56 + 72, alignment: 8)
    /// Launch kernels with programmatic stream serialization (sm_90+, CUDA 12+): a kernel may
    /// start while the one before it finishes, and waits for it in `tern_grid_dependency`
    /// before it reads what that one wrote. Off where the device or driver lacks it.
    public var programmaticLaunch: Bool {
        get { overlapLaunches }
        set { overlapLaunches = newValue && computeCapability.major >= 9 && driver.cuLaunchKernelEx != nil }
    }
    private var overlapLaunches = false

    public init(ordinal: Int = 0) throws {
        let driver = try CUDADriver()
        self.driver = driver
        self.ordinal = ordinal
        try driver.check(driver.cuInit(0), "cuInit")
        var version: Int32 = 0
        try driver.check(driver.cuDriverGetVersion(&version), "cuDriverGetVersion")
        driverVersion = Int(version)
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        guard ordinal < count else {
            throw CUDAError.unsupported("no CUDA device \(ordinal): the driver sees \(count) GPU(s)")
        }
        var device: Int32 = 0
        try driver.check(driver.cuDeviceGet(&device, Int32(ordinal)), "cuDeviceGet")
        var nameBytes = [CChar](repeating: 0, count: 256)
        try driver.check(driver.cuDeviceGetName(&nameBytes, 255, device), "cuDeviceGetName")
        name = String(decoding: nameBytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        func attribute(_ id: Int32, _ label: String) throws -> Int {
            var value: Int32 = 0
            try driver.check(driver.cuDeviceGetAttribute(&value, id, device), "cuDeviceGetAttribute(\(label))")
            return Int(value)
        }
        computeCapability = (try attribute(75, "COMPUTE_CAPABILITY_MAJOR"), try attribute(76, "COMPUTE_CAPABILITY_MINOR"))
        multiprocessorCount = try attribute(16, "MULTIPROCESSOR_COUNT")
        var context: OpaquePointer?
        try driver.check(driver.cuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
        var stream: OpaquePointer?
        // CU_STREAM_NON_BLOCKING: no implicit synchronisation with the legacy default stream.
        try driver.check(driver.cuStreamCreate(&stream, 1), "cuStreamCreate")
        guard let context, let stream else { throw CUDAError.unsupported("the driver returned no context or stream") }
        self.context = context
        self.stream = stream
    }

    /// The GPUs the driver sees.
    public static func count() throws -> Int {
        let driver = try CUDADriver()
        try driver.check(driver.cuInit(0), "cuInit")
        var count: Int32 = 0
        try driver.check(driver.cuDeviceGetCount(&count), "cuDeviceGetCount")
        return Int(count)
    }

    deinit {
        argumentStorage.deallocate()
        argumentPointers.deallocate()
    }

    /// "sm_90" for compute capability 9.0.
    public var architecture: String { "sm_\(computeCapability.major)\(computeCapability.minor)" }

    /// Free and total device memory in bytes.
    public func memoryInfo() throws -> (free: Int, total: Int) {
        var free = 0
        var total = 0
        try driver.check(driver.cuMemGetInfo(&free, &total), "cuMemGetInfo")
        return (free, total)
    }

    /// Makes this device's context current on the calling thread (needed once per thread).
    public func makeCurrent() throws {
        try driver.check(driver.cuCtxSetCurrent(context), "cuCtxSetCurrent")
    }

    /// Waits until everything queued on the stream has run.
    public func synchronize() throws {
        try driver.check(driver.cuStreamSynchronize(stream), "cuStreamSynchronize")
    }

    // MARK: memory

    /// Device memory of `bytes` bytes (at least 1), freed when the returned object goes.
    public func allocate(bytes: Int, label: String) throws -> DeviceMemory {
        var address: CUdeviceptr = 0
        try driver.check(driver.cuMemAlloc(&address, max(bytes, 1)), "cuMemAlloc(\(bytes) bytes for \(label))")
        return DeviceMemory(device: self, address: address, bytes: bytes)
    }

    /// Copies `bytes` bytes from host memory to `destination`, waiting for the copy.
    public func copy(to destination: CUdeviceptr, from source: UnsafeRawPointer, bytes: Int) throws {
        guard bytes > 0 else { return }
        try driver.check(driver.cuMemcpyHtoDAsync(destination, source, bytes, stream), "cuMemcpyHtoDAsync")
        try synchronize()
    }

    /// Queues a host-to-device copy; `source` must stay valid until the stream reaches it
    /// (pinned memory, or a later `synchronize`).
    public func copyAsync(to destination: CUdeviceptr, from source: UnsafeRawPointer, bytes: Int) throws {
        guard bytes > 0 else { return }
        try driver.check(driver.cuMemcpyHtoDAsync(destination, source, bytes, stream), "cuMemcpyHtoDAsync")
    }

    /// Queues a device-to-host copy; the data is there after the next `synchronize`.
    public func copyAsync(to destination: UnsafeMutableRawPointer, from source: CUdeviceptr, bytes: Int) throws {
        guard bytes > 0 else { return }
        try driver.check(driver.cuMemcpyDtoHAsync(destination, source, bytes, stream), "cuMemcpyDtoHAsync")
    }

    /// Queues filling `bytes` bytes at `destination` with zeros.
    public func zero(_ destination: CUdeviceptr, bytes: Int) throws {
        try driver.check(driver.cuMemsetD8Async(destination, 0, bytes, stream), "cuMemsetD8Async")
    }

    /// Page-locked host memory of `bytes` bytes, for copies that overlap with kernels.
    public func allocateHost(bytes: Int) throws -> UnsafeMutableRawPointer {
        var pointer: UnsafeMutableRawPointer?
        try driver.check(driver.cuMemAllocHost(&pointer, max(bytes, 1)), "cuMemAllocHost(\(bytes) bytes)")
        guard let pointer else { throw CUDAError.unsupported("cuMemAllocHost returned no memory") }
        return pointer
    }

    // MARK: kernels

    /// Loads a compiled module (cubin bytes) and looks up `names` in it.
    public func loadFunctions(image: [UInt8], names: [String]) throws -> [String: CUhandle] {
        var module: OpaquePointer?
        try image.withUnsafeBytes { bytes in
            try driver.check(driver.cuModuleLoadData(&module, bytes.baseAddress), "cuModuleLoadData")
        }
        var functions: [String: CUhandle] = [:]
        for name in names {
            var function: OpaquePointer?
            try driver.check(driver.cuModuleGetFunction(&function, module, name), "cuModuleGetFunction(\(name))")
            guard let function else { throw CUDAError.unsupported("kernel \(name) not found in its module") }
            functions[name] = function
        }
        return functions
    }

    /// Lets `function` use up to `bytes` of dynamic shared memory (above the 48 KiB default).
    public func setMaxDynamicSharedMemory(_ function: CUhandle, bytes: Int) throws {
        // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8
        try driver.check(driver.cuFuncSetAttribute(function, 8, Int32(bytes)), "cuFuncSetAttribute")
    }

    /// Queues `function` on the stream with `arguments` in the kernel's parameter order.
    /// `overlapsPrevious`: the kernel may start before the previous one ends (with
    /// `programmaticLaunch` on); false for the first kernel after a copy.
    public func launch(_ function: CUhandle, name: StaticString, grid: (Int, Int, Int), block: (Int, Int, Int),
                       sharedBytes: Int = 0, overlapsPrevious: Bool = true, _ arguments: KernelArgument...) throws {
        try launch(function, name: name, grid: grid, block: block, sharedBytes: sharedBytes,
                   overlapsPrevious: overlapsPrevious, arguments: arguments)
    }

    /// `launch` with the arguments as an array.
    public func launch(_ function: CUhandle, name: StaticString, grid: (Int, Int, Int), block: (Int, Int, Int),
                       sharedBytes: Int = 0, overlapsPrevious: Bool = true, arguments: [KernelArgument]) throws {
        precondition(arguments.count <= 32, "too many kernel arguments")
        for (index, argument) in arguments.enumerated() {
            let slot = argumentStorage + index * 8
            switch argument {
            case .pointer(let value): slot.storeBytes(of: value, as: UInt64.self)
            case .int32(let value): slot.storeBytes(of: value, as: Int32.self)
            case .int64(let value): slot.storeBytes(of: value, as: Int64.self)
            case .float(let value): slot.storeBytes(of: value, as: Float.self)
            }
            argumentPointers[index] = slot
        }
        guard grid.0 > 0, grid.1 > 0, grid.2 > 0 else { return }
        if overlapLaunches, overlapsPrevious, let launchEx = driver.cuLaunchKernelEx {
            let config = launchConfig
            config.initializeMemory(as: UInt8.self, repeating: 0, count: 56 + 72)
            for (index, value) in [grid.0, grid.1, grid.2, block.0, block.1, block.2, sharedBytes].enumerated() {
                config.storeBytes(of: UInt32(value), toByteOffset: 4 * index, as: UInt32.self)
            }
            config.storeBytes(of: stream, toByteOffset: 32, as: OpaquePointer.self)
            config.storeBytes(of: config + 56, toByteOffset: 40, as: UnsafeMutableRawPointer.self)
            config.storeBytes(of: UInt32(1), toByteOffset: 48, as: UInt32.self)
            // CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION = 6, value: allowed = 1.
            config.storeBytes(of: UInt32(6), toByteOffset: 56, as: UInt32.self)
            config.storeBytes(of: Int32(1), toByteOffset: 64, as: Int32.self)
            try driver.check(launchEx(config, function, argumentPointers, nil), "cuLaunchKernelEx(\(name))")
            return
        }
        try driver.check(
            driver.cuLaunchKernel(function, UInt32(grid.0), UInt32(grid.1), UInt32(grid.2), UInt32(block.0),
                                  UInt32(block.1), UInt32(block.2), UInt32(sharedBytes), stream,
                                  argumentPointers, nil),
            "cuLaunchKernel(\(name))")
    }
}

/// One argument of a kernel launch, as the kernel's C parameter type.
public enum KernelArgument {
    case pointer(CUdeviceptr)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
}

/// A device allocation, freed when the object goes.
public final class DeviceMemory: @unchecked Sendable {
    public let address: CUdeviceptr
    public let bytes: Int
    private let device: CUDADevice

    init(device: CUDADevice, address: CUdeviceptr, bytes: Int) {
        self.device = device
        self.address = address
        self.bytes = bytes
    }

    deinit { _ = device.driver.cuMemFree(address) }
}
