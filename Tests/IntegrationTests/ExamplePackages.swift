// Building the example packages under Examples/ from the tests, with the same `swift build`
// command lines docs/ADOPTING.md gives users. Each example gets its own scratch directory
// (.build-examples/<name> in the checkout, git-ignored), so the build never contends with
// the `swift test` that runs it for the .build lock, and later runs are incremental (unless
// the set of source files changed, see `discardScratch`).

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
        let sources = sourceFileList()
        try discardScratch(scratch, unlessBuiltFrom: sources)
        // A first build compiles hakmem's allocator (package route) and resolves its
        // dependencies, which takes a few minutes on two cores.
        let result = try Run.command(
            swift, ["build", "-c", "release", "--package-path", packagePath, "--scratch-path", scratch] + linking + extraArguments,
            timeout: 1200)
        guard result.exitedZero else {
            throw HarnessError("building Examples/\(name) failed: \(result.transcript)")
        }
        try sources.write(toFile: "\(scratch)/\(sourceListName)", atomically: true, encoding: .utf8)
        let executable = "\(scratch)/release/\(product)"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("building Examples/\(name) left no executable at \(executable)")
        }
        return executable
    }

    /// Where a scratch directory records the source files it was built from.
    static let sourceListName = "hakmem-sources.txt"

    /// The checkout's files under Sources/, one relative path a line, sorted.
    static func sourceFileList() -> String {
        let sources = Harness.packageRoot.appendingPathComponent("Sources")
        let paths = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String } ?? []
        return paths.sorted().joined(separator: "\n") + "\n"
    }

    /// A scratch directory last built long before SlotTable.swift existed later compiled the
    /// allocator without it ("cannot find 'SlotTable' in scope") until it was deleted; a file
    /// added between two builds in a new scratch directory was picked up when tried again, so
    /// SwiftPM's reason is not known. So that stale state cannot fail tests about something else,
    /// a scratch directory built from another set of files, or not known to be built from this
    /// one, starts afresh (a first build of an example takes 15-20 s).
    static func discardScratch(_ scratch: String, unlessBuiltFrom sources: String) throws {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: scratch) else { return }
        let recorded = try? String(contentsOfFile: "\(scratch)/\(sourceListName)", encoding: .utf8)
        if recorded != sources { try fileManager.removeItem(atPath: scratch) }
    }
}
