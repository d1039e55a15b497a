// WorkloadRunner: one measured run of one benchmark under one allocator.
//
// C workloads and the Swift workloads report their own throughput; python3 and sqlite3 are timed from start to
// exit (throughput = 1 / seconds); redis is measured by redis-benchmark (RedisSession).
// Peak memory is always the measured process's ru_maxrss. Anything that goes wrong — a
// crash, a non-zero exit, a time-out, output that doesn't parse — becomes a RunFailure
// whose text ends up in the report.

import Foundation

/// Why one run produced no figures.
public struct RunFailure: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What every run needs to know about its surroundings.
public struct RunSettings: Sendable {
    /// The bench/ directory (for bench/programs).
    public var benchDirectory: String
    /// Where runs may leave their output files.
    public var scratchDirectory: String
    /// The environment children start from (LD_PRELOAD is set per allocator).
    public var baseEnvironment: [String: String]
    public var timeLimitSeconds: Double
    /// Built workloads: C programs by program name, Swift packages by directory name.
    public var programs: [String: String]
    /// The built launcher every measured program is started through (MeasuredProcess).
    public var launcher: String
    public var tools: ExternalTools

    public init(benchDirectory: String, scratchDirectory: String, baseEnvironment: [String: String],
                timeLimitSeconds: Double, programs: [String: String], launcher: String, tools: ExternalTools) {
        self.benchDirectory = benchDirectory
        self.scratchDirectory = scratchDirectory
        self.baseEnvironment = baseEnvironment
        self.timeLimitSeconds = timeLimitSeconds
        self.programs = programs
        self.launcher = launcher
        self.tools = tools
    }
}

/// A finished child's usage and standard output.
struct CompletedRun {
    var usage: ProcessUsage
    var output: String
}

public struct WorkloadRunner: Sendable {
    public var settings: RunSettings

    public init(settings: RunSettings) {
        self.settings = settings
    }

    public func measure(_ benchmark: Benchmark, under allocator: Allocator) throws(RunFailure) -> Measurement {
        switch benchmark.workload.kind {
        case .program(let name): try measureProgram(name, benchmark, allocator)
        case .swiftPackage(let directory, _): try measureProgram(directory, benchmark, allocator)
        case .python: try measurePython(benchmark, allocator)
        case .sqlite: try measureSQLite(benchmark, allocator)
        case .redis: try RedisSession(settings: settings, benchmark: benchmark, allocator: allocator).measure()
        }
    }

    private func measureProgram(_ name: String, _ benchmark: Benchmark, _ allocator: Allocator) throws(RunFailure) -> Measurement {
        guard let program = settings.programs[name] else { throw RunFailure("program \(name) was not built") }
        let run = try runToCompletion(program, arguments: benchmark.arguments, preload: allocator.library)
        let output: WorkloadOutput
        do {
            output = try WorkloadOutput(parsing: run.output)
        } catch {
            throw RunFailure("\(benchmark.workload.name) \(error)")
        }
        return Measurement(throughput: output.throughput, peakResidentKiB: run.usage.peakResidentKiB,
                           seconds: output.seconds, extras: output.extras)
    }

    private func measurePython(_ benchmark: Benchmark, _ allocator: Allocator) throws(RunFailure) -> Measurement {
        guard let python = settings.tools.python3 else { throw RunFailure("python3 is not installed") }
        let script = "\(settings.benchDirectory)/programs/alloc_heavy.py"
        let scale = benchmark.parameters["scale"] ?? 1
        // PYTHONMALLOC=malloc sends every object through malloc instead of Python's own pool.
        let run = try runToCompletion(python, arguments: [script, "\(scale)"], preload: allocator.library,
                                      addingEnvironment: ["PYTHONMALLOC": "malloc"])
        guard run.output.contains("checksum=") else { throw RunFailure("python3 printed no checksum") }
        return timedMeasurement(run)
    }

    private func measureSQLite(_ benchmark: Benchmark, _ allocator: Allocator) throws(RunFailure) -> Measurement {
        guard let sqlite = settings.tools.sqlite3 else { throw RunFailure("sqlite3 is not installed") }
        let script = "\(settings.benchDirectory)/programs/build_index.sql"
        let rows = benchmark.parameters["rows"] ?? 1000
        let run = try runToCompletion(
            sqlite, arguments: ["-bail", "-cmd", ".parameter set @rows \(rows)", ":memory:"],
            preload: allocator.library, input: script)
        guard run.output.contains("|") else { throw RunFailure("sqlite3 printed no query result") }
        return timedMeasurement(run)
    }

    /// Throughput for whole-program workloads: runs per second of wall time.
    private func timedMeasurement(_ run: CompletedRun) -> Measurement {
        Measurement(throughput: 1 / run.usage.elapsedSeconds, peakResidentKiB: run.usage.peakResidentKiB,
                    seconds: run.usage.elapsedSeconds)
    }

    /// Runs a program to its end, measured, with `preload` as its LD_PRELOAD and its output
    /// captured; fails unless it exits 0.
    func runToCompletion(_ executable: String, arguments: [String], preload: String?,
                         addingEnvironment extra: [String: String] = [:], input: String? = nil) throws(RunFailure) -> CompletedRun {
        let files = ScratchFiles(directory: settings.scratchDirectory)
        defer { files.remove() }
        let child = try MeasuredProcess.start(
            launcher: settings.launcher, program: executable, arguments: arguments, preload: preload,
            environment: settings.baseEnvironment.merging(extra) { $1 }, scratchDirectory: settings.scratchDirectory,
            standardInput: input.map { .file($0) } ?? .discard,
            standardOutput: .file(files.output), standardError: .file(files.errors))
        let (usage, timedOut) = child.wait(killingAfter: settings.timeLimitSeconds)
        if timedOut {
            throw RunFailure("timed out after \(Format.duration(settings.timeLimitSeconds))")
        }
        guard usage.termination.succeeded else {
            throw RunFailure(describeFailure(usage.termination, errors: files.errorText()))
        }
        return CompletedRun(usage: usage, output: files.outputText())
    }
}

/// "killed by SIGSEGV: last line of stderr", so a report says why without a log dive.
func describeFailure(_ termination: Termination, errors: String) -> String {
    let lastLine = errors.split(whereSeparator: \.isNewline).last.map { String($0.prefix(200)) }
    return [termination.description, lastLine].compactMap { $0 }.joined(separator: ": ")
}

/// A pair of files for one child's standard output and error.
struct ScratchFiles {
    let output: String
    let errors: String

    init(directory: String) {
        let stem = "\(directory)/run-\(UInt64.random(in: 0...UInt64.max))"
        output = stem + ".out"
        errors = stem + ".err"
    }

    func outputText() -> String { readText(output) }
    func errorText() -> String { readText(errors) }

    func remove() {
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: errors)
    }
}

/// A file's contents as text (invalid UTF-8 repaired), or "" if it can't be read.
func readText(_ path: String) -> String {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
}
