import Foundation
import Testing

import ModelLoading

/// Fixture files written by scripts/make_loading_fixtures.py.
enum Fixtures {
    static let folder: String = {
        guard let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
            fatalError("the Fixtures resource folder is missing from the test bundle")
        }
        return url.path
    }()

    static func path(_ name: String) -> String {
        (folder as NSString).appendingPathComponent(name)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    /// A reference description, read with Foundation's JSONSerialization (not Tern's parser).
    static func reference(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path(name)))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}

/// A folder under the system temporary folder, removed when the test is done with it.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent("tern-loading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `bytes` to `name` in the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    @discardableResult
    func write(_ name: String, text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func copy(fixture: String, as name: String) throws {
        try FileManager.default.copyItem(
            atPath: Fixtures.path(fixture), toPath: (path as NSString).appendingPathComponent(name))
    }
}

/// Runs `body` and returns the `ModelLoadError` it throws, recording an issue when it throws
/// nothing or another error, or when the error's description does not start with `path` or
/// lacks one of `fragments`.
@discardableResult
func expectLoadError(
    _ kind: ModelLoadError.Kind, path: String, containing fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Any
) -> ModelLoadError? {
    do {
        let result = try body()
        Issue.record("expected a \(kind) error, got \(result)", sourceLocation: sourceLocation)
        return nil
    } catch let error as ModelLoadError {
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix(path + ": "), "\(error)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), "\(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.message.contains(fragment), "'\(fragment)' not in: \(error)", sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected ModelLoadError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// zlib's CRC-32 (the checksum the fixture script records).
func crc32(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1)))
        }
    }
    return ~crc
}

/// Builds small GGUF files byte by byte, to reach error paths a writer would never produce.
struct GGUFBuilder {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    /// Overrides of the counts in the header; nil writes the true counts.
    var tensorCount: UInt64?
    var metadataCount: UInt64?
    var alignment = 32
    /// Bytes of tensor data after the padding.
    var dataBytes = 0
    private var metadata: [UInt8] = []
    private var metadataEntries: UInt64 = 0
    private var infos: [UInt8] = []
    private var infoEntries: UInt64 = 0

    static func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
    static func string(_ bytes: [UInt8]) -> [UInt8] { u64(UInt64(bytes.count)) + bytes }
    static func string(_ text: String) -> [UInt8] { string(Array(text.utf8)) }

    /// A key/value with a raw value type and encoded payload.
    mutating func add(key: [UInt8], type: UInt32, payload: [UInt8]) {
        metadata += Self.string(key) + Self.u32(type) + payload
        metadataEntries += 1
    }

    mutating func add(key: String, type: UInt32, payload: [UInt8]) {
        add(key: Array(key.utf8), type: type, payload: payload)
    }

    mutating func add(key: String, string: String) {
        add(key: key, type: 8, payload: Self.string(string))
    }

    mutating func addTensor(name: String, dims: [UInt64], type: UInt32, offset: UInt64) {
        infos += Self.string(name) + Self.u32(UInt32(dims.count)) + dims.flatMap(Self.u64) + Self.u32(type) + Self.u64(offset)
        infoEntries += 1
    }

    var bytes: [UInt8] {
        var out = magic + Self.u32(version)
        out += Self.u64(tensorCount ?? infoEntries) + Self.u64(metadataCount ?? metadataEntries)
        out += metadata + infos
        out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
        return out + [UInt8](repeating: 0, count: dataBytes)
    }
}
