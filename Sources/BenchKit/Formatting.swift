// Formatting: how numbers appear in the report, the chart and the progress line.
//
// Three significant digits everywhere: enough to compare allocators, few enough to read.

import Foundation

public enum Format {
    /// `12.3 M`, `456 k`, `7.89`: a count or rate with a metric prefix.
    public static func quantity(_ value: Double) -> String {
        let prefixes: [(Double, String)] = [(1e12, " T"), (1e9, " G"), (1e6, " M"), (1e3, " k")]
        for (scale, prefix) in prefixes where abs(value) >= scale * 0.9995 {
            return significant(value / scale) + prefix
        }
        return significant(value)
    }

    /// `850 KiB`, `12.3 MiB`, `1.20 GiB` for a size given in KiB.
    public static func kibibytes(_ kib: Double) -> String {
        if kib >= 1024 * 1024 * 0.9995 { return significant(kib / (1024 * 1024)) + " GiB" }
        if kib >= 1024 * 0.9995 { return significant(kib / 1024) + " MiB" }
        return significant(kib) + " KiB"
    }

    /// `1.23×`.
    public static func ratio(_ value: Double) -> String {
        significant(value) + "×"
    }

    /// `2m05s` or `42s`.
    public static func duration(_ seconds: Double) -> String {
        let whole = max(0, Int(seconds.rounded()))
        return whole >= 60 ? String(format: "%dm%02ds", whole / 60, whole % 60) : "\(whole)s"
    }

    /// `value` with three significant digits (but no exponent and no fewer than the integer digits).
    public static func significant(_ value: Double) -> String {
        // Round first, so that 0.99996 is shown as 1.00 rather than 1.000.
        let magnitude = abs(Double(String(format: "%.3g", value)) ?? value)
        let decimals = magnitude >= 100 || magnitude == 0 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        return String(format: "%.\(decimals)f", value)
    }
}
