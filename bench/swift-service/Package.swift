// swift-tools-version:6.1
// The swift-service bench workload: a Swift program shaped like a JSON API service (Foundation
// Codable, strings, dictionaries, a worker pool). `hakmem-cli bench` builds it with
// `swift build -c release --package-path bench/swift-service` into .build/bench/swift-service
// and runs it under each allocator via LD_PRELOAD, like the C workloads.
import PackageDescription

let package = Package(
    name: "swift-service",
    targets: [
        // The messages and the request processing, shared with bench/swift-nio-service.
        .target(name: "ServiceCore", path: "Sources/ServiceCore"),
        .executableTarget(name: "SwiftService", dependencies: ["ServiceCore"], path: "Sources/SwiftService"),
    ]
)
