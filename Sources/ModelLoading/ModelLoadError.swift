/// Why a model, or one of its files, could not be loaded.
///
/// The description is one line naming the file (or the user's argument) and what is wrong:
/// `SmolLM2.gguf: truncated: tensor 'blk.3.ffn_up.weight' data ends at byte 98000000 but the
/// file has 97000000 bytes`.
public struct ModelLoadError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The broad class of problem, for callers that react differently to each.
    public enum Kind: String, Sendable, Equatable {
        /// A file could not be opened or mapped (missing, unreadable, not a regular file).
        case unreadable
        /// The file ends before a structure it declares.
        case truncated
        /// The bytes contradict the format (bad magic, absurd count, misaligned offset, ...).
        case malformed
        /// Valid in its format but not something Tern reads (a version, a tensor type, a dtype).
        case unsupported
        /// The store has no tensor of the requested name.
        case missingTensor
        /// A tensor's shape is not the one the caller expects.
        case wrongShape
        /// A model folder lacks a file it needs.
        case missingFile
        /// The user's model argument names nothing Tern can load.
        case invalidArgument
    }

    /// The file, folder or argument the problem is about, as it was given.
    public let path: String
    public let kind: Kind
    /// What is wrong, without the path.
    public let message: String

    public init(path: String, kind: Kind, _ message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(path): \(message)" }

    static func truncated(_ path: String, _ message: String) -> ModelLoadError {
        ModelLoadError(path: path, kind: .truncated, "truncated: " + message)
    }

    static func malformed(_ path: String, _ message: String) -> ModelLoadError {
        ModelLoadError(path: path, kind: .malformed, message)
    }

    static func unsupported(_ path: String, _ message: String) -> ModelLoadError {
        ModelLoadError(path: path, kind: .unsupported, message)
    }
}
