// ReportFiles: writing results.json, results.md and chart.svg into the output directory.

import Foundation

public enum ReportFiles {
    public static let json = "results.json"
    public static let markdown = "results.md"
    public static let chart = "chart.svg"

    /// Writes the three files into `directory`, creating it if needed.
    public static func write(_ results: BenchResults, to directory: String) throws(BenchError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try results.jsonData().write(to: URL(fileURLWithPath: "\(directory)/\(json)"))
            try Data(MarkdownReport(results).render().utf8).write(to: URL(fileURLWithPath: "\(directory)/\(markdown)"))
            try Data(ThroughputChart(results).render().utf8).write(to: URL(fileURLWithPath: "\(directory)/\(chart)"))
        } catch {
            throw .cannotWrite(directory, reason: error.localizedDescription)
        }
    }
}
