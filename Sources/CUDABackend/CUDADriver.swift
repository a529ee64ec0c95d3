/// The CUDA driver API (`libcuda.so.1`), resolved with `dlsym`. Every call goes through
/// `check`, so a failure names the call and the driver's own message.
///
/// Pointers into device memory are `CUdeviceptr` (a 64-bit address); handles (context,
/// module, function, stream, event) are opaque pointers.
public typealias CUdeviceptr = UInt64
public typealias CUhandle = OpaquePointer

final class CUDADriver: @unchecked Sendable {
    typealias Handle = OpaquePointer
    private let library: DynamicLibrary

    let cuInit: @convention(c) (UInt32) -> Int32
    let cuDriverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let cuDeviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Int32
    let cuDeviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    let cuDeviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Int32
    let cuDeviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Int32
    let cuDevicePrimaryCtxRetain: @convention(c) (UnsafeMutablePointer<Handle?>, Int32) -> Int32
    let cuCtxSetCurrent: @convention(c) (Handle?) -> Int32
    let cuCtxSynchronize: @convention(c) () -> Int32
    let cuMemGetInfo: @convention(c) (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>) -> Int32
    let cuMemAlloc: @convention(c) (UnsafeMutablePointer<CUdeviceptr>, Int) -> Int32
    let cuMemFree: @convention(c) (CUdeviceptr) -> Int32
    let cuMemAllocHost: @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>, Int) -> Int32
    let cuMemFreeHost: @convention(c) (UnsafeMutableRawPointer?) -> Int32
    let cuMemcpyHtoD: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int) -> Int32
    let cuMemcpyDtoH: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int) -> Int32
    let cuMemcpyHtoDAsync: @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int, Handle?) -> Int32
    let cuMemcpyDtoHAsync: @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int, Handle?) -> Int32
    let cuMemsetD8Async: @convention(c) (CUdeviceptr, UInt8, Int, Handle?) -> Int32
    let cuModuleLoadData: @convention(c) (UnsafeMutablePointer<Handle?>, UnsafeRawPointer?) -> Int32
    let cuModuleGetFunction: @convention(c) (UnsafeMutablePointer<Handle?>, Handle?, UnsafePointer<CChar>) -> Int32
    let cuFuncSetAttribute: @convention(c) (Handle?, Int32, Int32) -> Int32
    let cuLaunchKernel: @convention(c) (Handle?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, Handle?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    let cuStreamCreate: @convention(c) (UnsafeMutablePointer<Handle?>, UInt32) -> Int32
    let cuStreamSynchronize: @convention(c) (Handle?) -> Int32
    let cuEventCreate: @convention(c) (UnsafeMutablePointer<Handle?>, UInt32) -> Int32
    let cuEventRecord: @convention(c) (Handle?, Handle?) -> Int32
    let cuEventSynchronize: @convention(c) (Handle?) -> Int32
    let cuEventElapsedTime: @convention(c) (UnsafeMutablePointer<Float>, Handle?, Handle?) -> Int32
    let cuStreamBeginCapture: @convention(c) (Handle?, Int32) -> Int32
    /// cuLaunchKernelEx (CUDA 12+): nil on an older driver.
    let cuLaunchKernelEx: (@convention(c) (UnsafeRawPointer, Handle?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                           UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32)?
    let cuStreamEndCapture: @convention(c) (Handle?, UnsafeMutablePointer<Handle?>) -> Int32
    let cuGraphInstantiateWithFlags: @convention(c) (UnsafeMutablePointer<Handle?>, Handle?, UInt64) -> Int32
    let cuGraphLaunch: @convention(c) (Handle?, Handle?) -> Int32
    let cuGraphDestroy: @convention(c) (Handle?) -> Int32
    let cuGraphExecDestroy: @convention(c) (Handle?) -> Int32
    private let cuGetErrorName: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32
    private let cuGetErrorString: @convention(c) (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Int32

    init() throws {
        let lib = try DynamicLibrary(
            candidates: ["libcuda.so.1", "libcuda.so"],
            missing: "the NVIDIA driver library libcuda.so.1 was not found; --device cuda needs an NVIDIA GPU with its driver installed (use --device cpu otherwise)")
        library = lib
        cuInit = try lib.function("cuInit")
        cuDriverGetVersion = try lib.function("cuDriverGetVersion")
        cuDeviceGetCount = try lib.function("cuDeviceGetCount")
        cuDeviceGet = try lib.function("cuDeviceGet")
        cuDeviceGetName = try lib.function("cuDeviceGetName")
        cuDeviceGetAttribute = try lib.function("cuDeviceGetAttribute")
        cuDevicePrimaryCtxRetain = try lib.function("cuDevicePrimaryCtxRetain")
        cuCtxSetCurrent = try lib.function("cuCtxSetCurrent")
        cuCtxSynchronize = try lib.function("cuCtxSynchronize")
        cuMemGetInfo = try lib.function("cuMemGetInfo_v2")
        cuMemAlloc = try lib.function("cuMemAlloc_v2")
        cuMemFree = try lib.function("cuMemFree_v2")
        cuMemAllocHost = try lib.function("cuMemAllocHost_v2")
        cuMemFreeHost = try lib.function("cuMemFreeHost")
        cuMemcpyHtoD = try lib.function("cuMemcpyHtoD_v2")
        cuMemcpyDtoH = try lib.function("cuMemcpyDtoH_v2")
        cuMemcpyHtoDAsync = try lib.function("cuMemcpyHtoDAsync_v2")
        cuMemcpyDtoHAsync = try lib.function("cuMemcpyDtoHAsync_v2")
        cuMemsetD8Async = try lib.function("cuMemsetD8Async")
        cuModuleLoadData = try lib.function("cuModuleLoadData")
        cuModuleGetFunction = try lib.function("cuModuleGetFunction")
        cuFuncSetAttribute = try lib.function("cuFuncSetAttribute")
        cuLaunchKernel = try lib.function("cuLaunchKernel")
        cuStreamCreate = try lib.function("cuStreamCreate")
        cuStreamSynchronize = try lib.function("cuStreamSynchronize")
        cuEventCreate = try lib.function("cuEventCreate")
        cuEventRecord = try lib.function("cuEventRecord")
        cuEventSynchronize = try lib.function("cuEventSynchronize")
        cuEventElapsedTime = try lib.function("cuEventElapsedTime")
        cuStreamBeginCapture = try lib.function("cuStreamBeginCapture_v2")
        cuLaunchKernelEx = try? lib.function("cuLaunchKernelEx")
        cuStreamEndCapture = try lib.function("cuStreamEndCapture")
        cuGraphInstantiateWithFlags = try lib.function("cuGraphInstantiateWithFlags")
        cuGraphLaunch = try lib.function("cuGraphLaunch")
        cuGraphDestroy = try lib.function("cuGraphDestroy")
        cuGraphExecDestroy = try lib.function("cuGraphExecDestroy")
        cuGetErrorName = try lib.function("cuGetErrorName")
        cuGetErrorString = try lib.function("cuGetErrorString")
    }

    /// Throws `CUDAError.callFailed` naming `call` unless `result` is CUDA_SUCCESS (0).
    func check(_ result: Int32, _ call: @autoclosure () -> String) throws {
        guard result != 0 else { return }
        var name: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        _ = cuGetErrorName(result, &name)
        _ = cuGetErrorString(result, &text)
        let message = [name, text].compactMap { $0.map { String(cString: $0) } }.joined(separator: ": ")
        throw CUDAError.callFailed(call: call(), code: result, message: message.isEmpty ? "unknown error" : message)
    }
}
