import Foundation
import Tensors

/// The weights of an HF checkpoint: one `model.safetensors`, or the shards listed by a
/// `model.safetensors.index.json` (`{"weight_map": {tensor name: shard file name}}`).
///
/// Each shard is mapped once, at open, and every tensor the index names is checked to be in
/// its shard then, so a missing shard or a stale index is reported before any compute.
public final class SafetensorsStore: WeightStore {
    /// The `.safetensors` file or the index file the store was opened from.
    public let path: String
    /// The mapped files: one, or every distinct shard of the index, sorted by file name.
    public let shards: [SafetensorsFile]
    /// Tensor names in shard order, then data order.
    public let tensorNames: [String]

    private let shardOfTensor: [String: Int]

    /// Opens a single `.safetensors` file, or, for a path ending in `.json`, a sharded
    /// checkpoint's index and the shards next to it.
    public init(path: String) throws {
        self.path = path
        if path.hasSuffix(".json") {
            let weightMap = try Self.readWeightMap(indexPath: path)
            let folder = (path as NSString).deletingLastPathComponent
            let shardNames = Set(weightMap.values).sorted()
            let shards = try shardNames.map { try SafetensorsFile(path: (folder as NSString).appendingPathComponent($0)) }
            let shardIndex = Dictionary(uniqueKeysWithValues: shardNames.enumerated().map { ($1, $0) })
            var shardOfTensor: [String: Int] = [:]
            for (tensor, shardName) in weightMap {
                let shard = shardIndex[shardName]!
                guard shards[shard].contains(tensor) else {
                    throw ModelLoadError(
                        path: path, kind: .missingTensor,
                        "the index puts tensor '\(tensor)' in \(shardName), which has no such tensor")
                }
                shardOfTensor[tensor] = shard
            }
            self.shards = shards
            self.shardOfTensor = shardOfTensor
            self.tensorNames = shards.enumerated().flatMap { shard, file in
                file.tensorNames.filter { shardOfTensor[$0] == shard }
            }
        } else {
            let file = try SafetensorsFile(path: path)
            self.shards = [file]
            self.tensorNames = file.tensorNames
            self.shardOfTensor = Dictionary(uniqueKeysWithValues: file.tensorNames.map { ($0, 0) })
        }
    }

    public func contains(_ name: String) -> Bool { shardOfTensor[name] != nil }

    /// The tensor called `name` from its shard (shape outermost first).
    public func tensor(_ name: String) throws -> TensorData {
        guard let shard = shardOfTensor[name] else { throw missingTensor(name) }
        return try shards[shard].tensor(name)
    }

    /// The index's `weight_map`, with every shard name checked to be a plain file name next
    /// to the index (no folders, so an index cannot point outside the model).
    private static func readWeightMap(indexPath: String) throws -> [String: String] {
        let data = Data(try MappedFile.contents(of: indexPath))
        let index: JSONValue
        do {
            index = try JSONValue(parsing: data)
        } catch {
            throw ModelLoadError.malformed(indexPath, "index is not valid JSON: \(error)")
        }
        guard let map = index["weight_map"]?.object else {
            throw ModelLoadError.malformed(indexPath, "index has no 'weight_map' object")
        }
        guard !map.isEmpty else {
            throw ModelLoadError.malformed(indexPath, "index 'weight_map' is empty")
        }
        var weightMap: [String: String] = [:]
        for (tensor, value) in map {
            guard let shard = value.string, !shard.isEmpty, !shard.contains("/"), shard != ".", shard != ".." else {
                throw ModelLoadError.malformed(indexPath, "index maps tensor '\(tensor)' to \(value), not a file name beside the index")
            }
            weightMap[tensor] = shard
        }
        return weightMap
    }
}
