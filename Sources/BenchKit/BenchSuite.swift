// BenchSuite: a whole `hakmem bench` run, from finding the allocators to the results.
//
// 1. Resolve the allocators asked for; a missing one is skipped with the package (or the
//    build command) that provides it.
// 2. Skip workloads whose program (python3, sqlite3, redis) is not installed.
// 3. Build the C workloads that are missing or stale, and the Swift workloads (swift build);
//    a Swift workload that cannot be built is skipped with the reason.
// 4. Smoke-test every allocator with a small random-mixed run; one that fails (as a stub
//    libhakmem.so returning NULL does) is skipped with the reason. glibc must pass.
// 5. Measure: benchmark by benchmark, round by round, every allocator once per round in
//    rotating order. An allocator that fails a benchmark runs no more rounds of it.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public struct BenchConfiguration: Sendable {
    public var scale: Scale
    public var rounds: Int
    public var threadCounts: [Int]
    public var workloadNames: [String]
    public var allocatorNames: [String]
    /// The bench/ directory holding workloads/ and programs/.
    public var benchDirectory: String
    /// Where compiled workloads are kept.
    public var cacheDirectory: String
    public var hakmemLibrary: String

    public init(scale: Scale, rounds: Int, threadCounts: [Int], workloadNames: [String], allocatorNames: [String],
                benchDirectory: String, cacheDirectory: String, hakmemLibrary: String) {
        self.scale = scale
        self.rounds = rounds
        self.threadCounts = threadCounts
        self.workloadNames = workloadNames
        self.allocatorNames = allocatorNames
        self.benchDirectory = benchDirectory
        self.cacheDirectory = cacheDirectory
        self.hakmemLibrary = hakmemLibrary
    }
}

public struct BenchSuite {
    public var configuration: BenchConfiguration
    public var progress: ProgressReporter

    /// The launcher every measured program starts through (see MeasuredProcess).
    static let launcherSource = "launcher/measured_exec"

    /// The C program and parameters of the smoke test every allocator must pass.
    static let smokeTestProgram = "random_mixed"
    static let smokeTestArguments = ["ops=20000", "slots=512"]

    public init(configuration: BenchConfiguration, progress: ProgressReporter) {
        self.configuration = configuration
        self.progress = progress
    }

    public func run() throws(BenchError) -> BenchResults {
        let started = ContinuousClock.now
        let date = ISO8601DateFormatter().string(from: Date())
        let loadAverageAtStart = SystemInventory.loadAverage()
        var notes: [String] = []

        let (allocators, missingAllocators) = AllocatorCatalog.resolve(
            configuration.allocatorNames, hakmemLibrary: configuration.hakmemLibrary)
        for missing in missingAllocators { skip("\(missing.name): \(missing.reason)", notes: &notes) }
        let tools = ExternalTools.locate()
        var workloads = runnableWorkloads(tools: tools, notes: &notes)
        let swiftPrograms = buildSwiftPackages(for: &workloads, swift: tools.swift, notes: &notes)
        guard !workloads.isEmpty else { throw .nothingToRun }

        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let compiler = BenchProgramCompiler(benchDirectory: configuration.benchDirectory,
                                            cacheDirectory: configuration.cacheDirectory)
        let runner = WorkloadRunner(settings: RunSettings(
            benchDirectory: configuration.benchDirectory, scratchDirectory: scratch,
            baseEnvironment: ProcessInfo.processInfo.environment,
            timeLimitSeconds: configuration.scale.runTimeLimitSeconds,
            programs: try buildPrograms(for: workloads, with: compiler).merging(swiftPrograms) { $1 },
            launcher: try compiler.program(Self.launcherSource), tools: tools))

        var entries = missingAllocators.map { AllocatorEntry(name: $0.name, library: nil, measured: false, note: $0.reason) }
        let usable = try smokeTested(allocators, runner: runner, entries: &entries, notes: &notes)
        entries.sort { order(of: $0.name) < order(of: $1.name) }

        let plan = BenchPlan(workloads: workloads, allocators: usable, scale: configuration.scale,
                             rounds: configuration.rounds, threadCounts: configuration.threadCounts)
        let benchmarks = measure(plan, with: runner)

        let packageRoot = (configuration.benchDirectory as NSString).deletingLastPathComponent
        var versions = SystemInventory.versions(packageRoot: packageRoot, compiler: compiler.compiler)
        if !swiftPrograms.isEmpty, let swift = tools.swift {
            versions["swift"] = swiftBuilder(swift).toolchainVersion()
        }
        return BenchResults(
            date: date, scale: configuration.scale, rounds: configuration.rounds,
            threadCounts: configuration.threadCounts, elapsedSeconds: (ContinuousClock.now - started).seconds,
            machine: SystemInventory.machine(loadAverageAtStart: loadAverageAtStart),
            versions: versions,
            allocators: entries, benchmarks: benchmarks, notes: notes)
    }

    /// Records a skip for the report and says it on stderr.
    private func skip(_ message: String, notes: inout [String]) {
        notes.append(message)
        progress.note("skipping " + message)
    }

    /// The workloads asked for whose programs are installed.
    private func runnableWorkloads(tools: ExternalTools, notes: inout [String]) -> [Workload] {
        configuration.workloadNames.compactMap(WorkloadCatalog.workload(named:)).filter { workload in
            guard let reason = tools.missingRequirement(for: workload.kind) else { return true }
            skip("workload \(workload.name): \(reason)", notes: &notes)
            return false
        }
    }

