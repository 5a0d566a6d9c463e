// swift-tools-version:6.0
// FieldSalesKit: the Fieldsales core for Swift. The uniffi-generated sources and headers are
// copied into Sources/FieldSalesCore and Sources/FieldSalesFFI by scripts/test-bindings.sh
// (git-ignored there); the native library is libfieldsales_ffi (a host-built .so on Linux, an
// XCFramework on Apple platforms, see ../README.md).
import PackageDescription

let package = Package(
    name: "FieldSalesKit",
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .library(name: "FieldSalesKit", targets: ["FieldSalesKit"]),
        .library(name: "FieldSalesUI", targets: ["FieldSalesUI"]),
        .library(name: "FieldSalesViews", targets: ["FieldSalesViews"]),
    ],
    targets: [
        // The C declarations of both crates' FFI (fieldsales_core_ffi.h, fieldsales_ffi_ffi.h)
        // and `link "fieldsales_ffi"`.
        .systemLibrary(name: "FieldSalesFFI", path: "Sources/FieldSalesFFI"),
        // The generated Swift: records, enums, FieldStore, sync, errors. Both crates' files
        // must be in one module (they use each other's converters without importing).
        .target(
            name: "FieldSalesCore",
            dependencies: ["FieldSalesFFI"],
            path: "Sources/FieldSalesCore",
            // uniffi 0.32's Swift is not clean under Swift 6 strict concurrency (async support).
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The thin async/await layer and the @Observable lead list.
        .target(name: "FieldSalesKit", dependencies: ["FieldSalesCore"]),
        // The seven screens' view models (@Observable, every decision), their English and Korean
        // strings and locale formatting: builds and is tested on Linux.
        .target(name: "FieldSalesUI", dependencies: ["FieldSalesKit"]),
        // The SwiftUI views over FieldSalesUI, thin and behind `#if canImport(SwiftUI)`: they
        // compile only on Apple platforms (an empty module on Linux).
        .target(name: "FieldSalesViews", dependencies: ["FieldSalesUI"]),
        // `swift run -c release FieldSalesBench`: the Swift side of the FFI-call benchmark.
        .executableTarget(name: "FieldSalesBench", dependencies: ["FieldSalesKit"]),
        // `swift run -c release FieldSalesUIBench`: the list screen on 100,000 leads, next to
        // the core calls it wraps.
        .executableTarget(name: "FieldSalesUIBench", dependencies: ["FieldSalesUI"]),
        // What both test targets share: the test server's address and codes, temp dirs, waits.
        .target(name: "FieldSalesTestSupport", dependencies: ["FieldSalesKit"], path: "Tests/FieldSalesTestSupport"),
        .testTarget(name: "FieldSalesKitTests", dependencies: ["FieldSalesKit", "FieldSalesTestSupport"]),
        // Swift 5 mode: main-actor test methods share their XCTestCase with nonisolated helpers.
        .testTarget(name: "FieldSalesUITests", dependencies: ["FieldSalesUI", "FieldSalesTestSupport"],
                    swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
