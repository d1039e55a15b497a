// Scale: how big a bench run is.
//
// `thorough` is the default: more rounds, larger sizes, thread counts up to 16.
// `quick` runs every workload and allocator in about three minutes on two cores.
// `tiny` exists for the integration test: seconds in total, figures meaningless.

public enum Scale: String, CaseIterable, Sendable, Codable {
    case tiny, quick, thorough

    /// Rounds per benchmark; each figure is the median over them.
    public var rounds: Int {
        switch self {
        case .tiny: 1
        case .quick: 3
        case .thorough: 5
        }
    }

    /// How long one program run may take before it is killed and counted as failed.
    public var runTimeLimitSeconds: Double {
        switch self {
        case .tiny: 60
        case .quick: 120
        case .thorough: 600
        }
    }

    /// Thread counts the scaling workloads sweep; the other multi-threaded workloads run
    /// at the largest.
    public var threadCounts: [Int] {
        switch self {
        case .tiny: [1, 2]
        case .quick: [1, 2, 4]
        case .thorough: [1, 2, 4, 8, 16]
        }
    }
}
