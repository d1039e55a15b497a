// Statistics: the few summary figures the bench reports.
//
// Each figure in the report is the median of its rounds; comparisons are ratios, and a row
// of ratios is summarised by its geometric mean (the only mean that treats 2× faster and
// 2× slower symmetrically).

import Foundation

extension Collection where Element == Double {
    /// The middle value, or the mean of the two middle values; nil when empty.
    public var median: Double? {
        guard !isEmpty else { return nil }
        let sorted = self.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The geometric mean; nil when empty or when any value is not positive.
    public var geometricMean: Double? {
        guard !isEmpty, allSatisfy({ $0 > 0 }) else { return nil }
        let logSum = reduce(0) { $0 + log($1) }
        return exp(logSum / Double(count))
    }
}

/// `value / reference`, or nil when either is missing or the reference is not positive.
public func ratio(of value: Double?, to reference: Double?) -> Double? {
    guard let value, let reference, reference > 0 else { return nil }
    return value / reference
}
