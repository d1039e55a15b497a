// BenchPlan: the benchmarks a run will measure and the order it measures them in.
//
// Workloads expand into benchmarks (one per thread count for a sweeping workload). Each
// benchmark is measured in rounds; every round runs every allocator once, and the
// allocators' order rotates from round to round so that none is always first (warm
// caches, CPU frequency, a neighbour's noise) or always last.

/// One row of the report: a workload at one thread count with concrete parameters.
public struct Benchmark: Sendable {
    public var workload: Workload
    /// The thread count, or nil for single-threaded workloads.
    public var threads: Int?
    /// The parameters passed to the program, thread count included.
    public var parameters: [String: Int]

    public init(workload: Workload, threads: Int?, parameters: [String: Int]) {
        self.workload = workload
        self.threads = threads
        self.parameters = parameters
    }

    /// A stable identifier such as `mid-large-mt-4t`.
    public var id: String {
        threads.map { "\(workload.name)-\($0)t" } ?? workload.name
    }

    /// The name shown in reports, such as `mid-large-mt (4 threads)`.
    public var label: String {
        guard let threads else { return workload.name }
        return "\(workload.name) (\(threads) thread\(threads == 1 ? "" : "s"))"
    }

    /// The program's `name=value` arguments in a stable order.
    public var arguments: [String] {
        parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}

public struct BenchPlan: Sendable {
    public var benchmarks: [Benchmark]
    public var allocators: [Allocator]
    public var rounds: Int

    /// Expands `workloads` at `scale`, with `threadCounts` overriding the scale's list.
    public init(workloads: [Workload], allocators: [Allocator], scale: Scale, rounds: Int, threadCounts: [Int]) {
        self.allocators = allocators
        self.rounds = rounds
        benchmarks = workloads.flatMap { workload -> [Benchmark] in
            let parameters = workload.parameters(for: scale)
            let largest = threadCounts.max() ?? 1
            switch workload.threading {
            case .single:
                return [Benchmark(workload: workload, threads: nil, parameters: parameters)]
            case .sweep:
                return threadCounts.map { count in
                    Benchmark(workload: workload, threads: count, parameters: parameters.merging(["threads": count]) { $1 })
                }
            case .largestCount(let minimum):
                let count = max(largest, minimum)
                return [Benchmark(workload: workload, threads: count, parameters: parameters.merging(["threads": count]) { $1 })]
            }
        }
    }

    /// The allocators in the order round `round` (counting from 0) runs them: the list
    /// rotated left by the round number.
    public func allocatorOrder(inRound round: Int) -> [Allocator] {
        guard !allocators.isEmpty else { return [] }
        let shift = round % allocators.count
        return Array(allocators[shift...] + allocators[..<shift])
    }

    /// How many program runs the whole plan makes.
    public var totalRuns: Int { benchmarks.count * rounds * allocators.count }
}
