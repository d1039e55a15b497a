// ThroughputChart: chart.svg, throughput relative to glibc at a glance.
//
// One group of horizontal bars per benchmark, one bar per allocator, growing from the
// glibc line (1×) to the right when faster and to the left when slower, on a log₂ axis so
// that 2× and ½× are the same length. A last group shows each allocator's geometric mean.
// Hand-written SVG with no dependencies; the colours are the Okabe–Ito palette, which
// stays distinguishable for colour-blind readers.

import Foundation

public struct ThroughputChart {
    public let results: BenchResults
    private let comparison: Comparison

    public init(_ results: BenchResults) {
        self.results = results
        comparison = Comparison(results)
    }

    // Layout, in pixels.
    private let width = 1000.0
    private let plotLeft = 260.0
    private let plotRight = 920.0
    private let plotTop = 132.0
    private let barHeight = 13.0
    private let barGap = 3.0
    private let groupPadding = 18.0
    private let font = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"

    /// The allocators drawn as bars: every measured one except glibc, the reference line.
    private var allocators: [String] {
        results.measuredAllocators.filter { $0 != AllocatorCatalog.baselineName }
    }

    static func colour(for allocator: String) -> String {
        switch allocator {
        case AllocatorCatalog.hakmemName: "#D55E00"
        case "mimalloc": "#0072B2"
        case "jemalloc": "#009E73"
        case "tcmalloc": "#CC79A7"
        default: "#7F7F7F"
        }
    }

    /// A benchmark's bars: each allocator's ratio to glibc, or nil where it has none.
    private struct Group {
        var label: String
        var ratios: [(allocator: String, ratio: Double?, failed: Bool)]
        var isSummary = false
    }

    private var groups: [Group] {
        var groups = results.benchmarks.map { benchmark in
            Group(label: benchmark.label, ratios: allocators.map { allocator in
                (allocator, comparison.ratioToBaseline(.throughput, benchmark, allocator),
                 benchmark.result(for: allocator)?.failure != nil)
            })
        }
        let label = comparison.geometricMeanRows(.throughput).map { "geometric mean (\($0.covered) of \($0.all))" }
            ?? "geometric mean"
        groups.append(Group(label: label, ratios: allocators.map {
            ($0, comparison.geometricMeanRatioToBaseline(.throughput, $0), false)
        }, isSummary: true))
        return groups
    }

    public func render() -> String {
        let groups = self.groups
        let groupHeight = Double(max(allocators.count, 1)) * (barHeight + barGap) - barGap + groupPadding
        let plotBottom = plotTop + Double(groups.count) * groupHeight
        let height = plotBottom + 92
        let axis = LogAxis(ratios: groups.flatMap { $0.ratios.compactMap(\.ratio) }, from: plotLeft, to: plotRight)

        var svg = SVGWriter(width: width, height: height, font: font)
        svg.rect(x: 0, y: 0, width: width, height: height, fill: "#FFFFFF")
        svg.text("Throughput relative to glibc", x: 24, y: 36, size: 22, weight: "600")
        svg.text(subtitle(), x: 24, y: 60, size: 13, fill: "#555555")
        drawLegend(&svg, y: 88)

        for (index, group) in groups.enumerated() {
            let top = plotTop + Double(index) * groupHeight
            if group.isSummary {
                svg.line(x1: 16, y1: top + 1, x2: width - 16, y2: top + 1, stroke: "#BBBBBB", width: 1)
            } else if index % 2 == 0 {
                svg.rect(x: 16, y: top, width: width - 32, height: groupHeight, fill: "#F4F5F7")
            }
        }
        for tick in axis.ticks {
            let x = axis.position(of: tick)
            svg.line(x1: x, y1: plotTop - 6, x2: x, y2: plotBottom, stroke: "#DDDDDD", width: 1)
            svg.text(LogAxis.label(tick), x: x, y: plotBottom + 20, size: 12, fill: "#444444", anchor: "middle")
        }

        for (index, group) in groups.enumerated() {
            let top = plotTop + Double(index) * groupHeight + groupPadding / 2
            let middle = top + (groupHeight - groupPadding) / 2
            svg.text(group.label, x: plotLeft - 14, y: middle + 4.5, size: 13, anchor: "end",
                     weight: group.isSummary ? "600" : "400")
            for (barIndex, bar) in group.ratios.enumerated() {
                let y = top + Double(barIndex) * (barHeight + barGap)
                drawBar(&svg, bar.ratio, failed: bar.failed, allocator: bar.allocator, y: y, axis: axis)
            }
        }

        let one = axis.position(of: 1)
        svg.line(x1: one, y1: plotTop - 10, x2: one, y2: plotBottom + 4, stroke: "#222222", width: 1.5, dash: "5 3")
        svg.text("glibc = 1×", x: one, y: plotTop - 14, size: 12, fill: "#222222", anchor: "middle")
        svg.text("← slower than glibc", x: one - 10, y: plotBottom + 42, size: 12, fill: "#555555", anchor: "end")
        svg.text("faster than glibc →", x: one + 10, y: plotBottom + 42, size: 12, fill: "#555555")
        svg.text(footnote(), x: 24, y: plotBottom + 74, size: 11, fill: "#777777")
        return svg.finish()
    }

