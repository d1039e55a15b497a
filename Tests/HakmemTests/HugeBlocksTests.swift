// The huge cache (HugeBlocks.swift, ResidentBudget.swift): a freed mapping past the resident
// budget is purged at once, unless the freeing thread has just shown it wants such memory back;
// freed mappings that adjoin merge, so a longer request reuses them in place.
import XCTest
import Foundation
@testable import HakmemHosted

final class HugeBlocksTests: XCTestCase {
    private func allocate(_ size: Int) -> UnsafeMutablePointer<HugeRecord>? {
        guard let block = HugeBlocks.allocate(size, alignment: OS.pageSize) else { return nil }
        memset(block, 1, size)
        return HugeBlocks.record(of: UInt(bitPattern: block))
    }

    func testAMappingFreedPastTheResidentBudgetIsPurgedUntilTheThreadAllocatesAgain() {
        HugeBlocks.maintain(now: 0, force: true)   // an empty cache and the base budget
        let size = 2 * ResidentBudget.base
        guard let first = allocate(size) else { return XCTFail("no huge block") }
        HugeBlocks.free(first)
        XCTAssertEqual(HugeBlocks.counters.cachedCount, 1, "the freed mapping left the cache")
        XCTAssertEqual(HugeBlocks.counters.cachedUnpurgedBytes, 0, "a mapping freed past the budget stayed resident")
        XCTAssertEqual(HugeBlocks.counters.residentBudget, ResidentBudget.base, "a purge alone grew the budget")

        // The same thread allocates again: the purged mapping is reused and faults in again,
        // which grows the budget, so the next free keeps it resident.
        guard let second = allocate(size) else { return XCTFail("no huge block") }
        XCTAssertGreaterThanOrEqual(HugeBlocks.counters.residentBudget, ResidentBudget.base + size,
                                    "reusing memory this thread's free purged did not grow the budget")
        let grownOnce = HugeBlocks.counters.residentBudget
        HugeBlocks.maintain(now: OS.milliseconds(), force: false)
        XCTAssertEqual(HugeBlocks.counters.residentBudget, grownOnce, "maintenance shrank a budget that just grew")
        HugeBlocks.free(second)
        XCTAssertGreaterThanOrEqual(HugeBlocks.counters.cachedUnpurgedBytes, size, "the grown budget did not keep the mapping")

        // Each window with no growth, maintenance halves the budget, down to the base; it purges
        // what waited past the purge delay.
        let grown = HugeBlocks.counters.residentBudget
        var now = OS.milliseconds()
        for _ in 0..<3 {
            now += 2 * ResidentBudget.growthWindowMilliseconds
            HugeBlocks.maintain(now: now, force: false)
        }
        XCTAssertLessThan(grown / 8, ResidentBudget.base, "the test grew the budget more than three halvings undo")
        XCTAssertEqual(HugeBlocks.counters.residentBudget, ResidentBudget.base, "maintenance did not shrink the budget back")
        XCTAssertEqual(HugeBlocks.counters.cachedUnpurgedBytes, 0)
        HugeBlocks.maintain(now: 0, force: true)
    }

    func testMappingsWithinTheResidentBudgetStayResidentForReuse() {
        HugeBlocks.maintain(now: 0, force: true)
        guard let block = allocate(4 << 20) else { return XCTFail("no huge block") }
        let length = block.pointee.mappingLength
        HugeBlocks.free(block)
        XCTAssertEqual(HugeBlocks.counters.cachedUnpurgedBytes, length, "a mapping within the budget was purged")
        HugeBlocks.maintain(now: 0, force: true)
        XCTAssertEqual(HugeBlocks.counters.cachedUnpurgedBytes, 0)
    }

    func testAdjoiningFreedMappingsMergeAndServeALongerRequestInPlace() {
        HugeBlocks.maintain(now: 0, force: true)
        guard let whole = allocate(8 << 20) else { return XCTFail("no huge block") }
        let start = whole.pointee.mappingStart
        let length = whole.pointee.mappingLength
        HugeBlocks.free(whole)
        // Two blocks cut from the cached mapping, side by side, and the tail left cached.
        guard let low = allocate(3 << 20), let high = allocate(3 << 20) else { return XCTFail("no huge block") }
        XCTAssertEqual(low.pointee.mappingStart, start, "the first block did not take the cached mapping's head")
        XCTAssertEqual(high.pointee.mappingStart, start + UInt(low.pointee.mappingLength),
                       "the second block did not take what the first left")
        let lowUser = low.pointee.user
        HugeBlocks.free(low)
        XCTAssertEqual(HugeBlocks.counters.cachedCount, 2, "mappings that do not adjoin merged")
        HugeBlocks.free(high)
        XCTAssertEqual(HugeBlocks.counters.cachedCount, 1, "the freed block did not merge with both neighbours")
        XCTAssertEqual(HugeBlocks.counters.cachedUnpurgedBytes, length, "the merged range lost or gained bytes")
        XCTAssertNotNil(HugeBlocks.record(of: lowUser, freed: true),
                        "a block freed into a merged range no longer reads as freed (double frees would pass)")

        let mapped = HugeBlocks.counters.mappedBytes
        guard let again = allocate(8 << 20) else { return XCTFail("no huge block") }
        XCTAssertEqual(again.pointee.mappingStart, start, "the longer request did not reuse the merged range")
        XCTAssertEqual(HugeBlocks.counters.mappedBytes, mapped, "the longer request mapped or moved memory")
        HugeBlocks.free(again)
        HugeBlocks.maintain(now: 0, force: true)
    }
}
