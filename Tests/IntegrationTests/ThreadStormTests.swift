// Thread storms under hakmem (Tests/programs/thread_storm.c): 10,000 short-lived threads whose
// blocks are mostly freed by other threads after their allocator has exited. Nothing may be lost
// or corrupted, and resident memory must stay bounded: what 2,000 threads leave resident may
// grow only a little by 10,000 (a leak per thread would make it grow five-fold).

import Foundation
import XCTest

final class ThreadStormTests: XCTestCase {
    /// Measured on the project's 2-core machine (2026-11-29, 25 runs of that day's libraries):
    /// 13-20 MiB resident at 2,000 threads and 19-25 MiB at 10,000, 9 MiB once the exchange is
    /// drained; under 2 s. The growth (2-7 MiB; 0.2-0.7 MiB with HAKMEM_PURGE_DELAY_MS=0) is the
    /// shared pool's EMPTY slabs, which may hold up to 16 MiB until the purge delay passes.
    func testTenThousandThreadsEightAtATime() throws { try storm(threads: 10_000, concurrent: 8) }
    func testTenThousandThreadsSixtyFourAtATime() throws { try storm(threads: 10_000, concurrent: 64) }

    /// Bounds with room for other machines and kernels; a leak of one slab per thread (64 KiB)
    /// would add 500 MiB.
    static let maximumFinalKiB = 64 * 1024
    static let maximumGrowthKiB = 8 * 1024

    private func storm(threads: Int, concurrent: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("thread_storm", ["\(threads)", "\(concurrent)"], timeout: 120)
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("thread_storm: ") }.map(String.init)
        print(summary ?? "thread_storm: no summary line, \(r.ending)")
        XCTAssertTrue(r.exitedZero, "thread_storm \(threads) \(concurrent) failed: \(r.transcript)", file: file, line: line)
        let v = Self.values(summary ?? "")
        let sampleAt = threads / 5
        guard let early = v["rss_at_\(sampleAt)_kib"], let final = v["rss_at_\(threads)_kib"],
              let allocated = v["allocated"], let freed = v["freed"], let faults = v["faults"] else {
            return XCTFail("thread_storm printed no figures: \(r.transcript)", file: file, line: line)
        }
        XCTAssertEqual(faults, 0, "blocks corrupted or usable sizes inconsistent: \(r.transcript)", file: file, line: line)
        XCTAssertEqual(allocated, threads * 64, "not every thread allocated its blocks: \(summary!)", file: file, line: line)
        XCTAssertEqual(freed, allocated, "blocks lost: \(summary!)", file: file, line: line)
        XCTAssertLessThan(final, Self.maximumFinalKiB,
                          "resident memory after \(threads) threads is not bounded: \(summary!)", file: file, line: line)
        XCTAssertLessThan(final - early, Self.maximumGrowthKiB,
                          "resident memory grows with the number of threads (\(early) KiB at \(sampleAt), "
                          + "\(final) KiB at \(threads)): \(summary!)", file: file, line: line)
    }

    /// The `key=value` fields of a summary line.
    static func values(_ line: String) -> [String: Int] {
        var result: [String: Int] = [:]
        for field in line.split(separator: " ") {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }
}
