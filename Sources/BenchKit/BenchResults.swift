// BenchResults: everything one bench run measured, as written to results.json.
//
// Every round's raw figures are kept; each allocator's medians are stored beside them so
// that readers of the JSON need not recompute them. The Markdown report and the chart are
// drawn from this model alone.

import Foundation

/// The figures of one run of one benchmark under one allocator.
public struct Measurement: Codable, Sendable, Equatable {
    /// Work per second (higher is better); the unit is the benchmark's `throughputUnit`.
    public var throughput: Double
    /// Peak resident set of the measured process in KiB (its ru_maxrss).
    public var peakResidentKiB: Int
    /// The seconds the throughput was measured over.
    public var seconds: Double
    /// Workload-specific figures, such as burst-idle's `rss_at_2000ms_kib`.
    public var extras: [String: Double]

    public init(throughput: Double, peakResidentKiB: Int, seconds: Double, extras: [String: Double] = [:]) {
        self.throughput = throughput
        self.peakResidentKiB = peakResidentKiB
        self.seconds = seconds
        self.extras = extras
    }
}

/// One round of one allocator: its figures, or why it failed.
public struct RoundRecord: Codable, Sendable {
    /// The round, counting from 1.
    public var round: Int
    /// Where this allocator ran within the round, counting from 1.
    public var position: Int
    public var measurement: Measurement?
    public var failure: String?

    public init(round: Int, position: Int, measurement: Measurement? = nil, failure: String? = nil) {
        self.round = round
        self.position = position
        self.measurement = measurement
        self.failure = failure
    }
}

/// All rounds of one allocator on one benchmark, with their medians.
public struct AllocatorResult: Codable, Sendable {
    public struct Medians: Codable, Sendable, Equatable {
        public var throughput: Double
        public var peakResidentKiB: Double
        /// Medians of the extras every successful round reported.
        public var extras: [String: Double]
    }

    public var allocator: String
    public var rounds: [RoundRecord]
    /// Medians over the successful rounds; nil when no round succeeded.
    public var median: Medians?
    /// The first failure, if any round failed (a failed allocator runs no further rounds).
    public var failure: String?

    public init(allocator: String, rounds: [RoundRecord]) {
        self.allocator = allocator
        self.rounds = rounds
        failure = rounds.lazy.compactMap(\.failure).first
        let measurements = rounds.compactMap(\.measurement)
        guard let throughput = measurements.map(\.throughput).median,
              let peak = measurements.map({ Double($0.peakResidentKiB) }).median else { return }
        let sharedExtras = measurements.dropFirst().reduce(Set(measurements[0].extras.keys)) {
            $0.intersection($1.extras.keys)
        }
        var extras: [String: Double] = [:]
        for key in sharedExtras { extras[key] = measurements.compactMap { $0.extras[key] }.median }
        median = Medians(throughput: throughput, peakResidentKiB: peak, extras: extras)
    }
}

/// One benchmark (a report row) and every allocator's results on it.
public struct BenchmarkResult: Codable, Sendable {
    public var id: String
    public var label: String
    public var workload: String
    public var threads: Int?
    public var throughputUnit: String
    public var parameters: [String: Int]
    public var results: [AllocatorResult]

    public init(benchmark: Benchmark, results: [AllocatorResult]) {
        id = benchmark.id
        label = benchmark.label
        workload = benchmark.workload.name
        threads = benchmark.threads
        throughputUnit = benchmark.workload.throughputUnit
        parameters = benchmark.parameters
        self.results = results
    }

    public func result(for allocator: String) -> AllocatorResult? {
        results.first { $0.allocator == allocator }
    }
}

/// An allocator the run was asked for: measured, or skipped and why.
public struct AllocatorEntry: Codable, Sendable {
    public var name: String
    public var library: String?
    public var measured: Bool
    public var note: String?

    public init(name: String, library: String?, measured: Bool, note: String? = nil) {
        self.name = name
        self.library = library
        self.measured = measured
        self.note = note
    }
}

/// The machine the run was measured on.
public struct MachineDescription: Codable, Sendable {
    public var cpuModel: String
    public var cores: Int
    public var memoryBytes: UInt64
    public var kernel: String
    /// The 1-minute load average when the run started: well above 0 means something else
    /// was using the CPUs, and the figures are noisier for it.
    public var loadAverageAtStart: Double?

    public init(cpuModel: String, cores: Int, memoryBytes: UInt64, kernel: String, loadAverageAtStart: Double? = nil) {
        self.cpuModel = cpuModel
        self.cores = cores
        self.memoryBytes = memoryBytes
        self.kernel = kernel
        self.loadAverageAtStart = loadAverageAtStart
    }
}

public struct BenchResults: Codable, Sendable {
    /// When the run started, ISO 8601.
    public var date: String
    public var scale: Scale
    public var rounds: Int
    public var threadCounts: [Int]
    public var elapsedSeconds: Double
    public var machine: MachineDescription
    /// Versions by component: hakmem's git commit, the peers' and programs' Debian packages.
    public var versions: [String: String]
    public var allocators: [AllocatorEntry]
    public var benchmarks: [BenchmarkResult]
    /// Things the reader should know, such as workloads skipped for a missing program.
    public var notes: [String]

    public init(
        date: String, scale: Scale, rounds: Int, threadCounts: [Int], elapsedSeconds: Double,
        machine: MachineDescription, versions: [String: String], allocators: [AllocatorEntry],
        benchmarks: [BenchmarkResult], notes: [String]
    ) {
        self.date = date
        self.scale = scale
        self.rounds = rounds
        self.threadCounts = threadCounts
        self.elapsedSeconds = elapsedSeconds
        self.machine = machine
        self.versions = versions
        self.allocators = allocators
        self.benchmarks = benchmarks
        self.notes = notes
    }

    /// The allocators that were measured, in report order.
    public var measuredAllocators: [String] {
        allocators.filter(\.measured).map(\.name)
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public init(jsonData: Data) throws {
        self = try JSONDecoder().decode(BenchResults.self, from: jsonData)
    }
}
