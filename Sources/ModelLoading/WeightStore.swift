import Tensors

/// A source of named weight tensors: a GGUF file, a safetensors file or a sharded checkpoint.
///
/// Tensors are views into memory-mapped files, valid while the store lives. Names are the
/// format's own (`blk.0.attn_q.weight` in GGUF, `model.layers.0.self_attn.q_proj.weight` in
/// safetensors); mapping between them is the Models layer's job. Shapes are outermost first
/// (HF order) whatever the format stores.
public protocol WeightStore: AnyObject, Sendable {
    /// The file the weights come from (for a sharded checkpoint, its index).
    var path: String { get }
    /// Every tensor name, in file order.
    var tensorNames: [String] { get }
    /// The tensor called `name`. Throws `.missingTensor` if there is none and `.unsupported`
    /// if its element type is not one Tern computes with.
    func tensor(_ name: String) throws -> TensorData
    /// Whether the store has a tensor called `name`.
    func contains(_ name: String) -> Bool
}

extension WeightStore {
    /// The tensor called `name`, checked to have exactly `shape` (outermost first).
    /// Throws `.wrongShape` naming the file, the tensor, and both shapes otherwise.
    public func tensor(_ name: String, shape: [Int]) throws -> TensorData {
        let tensor = try tensor(name)
        guard tensor.shape == shape else {
            throw ModelLoadError(
                path: path, kind: .wrongShape,
                "tensor '\(name)' has shape \(tensor.shape) but \(shape) was expected")
        }
        return tensor
    }

    /// Whether the store has a tensor called `name` (a linear search; stores with an index
    /// answer from it).
    public func contains(_ name: String) -> Bool {
        tensorNames.contains(name)
    }

    func missingTensor(_ name: String) -> ModelLoadError {
        ModelLoadError(path: path, kind: .missingTensor, "no tensor named '\(name)' (the file has \(tensorNames.count) tensors)")
    }
}
