// Building the example packages under Examples/ from the tests, with the same `swift build`
// command lines docs/ADOPTING.md gives users. Each example gets its own scratch directory
// (.build-examples/<name> in the checkout, git-ignored), so the build never contends with
// the `swift test` that runs it for the .build lock, and later runs are incremental.

import Foundation
import XCTest

enum ExamplePackages {
    static let scratchRoot = Harness.packageRoot.appendingPathComponent(".build-examples")

    /// The linker flags of the link route for the libhakmem.so in `libraryDirectory`: find it,
    /// record where it is for the loader, and keep it even if nothing names a symbol of its own.
    static func linkRouteFlags(libraryDirectory: String) -> [String] {
        ["-L\(libraryDirectory)", "-rpath", libraryDirectory, "--no-as-needed", "-lhakmem"]
            .flatMap { ["-Xlinker", $0] }
    }

    /// Builds Examples/<name> in release mode (with the Swift runtime linked statically when
    /// `staticSwiftStdlib`) with `extraArguments`, and returns the path of its executable
    /// `product`. Skips the calling test when no Swift toolchain is in PATH.
    static func build(_ name: String, product: String, staticSwiftStdlib: Bool = false,
                      extraArguments: [String] = []) throws -> String {
        guard let swift = Harness.which("swift") else { throw XCTSkip("swift is not in PATH") }
        let packagePath = Harness.packageRoot.appendingPathComponent("Examples/\(name)").path
        let scratch = scratchRoot.appendingPathComponent(staticSwiftStdlib ? "\(name)-static" : name).path
        let linking = staticSwiftStdlib ? ["--static-swift-stdlib"] : []
        // A first build compiles hakmem's allocator (package route) and resolves its
        // dependencies, which takes a few minutes on two cores.
        let result = try Run.command(
            swift, ["build", "-c", "release", "--package-path", packagePath, "--scratch-path", scratch] + linking + extraArguments,
            timeout: 1200)
        guard result.exitedZero else {
            throw HarnessError("building Examples/\(name) failed: \(result.transcript)")
        }
        let executable = "\(scratch)/release/\(product)"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("building Examples/\(name) left no executable at \(executable)")
        }
        return executable
    }
}
