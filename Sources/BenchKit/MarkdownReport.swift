// MarkdownReport: results.md, the tables a person reads after a bench run.
//
// One table per metric (throughput, peak resident memory): each allocator's median with
// its ratio to glibc, the best peer, and hakmem relative to that peer (with its range over
// the rounds), and, when the run measured the control, hakmem relative to itself run again,
// closed by the geometric mean of the ratios. Then burst-idle's resident memory
// over time, the failures and skips, and the versions measured.

import Foundation

public struct MarkdownReport {
    public let results: BenchResults
    private let comparison: Comparison

    public init(_ results: BenchResults) {
        self.results = results
        comparison = Comparison(results)
    }

    /// The allocators with columns in the tables.
    private var allocators: [String] { results.measuredAllocators }
    private var hasHakmem: Bool { allocators.contains(AllocatorCatalog.hakmemName) }
    private var hasPeers: Bool { allocators.contains { name in AllocatorCatalog.peers.contains { $0.name == name } } }
    private var hasControl: Bool { hasHakmem && allocators.contains(AllocatorCatalog.controlName) }

    public func render() -> String {
        var sections = [header(), table(for: .throughput), table(for: .peakResident)]
        if let burst = burstTable() { sections.append(burst) }
        sections.append(failuresAndSkips())
        sections.append(versions())
        return sections.joined(separator: "\n\n") + "\n"
    }

    private func header() -> String {
        let machine = results.machine
        let memory = Format.kibibytes(Double(machine.memoryBytes) / 1024)
        let load = machine.loadAverageAtStart.map { ", load average \(Format.significant($0)) at the start" } ?? ""
        let allocatorList = results.allocators.map { entry in
            let version = results.versions[entry.name].map { " (\($0))" } ?? ""
            return entry.measured ? "\(entry.name)\(version)" : "~~\(entry.name)~~ (skipped)"
        }.joined(separator: ", ")
        return """
        # hakmem benchmark results

        \(results.scale.rawValue.capitalized) run of \(results.date): median of \(results.rounds) \
        round\(results.rounds == 1 ? "" : "s"), allocators alternating in rotating order, \
        \(Format.duration(results.elapsedSeconds)) in all.
        Machine: \(machine.cpuModel), \(machine.cores) cores, \(memory), Linux \(machine.kernel)\(load).
        Allocators: \(allocatorList).

        ![Throughput relative to glibc](chart.svg)
        """
    }

    private func table(for metric: Metric) -> String {
        let title = metric == .throughput ? "## Throughput (higher is better)" : "## Peak resident memory (lower is better)"
        let best = metric == .throughput ? "fastest" : "smallest"
        var explanation = "Median of the rounds, with the ratio to glibc in parentheses."
        if hasPeers { explanation += " Best peer: the \(best) of mimalloc, jemalloc and tcmalloc." }
        if hasPeers && hasHakmem {
            explanation += " hakmem ÷ best peer: the ratio of the medians, then in parentheses the lowest and highest of that ratio"
            explanation += " round by round (both run in every round)"
            if results.rounds >= 2 {
                let confidence = Int((Comparison.roundRangeConfidence(rounds: results.rounds) * 100).rounded(.down))
                explanation += ": they enclose the median round ratio with \(confidence) % confidence, so a row whose"
                explanation += " range reaches past a threshold is not told apart from it by this run"
            }
            explanation += "."
        }
        if hasControl {
            explanation += " hakmem ÷ control: hakmem's library measured a second time in every round"
            explanation += " (\(AllocatorCatalog.controlName)), with the ratio's lowest and highest round by round;"
            explanation += " nothing differs between the two, so this is how far the run's noise alone moves a ratio on that row."
        }
        if metric == .peakResident {
            explanation += " Peak resident set (ru_maxrss) of the measured process; for redis, the server's."
        }

        var headings = ["Benchmark"] + (metric == .throughput ? ["Unit"] : []) + allocators
        if hasPeers { headings.append("Best peer") }
        if hasPeers && hasHakmem { headings.append("hakmem ÷ best peer") }
        if hasControl { headings.append("hakmem ÷ control") }
        var rows = results.benchmarks.map { benchmark -> [String] in
            var row = [benchmark.label] + (metric == .throughput ? [benchmark.throughputUnit] : [])
            row += allocators.map { cell(metric, benchmark, $0) }
            if hasPeers { row.append(comparison.bestPeer(metric, benchmark)?.name ?? "—") }
            if hasPeers && hasHakmem {
                row.append(ratioWithRange(comparison.hakmemToBestPeer(metric, benchmark),
                                          comparison.hakmemToBestPeerRoundRange(metric, benchmark)))
            }
            if hasControl {
                row.append(ratioWithRange(comparison.hakmemToControl(metric, benchmark),
                                          comparison.hakmemToControlRoundRange(metric, benchmark)))
            }
            return row
        }
        if let coverage = comparison.geometricMeanCoverage(metric) {
            explanation += " Geometric means over \(coverage), so that each covers the same rows."
        }
        var summary = ["**Geometric mean of ratios to glibc**"] + (metric == .throughput ? [""] : [])
        summary += allocators.map { comparison.geometricMeanRatioToBaseline(metric, $0).map(Format.ratio) ?? "—" }
        if hasPeers { summary.append("") }
        if hasPeers && hasHakmem { summary.append(comparison.geometricMeanHakmemToBestPeer(metric).map(Format.ratio) ?? "—") }
        if hasControl { summary.append(comparison.geometricMeanHakmemToControl(metric).map(Format.ratio) ?? "—") }
        rows.append(summary)
        let leadingColumns = metric == .throughput ? 2 : 1
        return "\(title)\n\n\(explanation)\n\n" + markdownTable(headings: headings, rows: rows, firstColumnsLeft: leadingColumns)
    }

