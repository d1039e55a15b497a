// Tests of how a run is planned: benchmarks per thread count, and the allocators'
// rotating order from round to round.

import BenchKit
import XCTest

final class BenchPlanTests: XCTestCase {
    let allocators = ["glibc", "hakmem", "mimalloc"].map { Allocator(name: $0, library: nil) }

    private func workloads(_ names: String...) -> [Workload] {
        names.compactMap(WorkloadCatalog.workload(named:))
    }

    func testAllocatorOrderRotatesEachRound() {
        let plan = BenchPlan(workloads: workloads("random-mixed"), allocators: allocators, scale: .quick, rounds: 4, threadCounts: [1])
        let orders = (0..<4).map { plan.allocatorOrder(inRound: $0).map(\.name) }
        XCTAssertEqual(orders, [
            ["glibc", "hakmem", "mimalloc"],
            ["hakmem", "mimalloc", "glibc"],
            ["mimalloc", "glibc", "hakmem"],
            ["glibc", "hakmem", "mimalloc"],
        ])
    }

    func testEveryAllocatorRunsOncePerRoundAndEachLeadsInTurn() {
        let plan = BenchPlan(workloads: workloads("random-mixed"), allocators: allocators, scale: .quick, rounds: 3, threadCounts: [1])
        for round in 0..<3 {
            XCTAssertEqual(Set(plan.allocatorOrder(inRound: round)), Set(allocators))
        }
        XCTAssertEqual(Set((0..<3).map { plan.allocatorOrder(inRound: $0)[0].name }), ["glibc", "hakmem", "mimalloc"])
    }

    func testSweepingWorkloadRunsAtEveryThreadCountOthersAtTheLargest() {
        let plan = BenchPlan(workloads: workloads("random-mixed", "mid-large-mt", "producer-consumer"),
                             allocators: allocators, scale: .quick, rounds: 3, threadCounts: [1, 2, 4])
        XCTAssertEqual(plan.benchmarks.map(\.id),
                       ["random-mixed", "mid-large-mt-1t", "mid-large-mt-2t", "mid-large-mt-4t", "producer-consumer-4t"])
        XCTAssertEqual(plan.benchmarks[1].label, "mid-large-mt (1 thread)")
        XCTAssertEqual(plan.benchmarks[3].label, "mid-large-mt (4 threads)")
        XCTAssertEqual(plan.benchmarks[3].parameters["threads"], 4)
        XCTAssertNil(plan.benchmarks[0].parameters["threads"])
        XCTAssertEqual(plan.totalRuns, 5 * 3 * 3)
    }

    func testWorkloadsThatNeedTwoThreadsGetTwo() {
        let plan = BenchPlan(workloads: workloads("producer-consumer"), allocators: allocators, scale: .quick, rounds: 1, threadCounts: [1])
        XCTAssertEqual(plan.benchmarks[0].threads, 2)
    }

    func testArgumentsAreSortedNameValuePairs() {
        let plan = BenchPlan(workloads: workloads("larson"), allocators: allocators, scale: .quick, rounds: 1, threadCounts: [2])
        XCTAssertEqual(plan.benchmarks[0].arguments, ["generations=20", "ops=15000000", "threads=2"])
    }

    func testEveryWorkloadHasSizesForEveryScale() {
        for workload in WorkloadCatalog.all {
            for scale in Scale.allCases {
                XCTAssertFalse(workload.parameters(for: scale).isEmpty, "\(workload.name) at \(scale)")
            }
        }
    }

    func testScales() {
        XCTAssertEqual(Scale.quick.threadCounts, [1, 2, 4])
        XCTAssertEqual(Scale.thorough.threadCounts.max(), 16)
        XCTAssertGreaterThan(Scale.thorough.rounds, Scale.quick.rounds)
        XCTAssertEqual(Scale.quick.rounds % 2, 1, "an odd number of rounds has a true median")
    }
}
