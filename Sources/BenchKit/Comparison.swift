// Comparison: the ratios the report and the chart show.
//
// For each benchmark and metric: every allocator's median relative to glibc's, the best
// peer (mimalloc, jemalloc, tcmalloc: fastest for throughput, smallest for memory), and
// hakmem relative to that best peer, with that ratio's lowest and highest round by round; when
// the run measured the control (hakmem's library again), hakmem relative to it, the same way.
// Across benchmarks, ratios are summarised by their geometric mean, taken over the
// benchmarks every measured allocator completed: a mean over rows that another allocator
// lacks (one that failed there) would not compare like with like.

import Foundation

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

    func value(of measurement: Measurement) -> Double {
        switch self {
        case .throughput: measurement.throughput
        case .peakResident: Double(measurement.peakResidentKiB)
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

    /// hakmem's figure divided by the best peer's in each round that measured both, lowest and
    /// highest; nil with fewer than two such rounds. Both run in every round, minutes apart at
    /// most, so a slow spell of the machine moves the two alike: the spread of these ratios says
    /// how far the run can tell them apart (see `roundRangeConfidence`).
    public func hakmemToBestPeerRoundRange(_ metric: Metric, _ benchmark: BenchmarkResult) -> ClosedRange<Double>? {
        bestPeer(metric, benchmark).flatMap { roundRange(metric, benchmark, of: AllocatorCatalog.hakmemName, to: $0.name) }
    }

    /// hakmem's figure divided by the control's: the same library, measured again in every round
    /// under `AllocatorCatalog.controlName`. Nothing differs but the moment each ran, so how far
    /// this strays from 1× is what the run's noise alone does to a ratio on that row.
    public func hakmemToControl(_ metric: Metric, _ benchmark: BenchmarkResult) -> Double? {
        ratio(of: value(metric, benchmark, AllocatorCatalog.hakmemName), to: value(metric, benchmark, AllocatorCatalog.controlName))
    }

    /// `hakmemToControl` round by round, lowest and highest, as `hakmemToBestPeerRoundRange`.
    public func hakmemToControlRoundRange(_ metric: Metric, _ benchmark: BenchmarkResult) -> ClosedRange<Double>? {
        roundRange(metric, benchmark, of: AllocatorCatalog.hakmemName, to: AllocatorCatalog.controlName)
    }

    /// `allocator`'s figure divided by `other`'s in each round that measured both (paired by round
    /// number), lowest and highest; nil with fewer than two such rounds.
    private func roundRange(_ metric: Metric, _ benchmark: BenchmarkResult, of allocator: String, to other: String) -> ClosedRange<Double>? {
        guard let numerators = benchmark.result(for: allocator), let denominators = benchmark.result(for: other) else { return nil }
        var denominatorByRound: [Int: Double] = [:]
        for record in denominators.rounds {
            if let measurement = record.measurement { denominatorByRound[record.round] = metric.value(of: measurement) }
        }
        let ratios = numerators.rounds.compactMap { record in
            record.measurement.flatMap { ratio(of: metric.value(of: $0), to: denominatorByRound[record.round]) }
        }
        guard ratios.count >= 2, let lowest = ratios.min(), let highest = ratios.max() else { return nil }
        return lowest...highest
    }

    /// The chance that the lowest and highest of `rounds` round-by-round ratios enclose their
    /// median (the sign test's interval): each ratio falls on either side of the median with
    /// probability ½, so only "all below" and "all above" miss it, 2 × ½ⁿ: 93.75 % for 5 rounds.
    public static func roundRangeConfidence(rounds: Int) -> Double {
        rounds < 2 ? 0 : 1 - 2 * pow(0.5, Double(rounds))
    }

    /// The benchmarks on which every measured allocator has a figure for `metric`: the rows the
    /// geometric means cover.
    public func benchmarksEveryAllocatorCompleted(_ metric: Metric) -> [BenchmarkResult] {
        results.benchmarks.filter { benchmark in
            results.measuredAllocators.allSatisfy { value(metric, benchmark, $0) != nil }
        }
    }

    /// The geometric mean of `allocator`'s ratio to glibc over the benchmarks every measured
    /// allocator completed.
    public func geometricMeanRatioToBaseline(_ metric: Metric, _ allocator: String) -> Double? {
        benchmarksEveryAllocatorCompleted(metric).compactMap { ratioToBaseline(metric, $0, allocator) }.geometricMean
    }

    /// The geometric mean of hakmem's ratio to the best peer over the benchmarks every measured
    /// allocator completed.
    public func geometricMeanHakmemToBestPeer(_ metric: Metric) -> Double? {
        benchmarksEveryAllocatorCompleted(metric).compactMap { hakmemToBestPeer(metric, $0) }.geometricMean
    }

    /// The geometric mean of hakmem's ratio to the control over the benchmarks every measured
    /// allocator completed; nil when the control was not measured.
    public func geometricMeanHakmemToControl(_ metric: Metric) -> Double? {
        benchmarksEveryAllocatorCompleted(metric).compactMap { hakmemToControl(metric, $0) }.geometricMean
    }

    /// How many rows the geometric means of `metric` cover, when not all of them; nil when they
    /// cover every row.
    public func geometricMeanRows(_ metric: Metric) -> (covered: Int, all: Int)? {
        let covered = benchmarksEveryAllocatorCompleted(metric).count
        return covered == results.benchmarks.count ? nil : (covered, results.benchmarks.count)
    }

    /// `geometricMeanRows` in words: "the 18 of 19 benchmarks every allocator completed".
    public func geometricMeanCoverage(_ metric: Metric) -> String? {
        geometricMeanRows(metric).map { "the \($0.covered) of \($0.all) benchmarks every allocator completed" }
    }
}
