// swift-tools-version:6.1
// The package route: a Swift executable that depends on hakmem as a package. The product
// `hakmem` is a dynamic library, so SwiftPM builds libhakmem.so, links the executable against
// it (before libc) and gives it an rpath to find it: no flag and no LD_PRELOAD.
//
// A real package writes `.package(path: "../hakmem")` and `package: "hakmem"` (the identity
// of a path dependency is its directory's name); this example lives inside the checkout, whose
// directory may have any name, so it works the identity out from the path.
import Foundation
import PackageDescription

let hakmemRoot = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().deletingLastPathComponent()

let package = Package(
    name: "package-route",
    dependencies: [
        .package(path: hakmemRoot.path),
    ],
    targets: [
        .executableTarget(
            name: "PackageRouteDemo",
            dependencies: [.product(name: "hakmem", package: hakmemRoot.lastPathComponent.lowercased())],
            path: "Sources/PackageRouteDemo"
        ),
    ]
)
