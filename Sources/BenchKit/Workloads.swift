// Workloads: the catalogue of what the bench runs and at which sizes.
//
// Each workload is one of the C programs in bench/workloads (run as `program name=value...`),
// a Swift package under bench/ built by the bench itself (bench/swift-service and
// bench/swift-nio-service, run the same way), or a real program (python3, sqlite3, redis-server). Sizes are
// set per scale; `tiny` sizes only prove the plumbing works. See docs/BENCHMARKS.md for
// what each workload models.

/// How a workload is carried out.
public enum WorkloadKind: Sendable, Equatable {
    /// A C program from bench/workloads, named by its source file without `.c`.
    case program(String)
    /// A Swift package under bench/ (its directory) and its executable product, built with
    /// `swift build` (SwiftPackageBuilder) and run as `product name=value...`.
    case swiftPackage(directory: String, product: String)
    /// bench/programs/alloc_heavy.py under python3.
    case python
    /// bench/programs/build_index.sql in sqlite3's in-memory database.
    case sqlite
    /// redis-server driven by redis-benchmark over the loopback interface.
    case redis
}

/// How a workload uses threads.
public enum Threading: Sendable, Equatable {
    /// Always one thread.
    case single
    /// Run once per thread count in the list (a scaling curve).
    case sweep
    /// Run at the largest thread count in the list, and at least `minimum`.
    case largestCount(minimum: Int)
}

public struct Workload: Sendable {
    public var name: String
    public var summary: String
    public var kind: WorkloadKind
    public var threading: Threading
    /// What a unit of throughput is, for the report: "ops/s", "runs/s" or "requests/s".
    public var throughputUnit: String
    /// `name=value` parameters per scale (for real programs, their size knobs).
    public var parameters: [Scale: [String: Int]]

    public func parameters(for scale: Scale) -> [String: Int] {
        parameters[scale] ?? [:]
    }
}

public enum WorkloadCatalog {
    public static let all: [Workload] = [
        Workload(
            name: "random-mixed", summary: "16–1040 B, 4096-slot working set, 1 thread",
            kind: .program("random_mixed"), threading: .single, throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 20_000], .quick: ["ops": 15_000_000], .thorough: ["ops": 40_000_000]]),
        Workload(
            name: "mid-large-mt", summary: "8–32 KiB blocks, per-thread working sets",
            kind: .program("mid_large_mt"), threading: .sweep, throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 20_000], .quick: ["ops": 4_000_000], .thorough: ["ops": 12_000_000]]),
        Workload(
            name: "larson", summary: "server style: blocks handed to the next generation of threads",
            kind: .program("larson"), threading: .largestCount(minimum: 1), throughputUnit: "ops/s",
            parameters: [
                .tiny: ["ops": 20_000, "generations": 2],
                .quick: ["ops": 15_000_000, "generations": 20],
                .thorough: ["ops": 40_000_000, "generations": 50],
            ]),
        Workload(
            name: "producer-consumer", summary: "every block freed by another thread",
            kind: .program("producer_consumer"), threading: .largestCount(minimum: 2), throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 20_000], .quick: ["ops": 5_000_000], .thorough: ["ops": 20_000_000]]),
        Workload(
            name: "thread-churn", summary: "short-lived threads; survivors free their leftovers",
            kind: .program("thread_churn"), threading: .largestCount(minimum: 2), throughputUnit: "ops/s",
            parameters: [
                .tiny: ["rounds": 5, "blocks": 200],
                .quick: ["rounds": 400, "blocks": 2000],
                .thorough: ["rounds": 500, "blocks": 2000],
            ]),
        Workload(
            name: "false-sharing", summary: "small objects from one thread written by others",
            kind: .program("false_sharing"), threading: .largestCount(minimum: 2), throughputUnit: "writes/s",
            parameters: [
                .tiny: ["iterations": 100, "writes": 100],
                .quick: ["iterations": 40_000, "writes": 1000],
                .thorough: ["iterations": 40_000, "writes": 1000],
            ]),
        Workload(
            name: "realloc-growth", summary: "strings by small steps, arrays by doubling",
            kind: .program("realloc_growth"), threading: .single, throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 10_000], .quick: ["ops": 3_000_000], .thorough: ["ops": 8_000_000]]),
        Workload(
            name: "aligned", summary: "posix_memalign and aligned_alloc, alignments 16–4096",
            kind: .program("aligned"), threading: .single, throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 10_000], .quick: ["ops": 4_000_000], .thorough: ["ops": 8_000_000]]),
        Workload(
            name: "large-huge", summary: "64 KiB – 32 MiB blocks, touched, freed, reused",
            kind: .program("large_huge"), threading: .single, throughputUnit: "ops/s",
            parameters: [.tiny: ["ops": 20, "max": 4_194_304], .quick: ["ops": 300], .thorough: ["ops": 2000]]),
        Workload(
            name: "burst-idle", summary: "burst by several threads, cross-thread frees, 2 s quiet",
            kind: .program("burst_idle"), threading: .largestCount(minimum: 2), throughputUnit: "ops/s",
            parameters: [
                .tiny: ["megabytes": 16, "idle_ms": 200],
                .quick: ["megabytes": 200, "idle_ms": 2000],
                .thorough: ["megabytes": 600, "idle_ms": 2000],
            ]),
        Workload(
            name: "swift-service", summary: "Swift JSON service: Codable requests through a worker pool (Foundation)",
            kind: .swiftPackage(directory: "swift-service", product: "SwiftService"),
            threading: .largestCount(minimum: 2), throughputUnit: "requests/s",
            parameters: [.tiny: ["requests": 200], .quick: ["requests": 10_000], .thorough: ["requests": 40_000]]),
        Workload(
            name: "swift-nio-service", summary: "the same service over HTTP/1.1 on SwiftNIO, 127.0.0.1, in-process client",
            kind: .swiftPackage(directory: "swift-nio-service", product: "SwiftNIOService"),
            threading: .largestCount(minimum: 2), throughputUnit: "requests/s",
            parameters: [.tiny: ["requests": 200], .quick: ["requests": 6000], .thorough: ["requests": 25_000]]),
        Workload(
            name: "python", summary: "python3 running bench/programs/alloc_heavy.py",
            kind: .python, threading: .single, throughputUnit: "runs/s",
            parameters: [.tiny: ["scale": 2], .quick: ["scale": 50], .thorough: ["scale": 200]]),
        Workload(
            name: "sqlite", summary: "sqlite3 building indexes in an in-memory database",
            kind: .sqlite, threading: .single, throughputUnit: "runs/s",
            parameters: [.tiny: ["rows": 2000], .quick: ["rows": 100_000], .thorough: ["rows": 400_000]]),
        Workload(
            name: "redis", summary: "redis-server under redis-benchmark on 127.0.0.1",
            kind: .redis, threading: .single, throughputUnit: "requests/s",
            parameters: [.tiny: ["requests": 1000], .quick: ["requests": 10_000], .thorough: ["requests": 50_000]]),
    ]

    public static var names: [String] { all.map(\.name) }

    public static func workload(named name: String) -> Workload? {
        all.first { $0.name == name }
    }
}
