// Tests of the summary statistics: median, geometric mean and ratios.

import BenchKit
import XCTest

final class StatisticsTests: XCTestCase {
    func testMedianOfOddCountIsMiddleValue() {
        XCTAssertEqual([5.0, 1, 3].median, 3)
    }

    func testMedianOfEvenCountIsMeanOfMiddlePair() {
        XCTAssertEqual([4.0, 1, 3, 10].median, 3.5)
    }

    func testMedianOfOneValueIsThatValue() {
        XCTAssertEqual([7.0].median, 7)
    }

    func testMedianOfNothingIsNil() {
        XCTAssertNil([Double]().median)
    }

    func testMedianIgnoresOutliers() {
        XCTAssertEqual([100.0, 101, 99, 5000, 1].median, 100)
    }

    func testGeometricMeanTreatsFactorsSymmetrically() throws {
        XCTAssertEqual(try XCTUnwrap([2.0, 0.5].geometricMean), 1, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap([1.0, 4, 16].geometricMean), 4, accuracy: 1e-12)
    }

    func testGeometricMeanNeedsPositiveValues() {
        XCTAssertNil([Double]().geometricMean)
        XCTAssertNil([1.0, 0].geometricMean)
        XCTAssertNil([1.0, -2].geometricMean)
    }

    func testRatio() {
        XCTAssertEqual(ratio(of: 3, to: 2), 1.5)
        XCTAssertNil(ratio(of: nil, to: 2))
        XCTAssertNil(ratio(of: 3, to: nil))
        XCTAssertNil(ratio(of: 3, to: 0))
    }

    func testAllocatorResultTakesMediansOfSuccessfulRounds() throws {
        let rounds = [
            RoundRecord(round: 1, position: 1, measurement: Measurement(throughput: 10, peakResidentKiB: 300, seconds: 1, extras: ["a": 1, "b": 5])),
            RoundRecord(round: 2, position: 2, measurement: Measurement(throughput: 30, peakResidentKiB: 100, seconds: 1, extras: ["a": 3])),
            RoundRecord(round: 3, position: 3, measurement: Measurement(throughput: 20, peakResidentKiB: 200, seconds: 1, extras: ["a": 2])),
        ]
        let result = AllocatorResult(allocator: "glibc", rounds: rounds)
        let median = try XCTUnwrap(result.median)
        XCTAssertEqual(median.throughput, 20)
        XCTAssertEqual(median.peakResidentKiB, 200)
        XCTAssertEqual(median.extras, ["a": 2], "only extras every round reported are summarised")
        XCTAssertNil(result.failure)
    }

    func testAllocatorResultKeepsFirstFailure() {
        let result = AllocatorResult(allocator: "hakmem", rounds: [RoundRecord(round: 1, position: 2, failure: "killed by SIGSEGV")])
        XCTAssertNil(result.median)
        XCTAssertEqual(result.failure, "killed by SIGSEGV")
    }
}
