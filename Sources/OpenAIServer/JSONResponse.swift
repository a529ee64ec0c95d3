import Foundation
import Hummingbird
import NIOCore

/// JSON encoding and decoding as the API uses them: snake_case keys come from each type's
/// `CodingKeys`, `/` is left unescaped, and decoding errors become 400s naming the field.
enum JSONResponse {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }

    /// The UTF-8 JSON of `value`.
    static func data(_ value: some Encodable) throws -> Data {
        try encoder().encode(value)
    }

    /// A response with `value` as its JSON body.
    static func make(status: HTTPResponse.Status = .ok, _ value: some Encodable) throws -> Response {
        let data = try data(value)
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Decodes a request body, turning every decoding failure into a 400 that names the field.
    static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        let data = Data(buffer.readableBytesView)
        guard !data.isEmpty else { throw OpenAIError.invalidRequest("The request body is empty; expected a JSON object.") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as OpenAIError {
            throw error
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    /// One readable line for a `DecodingError`, e.g. "temperature: expected a number".
    static func describe(_ error: DecodingError) -> OpenAIError {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            (codingPath + (last.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue
            }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath, key)
            return .invalidRequest("\(field) is required.", param: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .invalidRequest("\(field.isEmpty ? "The body" : field): expected \(name(of: type)).", param: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            return .invalidRequest("\(field): expected \(name(of: type)), got null.", param: field)
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return .invalidRequest("The request body is not valid JSON: \(context.debugDescription)")
            }
            return .invalidRequest("\(field): \(context.debugDescription)", param: field)
        @unknown default:
            return .invalidRequest("The request body could not be decoded: \(error)")
        }
    }

    private static func name(of type: Any.Type) -> String {
        let typeName = "\(type)"
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Int32.Type, is Int64.Type, is UInt64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            if typeName.hasPrefix("Dictionary") { return "an object" }
            if typeName.hasPrefix("Array") { return "an array" }
            return "a value of type \(typeName)"
        }
    }
}
