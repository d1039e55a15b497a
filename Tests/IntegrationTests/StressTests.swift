// Multi-threaded stress under hakmem: Tests/programs/stress.c verifies every
// block's contents, alignment and usable size while blocks move between threads
// and outlive the threads that allocated them.

import Foundation
import XCTest

final class StressTests: XCTestCase {
    // About 2-6 s each on 2 cores under glibc; the whole suite stays well under 3 minutes.
    func testOneThread() throws { try stress(threads: 1, opsPerThread: 200_000) }
    func testFourThreads() throws { try stress(threads: 4, opsPerThread: 120_000) }
    func testSixteenThreads() throws { try stress(threads: 16, opsPerThread: 40_000) }
    /// Checked mode runs the same program: its encoded lists and marks must never misfire.
    func testFourThreadsInCheckedMode() throws { try stress(threads: 4, opsPerThread: 60_000, checked: true) }

    private func stress(threads: Int, opsPerThread: Int, generations: Int = 3, checked: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("stress", ["\(threads)", "\(opsPerThread)", "\(generations)"],
                                environment: checked ? ["HAKMEM_CHECK": "1"] : [:], timeout: 180)
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("stress: ") }.map(String.init)
        print(summary ?? "stress (\(threads) threads): no summary line, \(r.ending)")
        XCTAssertTrue(r.exitedZero, "stress with \(threads) threads failed: \(r.transcript)", file: file, line: line)
        XCTAssertEqual(summary, "stress: threads=\(threads) ops=\(threads * opsPerThread * generations) faults=0",
                       "stress with \(threads) threads: \(r.transcript)", file: file, line: line)
    }
}
