// Comparison: the ratios the report and the chart show.
//
// For each benchmark and metric: every allocator's median relative to glibc's, the best
// peer (mimalloc, jemalloc, tcmalloc: fastest for throughput, smallest for memory), and
// hakmem relative to that best peer. Across benchmarks, ratios are summarised by their
// geometric mean.

public enum Metric: Sendable, CaseIterable {
    case throughput
    case peakResident

    public var higherIsBetter: Bool { self == .throughput }

    func value(of medians: AllocatorResult.Medians) -> Double {
        switch self {
        case .throughput: medians.throughput
        case .peakResident: medians.peakResidentKiB
        }
    }
}

public struct Comparison: Sendable {
    public let results: BenchResults

    public init(_ results: BenchResults) {
        self.results = results
    }

    /// The median figure of `allocator` on `benchmark`, if it has one.
    public func value(_ metric: Metric, _ benchmark: BenchmarkResult, _ allocator: String) -> Double? {
        benchmark.result(for: allocator)?.median.map(metric.value(of:))
    }

    /// `allocator`'s figure divided by glibc's.
    public func ratioToBaseline(_ metric: Metric, _ benchmark: BenchmarkResult, _ allocator: String) -> Double? {
        ratio(of: value(metric, benchmark, allocator), to: value(metric, benchmark, AllocatorCatalog.baselineName))
    }

    /// The peer with the best figure on `benchmark`.
    public func bestPeer(_ metric: Metric, _ benchmark: BenchmarkResult) -> (name: String, value: Double)? {
        let figures = AllocatorCatalog.peers.compactMap { peer in
            value(metric, benchmark, peer.name).map { (name: peer.name, value: $0) }
        }
        return metric.higherIsBetter ? figures.max { $0.value < $1.value } : figures.min { $0.value < $1.value }
    }

    /// hakmem's figure divided by the best peer's.
    public func hakmemToBestPeer(_ metric: Metric, _ benchmark: BenchmarkResult) -> Double? {
        ratio(of: value(metric, benchmark, AllocatorCatalog.hakmemName), to: bestPeer(metric, benchmark)?.value)
    }

    /// The geometric mean over benchmarks of `allocator`'s ratio to glibc, counting only
    /// benchmarks where both have a figure.
    public func geometricMeanRatioToBaseline(_ metric: Metric, _ allocator: String) -> Double? {
        results.benchmarks.compactMap { ratioToBaseline(metric, $0, allocator) }.geometricMean
    }

    /// The geometric mean over benchmarks of hakmem's ratio to the best peer.
    public func geometricMeanHakmemToBestPeer(_ metric: Metric) -> Double? {
        results.benchmarks.compactMap { hakmemToBestPeer(metric, $0) }.geometricMean
    }
}
