// BenchCommand: `hakmem bench` — the benchmark suite against glibc, mimalloc, jemalloc
// and tcmalloc. Parses and checks the options, runs the suite (BenchKit.BenchSuite), writes
// results.md, results.json and chart.svg, and prints a one-line summary per allocator.

import ArgumentParser
import BenchKit
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark hakmem against glibc, mimalloc, jemalloc and tcmalloc.",
        discussion: """
        Workloads: \(WorkloadCatalog.names.joined(separator: ", ")).
        Each benchmark runs in rounds; every round runs every allocator once, in an order that \
        rotates from round to round, and each figure is the median of the rounds. Peers that \
        are not installed are skipped with the Debian package to install. See docs/BENCHMARKS.md.
        """
    )

    @Flag(help: "About three minutes: every workload and allocator, 3 rounds, smaller sizes, threads 1,2,4.")
    var quick = false

    /// Sizes that finish in seconds, for the integration test; the figures mean nothing.
    @Flag(help: .hidden)
    var tiny = false

    @Option(name: .shortAndLong, help: ArgumentHelp("Directory for results.md, results.json and chart.svg.", valueName: "dir"))
    var output = "bench-results"

    @Option(help: ArgumentHelp(
        "Comma-separated allocators to compare (default: all of \(AllocatorCatalog.names.joined(separator: ","))); add \(AllocatorCatalog.controlName) to run hakmem's library a second time, as a control of the run's noise.",
        valueName: "list"))
    var allocators: String?

    @Option(help: ArgumentHelp("Comma-separated workloads to run (default: all).", valueName: "list"))
    var workloads: String?

    @Option(help: ArgumentHelp(
        "Comma-separated thread counts: mid-large-mt runs at each, the other multi-threaded workloads at the largest (default: 1,2,4,8,16; with --quick 1,2,4).",
        valueName: "list"))
    var threads: String?

    @Option(help: ArgumentHelp("Rounds per benchmark (default: 5; with --quick 3).", valueName: "n"))
    var rounds: Int?

    @Option(help: ArgumentHelp("The bench/ directory (default: found from the executable or the current directory).", valueName: "dir"))
    var benchDirectory: String?

    private var scale: Scale { tiny ? .tiny : quick ? .quick : .thorough }

    func validate() throws {
        _ = try configuration()
    }

    func run() throws {
        let suite = BenchSuite(configuration: try configuration(), progress: ProgressReporter())
        let results: BenchResults
        do {
            results = try suite.run()
            try ReportFiles.write(results, to: output)
        } catch {
            printError("hakmem bench: \(error.description)")
            throw ExitCode.failure
        }
        print("Wrote \(output)/\(ReportFiles.markdown), \(ReportFiles.json) and \(ReportFiles.chart) "
            + "in \(Format.duration(results.elapsedSeconds)).")
        printSummary(results)
    }

    /// Checks every option and turns them into the suite's configuration.
    private func configuration() throws -> BenchConfiguration {
        if quick && tiny { throw ValidationError("--quick and --tiny exclude each other") }
        if let rounds, rounds < 1 { throw ValidationError("--rounds must be at least 1") }
        do {
            let allocatorNames = try allocators.map {
                try ListArguments.names($0, allowed: AllocatorCatalog.selectableNames, what: "allocator")
            } ?? AllocatorCatalog.names
            let workloadNames = try workloads.map {
                try ListArguments.names($0, allowed: WorkloadCatalog.names, what: "workload")
            } ?? WorkloadCatalog.names
            let threadCounts = try threads.map(ListArguments.threadCounts) ?? scale.threadCounts
            let benchDirectory = try locateBenchDirectory()
            return BenchConfiguration(
                scale: scale, rounds: rounds ?? scale.rounds, threadCounts: threadCounts,
                workloadNames: workloadNames, allocatorNames: allocatorNames,
                benchDirectory: benchDirectory, cacheDirectory: BenchDirectory.cacheDirectory(for: benchDirectory),
                hakmemLibrary: Preload.hakmemLibraryPath())
        } catch let error as ListArgumentError {
            throw ValidationError(error.description)
        }
    }

    private func locateBenchDirectory() throws -> String {
        if let benchDirectory {
            guard BenchDirectory.isValid(benchDirectory) else {
                throw ValidationError("\(benchDirectory) is not a bench directory (it has no workloads/common.h)")
            }
            return (benchDirectory as NSString).standardizingPath
        }
        let starts = [Preload.executableDirectory(), FileManager.default.currentDirectoryPath]
        guard let found = BenchDirectory.locate(from: starts) else {
            throw ValidationError(BenchError.benchDirectoryNotFound(searched: starts).description)
        }
        return found
    }

    /// One line per measured allocator: geometric-mean throughput and memory relative to glibc.
    private func printSummary(_ results: BenchResults) {
        let comparison = Comparison(results)
        let nameWidth = results.measuredAllocators.map(\.count).max() ?? 0
        for allocator in results.measuredAllocators where allocator != AllocatorCatalog.baselineName {
            let speed = comparison.geometricMeanRatioToBaseline(.throughput, allocator).map(Format.ratio) ?? "—"
            let memory = comparison.geometricMeanRatioToBaseline(.peakResident, allocator).map(Format.ratio) ?? "—"
            let name = allocator.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            print("  \(name) throughput \(speed) glibc's, peak memory \(memory) (geometric means)")
        }
        if let coverage = comparison.geometricMeanCoverage(.throughput) {
            print("  (geometric means over \(coverage))")
        }
    }
}