    private func drawBar(_ svg: inout SVGWriter, _ ratio: Double?, failed: Bool, allocator: String, y: Double, axis: LogAxis) {
        let one = axis.position(of: 1)
        guard let ratio else {
            let label = failed ? "\(allocator) failed" : "\(allocator): no figure"
            svg.text(label, x: one + 6, y: y + barHeight - 2.5, size: 11, fill: "#999999", style: "italic")
            return
        }
        let end = axis.position(of: ratio)
        svg.rect(x: min(one, end), y: y, width: max(abs(end - one), 1.5), height: barHeight,
                 fill: Self.colour(for: allocator), title: "\(allocator): \(Format.ratio(ratio)) glibc's throughput")
        let labelX = ratio >= 1 ? end + 5 : end - 5
        svg.text(Format.ratio(ratio), x: labelX, y: y + barHeight - 2.5, size: 11, fill: "#333333",
                 anchor: ratio >= 1 ? "start" : "end")
    }

    private func drawLegend(_ svg: inout SVGWriter, y: Double) {
        var x = 24.0
        for allocator in allocators {
            svg.rect(x: x, y: y - 11, width: 14, height: 14, fill: Self.colour(for: allocator))
            svg.text(allocator, x: x + 20, y: y, size: 13)
            x += 44 + Double(allocator.count) * 8.5
        }
        svg.line(x1: x, y1: y - 4, x2: x + 22, y2: y - 4, stroke: "#222222", width: 1.5, dash: "5 3")
        svg.text("glibc (reference)", x: x + 28, y: y, size: 13)
    }

    private func subtitle() -> String {
        let machine = results.machine
        let day = results.date.prefix(10)
        return "Median of \(results.rounds) round\(results.rounds == 1 ? "" : "s") · \(results.scale.rawValue) run · "
            + "\(machine.cpuModel), \(machine.cores) cores · \(day) · log scale: bars of equal length are equal factors"
    }

    private func footnote() -> String {
        let skipped = results.allocators.filter { !$0.measured }.map(\.name)
        var text = "Throughput: operations per second for the C workloads, runs per second for python and sqlite, "
            + "requests per second for redis. Details: results.md."
        if !skipped.isEmpty { text += " Not measured: \(skipped.joined(separator: ", "))." }
        return text
    }
}

/// A log₂ axis over ratios: whole powers of two from below the smallest ratio to above
/// the largest (at least ½× to 2×), drawn between `from` and `to` less a margin on each
/// side that keeps the bars' value labels clear of the edges.
struct LogAxis {
    let lowExponent: Double
    let highExponent: Double
    let from: Double
    let to: Double
    static let labelMargin = 52.0
    static let maximumTickCount = 9

    init(ratios: [Double], from: Double, to: Double) {
        let exponents = (ratios.filter { $0 > 0 } + [1]).map(log2)
        lowExponent = min(-1, exponents.min()!.rounded(.down))
        highExponent = max(1, exponents.max()!.rounded(.up))
        self.from = from + Self.labelMargin
        self.to = to - Self.labelMargin
    }

    /// Powers of two to mark, every one or every few so that labels never crowd; 1× is one.
    var ticks: [Double] {
        let span = Int(highExponent - lowExponent)
        let step = max(1, (span + Self.maximumTickCount - 1) / Self.maximumTickCount)
        return stride(from: Int(lowExponent), through: Int(highExponent), by: 1)
            .filter { $0 % step == 0 }
            .map { pow(2, Double($0)) }
    }

    /// `4×`, `1×`, `1/8×`: tick labels as whole multiples or fractions.
    static func label(_ tick: Double) -> String {
        tick >= 1 ? "\(Int(tick))×" : "1/\(Int((1 / tick).rounded()))×"
    }

    func position(of ratio: Double) -> Double {
        from + (log2(ratio) - lowExponent) / (highExponent - lowExponent) * (to - from)
    }
}

/// Builds an SVG document element by element, escaping text.
struct SVGWriter {
    private var body: [String] = []
    private let header: String

    init(width: Double, height: Double, font: String) {
        header = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.number(width))" height="\(Self.number(height))" \
        viewBox="0 0 \(Self.number(width)) \(Self.number(height))" font-family="\(Self.escape(font))">
        """
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, title: String? = nil) {
        let attributes = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" "
            + "height=\"\(Self.number(height))\" fill=\"\(fill)\""
        if let title {
            body.append("<rect \(attributes)><title>\(Self.escape(title))</title></rect>")
        } else {
            body.append("<rect \(attributes)/>")
        }
    }

    mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double, dash: String? = nil) {
        let dashAttribute = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        body.append("<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" "
            + "y2=\"\(Self.number(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.number(width))\"\(dashAttribute)/>")
    }

    mutating func text(_ content: String, x: Double, y: Double, size: Double, fill: String = "#111111",
                       anchor: String = "start", weight: String = "400", style: String = "normal") {
        body.append("<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" "
            + "fill=\"\(fill)\" text-anchor=\"\(anchor)\" font-weight=\"\(weight)\" font-style=\"\(style)\">"
            + Self.escape(content) + "</text>")
    }

    func finish() -> String {
        ([header] + body.map { "  " + $0 } + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    static func number(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
