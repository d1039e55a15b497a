// Seeded random sequences of allocator calls under hakmem (Tests/programs/fuzz_sequences.c with
// the reference model in fuzz_model.h): contents, alignment, calloc zeroing, usable size and
// no overlap between live blocks, over every tier and entry point. The seeds, operation counts
// and thread counts are the lines of Tests/fuzz/seeds.txt; each run is deterministic for one
// thread, so a failure names the command that reproduces it.

import Foundation
import XCTest

final class FuzzTests: XCTestCase {
    struct SeedRun {
        let seed: UInt64
        let ops: Int
        let threads: Int
        var arguments: [String] { ["\(seed)", "\(ops)", "\(threads)"] }
    }

    /// The runs listed in Tests/fuzz/seeds.txt (comments and blank lines skipped).
    static func seedRuns() throws -> [SeedRun] {
        let url = Harness.packageRoot.appendingPathComponent("Tests/fuzz/seeds.txt")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").compactMap { raw -> SeedRun? in
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(separator: " ")
            if fields.isEmpty { return nil }
            guard (2...3).contains(fields.count), let seed = UInt64(fields[0]), let ops = Int(fields[1]),
                  let threads = fields.count == 3 ? Int(fields[2]) : 1 else {
                throw HarnessError("Tests/fuzz/seeds.txt: cannot read `\(raw)` (expected SEED OPS [THREADS])")
            }
            return SeedRun(seed: seed, ops: ops, threads: threads)
        }
    }

    func testSeedsFileListsSingleAndMultiThreadedRuns() throws {
        let runs = try Self.seedRuns()
        XCTAssertGreaterThanOrEqual(runs.filter { $0.threads == 1 }.count, 4, "too few single-thread seeds")
        XCTAssertGreaterThanOrEqual(runs.filter { $0.threads > 1 }.count, 2, "too few multi-threaded seeds")
    }

    func testSingleThreadSeeds() throws {
        for run in try Self.seedRuns() where run.threads == 1 { try check(run) }
    }

    func testMultiThreadedSeeds() throws {
        for run in try Self.seedRuns() where run.threads > 1 { try check(run) }
    }

    /// The first single-thread and the first multi-threaded run again in checked mode
    /// (HAKMEM_CHECK=1), whose different free lists and guard pages the model must not notice.
    func testFirstSeedsUnderCheckedMode() throws {
        let runs = try Self.seedRuns()
        for run in [runs.first { $0.threads == 1 }, runs.first { $0.threads > 1 }].compactMap({ $0 }) {
            try check(run, environment: ["HAKMEM_CHECK": "1"])
        }
    }

    /// The libFuzzer harness (Tests/fuzz/libfuzzer_ops.c, long runs by scripts/fuzz.sh) still
    /// builds, replays the committed corpus and runs 3,000 mutated inputs under hakmem.
    func testLibFuzzerHarnessReplaysTheCorpus() throws {
        let clang = try Harness.requireTool("clang")
        let harness = Harness.scratch.appendingPathComponent("libfuzzer_ops").path
        let source = Harness.packageRoot.appendingPathComponent("Tests/fuzz/libfuzzer_ops.c").path
        let built = try Run.command(clang, ["-O1", "-g", "-fsanitize=fuzzer", "-o", harness, source], timeout: 120)
        guard built.exitedZero else {
            if built.stderr.contains("libclang_rt.fuzzer") { throw XCTSkip("clang has no libFuzzer runtime") }
            return XCTFail("building the libFuzzer harness failed: \(built.transcript)")
        }
        // New inputs go to the first directory, a scratch one: the committed corpus stays as it is.
        let newInputs = Harness.scratch.appendingPathComponent("libfuzzer-new-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: newInputs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: newInputs) }
        let corpus = Harness.packageRoot.appendingPathComponent("Tests/fuzz/corpus").path
        let r = try Run.command(harness, ["-runs=3000", "-max_len=4096", "-seed=1",
                                          "-artifact_prefix=\(newInputs.path)/", newInputs.path, corpus],
                                preload: true, timeout: 180)
        print(r.stderr.split(separator: "\n").last { $0.hasPrefix("Done ") }.map(String.init) ?? "libfuzzer_ops: \(r.ending)")
        XCTAssertTrue(r.exitedZero, "libfuzzer_ops found a failure or crashed: \(r.transcript)")
        let library = URL(fileURLWithPath: try Harness.library()).resolvingSymlinksInPath().path
        XCTAssertTrue(r.stderr.contains("libfuzzer_ops: malloc from \(library)"),
                      "the harness did not allocate from the preloaded \(library): \(r.transcript)")
    }

    private func check(_ run: SeedRun, environment: [String: String] = [:],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let started = Date()
        let r = try Run.program("fuzz_sequences", run.arguments, environment: environment, timeout: 120)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let summary = lines.first { $0.hasPrefix("fuzz_sequences: ") }
        let mode = environment.isEmpty ? "" : " (\(environment.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")))"
        print("\(summary ?? "fuzz_sequences \(run.arguments.joined(separator: " ")): no summary, \(r.ending)")\(mode)"
              + " in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let failures = lines.filter { $0.hasPrefix("FAIL ") || $0.hasPrefix("reproduce: ") }
        XCTAssertTrue(failures.isEmpty, "fuzz_sequences \(run.arguments.joined(separator: " ")) found:\n"
                      + failures.joined(separator: "\n"), file: file, line: line)
        // A crash (hakmem's own abort on a pointer it rejects included) ends the run before its summary.
        XCTAssertTrue(r.exitedZero, "fuzz_sequences \(run.arguments.joined(separator: " ")) \(r.ending); rerun with "
                      + "FUZZ_TRACE=1 to see the last operation: \(r.transcript)", file: file, line: line)
        XCTAssertNotNil(summary.flatMap { $0.range(of: "failures=0") }, r.transcript, file: file, line: line)
        if run.threads == 1 {
            XCTAssertNotNil(summary.flatMap { $0.range(of: "ops=\(run.ops) ") },
                            "seed \(run.seed) did not run all \(run.ops) operations: \(r.transcript)", file: file, line: line)
        }
    }
}
