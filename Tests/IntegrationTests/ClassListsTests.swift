// The per-thread class lists of the Tiny and Mid tiers (Tests/programs/class_lists.c under
// hakmem): a block freed last comes back first whichever slab it belongs to, and slabs that a
// thread's own frees empty go back although their blocks passed through the thread's list (for
// Tiny blocks, although malloc's hit path counts nothing).

import Foundation
import XCTest

final class ClassListsTests: XCTestCase {
    private func line(_ arguments: [String]) throws -> String? {
        let r = try Run.program("class_lists", arguments)
        guard r.exitedZero else {
            XCTFail("class_lists \(arguments.joined(separator: " ")): \(r.transcript)")
            return nil
        }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testBlockFreedLastComesBackFirstAcrossSlabs() throws {
        for tier in ["tiny", "mid"] {
            guard let line = try line(["order", tier]) else { return }
            XCTAssertTrue(line.contains("slabs_apart=1"), "\(tier): the two blocks were not in different slabs, so this proves nothing: \(line)")
            XCTAssertTrue(line.hasPrefix("order=lifo"), "\(tier): blocks of two slabs did not come back last freed first: \(line)")
        }
    }

    func testSlabsEmptiedByTheOwnersRandomFreesGoBack() throws {
        for tier in ["tiny", "mid"] {
            guard let line = try line(["massfree", tier, "256"]) else { return }
            var values: [String: Int] = [:]
            for field in line.split(separator: " ") {
                let parts = field.split(separator: "=")
                if parts.count == 2, let value = Int(parts[1]) { values[String(parts[0])] = value }
            }
            guard let peak = values["peak_kib"], let after = values["after_kib"] else {
                return XCTFail("class_lists massfree \(tier) printed no figures: \(line)")
            }
            XCTAssertGreaterThan(peak, 200 * 1024, "\(tier): the 256 MiB did not become resident: \(line)")
            XCTAssertLessThan(after, peak / 4, "\(tier): memory freed in random order by its owner stayed resident: \(line)")
        }
    }
}
