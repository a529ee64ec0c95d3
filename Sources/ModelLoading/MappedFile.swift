#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped read-only into memory, with bounds-checked little-endian reads.
///
/// Weights are never copied: tensors handed out by the stores point into this mapping, and
/// the kernel pages them in on first touch. Every read checks its range first and throws a
/// `ModelLoadError` of kind `.truncated` when it runs past the end, so a damaged file is
/// reported, never trapped on. The mapping is released when the object is freed.
public final class MappedFile: @unchecked Sendable {
    // Sendable: the mapping is read-only and never changes after init.

    /// The path as given to `init`.
    public let path: String
    /// File size in bytes.
    public let size: Int
    /// Start of the mapping; nil for an empty file, which `mmap` cannot map.
    private let base: UnsafeRawPointer?

    /// Maps the file at `path`. Throws `.unreadable` if it is missing, not a regular file, or
    /// cannot be mapped.
    public init(path: String) throws {
        self.path = path
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it
        // changes nothing for the regular files accepted below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw ModelLoadError(path: path, kind: .unreadable, "cannot open: \(Self.systemError())")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw ModelLoadError(path: path, kind: .unreadable, "cannot stat: \(Self.systemError())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ModelLoadError(path: path, kind: .unreadable, "not a regular file")
        }
        size = Int(info.st_size)
        if size == 0 {
            base = nil
            return
        }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else {
            throw ModelLoadError(path: path, kind: .unreadable, "cannot map \(size) bytes: \(Self.systemError())")
        }
        base = UnsafeRawPointer(mapping)
    }

    /// The whole of a small file (a JSON config, a template): read through a mapping, so a path
    /// that is a FIFO, a device or a folder is refused (`.unreadable`) instead of blocking.
    public static func contents(of path: String) throws -> [UInt8] {
        let file = try MappedFile(path: path)
        return [UInt8](try file.bytes(at: 0, count: file.size, "contents"))
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Throws `.truncated` unless bytes `offset ..< offset + count` lie inside the file.
    /// `what` names the item being read, for the message; it is only built on failure.
    @inline(__always)
    public func checkRange(_ offset: Int, _ count: Int, _ what: @autoclosure () -> String) throws {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            let end = offset.addingReportingOverflow(count)
            let endText = end.overflow ? "beyond \(Int.max)" : "\(end.partialValue)"
            throw ModelLoadError.truncated(
                path, "\(what()) needs bytes \(offset)..<\(endText) but the file has \(size) bytes")
        }
    }

    /// A view of `count` bytes at `offset`, valid while this object lives.
    public func bytes(at offset: Int, count: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try checkRange(offset, count, what())
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: count)
    }

    /// The little-endian integer of type `T` at `offset` (no alignment needed).
    @inline(__always)
    public func integer<T: FixedWidthInteger>(_ type: T.Type, at offset: Int, _ what: @autoclosure () -> String) throws -> T {
        try checkRange(offset, MemoryLayout<T>.size, what())
        return T(littleEndian: base.unsafelyUnwrapped.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// The little-endian IEEE binary32 at `offset`.
    public func float32(at offset: Int, _ what: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try integer(UInt32.self, at: offset, what()))
    }

    /// The little-endian IEEE binary64 at `offset`.
    public func float64(at offset: Int, _ what: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try integer(UInt64.self, at: offset, what()))
    }

    /// The `count` bytes at `offset` decoded as UTF-8. Throws `.truncated` if they run past
    /// the end and `.malformed` if they are not valid UTF-8.
    @inline(__always)
    public func string(at offset: Int, count: Int, _ what: @autoclosure () -> String) throws -> String {
        try checkRange(offset, count, what())
        guard count > 0, let base else { return "" }
        let bytes = UnsafeRawBufferPointer(start: base + offset, count: count)
        guard let string = Self.validUTF8(bytes) else {
            throw ModelLoadError.malformed(path, "\(what()) at byte \(offset) is not valid UTF-8")
        }
        return string
    }

    /// The string the bytes spell, or nil if they are not valid UTF-8.
    @inline(__always)
    static func validUTF8(_ bytes: UnsafeRawBufferPointer) -> String? {
        if #available(macOS 15, *) {
            return String(validating: bytes, as: UTF8.self)
        }
        // Older Darwin: decoding repairs bad sequences with U+FFFD, so a lossless round trip
        // means the input was valid.
        let string = String(decoding: bytes, as: UTF8.self)
        return string.utf8.elementsEqual(bytes) ? string : nil
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }
}
