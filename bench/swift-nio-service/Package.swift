// swift-tools-version:6.1
// The swift-nio-service bench workload: the order service of bench/swift-service behind a real
// HTTP/1.1 server on SwiftNIO, on 127.0.0.1, driven by an in-process NIO client. Its own
// package so that swift-service builds without SwiftNIO; Sources/ServiceCore is a link to
// swift-service's. `hakmem-cli bench` builds it with `swift build -c release --product
// SwiftNIOService` into .build/bench/swift-nio-service (a first build takes a few minutes).
import PackageDescription

let package = Package(
    name: "swift-nio-service",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        .target(name: "ServiceCore", path: "Sources/ServiceCore"),
        .executableTarget(
            name: "SwiftNIOService",
            dependencies: [
                "ServiceCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Sources/SwiftNIOService",
            // NIO's channel handlers are confined to their event loop, which Swift 6's
            // checking cannot see in this small program.
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
