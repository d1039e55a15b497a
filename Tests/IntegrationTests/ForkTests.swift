// fork() while other threads allocate (Tests/programs/fork_threads.c): every
// child must be able to allocate, free inherited blocks and start a thread
// without deadlocking on a lock held at fork time.

import Foundation
import XCTest

final class ForkTests: XCTestCase {
    func testForkWhileThreadsAllocate() throws {
        let rounds = 200, threads = 4
        let r = try Run.program("fork_threads", ["\(rounds)", "\(threads)"], timeout: 180)
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("fork_threads: ") }.map(String.init)
        print(summary ?? "fork_threads: no summary line, \(r.ending)")
        XCTAssertTrue(r.exitedZero, "fork_threads (\(rounds) rounds, \(threads) threads) failed: \(r.transcript)")
        XCTAssertEqual(summary, "fork_threads: rounds=\(rounds) failures=0",
                       "fork_threads (\(rounds) rounds, \(threads) threads): \(r.transcript)")
    }
}
