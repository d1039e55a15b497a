// Tests of the three output files, drawn from hand-made results: the JSON round trip,
// the Markdown tables' figures and ratios, and the chart's SVG.

import BenchKit
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

final class ReportTests: XCTestCase {
    /// Two benchmarks; hakmem measured, tcmalloc skipped; mimalloc fails `aligned`.
    static func sampleResults() -> BenchResults {
        func result(_ allocator: String, throughput: Double?, peak: Int = 1000, extras: [String: Double] = [:]) -> AllocatorResult {
            guard let throughput else {
                return AllocatorResult(allocator: allocator, rounds: [RoundRecord(round: 1, position: 1, failure: "exit status 4: misaligned")])
            }
            let rounds = (1...3).map { round in
                RoundRecord(round: round, position: round, measurement: Measurement(
                    throughput: throughput * (round == 2 ? 1.5 : 1), peakResidentKiB: peak, seconds: 1, extras: extras))
            }
            return AllocatorResult(allocator: allocator, rounds: rounds)
        }
        let mixed = Benchmark(workload: WorkloadCatalog.workload(named: "random-mixed")!, threads: nil, parameters: ["ops": 1])
        let aligned = Benchmark(workload: WorkloadCatalog.workload(named: "aligned")!, threads: nil, parameters: ["ops": 1])
        let burst = Benchmark(workload: WorkloadCatalog.workload(named: "burst-idle")!, threads: 4, parameters: ["threads": 4])
        let burstExtras: [String: Double] = ["peak_kib": 204_800, "rss_at_0ms_kib": 204_800, "rss_at_500ms_kib": 102_400, "rss_at_2000ms_kib": 51_200]
        return BenchResults(
            date: "2026-01-02T03:04:05Z", scale: .quick, rounds: 3, threadCounts: [1, 2, 4], elapsedSeconds: 170,
            machine: MachineDescription(cpuModel: "Test CPU", cores: 2, memoryBytes: 24 << 30, kernel: "6.1.0"),
            versions: ["hakmem": "abc123", "mimalloc": "libmimalloc2.0 2.0.9"],
            allocators: [
                AllocatorEntry(name: "glibc", library: nil, measured: true),
                AllocatorEntry(name: "hakmem", library: "/x/libhakmem.so", measured: true),
                AllocatorEntry(name: "mimalloc", library: "/usr/lib/libmimalloc.so.2", measured: true),
                AllocatorEntry(name: "jemalloc", library: "/usr/lib/libjemalloc.so.2", measured: true),
                AllocatorEntry(name: "tcmalloc", library: nil, measured: false, note: "install libtcmalloc-minimal4"),
            ],
            benchmarks: [
                BenchmarkResult(benchmark: mixed, results: [
                    result("glibc", throughput: 100, peak: 2000), result("hakmem", throughput: 150, peak: 1000),
                    result("mimalloc", throughput: 200, peak: 1500), result("jemalloc", throughput: 50, peak: 3000),
                ]),
                BenchmarkResult(benchmark: aligned, results: [
                    result("glibc", throughput: 1000), result("hakmem", throughput: 4000),
                    result("mimalloc", throughput: nil), result("jemalloc", throughput: 2000),
                ]),
                BenchmarkResult(benchmark: burst, results: [
                    result("glibc", throughput: 10, extras: burstExtras), result("hakmem", throughput: 10, extras: burstExtras),
                    result("mimalloc", throughput: 10, extras: burstExtras), result("jemalloc", throughput: 10, extras: burstExtras),
                ]),
            ],
            notes: ["tcmalloc: install libtcmalloc-minimal4"])
    }

    func testJSONRoundTripKeepsEveryRound() throws {
        let results = Self.sampleResults()
        let decoded = try BenchResults(jsonData: results.jsonData())
        XCTAssertEqual(decoded.benchmarks.count, 3)
        XCTAssertEqual(decoded.benchmarks[0].results[0].rounds.count, 3)
        XCTAssertEqual(decoded.benchmarks[0].results[0].median?.throughput, 100)
        XCTAssertEqual(decoded.machine.cpuModel, "Test CPU")
        XCTAssertEqual(decoded.versions["hakmem"], "abc123")
        XCTAssertEqual(decoded.measuredAllocators, ["glibc", "hakmem", "mimalloc", "jemalloc"])
    }

