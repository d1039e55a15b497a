// Size-class mapping: every request lands in the smallest class that fits, waste stays bounded,
// the division-free block check is exact, and aligned classes really are aligned.
import XCTest
@testable import HakmemHosted

final class SizeClassTests: XCTestCase {
    func testEveryRequestGetsTheSmallestClassThatFits() {
        var previousClass = 0
        for size in 0...SizeClass.largeLimit {
            let c = SizeClass.index(forSize: size)
            XCTAssertLessThan(c, SizeClass.count, "size \(size) maps past the last class")
            let block = SizeClass.blockSize(ofClass: c)
            XCTAssertGreaterThanOrEqual(block, size, "size \(size) got class \(c) of only \(block) bytes")
            if c > 1 {
                XCTAssertLessThan(SizeClass.blockSize(ofClass: c - 1), size,
                                  "size \(size) got class \(c) though class \(c - 1) fits")
            }
            XCTAssertGreaterThanOrEqual(c, previousClass, "class index decreases at size \(size)")
            previousClass = c
            if c != SizeClass.index(forSize: size) { break }
        }
        XCTAssertEqual(SizeClass.index(forSize: SizeClass.largeLimit), SizeClass.count - 1)
        XCTAssertEqual(SizeClass.blockSize(ofClass: SizeClass.count - 1), SizeClass.largeLimit)
    }

    func testMidTableAgreesWithTheComputedClassForEveryMidSize() {
        Lifecycle.ensureInitialized()
        for size in (SizeClass.tinyLimit + 1)...SizeClass.midLimit where SizeClass.midIndex(forSize: size) != SizeClass.index(forSize: size) {
            return XCTFail("size \(size): the Mid table says class \(SizeClass.midIndex(forSize: size)), "
                           + "the computation \(SizeClass.index(forSize: size))")
        }
    }

    func testMidClassesAreExactlyThoseAboveTinyUpToTheMidLimit() {
        XCTAssertEqual(SizeClass.index(forSize: SizeClass.tinyLimit), SizeClass.lastTinyClass, "lastTinyClass is not the class of 1 KiB")
        XCTAssertEqual(SizeClass.index(forSize: SizeClass.midLimit), SizeClass.lastMidClass, "lastMidClass is not the class of 64 KiB")
        for c in 0..<SizeClass.count {
            let block = SizeClass.blockSize(ofClass: c)
            XCTAssertEqual(SizeClass.isMid(c), block > SizeClass.tinyLimit && block <= SizeClass.midLimit,
                           "class \(c) (\(block) B) is misfiled as \(SizeClass.isMid(c) ? "Mid" : "not Mid")")
        }
    }

    func testBlockSizeRoundTripsAndAlignment() {
        for c in 1..<SizeClass.count {
            let block = SizeClass.blockSize(ofClass: c)
            XCTAssertEqual(SizeClass.index(forSize: block), c, "class \(c) (\(block) B) does not map to itself")
            XCTAssertEqual(block % 16, 0, "class \(c) block size \(block) is not a multiple of 16")
        }
    }

    func testInternalWasteIsBounded() {
        for size in 65...SizeClass.largeLimit where size % 7 == 0 || size & (size - 1) == 0 || size % 1000 == 1 {
            let block = SizeClass.blockSize(ofClass: SizeClass.index(forSize: size))
            XCTAssertLessThanOrEqual(Double(block - size) / Double(block), 0.25,
                                     "size \(size) wastes \(block - size) of \(block) bytes")
        }
    }

    func testSlabsFitInASuperSlabAndHoldEnoughBlocks() {
        for c in 0..<SizeClass.count {
            let slots = SizeClass.slotsPerSlab(ofClass: c)
            let block = SizeClass.blockSize(ofClass: c)
            XCTAssertLessThanOrEqual(slots, SuperSlab.slotCount - 1, "class \(c) needs \(slots) slots")
            let blocks = slots * SuperSlab.slotSize / block
            XCTAssertGreaterThanOrEqual(blocks, block <= SizeClass.midLimit ? 16 : 1, "class \(c): \(blocks) blocks per slab")
        }
    }

    func testReciprocalFindsExactlyTheBlockStarts() {
        for c in 0..<SizeClass.count {
            let block = UInt64(SizeClass.blockSize(ofClass: c))
            let m = SizeClass.reciprocal(ofBlockSize: Int(block))
            let span = UInt64(SizeClass.slotsPerSlab(ofClass: c) * SuperSlab.slotSize)
            var offset: UInt64 = 0
            while offset < span {
                let index = (offset &* m) >> SizeClass.reciprocalShift
                let isStart = index * block == offset
                XCTAssertEqual(isStart, offset % block == 0, "class \(c): offset \(offset) misjudged")
                if isStart != (offset % block == 0) { return }
                offset += 16
            }
        }
    }

    func testAlignedClassTableAgreesWithTheSearch() {
        Lifecycle.ensureInitialized()
        var alignment = 32
        while alignment <= SuperSlab.slotSize {
            for first in 0..<SizeClass.count {
                let table = SizeClass.alignedClassTable[alignment.trailingZeroBitCount * SizeClass.count + first]
                let searched = SizeClass.searchAlignedClass(from: first, alignment: alignment)
                XCTAssertEqual(table == 0 ? nil : Int(table), searched,
                               "class \(first), alignment \(alignment): table and search disagree")
            }
            alignment <<= 1
        }
    }

    /// allocateAligned's hit path asks the table alone; what it answers must be what the search
    /// answers, and where it cannot (0), the slow path must be the one to decide.
    func testTabledAlignedIndexAgreesWithTheSearchOrDefers() {
        Lifecycle.ensureInitialized()
        var sizes = [0, 1, 15, 16, 17, 31, 32, 33, 100, 128, 129, 1000, 1024, 1025, 4095, 4096, 4097, 65_535, 65_536,
                     65_537, 1_000_000, SizeClass.largeLimit - 1, SizeClass.largeLimit, SizeClass.largeLimit + 1, 1 << 30, -1, Int.min]
        sizes += (1...64).map { SizeClass.blockSize(ofClass: $0 - 1) + 1 }
        for shift in 5...62 {
            let alignment = 1 << shift
            for size in sizes {
                let tabled = SizeClass.tabledIndex(forSize: size, alignment: alignment)
                let searched = SizeClass.index(forSize: size, alignment: alignment)
                if tabled == 0 {
                    XCTAssertNil(searched, "size \(size), alignment \(alignment): the table defers but class \(searched ?? -1) serves it")
                } else {
                    XCTAssertEqual(tabled, searched, "size \(size), alignment \(alignment)")
                }
            }
        }
    }

    func testAlignedClassesAreMultiplesOfTheAlignment() {
        Lifecycle.ensureInitialized()
        var alignment = 32
        while alignment <= SuperSlab.slotSize {
            for size in [1, 17, 100, 1000, 5000, 70_000, 1_000_000] {
                guard let c = SizeClass.index(forSize: size, alignment: alignment) else {
                    XCTFail("no class for size \(size) aligned \(alignment)")
                    continue
                }
                let block = SizeClass.blockSize(ofClass: c)
                XCTAssertGreaterThanOrEqual(block, size)
                XCTAssertEqual(block % alignment, 0, "class \(c) (\(block) B) for alignment \(alignment)")
            }
            alignment <<= 1
        }
        XCTAssertNil(SizeClass.index(forSize: 100, alignment: 2 * SuperSlab.slotSize))
        XCTAssertNil(SizeClass.index(forSize: SizeClass.largeLimit + 1, alignment: 64))
    }
}
