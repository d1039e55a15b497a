// Compilers under hakmem: gcc must produce byte-identical object files with and without hakmem
// preloaded, and `swift build` (SwiftPM, swift-driver, swift-frontend, clang and the linker, all
// inheriting LD_PRELOAD) must build a small package whose program prints the same as the one
// built without hakmem.

import Foundation
import XCTest

final class ToolchainTests: XCTestCase {
    /// Every C program of Tests/programs compiled with `gcc -O2 -g -c` (cc1 does the allocating).
    func testGCCObjectFilesAreIdenticalUnderHakmem() throws {
        let gcc = try Harness.requireTool("gcc")
        let programs = Harness.packageRoot.appendingPathComponent("Tests/programs")
        let sources = try FileManager.default.contentsOfDirectory(atPath: programs.path)
            .filter { $0.hasSuffix(".c") }.sorted()
        XCTAssertGreaterThanOrEqual(sources.count, 5, "too few C files in \(programs.path)")
        let object = Harness.scratch.appendingPathComponent("gcc-\(UUID().uuidString).o")
        defer { try? FileManager.default.removeItem(at: object) }
        for source in sources {
            // The same output path for both runs, so the object files may be compared byte for byte.
            func compile(preload: Bool) throws -> Data {
                try? FileManager.default.removeItem(at: object)
                let r = try Run.command(gcc, ["-O2", "-g", "-pthread", "-c", "-o", object.path, programs.appendingPathComponent(source).path],
                                        preload: preload, environment: Deterministic.environment,
                                        directory: programs.path, timeout: 120)
                XCTAssertTrue(r.exitedZero, "gcc \(source) \(preload ? "under hakmem " : ""): \(r.transcript)")
                return (try? Data(contentsOf: object)) ?? Data()
            }
            let without = try compile(preload: false)
            let with = try compile(preload: true)
            XCTAssertFalse(without.isEmpty, "gcc produced no object for \(source)")
            XCTAssertTrue(without == with, "gcc -O2 -g -c \(source): the object file differs under hakmem "
                          + "(\(without.count) vs \(with.count) bytes)")
        }
    }

    /// A small package built with `swift build` twice, each in its own scratch directory.
    /// About 15 s a build on the project's 2-core machine.
    func testSwiftBuildUnderHakmemBuildsAWorkingProgram() throws {
        let swift = try Harness.requireTool("swift")
        let package = Harness.scratch.appendingPathComponent("tiny-package-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: package) }
        try FileManager.default.createDirectory(at: package.appendingPathComponent("Sources/Tiny"),
                                                withIntermediateDirectories: true)
        try Self.manifest.write(to: package.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        try Self.program.write(to: package.appendingPathComponent("Sources/Tiny/main.swift"), atomically: true, encoding: .utf8)

        func build(preload: Bool) throws -> RunResult {
            let scratch = package.appendingPathComponent(preload ? ".build-hakmem" : ".build-system").path
            let started = Date()
            let b = try Run.command(swift, ["build", "-c", "debug", "--scratch-path", scratch],
                                    preload: preload, directory: package.path, timeout: 600)
            print("swift build \(preload ? "under hakmem" : "without hakmem"): \(b.ending) in "
                  + "\(Int(Date().timeIntervalSince(started))) s")
            XCTAssertTrue(b.exitedZero, "swift build \(preload ? "under hakmem" : "without hakmem") failed: \(b.transcript)")
            // The program itself runs with the system allocator: only how it was built differs.
            return try Run.command("\(scratch)/debug/Tiny", [], timeout: 60)
        }
        let without = try build(preload: false)
        let with = try build(preload: true)
        XCTAssertTrue(without.exitedZero, "the program built without hakmem: \(without.transcript)")
        XCTAssertTrue(with.exitedZero, "the program built under hakmem: \(with.transcript)")
        XCTAssertFalse(without.stdout.isEmpty, "the program printed nothing: \(without.transcript)")
        assertSameBytes("output of the program built under hakmem", without: without.stdoutBytes, with: with.stdoutBytes,
                        context: with.transcript)
    }

    static let manifest = """
        // swift-tools-version:5.9
        import PackageDescription
        let package = Package(name: "Tiny", targets: [.executableTarget(name: "Tiny")])
        """

    /// Dictionaries, strings, sorting, classes and generics: enough for the frontend to work.
    static let program = #"""
        final class Node<T: Comparable> {
            let value: T
            var left: Node?, right: Node?
            init(_ value: T) { self.value = value }
            func insert(_ v: T) {
                if v < value { if let l = left { l.insert(v) } else { left = Node(v) } }
                else { if let r = right { r.insert(v) } else { right = Node(v) } }
            }
            func inOrder(_ visit: (T) -> Void) { left?.inOrder(visit); visit(value); right?.inOrder(visit) }
        }
        var counts: [String: Int] = [:]
        var state: UInt64 = 42
        let tree = Node(500_000)
        for _ in 0..<100_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            counts[String(state >> 52, radix: 16), default: 0] += 1
            tree.insert(Int(state >> 44))
        }
        let top = counts.sorted { ($0.value, $0.key) > ($1.value, $1.key) }.prefix(5)
        print(top.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        var sum = 0, n = 0
        tree.inOrder { sum = sum &* 31 &+ $0; n += 1 }
        print(n, sum)
        print((1...200).map { String(repeating: "ab", count: $0) }.joined().count)
        """#
}