    func testComparisonRatiosAndBestPeer() throws {
        let comparison = Comparison(Self.sampleResults())
        let mixed = Self.sampleResults().benchmarks[0]
        XCTAssertEqual(comparison.ratioToBaseline(.throughput, mixed, "hakmem"), 1.5)
        XCTAssertEqual(comparison.bestPeer(.throughput, mixed)?.name, "mimalloc")
        XCTAssertEqual(comparison.hakmemToBestPeer(.throughput, mixed), 0.75)
        XCTAssertEqual(comparison.bestPeer(.peakResident, mixed)?.name, "mimalloc")
        XCTAssertEqual(try XCTUnwrap(comparison.hakmemToBestPeer(.peakResident, mixed)), 1000.0 / 1500, accuracy: 1e-12)
        // hakmem: 1.5× glibc on random-mixed, 1× on burst-idle; its 4× on aligned, where mimalloc
        // failed, stays out of the means, or they would not cover the same rows as mimalloc's.
        XCTAssertEqual(comparison.benchmarksEveryAllocatorCompleted(.throughput).map(\.label), ["random-mixed", "burst-idle (4 threads)"])
        XCTAssertEqual(try XCTUnwrap(comparison.geometricMeanRatioToBaseline(.throughput, "hakmem")), 1.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(comparison.geometricMeanRatioToBaseline(.throughput, "mimalloc")), 2.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(comparison.geometricMeanHakmemToBestPeer(.throughput)), 0.75.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(comparison.geometricMeanCoverage(.throughput), "the 2 of 3 benchmarks every allocator completed")
    }

    func testMeansCoverEveryRowWhenEveryAllocatorCompletedThem() throws {
        var results = Self.sampleResults()
        results.benchmarks.removeAll { $0.workload == "aligned" }
        let comparison = Comparison(results)
        XCTAssertNil(comparison.geometricMeanCoverage(.throughput))
        XCTAssertEqual(try XCTUnwrap(comparison.geometricMeanRatioToBaseline(.throughput, "hakmem")), 1.5.squareRoot(), accuracy: 1e-12)
        XCTAssertFalse(MarkdownReport(results).render().contains("every allocator completed"))
        XCTAssertTrue(ThroughputChart(results).render().contains(">geometric mean</text>"))
    }

    func testMarkdownHasATablePerMetricWithRatios() {
        let markdown = MarkdownReport(Self.sampleResults()).render()
        XCTAssertTrue(markdown.contains("## Throughput (higher is better)"))
        XCTAssertTrue(markdown.contains("## Peak resident memory (lower is better)"))
        XCTAssertTrue(markdown.contains("| Benchmark | Unit | glibc | hakmem | mimalloc | jemalloc | Best peer | hakmem ÷ best peer |"))
        XCTAssertTrue(markdown.contains("| random-mixed | ops/s | 100 | 150 (1.50×) | 200 (2.00×) | 50.0 (0.500×) | mimalloc | 0.750× (0.750–0.750) |"))
        XCTAssertTrue(markdown.contains("| aligned | ops/s | 1.00 k | 4.00 k (4.00×) | failed | 2.00 k (2.00×) | jemalloc | 2.00× (2.00–2.00) |"))
        XCTAssertTrue(markdown.contains("| random-mixed | 1.95 MiB | 1000 KiB (0.500×) |"))
        XCTAssertTrue(markdown.contains("**Geometric mean of ratios to glibc**"))
        XCTAssertTrue(markdown.contains("Geometric means over the 2 of 3 benchmarks every allocator completed"))
        XCTAssertTrue(markdown.contains("| Allocator | Peak | At burst end | +0.5 s | +2 s |"))
        XCTAssertTrue(markdown.contains("| glibc | 200 MiB | 200 MiB | 100 MiB | 50.0 MiB |"))
        XCTAssertTrue(markdown.contains("- aligned under mimalloc failed: `exit status 4: misaligned`"))
        XCTAssertTrue(markdown.contains("- Skipped tcmalloc: install libtcmalloc-minimal4"))
        XCTAssertTrue(markdown.contains("![Throughput relative to glibc](chart.svg)"))
    }

    /// An allocator's result with the given throughput in the given rounds.
    static func rounds(_ allocator: String, _ figures: [(round: Int, throughput: Double)]) -> AllocatorResult {
        AllocatorResult(allocator: allocator, rounds: figures.map { figure in
            RoundRecord(round: figure.round, position: 1, measurement: Measurement(
                throughput: figure.throughput, peakResidentKiB: 1000, seconds: 1, extras: [:]))
        })
    }

    /// The range beside hakmem ÷ best peer pairs each hakmem round with the peer's round of the same
    /// number, wherever it sits in the list, and needs two such pairs.
    func testRoundRangePairsRoundsByNumber() throws {
        let rounds = Self.rounds
        var results = Self.sampleResults()
        results.benchmarks[0].results = [
            rounds("glibc", [(1, 50), (2, 50), (3, 50)]),
            rounds("hakmem", [(1, 90), (2, 120), (3, 100)]),
            rounds("mimalloc", [(3, 125), (1, 100), (2, 100)]),
            rounds("jemalloc", [(1, 10), (2, 10), (3, 10)]),
        ]
        let comparison = Comparison(results)
        let mixed = results.benchmarks[0]
        XCTAssertEqual(comparison.hakmemToBestPeer(.throughput, mixed), 1.0)
        let range = try XCTUnwrap(comparison.hakmemToBestPeerRoundRange(.throughput, mixed))
        XCTAssertEqual(range.lowerBound, 0.8, accuracy: 1e-12)
        XCTAssertEqual(range.upperBound, 1.2, accuracy: 1e-12)
        let markdown = MarkdownReport(results).render()
        XCTAssertTrue(markdown.contains("| random-mixed | ops/s | 50.0 | 100 (2.00×) | 100 (2.00×) | 10.0 (0.200×) | mimalloc | 1.00× (0.800–1.20) |"), markdown)
        XCTAssertTrue(markdown.contains("they enclose the median round ratio with 75 % confidence"))

        // A peer measured in one round only: no pair to spread, no range.
        results.benchmarks[0].results[2] = rounds("mimalloc", [(2, 100)])
        XCTAssertNil(Comparison(results).hakmemToBestPeerRoundRange(.throughput, results.benchmarks[0]))
        XCTAssertTrue(MarkdownReport(results).render().contains("| mimalloc | 1.00× |"))
    }

    /// The control, hakmem's library measured again, gets a column of its own: hakmem divided by
    /// it, median and round range. It is never a peer, even where it is the fastest.
    func testControlColumnDividesHakmemByItselfRunAgain() throws {
        var results = Self.sampleResults()
        results.allocators.append(AllocatorEntry(name: AllocatorCatalog.controlName, library: "/x/libhakmem.so", measured: true))
        // hakmem's random-mixed rounds are 150, 225 and 150.
        results.benchmarks[0].results.append(Self.rounds(AllocatorCatalog.controlName, [(1, 300), (2, 300), (3, 150)]))
        let comparison = Comparison(results)
        let mixed = results.benchmarks[0]
        XCTAssertEqual(comparison.bestPeer(.throughput, mixed)?.name, "mimalloc", "the control is not a peer")
        XCTAssertEqual(comparison.hakmemToControl(.throughput, mixed), 0.5)
        let range = try XCTUnwrap(comparison.hakmemToControlRoundRange(.throughput, mixed))
        XCTAssertEqual(range.lowerBound, 0.5, accuracy: 1e-12)
        XCTAssertEqual(range.upperBound, 1.0, accuracy: 1e-12)
        XCTAssertNil(comparison.hakmemToControl(.throughput, results.benchmarks[1]), "no control measured on aligned")
        let markdown = MarkdownReport(results).render()
        XCTAssertTrue(markdown.contains("| Benchmark | Unit | glibc | hakmem | mimalloc | jemalloc | hakmem-control | Best peer | hakmem ÷ best peer | hakmem ÷ control |"), markdown)
        XCTAssertTrue(markdown.contains("| random-mixed | ops/s | 100 | 150 (1.50×) | 200 (2.00×) | 50.0 (0.500×) | 300 (3.00×) | mimalloc | 0.750× (0.750–0.750) | 0.500× (0.500–1.00) |"), markdown)
        XCTAssertTrue(markdown.contains("so this is how far the run's noise alone moves a ratio on that row"))
        XCTAssertFalse(MarkdownReport(Self.sampleResults()).render().contains("hakmem ÷ control"), "no column without the control")
    }

    func testRoundRangeConfidenceIsTheSignTestInterval() {
        XCTAssertEqual(Comparison.roundRangeConfidence(rounds: 1), 0)
        XCTAssertEqual(Comparison.roundRangeConfidence(rounds: 3), 0.75)
        XCTAssertEqual(Comparison.roundRangeConfidence(rounds: 5), 0.9375)
    }

    func testChartIsWellFormedSVGWithABarPerAllocatorAndLegend() throws {
        let svg = ThroughputChart(Self.sampleResults()).render()
        let parser = XMLParser(data: Data(svg.utf8))
        XCTAssertTrue(parser.parse(), "chart.svg must be well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertTrue(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        for allocator in ["hakmem", "mimalloc", "jemalloc"] {
            XCTAssertTrue(svg.contains(">\(allocator)</text>"), "legend entry for \(allocator)")
        }
        XCTAssertFalse(svg.contains(">tcmalloc</text>"), "no legend entry for an allocator not measured")
        XCTAssertTrue(svg.contains("glibc = 1×"))
        XCTAssertTrue(svg.contains("mimalloc failed"))
        XCTAssertTrue(svg.contains(">geometric mean (2 of 3)</text>"))
        XCTAssertTrue(svg.contains("<title>hakmem: 4.00× glibc&apos;s throughput</title>") || svg.contains("<title>hakmem: 4.00× glibc's throughput</title>"))
    }

    func testFormatting() {
        XCTAssertEqual(Format.quantity(12_345_678), "12.3 M")
        XCTAssertEqual(Format.quantity(999.96), "1.00 k")
        XCTAssertEqual(Format.quantity(0.5), "0.500")
        XCTAssertEqual(Format.kibibytes(512), "512 KiB")
        XCTAssertEqual(Format.kibibytes(1536), "1.50 MiB")
        XCTAssertEqual(Format.kibibytes(3 * 1024 * 1024), "3.00 GiB")
        XCTAssertEqual(Format.ratio(1.234), "1.23×")
        XCTAssertEqual(Format.duration(125), "2m05s")
        XCTAssertEqual(Format.duration(42.4), "42s")
    }
}
