// The Mid tier's per-thread lists (Tests/programs/mid_tier.c under hakmem): a Mid block freed
// last comes back first whichever slab it belongs to, and slabs that a thread's own frees empty
// go back although their blocks passed through the thread's list.

import Foundation
import XCTest

final class MidTierTests: XCTestCase {
    private func line(_ arguments: [String]) throws -> String? {
        let r = try Run.program("mid_tier", arguments)
        guard r.exitedZero else {
            XCTFail("mid_tier \(arguments.joined(separator: " ")): \(r.transcript)")
            return nil
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testMidBlockFreedLastComesBackFirstAcrossSlabs() throws {
        guard let line = try line(["order"]) else { return }
        XCTAssertTrue(line.contains("slabs_apart=1"), "the two blocks were not in different slabs, so this proves nothing: \(line)")
        XCTAssertTrue(line.hasPrefix("order=lifo"), "Mid blocks of two slabs did not come back last freed first: \(line)")
    }

    func testSlabsEmptiedByTheOwnersRandomFreesGoBack() throws {
        guard let line = try line(["massfree", "256"]) else { return }
        var values: [String: Int] = [:]
        for field in line.split(separator: " ") {
            let parts = field.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
        }
        guard let peak = values["peak_kib"], let after = values["after_kib"] else {
            return XCTFail("mid_tier massfree printed no figures: \(line)")
        }
        XCTAssertGreaterThan(peak, 200 * 1024, "the 256 MiB did not become resident: \(line)")
        XCTAssertLessThan(after, peak / 4, "memory freed in random order by its owner stayed resident: \(line)")
    }
}
