// fork() while other threads allocate (Tests/programs/fork_threads.c): every
// child must be able to allocate, free inherited blocks and start a thread that
// frees its main thread's blocks (and the reverse) without deadlocking on a lock
// held at fork time - 1000 children in a row.

import Foundation
import XCTest

final class ForkTests: XCTestCase {
    func testForkWhileThreadsAllocate() throws {
        // About 21 s on the project's 2-core machine.
        let rounds = 1000, threads = 4
        let started = Date()
        let r = try Run.program("fork_threads", ["\(rounds)", "\(threads)"], timeout: 240)
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("fork_threads: ") }.map(String.init)
        print("\(summary ?? "fork_threads: no summary line, \(r.ending)") in \(Int(Date().timeIntervalSince(started))) s")
        XCTAssertTrue(r.exitedZero, "fork_threads (\(rounds) rounds, \(threads) threads) failed: \(r.transcript)")
        XCTAssertEqual(summary, "fork_threads: rounds=\(rounds) failures=0",
                       "fork_threads (\(rounds) rounds, \(threads) threads): \(r.transcript)")
    }
}