    /// "0.950× (0.900–1.02)": a ratio of medians, then its lowest and highest round by round.
    private func ratioWithRange(_ ratio: Double?, _ range: ClosedRange<Double>?) -> String {
        var figure = ratio.map(Format.ratio) ?? "—"
        if let range { figure += " (\(Format.significant(range.lowerBound))–\(Format.significant(range.upperBound)))" }
        return figure
    }

    private func cell(_ metric: Metric, _ benchmark: BenchmarkResult, _ allocator: String) -> String {
        guard let result = benchmark.result(for: allocator) else { return "—" }
        guard let value = comparison.value(metric, benchmark, allocator) else {
            return result.failure == nil ? "—" : "failed"
        }
        let figure = metric == .throughput ? Format.quantity(value) : Format.kibibytes(value)
        guard allocator != AllocatorCatalog.baselineName,
              let ratio = comparison.ratioToBaseline(metric, benchmark, allocator) else { return figure }
        return "\(figure) (\(Format.ratio(ratio)))"
    }

    /// burst-idle's resident memory samples, per allocator.
    private func burstTable() -> String? {
        guard let burst = results.benchmarks.first(where: { $0.workload == "burst-idle" }) else { return nil }
        let samples = BurstSamples(burst)
        guard !samples.times.isEmpty else { return nil }
        let headings = ["Allocator", "Peak"] + samples.times.map(BurstSamples.heading(forMilliseconds:))
        let rows = allocators.map { allocator -> [String] in
            guard let medians = burst.result(for: allocator)?.median else {
                return [allocator] + Array(repeating: "failed", count: samples.times.count + 1)
            }
            let peak = medians.extras["peak_kib"].map(Format.kibibytes) ?? "—"
            return [allocator, peak] + samples.times.map { time in
                medians.extras[BurstSamples.key(forMilliseconds: time)].map(Format.kibibytes) ?? "—"
            }
        }
        return """
        ## Resident memory after a burst (burst-idle, lower is better)

        \(burst.label): resident set sampled by the program itself (/proc/self/statm) when the \
        burst's frees are done and during the light work after it; medians of the rounds. The whole \
        burst is freed, by threads other than the (exited) ones that allocated it, so an allocator \
        that returns freed memory falls towards its baseline of a few MiB.
        """ + "\n\n" + markdownTable(headings: headings, rows: rows, firstColumnsLeft: 1)
    }

    private func failuresAndSkips() -> String {
        var lines = results.notes.map { "- Skipped \($0)" }
        for benchmark in results.benchmarks {
            for result in benchmark.results {
                if let failure = result.failure {
                    lines.append("- \(benchmark.label) under \(result.allocator) failed: `\(failure)`")
                }
            }
        }
        if lines.isEmpty { lines = ["None: every allocator ran every benchmark."] }
        return "## Failures and skips\n\n" + lines.joined(separator: "\n")
    }

    private func versions() -> String {
        let rows = results.versions.sorted { $0.key < $1.key }.map { [$0.key, "`\($0.value)`"] }
        return "## Versions\n\n" + markdownTable(headings: ["Component", "Version"], rows: rows, firstColumnsLeft: 2)
    }
}

/// A Markdown table; the first `firstColumnsLeft` columns are left-aligned, the rest right.
func markdownTable(headings: [String], rows: [[String]], firstColumnsLeft: Int) -> String {
    let escape = { (text: String) in text.replacingOccurrences(of: "|", with: "\\|") }
    let alignment = headings.indices.map { $0 < firstColumnsLeft ? ":--" : "--:" }
    return ([headings, alignment].map { "| " + $0.joined(separator: " | ") + " |" }
        + rows.map { "| " + $0.map(escape).joined(separator: " | ") + " |" }).joined(separator: "\n")
}

/// The `rss_at_<ms>ms_kib` samples burst-idle reports.
struct BurstSamples {
    /// Sample times in milliseconds after the burst, ascending.
    let times: [Int]

    init(_ burst: BenchmarkResult) {
        let keys = burst.results.flatMap { $0.median?.extras.keys.map { $0 } ?? [] }
        times = Set(keys.compactMap(BurstSamples.milliseconds(inKey:))).sorted()
    }

    static func key(forMilliseconds time: Int) -> String { "rss_at_\(time)ms_kib" }

    static func milliseconds(inKey key: String) -> Int? {
        guard key.hasPrefix("rss_at_"), key.hasSuffix("ms_kib") else { return nil }
        return Int(key.dropFirst("rss_at_".count).dropLast("ms_kib".count))
    }

    /// "At burst end", "+0.5 s", "+2 s".
    static func heading(forMilliseconds time: Int) -> String {
        if time == 0 { return "At burst end" }
        return time % 1000 == 0 ? "+\(time / 1000) s" : "+\(Double(time) / 1000) s"
    }
}