    /// The allocators that pass the smoke test; each gets an entry saying whether it is
    /// measured. glibc failing means the machine, not an allocator, is broken.
    private func smokeTested(_ allocators: [Allocator], runner: WorkloadRunner,
                             entries: inout [AllocatorEntry], notes: inout [String]) throws(BenchError) -> [Allocator] {
        var usable: [Allocator] = []
        for allocator in allocators {
            if let failure = smokeTest(allocator, runner: runner) {
                if allocator.library == nil { throw .baselineUnusable(failure) }
                skip("\(allocator.name): smoke test failed (\(failure))", notes: &notes)
                entries.append(AllocatorEntry(name: allocator.name, library: allocator.library, measured: false,
                                              note: "smoke test failed: \(failure)"))
            } else {
                usable.append(allocator)
                entries.append(AllocatorEntry(name: allocator.name, library: allocator.library, measured: true))
            }
        }
        return usable
    }

    /// Runs the plan: per benchmark, `rounds` rounds of every allocator in rotating order.
    private func measure(_ plan: BenchPlan, with runner: WorkloadRunner) -> [BenchmarkResult] {
        progress.start(totalRuns: plan.totalRuns)
        defer { progress.finish() }
        return plan.benchmarks.map { benchmark in
            var rounds: [String: [RoundRecord]] = [:]
            var failed = Set<String>()
            for round in 0..<plan.rounds {
                for (index, allocator) in plan.allocatorOrder(inRound: round).enumerated() {
                    guard !failed.contains(allocator.name) else { continue }
                    progress.running(benchmark.label, round: round + 1, of: plan.rounds, allocator: allocator.name)
                    var record = RoundRecord(round: round + 1, position: index + 1)
                    do throws(RunFailure) {
                        record.measurement = try runner.measure(benchmark, under: allocator)
                    } catch {
                        record.failure = error.description
                        failed.insert(allocator.name)
                        progress.note("\(benchmark.label) under \(allocator.name) failed: \(error.description)")
                        progress.skippedRuns(plan.rounds - round - 1)
                    }
                    progress.finishedRun()
                    rounds[allocator.name, default: []].append(record)
                }
            }
            let results = plan.allocators.map { AllocatorResult(allocator: $0.name, rounds: rounds[$0.name] ?? []) }
            return BenchmarkResult(benchmark: benchmark, results: results)
        }
    }

    /// Nil if `allocator` runs the smoke test cleanly, else what went wrong.
    private func smokeTest(_ allocator: Allocator, runner: WorkloadRunner) -> String? {
        guard let program = runner.settings.programs[Self.smokeTestProgram] else { return "smoke test not built" }
        do {
            let run = try runner.runToCompletion(program, arguments: Self.smokeTestArguments, preload: allocator.library)
            _ = try WorkloadOutput(parsing: run.output)
            return nil
        } catch let failure as RunFailure {
            return failure.description
        } catch {
            return "\(error)"
        }
    }

    /// Builds every C program the workloads (and the smoke test) need.
    private func buildPrograms(for workloads: [Workload], with compiler: BenchProgramCompiler) throws(BenchError) -> [String: String] {
        var names = [Self.smokeTestProgram]
        for workload in workloads {
            if case .program(let name) = workload.kind, !names.contains(name) { names.append(name) }
        }
        var programs: [String: String] = [:]
        for name in names { programs[name] = try compiler.program("workloads/\(name)") }
        return programs
    }

    private func swiftBuilder(_ swift: String) -> SwiftPackageBuilder {
        SwiftPackageBuilder(benchDirectory: configuration.benchDirectory, cacheDirectory: configuration.cacheDirectory,
                            swift: swift)
    }

    /// Builds the Swift packages the workloads need, keyed by directory; a workload whose
    /// package does not build is removed from `workloads` and skipped with the reason.
    private func buildSwiftPackages(for workloads: inout [Workload], swift: String?, notes: inout [String]) -> [String: String] {
        var programs: [String: String] = [:]
        var failures: [String: String] = [:]
        for workload in workloads {
            guard case .swiftPackage(let directory, let product) = workload.kind, let swift,
                  programs[directory] == nil, failures[directory] == nil else { continue }
            let builder = swiftBuilder(swift)
            if !builder.isUpToDate(builder.executablePath(package: directory, product: product),
                                   packagePath: "\(configuration.benchDirectory)/\(directory)") {
                progress.note("building bench/\(directory) with swift build (a first build takes seconds, with SwiftNIO a few minutes)")
            }
            switch builder.executable(package: directory, product: product) {
            case .success(let path): programs[directory] = path
            case .failure(let failure): failures[directory] = failure.description
            }
        }
        workloads.removeAll { workload in
            guard case .swiftPackage(let directory, _) = workload.kind, let failure = failures[directory] else { return false }
            skip("workload \(workload.name): \(failure)", notes: &notes)
            return true
        }
        return programs
    }

    private func makeScratchDirectory() throws(BenchError) -> String {
        let path = FileManager.default.temporaryDirectory.path + "/hakmem-bench-\(getpid())"
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path, reason: error.localizedDescription)
        }
        return path
    }

    private func order(of allocator: String) -> Int {
        AllocatorCatalog.selectableNames.firstIndex(of: allocator) ?? Int.max
    }
}
