// swift-tools-version: 6.0
import PackageDescription

/// Hot loops live in C (CTernKernels) and are always built with optimisation, so that
/// debug builds and `swift test` still run the real model at a usable speed.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-Wno-unused-function"])]
let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "Tern",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tern", targets: ["tern"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .target(name: "CTernKernels", cSettings: kernelFlags),
        .target(name: "Tensors", swiftSettings: strict),
        .target(name: "OrderedJSON", swiftSettings: strict),
        .target(name: "StructuredOutputs", dependencies: ["OrderedJSON"], swiftSettings: strict),
        .target(name: "ToolParsing", dependencies: ["OrderedJSON"], swiftSettings: strict),
        .target(name: "ModelLoading", dependencies: ["Tensors"], swiftSettings: strict),
        .target(name: "Tokenization", dependencies: ["ModelLoading"], swiftSettings: strict),
        .target(name: "ChatTemplates", swiftSettings: strict),
        .target(name: "CPUBackend", dependencies: ["Tensors", "CTernKernels"], swiftSettings: strict),
        .target(name: "CTernNCCL"),
        .target(name: "CUDABackend", dependencies: ["Tensors", "CTernNCCL"], swiftSettings: strict),
        .target(name: "EngineCore", swiftSettings: strict),
        .target(name: "SpeculativeDecoding", dependencies: ["OrderedJSON"], swiftSettings: strict),
        .target(
            name: "Models",
            dependencies: [
                "Tensors", "ModelLoading", "CPUBackend", "CUDABackend",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "Engine",
            dependencies: [
                "EngineCore", "Models", "Tokenization", "ChatTemplates", "CUDABackend", "StructuredOutputs",
                "SpeculativeDecoding", "CTernKernels",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "OpenAIServer",
            dependencies: [
                "Engine", "OrderedJSON", "StructuredOutputs", "ToolParsing", "ChatTemplates", "SpeculativeDecoding",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "tern",
            dependencies: [
                "Engine", "Models", "CUDABackend", "OpenAIServer", "ToolParsing", "StructuredOutputs", "OrderedJSON", "SpeculativeDecoding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "OrderedJSONTests", dependencies: ["OrderedJSON"]),
        .testTarget(name: "ToolParsingTests", dependencies: ["ToolParsing", "OrderedJSON"]),
        .testTarget(name: "StructuredOutputsTests", dependencies: ["StructuredOutputs"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelLoadingTests", dependencies: ["ModelLoading"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CPUBackendTests", dependencies: ["CPUBackend"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "CUDABackendTests",
            dependencies: ["CUDABackend", "Engine", "Models", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "EngineCoreTests", dependencies: ["EngineCore"]),
        .testTarget(name: "SpeculativeDecodingTests", dependencies: ["SpeculativeDecoding"]),
        .testTarget(name: "ModelsTests", dependencies: ["Engine", "StructuredOutputs", "OrderedJSON", "SpeculativeDecoding"],
                    resources: [.copy("Fixtures")]),
        .testTarget(
            name: "OpenAIServerTests",
            dependencies: [
                "OpenAIServer", "OrderedJSON", "StructuredOutputs", "ToolParsing", "ChatTemplates", "SpeculativeDecoding",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Fixtures")]),
    ]
)
