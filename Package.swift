// swift-tools-version:6.2
// hakmem: a malloc replacement whose logic is Embedded Swift.
//
// Targets:
//   CHakmem        C: the thread-local root and the SuperSlab chunk map (storage only, no logic)
//   Hakmem         the allocator, Embedded Swift, built as libhakmem.so (needs only libc)
//   HakmemHosted   the same sources compiled as ordinary Swift, for unit tests
//   hakmem         the command-line tool (run, bench), ordinary hosted Swift
import PackageDescription

let root = Context.packageDirectory

/// Exported C API: each `hakmem_X` is aliased to `X` by the linker, and only these are global.
let exportedNames = [
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized", "malloc_trim",
]

/// `-no-static-stdlib` keeps a client's `swift build --static-swift-stdlib` (as in the Vapor
/// template) from pointing this target at the static resource directory, which has no embedded
/// standard library; libhakmem.so links no Swift runtime either way.
let embeddedFlags: [String] = [
    "-enable-experimental-feature", "Embedded", "-enable-experimental-feature", "Extern", "-wmo",
    "-Xfrontend", "-disable-stack-protector", "-enforce-exclusivity=unchecked",
    "-Xcc", "-fno-stack-protector", "-Xcc", "-momit-leaf-frame-pointer", "-no-static-stdlib",
]

let package = Package(
    name: "hakmem",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "hakmem", type: .dynamic, targets: ["Hakmem"]),
        // SwiftPM keys products by name, so the tool cannot also be called "hakmem".
        .executable(name: "hakmem-cli", targets: ["hakmem"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "CHakmem",
            cSettings: [.unsafeFlags(["-fno-stack-protector", "-O2"])]
        ),
        .target(
            name: "Hakmem",
            dependencies: ["CHakmem"],
            swiftSettings: [
                .unsafeFlags(embeddedFlags + ["-O", "-num-threads", "1"]),
                .define("HAKMEM_EMBEDDED"),
            ],
            linkerSettings: [
                .unsafeFlags(
                    // lld: its --defsym aliases get default visibility, where gold and bfd copy the
                    // Swift definitions' STV_PROTECTED, which makes glibc's loader warn on the
                    // stderr of every non-PIE program that takes malloc's address.
                    ["-enable-experimental-feature", "Embedded", "-use-ld=lld",
                     "-Xlinker", "--version-script=\(root)/Support/exports.map",
                     "-Xlinker", "-z", "-Xlinker", "nodelete"]
                    + exportedNames.flatMap { ["-Xlinker", "--defsym=\($0)=hakmem_\($0)"] }
                ),
            ]
        ),
        .target(
            name: "HakmemHosted",
            dependencies: ["CHakmem"],
            path: "Sources/HakmemHosted",
            swiftSettings: [.unsafeFlags(["-enable-experimental-feature", "Extern", "-enforce-exclusivity=unchecked"])]
        ),
        .target(name: "BenchKit"),
        .executableTarget(
            name: "hakmem",
            dependencies: ["BenchKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(name: "HakmemTests", dependencies: ["HakmemHosted"]),
        .testTarget(name: "BenchKitTests", dependencies: ["BenchKit"]),
        .testTarget(name: "IntegrationTests"),
    ]
)
