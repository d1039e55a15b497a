// End-to-end tests of the built `hakmem` executable (from the same build directory as
// this test bundle): `hakmem run` passes output, exit status and signals through, and a
// tiny `hakmem bench` writes the three result files, and builds and measures the Swift
// workloads (bench/swift-service, bench/swift-nio-service) itself.
//
// They must pass while libhakmem.so is still a stub whose malloc returns NULL, so:
// - `run` tests point HAKMEM_LIBRARY at a packaged peer allocator (mimalloc, jemalloc or
//   tcmalloc), or at glibc's own libc.so.6 when none is installed: the preload machinery
//   is what is tested, not hakmem;
// - the bench test asks for every allocator; hakmem takes part if it passes the bench's
//   smoke test and is otherwise reported as skipped, which the test accepts either way.

import BenchKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

final class CommandLineTests: XCTestCase {
    struct ToolRun {
        var termination: Process.TerminationReason
        var status: Int32
        var output: String
        var errors: String
    }

    /// The `hakmem` executable beside this test bundle (SwiftPM may name it hakmem-cli).
    static var tool: String {
        let directory = Preload.executableDirectory()
        let candidates = ["hakmem-cli", "hakmem"].map { "\(directory)/\($0)" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// The checkout's bench/ directory, from this file's location.
    static var benchDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench").path
    }

    /// A working allocator library to stand in for libhakmem.so.
    static var standInLibrary: String? {
        (AllocatorCatalog.peers.map(\.fileName) + ["libc.so.6"]).lazy.compactMap { AllocatorCatalog.findLibrary($0) }.first
    }

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.tool) else {
            throw XCTSkip("\(Self.tool) is not built; run `swift build` first")
        }
    }

    func runTool(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ToolRun {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hakmem-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputURL = directory.appendingPathComponent("out"), errorsURL = directory.appendingPathComponent("err")
        for url in [outputURL, errorsURL] {
            XCTAssertTrue(FileManager.default.createFile(atPath: url.path, contents: nil))
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tool)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outputURL)
        process.standardError = try FileHandle(forWritingTo: errorsURL)
        try process.run()
        process.waitUntilExit()
        return ToolRun(termination: process.terminationReason, status: process.terminationStatus,
                       output: try String(contentsOf: outputURL, encoding: .utf8),
                       errors: try String(contentsOf: errorsURL, encoding: .utf8))
    }

    private func standInEnvironment() throws -> [String: String] {
        ["HAKMEM_LIBRARY": try XCTUnwrap(Self.standInLibrary, "no allocator library to preload")]
    }

    func testRunPassesOutputAndExitStatusThrough() throws {
        let run = try runTool(["run", "--", "sh", "-c", "echo hi; exit 3"], environment: standInEnvironment())
        XCTAssertEqual(run.termination, .exit)
        XCTAssertEqual(run.status, 3)
        XCTAssertEqual(run.output, "hi\n")
    }

    func testRunPreloadsTheLibraryAndSetsStats() throws {
        let environment = try standInEnvironment()
        let run = try runTool(["run", "--stats", "--", "sh", "-c", "echo \"$LD_PRELOAD|$HAKMEM_STATS|$HAKMEM_TEST_SETTING\""],
                              environment: environment.merging(["HAKMEM_TEST_SETTING": "passed"]) { $1 })
        XCTAssertEqual(run.status, 0)
        XCTAssertEqual(run.output, "\(environment["HAKMEM_LIBRARY"]!)|1|passed\n")
    }

    func testRunDiesByTheSignalThatKilledTheCommand() throws {
        let run = try runTool(["run", "--", "sh", "-c", "kill -TERM $$"], environment: standInEnvironment())
        XCTAssertEqual(run.termination, .uncaughtSignal)
        XCTAssertEqual(run.status, SIGTERM)
    }

    func testRunReportsAMissingCommandOrLibrary() throws {
        let missingCommand = try runTool(["run", "--", "no-such-command-for-hakmem"], environment: standInEnvironment())
        XCTAssertEqual(missingCommand.status, 127)
        XCTAssertTrue(missingCommand.errors.contains("command not found"), missingCommand.errors)

        let missingLibrary = try runTool(["run", "--", "true"], environment: ["HAKMEM_LIBRARY": "/nonexistent/libhakmem.so"])
        XCTAssertEqual(missingLibrary.status, 125)
        XCTAssertTrue(missingLibrary.errors.contains("/nonexistent/libhakmem.so"), missingLibrary.errors)
    }

    func testTinyBenchWritesResultsThatParse() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hakmem-bench-test-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try runTool(["bench", "--tiny", "--rounds", "1", "--workloads", "random-mixed,realloc-growth",
                               "--bench-directory", Self.benchDirectory, "--output", output])
        XCTAssertEqual(run.status, 0, run.errors)

        let json = try XCTUnwrap(FileManager.default.contents(atPath: output + "/results.json"), "results.json")
        let results = try BenchResults(jsonData: json)
        XCTAssertEqual(results.benchmarks.map(\.id), ["random-mixed", "realloc-growth"])
        XCTAssertEqual(results.rounds, 1)
        XCTAssertTrue(results.measuredAllocators.contains("glibc"))
        XCTAssertEqual(Set(results.allocators.map(\.name)), Set(AllocatorCatalog.names), "every allocator measured or explained")
        for entry in results.allocators where !entry.measured {
            XCTAssertNotNil(entry.note, "\(entry.name) skipped without a reason")
        }
        for benchmark in results.benchmarks {
            let glibc = try XCTUnwrap(benchmark.result(for: "glibc")?.median, "glibc figures for \(benchmark.id)")
            XCTAssertGreaterThan(glibc.throughput, 0)
            XCTAssertGreaterThan(glibc.peakResidentKiB, 0)
            XCTAssertLessThan(glibc.peakResidentKiB, 20_000, "peak RSS must be the workload's, not the tool's")
        }
        XCTAssertGreaterThan(results.machine.cores, 0)
        XCTAssertNotNil(results.versions["glibc"])

        let markdown = try String(contentsOfFile: output + "/results.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("## Throughput (higher is better)"))
        XCTAssertTrue(markdown.contains("| random-mixed | ops/s |"))
        let svg = try XCTUnwrap(FileManager.default.contents(atPath: output + "/chart.svg"), "chart.svg")
        XCTAssertTrue(XMLParser(data: svg).parse(), "chart.svg is well-formed XML")
    }

    /// The bench builds bench/swift-service and bench/swift-nio-service with `swift build`
    /// when their executables are missing or stale (in a fresh clone, as in CI, from nothing:
    /// about 2 minutes for SwiftNIO) and measures them under every allocator like the C
    /// workloads.
    func testTinyBenchBuildsAndMeasuresTheSwiftWorkloads() throws {
        guard ExternalTools.locate().swift != nil else { throw XCTSkip("swift is not in PATH") }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("hakmem-bench-swift-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try runTool(["bench", "--tiny", "--rounds", "1", "--workloads", "swift-service,swift-nio-service",
                               "--bench-directory", Self.benchDirectory, "--output", output])
        XCTAssertEqual(run.status, 0, run.errors)

        let json = try XCTUnwrap(FileManager.default.contents(atPath: output + "/results.json"), "results.json")
        let results = try BenchResults(jsonData: json)
        XCTAssertEqual(results.benchmarks.map(\.id), ["swift-service-2t", "swift-nio-service-2t"], "notes: \(results.notes)")
        for benchmark in results.benchmarks {
            for allocator in results.measuredAllocators {
                let median = try XCTUnwrap(benchmark.result(for: allocator)?.median, "\(allocator) figures for \(benchmark.id)")
                XCTAssertGreaterThan(median.throughput, 0)
                XCTAssertGreaterThan(median.peakResidentKiB, 0)
            }
        }
        XCTAssertNotNil(results.versions["swift"], "the toolchain that built the workload is recorded")
    }
}
