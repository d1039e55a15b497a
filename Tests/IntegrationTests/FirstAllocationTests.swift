// The process's first allocation, made from a constructor before main, so that it reaches
// hakmem before its start-up: every tier's hit path must then miss and the slow path start the
// allocator (malloc's Mid hit path has no test of the class the unfilled table gives; see
// API.swift). Tests/programs/first_allocation.c checks the block it gets.

import XCTest

final class FirstAllocationTests: XCTestCase {
    /// One size per tier and at the tiers' edges: Tiny, the largest Tiny, the smallest Mid and
    /// the largest Mid, Large, huge.
    static let sizes = [48, 1024, 1025, 4096, 65536, 100_000, 4 << 20]

    func testFirstAllocationOfEveryTierBeforeStartUp() throws {
        for function in ["malloc", "calloc"] {
            for size in Self.sizes {
                let r = try Run.program("first_allocation", [function, String(size)])
                XCTAssertTrue(r.exitedZero && r.stdout.contains("ok"),
                              "first_allocation \(function) \(size) \(r.ending): \(r.transcript)")
            }
        }
    }
}
