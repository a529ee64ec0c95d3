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
    ],
    targets: [
        .target(name: "CTernKernels", cSettings: kernelFlags),
        .target(name: "Tensors", swiftSettings: strict),
        .target(name: "ModelLoading", dependencies: ["Tensors"], swiftSettings: strict),
        .target(name: "Tokenization", dependencies: ["ModelLoading"], swiftSettings: strict),
        .target(name: "ChatTemplates", swiftSettings: strict),
        .target(name: "CPUBackend", dependencies: ["Tensors", "CTernKernels"], swiftSettings: strict),
        .target(name: "EngineCore", swiftSettings: strict),
        .target(
            name: "Models",
            dependencies: ["Tensors", "ModelLoading", "CPUBackend", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict),
        .target(
            name: "Engine",
            dependencies: [
                "EngineCore", "Models", "Tokenization", "ChatTemplates",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "tern",
            dependencies: [
                "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(name: "ModelLoadingTests", dependencies: ["ModelLoading"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizationTests", dependencies: ["Tokenization"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ChatTemplatesTests", dependencies: ["ChatTemplates"], resources: [.copy("Fixtures")]),
        .testTarget(name: "CPUBackendTests", dependencies: ["CPUBackend"]),
        .testTarget(name: "EngineCoreTests", dependencies: ["EngineCore"]),
        .testTarget(name: "ModelsTests", dependencies: ["Engine"], resources: [.copy("Fixtures")]),
    ]
)
