/// The tokens of a model as a grammar sees them: each id's bytes (nil for special tokens,
/// which never match a constraint), the ids that end generation, and a byte trie of all
/// tokens, built once per vocabulary and shared by every grammar over it.
public struct TokenVocabulary: Sendable {
    /// Bytes of each token id; nil: never allowed under a constraint.
    public let tokenBytes: [[UInt8]?]
    public let eosTokenIDs: Set<Int32>
    let trie: TokenTrie

    public init(tokenBytes: [[UInt8]?], eosTokenIDs: Set<Int32>) {
        self.tokenBytes = tokenBytes
        self.eosTokenIDs = eosTokenIDs.filter { $0 >= 0 && Int($0) < tokenBytes.count }
        trie = TokenTrie(tokenBytes)
    }

    /// Token ids 0..<count.
    public var count: Int { tokenBytes.count }
    /// Words of a bitmask over the vocabulary.
    public var maskWordCount: Int { (count + 31) / 32 }
}

/// Every token's bytes as paths from one root, so that a walk checks a shared prefix once.
/// Stored flat: the children of node n are `childBytes/childNodes[childStart[n] ..< childStart[n + 1]]`,
/// and the tokens spelled by the path to n are `tokens[tokenStart[n] ..< tokenStart[n + 1]]`.
struct TokenTrie: Sendable {
    let childStart: [Int32]
    let childBytes: [UInt8]
    let childNodes: [Int32]
    let tokenStart: [Int32]
    let tokens: [Int32]

    init(_ tokenBytes: [[UInt8]?]) {
        var children: [[UInt8: Int32]] = [[:]]
        var ending: [[Int32]] = [[]]
        for (id, bytes) in tokenBytes.enumerated() {
            guard let bytes, !bytes.isEmpty else { continue }
            var node = 0
            for byte in bytes {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    children.append([:])
                    ending.append([])
                    children[node][byte] = Int32(children.count - 1)
                    node = children.count - 1
                }
            }
            ending[node].append(Int32(id))
        }
        var childStart: [Int32] = [0]
        var childBytes: [UInt8] = []
        var childNodes: [Int32] = []
        var tokenStart: [Int32] = [0]
        var tokens: [Int32] = []
        for node in children.indices {
            for (byte, child) in children[node].sorted(by: { $0.key < $1.key }) {
                childBytes.append(byte)
                childNodes.append(child)
            }
            childStart.append(Int32(childBytes.count))
            tokens += ending[node]
            tokenStart.append(Int32(tokens.count))
        }
        self.childStart = childStart
        self.childBytes = childBytes
        self.childNodes = childNodes
        self.tokenStart = tokenStart
        self.tokens = tokens
    }
}
