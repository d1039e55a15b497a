// swift-tools-version:6.1
// The link route: an ordinary Swift executable with no dependency on hakmem in its manifest.
// hakmem is linked at build time by one command-line flag set (see docs/ADOPTING.md):
//
//   swift build -c release -Xlinker -L$HAKMEM_LIB -Xlinker -rpath -Xlinker $HAKMEM_LIB \
//       -Xlinker --no-as-needed -Xlinker -lhakmem
//
// Tests/IntegrationTests/AdoptionTests.swift builds it that way and checks that malloc calls
// of the Swift runtime, Foundation and this program are bound to libhakmem.so.
import PackageDescription

let package = Package(
    name: "link-route",
    targets: [
        .executableTarget(name: "LinkRouteDemo", path: "Sources/LinkRouteDemo"),
    ]
)
