import Hummingbird

/// vLLM's `--api-key`: every route needs `Authorization: Bearer <key>` except the operational
/// ones (`/health`, `/metrics`, `/version`).
///
/// The decision is made on the normalised path (percent-decoded, lower-cased, empty segments
/// and a trailing slash dropped), and the list is of what stays open, not of what is guarded:
/// `//v1/models`, `/V1/Models/` or `/v1%2Fcompletions` all need the key, whatever the router
/// then makes of them. The key is compared in time that does not depend on where it differs.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let apiKey: String

    /// Routes served without a key.
    static var openPaths: Set<String> { ["/health", "/metrics", "/version"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard !Self.openPaths.contains(Self.normalisedPath(request.uri.path)) else {
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization] else {
            throw OpenAIError.invalidAPIKey("Missing API key: send it as `Authorization: Bearer <key>`.")
        }
        let scheme = "bearer "
        guard header.utf8.count > scheme.utf8.count,
              String(decoding: header.utf8.prefix(scheme.utf8.count), as: UTF8.self).lowercased() == scheme,
              Self.constantTimeEqual(Array(header.utf8.dropFirst(scheme.utf8.count)), Array(apiKey.utf8))
        else {
            throw OpenAIError.invalidAPIKey("Incorrect API key provided.")
        }
        return try await next(request, context)
    }

    /// `path` as the guard compares it: `%XX` decoded (an invalid escape is kept as is), ASCII
    /// lower-cased, runs of `/` collapsed, no trailing `/`.
    static func normalisedPath(_ path: String) -> String {
        var bytes: [UInt8] = []
        let raw = Array(path.utf8)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "%"), index + 2 < raw.count,
               let high = hexValue(raw[index + 1]), let low = hexValue(raw[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(raw[index])
                index += 1
            }
        }
        let segments = String(decoding: bytes, as: UTF8.self).lowercased().split(separator: "/")
        return "/" + segments.joined(separator: "/")
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Equality that reads every byte of both sides (lengths differing is the only early answer,
    /// and the key's length is not the secret).
    static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for index in lhs.indices { difference |= lhs[index] ^ rhs[index] }
        return difference == 0
    }
}
