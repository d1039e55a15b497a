// Slabs and the shared pool, on the hosted build of the allocator's own sources: state
// transitions UNUSED → ACTIVE → EMPTY, reuse order, carving, and the remote-free stack under
// concurrent producers.
import XCTest
import Foundation
@testable import HakmemHosted

final class SlabTests: XCTestCase {
    override func setUp() {
        Lifecycle.ensureInitialized()
    }

    func testAcquireFormatsAnActiveSlabAndReleaseMakesItEmptyThenReused() {
        let c = SizeClass.index(forSize: 48)
        guard var slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(slab.pointee.state, SlabMeta.active)
        XCTAssertEqual(Int(slab.pointee.blockSize), 48)
        XCTAssertEqual(slab.pointee.owner.load(ordering: .relaxed), 0x1000)
        let color = Slab.colorOffset(forClass: c, firstSlot: Int(slab.pointee.firstSlot))
        XCTAssertEqual(slab.pointee.firstBlock, slab.spanStart + UInt(color), "blocks do not start at the slab's color")
        XCTAssertEqual(Int(slab.pointee.capacity), (SuperSlab.slotSize - color) / 48)
        XCTAssertEqual(slab.spanStart % UInt(SuperSlab.slotSize), 0, "slab not on a slot boundary")
        XCTAssertEqual(ChunkMap.kind(of: slab.spanStart), ChunkMap.superSlab)
        XCTAssertTrue(SuperSlab.slab(containing: slab.spanStart + 4800) == slab, "masking finds another slab")

        let (head, count) = slab.collectFreeBlocks()
        XCTAssertNotNil(head)
        XCTAssertEqual(Int(count), min(256, 16384 / 48), "first carve batch")
        XCTAssertEqual(slab.pointee.carved, count)
        XCTAssertTrue(slab.isBlockStart(slab.pointee.firstBlock + 48 * 3))
        XCTAssertFalse(slab.isBlockStart(slab.pointee.firstBlock + 48 * 3 + 16), "interior pointer accepted")
        XCTAssertFalse(slab.isBlockStart(slab.pointee.firstBlock + 48 * UInt(count)), "uncarved block accepted")

        SharedPool.releaseSlab(slab)
        XCTAssertEqual(slab.pointee.state, SlabMeta.empty)
        XCTAssertEqual(slab.pointee.owner.load(ordering: .relaxed), 0)
        // EMPTY slabs of the same length are reused before UNUSED slots are claimed.
        let other = SizeClass.index(forSize: 512)
        guard let again = SharedPool.acquireSlab(forClass: other, owner: 0x2000) else { return XCTFail("no slab") }
        XCTAssertTrue(again == slab, "EMPTY slab not reused first")
        XCTAssertEqual(Int(again.pointee.blockSize), 512, "reused slab not reformatted")
        XCTAssertEqual(again.pointee.carved, 0)
        SharedPool.releaseSlab(again)
    }

    /// For each of the `pages` pages from `start`, whether the kernel has it resident (mincore).
    private func residentPages(_ start: UInt, pages: Int) -> [Bool] {
        var vector = [UInt8](repeating: 0, count: pages)
        guard mincore(UnsafeMutableRawPointer(bitPattern: start)!, pages * OS.pageSize, &vector) == 0 else {
            XCTFail("mincore failed: errno \(errno)")
            return []
        }
        return vector.map { $0 & 1 == 1 }
    }

    func testACarveAsksForExactlyThePagesItsLinksAreWrittenInto() {
        let page = UInt(OS.pageSize)
        let base: UInt = 0x7f00_0000_0000
        func pages(_ count: UInt32, _ size: UInt, _ first: UInt) -> [UInt]? {
            Slab.pagesWritten(byCarving: count, blocksOf: size, from: first).map {
                let start = UInt(bitPattern: $0.start)
                return [(start - base) / page, UInt($0.length) / page]
            }
        }
        XCTAssertEqual(pages(341, 48, base), [0, 4], "341 blocks of 48 B: links in bytes 0 ..< 16 336")
        XCTAssertEqual(pages(341, 48, base + 48 * 341), [3, 5], "the next batch: bytes 16 368 ..< 32 696, pages 3 to 7")
        XCTAssertEqual(pages(4, 4096, base), [0, 4], "one link per page")
        XCTAssertEqual(pages(1, 16, base + page - 16), [0, 1], "a link in the last bytes of a page")
        XCTAssertEqual(pages(256, 16, base + page - 8), [0, 2], "a batch crossing a page boundary")
        XCTAssertNil(pages(2, 8192, base), "blocks of two pages: only their first pages are written")
        XCTAssertNil(pages(0, 64, base), "an empty batch")
    }

    func testOnlySlabsOfUnusedSlotsPopulateTheirCarvesAndOnlyThePagesCarved() {
        SharedPool.maintain(now: 0, force: true)   // no EMPTY slab left: the next slab is claimed
        let c = SizeClass.index(forSize: 64)
        guard var slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(slab.pointee.freshPages, 1, "slab of UNUSED slots not marked fresh")
        let start = slab.spanStart
        XCTAssertEqual(residentPages(start, pages: 16), Array(repeating: false, count: 16), "an UNUSED slot has resident pages")
        var populatedBefore = SharedPool.bytesPopulated
        let (_, count) = slab.carve()
        XCTAssertEqual(Int(count), 16384 / 64)
        // The 256 links run from the slab's color (under a page) to 16 KiB past it: pages 0-3,
        // and page 4 too unless the color is 0.
        let color = Int(slab.pointee.firstBlock - start)
        XCTAssertLessThan(color, 4096)
        let pagesCarved = color == 0 ? 4 : 5
        if OS.populateUnsupported {
            print("MADV_POPULATE_WRITE is not supported by this kernel: carves take their faults one by one")
        } else {
            XCTAssertEqual(SharedPool.bytesPopulated - populatedBefore, UInt(pagesCarved * 4096), "the carve did not populate its \(pagesCarved) pages")
        }
        let transparentHugePagesAlways = (try? String(contentsOfFile: "/sys/kernel/mm/transparent_hugepage/enabled", encoding: .utf8))?
            .contains("[always]") ?? false
        if !transparentHugePagesAlways {
            XCTAssertEqual(residentPages(start, pages: 16), Array(repeating: true, count: pagesCarved) + Array(repeating: false, count: 16 - pagesCarved),
                           "resident pages after one carve")
        }
        SharedPool.releaseSlab(slab)
        guard var again = SharedPool.acquireSlab(forClass: c, owner: 0x2000) else { return XCTFail("no slab") }
        XCTAssertTrue(again == slab, "EMPTY slab not reused")
        XCTAssertEqual(again.pointee.freshPages, 0, "a reused EMPTY slab marked fresh: its pages may be resident")
        populatedBefore = SharedPool.bytesPopulated
        _ = again.carve()
        XCTAssertEqual(SharedPool.bytesPopulated, populatedBefore, "a carve of a reused slab populated pages")
        SharedPool.releaseSlab(again)
        SharedPool.maintain(now: 0, force: true)
    }

    func testAMidSlabMadeFromAnEmptySpanReturnsItsUncarvedPagesOnceItStopsCarving() {
        SharedPool.maintain(now: 0, force: true)   // no EMPTY slab left: the next slab is claimed
        let c = SizeClass.index(forSize: 4096)   // Mid: 32 blocks of 4 KiB, two slots
        XCTAssertTrue(SizeClass.isMid(c))
        let page = OS.pageSize
        // A slab whose every page was written, then given back: an EMPTY span, all resident.
        guard let written = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        let span = written.spanStart
        let bytes = Int(written.pointee.slotCount) * SuperSlab.slotSize
        let pages = bytes / page
        memset(UnsafeMutableRawPointer(bitPattern: span)!, 1, bytes)
        SharedPool.releaseSlab(written)
        guard var slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertTrue(slab == written, "EMPTY span not reused")
        XCTAssertEqual(slab.pointee.freshPages, 0)
        let (_, count) = slab.carve()
        let carvedPages = (Int(slab.pointee.firstBlock - span) + Int(count) * 4096 + page - 1) / page
        XCTAssertLessThan(carvedPages * page, bytes - SuperSlab.slotSize, "the first carve left less than a slot")

        var purged = SharedPool.counters.bytesPurged
        ClassLists.returnUncarvedTail(of: slab, force: false)
        XCTAssertEqual(SharedPool.counters.bytesPurged, purged, "the first sweep to see a carve returned pages")
        ClassLists.returnUncarvedTail(of: slab, force: false)
        XCTAssertEqual(SharedPool.counters.bytesPurged - purged, UInt(bytes - carvedPages * page),
                       "a slab that carved nothing between two sweeps did not return exactly its uncarved pages")
        XCTAssertEqual(residentPages(span, pages: pages),
                       Array(repeating: true, count: carvedPages) + Array(repeating: false, count: pages - carvedPages),
                       "resident pages after the tail went back")
        purged = SharedPool.counters.bytesPurged
        ClassLists.returnUncarvedTail(of: slab, force: false)
        ClassLists.returnUncarvedTail(of: slab, force: true)
        XCTAssertEqual(SharedPool.counters.bytesPurged, purged, "a tail returned twice")

        // A carve between two sweeps keeps the pages; malloc_trim's sweep returns them at once.
        let (head, more) = slab.carve()
        XCTAssertEqual(UnsafeMutableRawPointer(bitPattern: slab.pointee.firstBlock + UInt(count) * 4096), head,
                       "the carve after the tail went back does not continue where the last one ended")
        ClassLists.returnUncarvedTail(of: slab, force: false)
        XCTAssertEqual(SharedPool.counters.bytesPurged, purged, "a slab that carved since the last sweep returned pages")
        ClassLists.returnUncarvedTail(of: slab, force: true)
        XCTAssertEqual(SharedPool.counters.bytesPurged - purged, UInt(bytes - (carvedPages + Int(more)) * page),
                       "malloc_trim's sweep did not return the uncarved pages")
        SharedPool.releaseSlab(slab)
        SharedPool.maintain(now: 0, force: true)

        // A slab of fresh slots has nothing resident past its carves: left alone.
        guard var fresh = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(fresh.pointee.freshPages, 1)
        _ = fresh.carve()
        purged = SharedPool.counters.bytesPurged
        ClassLists.returnUncarvedTail(of: fresh, force: false)
        ClassLists.returnUncarvedTail(of: fresh, force: true)
        XCTAssertEqual(SharedPool.counters.bytesPurged, purged, "a slab of fresh slots returned pages")
        SharedPool.releaseSlab(fresh)
        SharedPool.maintain(now: 0, force: true)
    }

    func testOnlyMidAndLargeBlocksCutFromUnusedSlotsCarryAFreshMark() {
        SharedPool.maintain(now: 0, force: true)   // no EMPTY slab left: the next slab is claimed
        let mid = SizeClass.index(forSize: 5000)   // more than a page, three to a carve
        guard var slab = SharedPool.acquireSlab(forClass: mid, owner: 0x1000) else { return XCTFail("no slab") }
        let (head, count) = slab.carve()
        XCTAssertGreaterThan(count, 1)
        var block = head
        var marked = 0
        while let b = block {
            XCTAssertTrue(Slab.isUntouchedSinceCarve(b), "block \(marked) of a fresh Mid carve has no fresh mark")
            marked += 1
            block = b.load(as: UnsafeMutableRawPointer?.self)
        }
        XCTAssertEqual(marked, Int(count))
        // What a hand-out other than calloc's does: the mark is gone, the block counts as written.
        let first = head!
        _ = erasingFreshMark(first)
        XCTAssertFalse(Slab.isUntouchedSinceCarve(first), "an erased mark still reads as fresh")
        // The mark is the block's own: another block's mark, copied here, is not it.
        let second = first.load(as: UnsafeMutableRawPointer?.self)!
        first.storeBytes(of: second.load(fromByteOffset: 8, as: UInt.self), toByteOffset: 8, as: UInt.self)
        XCTAssertFalse(Slab.isUntouchedSinceCarve(first), "another block's mark accepted")
        SharedPool.releaseSlab(slab)

        // A reused EMPTY slab's pages may hold old bytes: its blocks get no mark, and a mark left
        // there by an earlier format does not count.
        guard var again = SharedPool.acquireSlab(forClass: mid, owner: 0x2000) else { return XCTFail("no slab") }
        XCTAssertTrue(again == slab, "EMPTY slab not reused")
        let (reusedHead, _) = again.carve()
        XCTAssertEqual(reusedHead, first, "not the same blocks")
        XCTAssertFalse(Slab.isUntouchedSinceCarve(second), "a mark of an earlier format counted in a reused slab")
        SharedPool.releaseSlab(again)

        // Tiny blocks get none: their carve writes every page, and calloc clears them whole.
        let tiny = SizeClass.index(forSize: 256)
        guard var tinySlab = SharedPool.acquireSlab(forClass: tiny, owner: 0x3000) else { return XCTFail("no slab") }
        let (tinyHead, _) = tinySlab.carve()
        XCTAssertNotEqual(tinyHead!.load(fromByteOffset: 8, as: UInt.self), Slab.freshMark(of: UInt(bitPattern: tinyHead)),
                          "a Tiny block got a fresh mark")
        SharedPool.releaseSlab(tinySlab)

        // A Large block gets one too: calloc of a Large size takes the same path.
        SharedPool.maintain(now: 0, force: true)
        guard var largeSlab = SharedPool.acquireSlab(forClass: SizeClass.index(forSize: 300_000), owner: 0x4000)
        else { return XCTFail("no slab") }
        let (largeBlock, _) = largeSlab.carve()
        XCTAssertTrue(Slab.isUntouchedSinceCarve(largeBlock!), "a Large block cut from fresh slots has no fresh mark")
        SharedPool.releaseSlab(largeSlab)
        SharedPool.maintain(now: 0, force: true)
    }

    func testALargeSlabGrowsInPlaceOnlyOverFreeSlotsAfterIt() {
        SharedPool.maintain(now: 0, force: true)   // no EMPTY span left but the one made here
        let largest = SizeClass.index(forSize: SizeClass.largeLimit)
        let twoSlots = SizeClass.index(forSize: 100_000)
        let fiveSlots = SizeClass.index(forSize: 300_000)
        let tenSlots = SizeClass.index(forSize: 600_000)
        XCTAssertEqual([largest, twoSlots, fiveSlots, tenSlots].map(SizeClass.slotsPerSlab(ofClass:)), [28, 2, 5, 10])
        // An EMPTY span of 28 slots; a slab of 2 takes its first 2, the other 26 stay EMPTY.
        guard let wide = SharedPool.acquireSlab(forClass: largest, owner: 0x1000) else { return XCTFail("no slab") }
        SharedPool.releaseSlab(wide)
        guard var slab = SharedPool.acquireSlab(forClass: twoSlots, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertTrue(slab == wide, "the slab did not take the EMPTY span's first slots")
        let start = slab.spanStart
        XCTAssertEqual(UInt(bitPattern: slab.carve().head), start, "the Large block is not the slab's start")

        XCTAssertTrue(SharedPool.growLargeSlab(slab, toClass: fiveSlots), "did not grow over the EMPTY slots after it")
        XCTAssertEqual(slab.pointee.freshPages, 0, "a slab grown over an EMPTY span still counts as fresh")
        XCTAssertEqual(slab.spanStart, start, "the slab moved")
        XCTAssertEqual(Int(slab.pointee.slotCount), 5)
        XCTAssertEqual(Int(slab.pointee.classIndex), fiveSlots)
        XCTAssertEqual(Int(slab.pointee.blockSize), SizeClass.blockSize(ofClass: fiveSlots))
        XCTAssertTrue(slab.isBlockStart(start), "the block is no longer a block start")
        XCTAssertTrue(SuperSlab.slab(containing: start + UInt(4 * SuperSlab.slotSize)) == slab, "a slot grown over names another span")
        XCTAssertEqual(SuperSlab.emptySpan(after: slab).map { Int($0.pointee.slotCount) }, 23, "the rest of the EMPTY span")

        // A slab in the way: no growth, nothing changed.
        guard let neighbour = SharedPool.acquireSlab(forClass: twoSlots, owner: 0x2000) else { return XCTFail("no slab") }
        XCTAssertEqual(neighbour.spanStart, start + UInt(5 * SuperSlab.slotSize), "the neighbour is not right after")
        XCTAssertFalse(SharedPool.growLargeSlab(slab, toClass: tenSlots), "grew over a slab in use")
        XCTAssertEqual(Int(slab.pointee.slotCount), 5)
        XCTAssertEqual(Int(slab.pointee.classIndex), fiveSlots)
        XCTAssertTrue(SuperSlab.slab(containing: start + UInt(5 * SuperSlab.slotSize)) == neighbour)

        // Once it is EMPTY again, it and the span after it join and the slab grows over both.
        SharedPool.releaseSlab(neighbour)
        XCTAssertTrue(SharedPool.growLargeSlab(slab, toClass: tenSlots), "did not grow over a released neighbour")
        XCTAssertEqual(Int(slab.pointee.slotCount), 10)
        XCTAssertTrue(SuperSlab.slab(containing: start + UInt(9 * SuperSlab.slotSize)) == slab)
        XCTAssertEqual(SuperSlab.emptySpan(after: slab).map { Int($0.pointee.slotCount) }, 18)

        SharedPool.releaseSlab(slab)
        SharedPool.maintain(now: 0, force: true)
    }

    func testAFailedPopulateKeepsTheCallersErrno() {
        guard let page = OS.mapAnonymous(OS.pageSize) else { return XCTFail("no page") }
        OS.unmap(page, OS.pageSize)
        let wasUnsupported = OS.populateUnsupported
        errno = EDOM
        XCTAssertFalse(OS.populate(page, OS.pageSize), "populated an unmapped page")
        XCTAssertEqual(errno, EDOM, "populate changed errno")
        XCTAssertEqual(OS.populateUnsupported, wasUnsupported, "a range the kernel has no memory for (ENOMEM) turned populate off")
    }

    func testFreesRangeCheckAcceptsOnlyAlignedAddressesInAMappedSuperSlab() {
        let c = SizeClass.index(forSize: 64)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        let block = slab.pointee.firstBlock + 64 * 5
        XCTAssertEqual(ChunkMap.kind(ofAligned: block), ChunkMap.superSlab, "a block of a SuperSlab")
        for misalignment in [1, 8, 15] as [UInt] {
            XCTAssertEqual(ChunkMap.kind(ofAligned: block + misalignment), ChunkMap.nothing, "\(misalignment) bytes off")
        }
        SharedPool.releaseSlab(slab)
        // At and above 2^47 (the byte past the last chunk, then beyond the map) and at its edge.
        let limit = UInt(1) << 47
        for address in [limit, limit - 16, limit + UInt(SuperSlab.size), UInt.max & ~15, 0xffff_8000_0000_0000] {
            XCTAssertEqual(ChunkMap.kind(ofAligned: address), ChunkMap.nothing, "address \(String(address, radix: 16))")
        }
        XCTAssertEqual(ChunkMap.kind(ofAligned: 0), ChunkMap.nothing, "NULL")
    }

    func testSlabDescriptorsFitTheirSlotInTheHeader() {
        XCTAssertLessThanOrEqual(MemoryLayout<SlabMeta>.stride, SuperSlab.slabStride)
        let lastColorEnd = SuperSlab.slabsOffset + (SuperSlab.colorCount - 1) * SuperSlab.colorStride
            + SuperSlab.slotCount * SuperSlab.slabStride
        XCTAssertLessThanOrEqual(lastColorEnd, SuperSlab.slotSize, "the last color's descriptors run past slot 0")
        XCTAssertLessThanOrEqual(MemoryLayout<SuperSlabHeader>.stride, SuperSlab.slabHeadOffset)
    }

    /// The `index`th of a row of SuperSlab addresses side by side: only an address, for tests
    /// that compute offsets in headers and never read or write them.
    private func neighbour(_ index: UInt) -> UnsafeMutablePointer<SuperSlabHeader> {
        UnsafeMutablePointer(bitPattern: (0x4000 + index) << UInt(SuperSlab.shift))!
    }

    func testTinySlabsStartTheirBlocksOnDifferentCacheLinesAndKeepThemAligned() {
        for slot in 1..<SuperSlab.slotCount {
            var lines = Set<Int>()
            for c in 0...SizeClass.lastTinyClass {
                let offset = Slab.colorOffset(forClass: c, firstSlot: slot)
                let size = SizeClass.blockSize(ofClass: c)
                XCTAssertEqual(offset % (size & -size), 0, "slot \(slot), class \(c): blocks of \(size) B lose their alignment")
                XCTAssertLessThan(offset, Slab.colorCount * 64, "slot \(slot), class \(c): color past the last line")
                lines.insert(offset / 64)
            }
            XCTAssertGreaterThanOrEqual(lines.count, 16, "slot \(slot): the Tiny classes' first blocks share cache lines")
        }
        let small = SizeClass.index(forSize: 48)
        let slots = Set((1..<SuperSlab.slotCount).map { Slab.colorOffset(forClass: small, firstSlot: $0) })
        XCTAssertEqual(slots.count, SuperSlab.slotCount - 1, "48-byte slabs in different slots start on the same line")
        XCTAssertEqual(Slab.colorOffset(forClass: SizeClass.index(forSize: 4096), firstSlot: 3), 0, "a Mid slab is colored")

        // A slab as acquired: blocks from its color on, every one in its slot.
        let c = SizeClass.index(forSize: 80)
        guard var slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        let first = slab.carve().head.map { UInt(bitPattern: $0) }
        XCTAssertEqual(first, slab.pointee.firstBlock, "the first block carved is not at the slab's color")
        let lastEnd = slab.pointee.firstBlock + UInt(slab.pointee.capacity) * 80
        XCTAssertLessThanOrEqual(lastEnd, slab.spanStart + UInt(SuperSlab.slotSize), "the last block overruns the slot")
        XCTAssertGreaterThan(lastEnd + 80, slab.spanStart + UInt(SuperSlab.slotSize), "a whole block's worth of the slot left unused")
        slab.pointee.carved = 0
        SharedPool.releaseSlab(slab)
    }

    func testNeighbouringSuperSlabsKeepTheirSlabHeadTablesInDifferentCacheSets() {
        var lines = Set<Int>()
        for index in 0..<UInt(2 * SuperSlab.headColorCount) {
            let table = UnsafeMutableRawPointer(SuperSlab.slabHeads(of: neighbour(index))) - UnsafeMutableRawPointer(neighbour(index))
            XCTAssertEqual(table % 64, 0, "slabHead table of SuperSlab \(index) not on a cache line")
            XCTAssertGreaterThanOrEqual(table, MemoryLayout<SuperSlabHeader>.stride, "slabHead table of SuperSlab \(index) overlaps the header's fields")
            XCTAssertLessThanOrEqual(table + SuperSlab.slotCount * 2, SuperSlab.slabsOffset, "slabHead table of SuperSlab \(index) overlaps the descriptors")
            lines.insert(table / 64)
            // The entry free reads for a block is the one the pool writes for its slot.
            for slot in [1, 2, 17, 31] {
                let block = UInt(bitPattern: neighbour(index)) + UInt(slot * SuperSlab.slotSize + 320)
                XCTAssertEqual(SuperSlab.slabHeadEntryOffset(containing: block), table + slot * 2,
                               "free reads another slabHead entry than the pool writes (SuperSlab \(index), slot \(slot))")
            }
        }
        XCTAssertEqual(lines.count, SuperSlab.headColorCount, "SuperSlabs side by side share slabHead cache lines: \(lines.sorted())")
    }

    func testNeighbouringSuperSlabsPlaceTheirDescriptorsInDifferentCacheSets() {
        var offsets = Set<UInt16>()
        for index in 0..<UInt(SuperSlab.colorCount) {
            let offset = SuperSlab.descriptorOffset(ofSlot: 1, in: neighbour(index))
            XCTAssertEqual(Int(offset) % 64, 0, "descriptor of SuperSlab \(index) not on a cache line")
            XCTAssertGreaterThanOrEqual(Int(offset), SuperSlab.slabsOffset + SuperSlab.slabStride, "descriptor of SuperSlab \(index) overlaps slabHead")
            offsets.insert(offset % 4096)
        }
        XCTAssertEqual(offsets.count, SuperSlab.colorCount, "SuperSlabs side by side put slot 1's descriptor at the same page offset: \(offsets.sorted())")
        XCTAssertEqual(SuperSlab.descriptorOffset(ofSlot: 1, in: neighbour(0)), SuperSlab.descriptorOffset(ofSlot: 1, in: neighbour(UInt(SuperSlab.colorCount))),
                       "the colors do not repeat every colorCount SuperSlabs")
        // A slab's descriptor is where slabHead says, whatever the color.
        let lock = SharedPool.lock
        lock.lock()
        var headers: [UnsafeMutablePointer<SuperSlabHeader>] = []
        for _ in 0..<2 { if let mapped = SuperSlab.map() { headers.append(mapped) } }
        lock.unlock()
        XCTAssertEqual(headers.count, 2, "no SuperSlab")
        for mapped in headers {
            lock.lock()
            let slot = SuperSlab.claimSlots(mapped, count: 2)
            lock.unlock()
            guard let slot else { XCTFail("no slots"); continue }
            let block = UInt(bitPattern: mapped) + UInt((slot + 1) * SuperSlab.slotSize + 320)
            XCTAssertEqual(SuperSlab.slab(containing: block), SuperSlab.slab(mapped, slot: slot), "free would find another descriptor")
            lock.lock()
            SuperSlab.releaseSlots(of: SuperSlab.slab(mapped, slot: slot))
            lock.unlock()
        }
        lock.lock()
        for mapped in headers { SuperSlab.unmap(mapped) }
        lock.unlock()
    }

    func testSlotsAreClaimedFromTheShortestUnusedRunThatFits() {
        // A header alone: claiming writes only the slot map and descriptors, in slot 0.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: SuperSlab.slotSize, alignment: 4096)
        defer { raw.deallocate() }
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: SuperSlab.slotSize)
        let header = raw.assumingMemoryBound(to: SuperSlabHeader.self)
        func used(_ slots: ClosedRange<Int>...) -> UInt32 {
            slots.reduce(1) { mask, range in range.reduce(mask) { $0 | UInt32(1) << UInt32($1) } }
        }
        // Unused: 5...14 (10 slots) and 16...18 (3 slots).
        header.pointee.usedSlots = used(1...4, 15...15, 19...31)
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 10)
        XCTAssertEqual(SuperSlab.claimSlots(header, count: 3), 16, "a 3-slot slab broke up the 10-slot run")
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 10)
        XCTAssertEqual(SuperSlab.claimSlots(header, count: 2), 5)
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 8)
        XCTAssertNil(SuperSlab.claimSlots(header, count: 9), "claimed more slots than the longest run")
        XCTAssertEqual(SuperSlab.claimSlots(header, count: 8), 7)
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 0)
        XCTAssertEqual(header.pointee.usedSlots, SuperSlab.allSlotsUsed)
        // The top slot counts: a run that ends at slot 31.
        header.pointee.usedSlots = used(1...29)
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 2)
        XCTAssertEqual(SuperSlab.claimSlots(header, count: 2), 30)
        header.pointee.usedSlots = 1
        XCTAssertEqual(SuperSlab.longestUnusedRun(header), 31)
        XCTAssertEqual(SuperSlab.claimSlots(header, count: 31), 1)
    }

    func testMultiSlotSlabsMapEverySlotToTheirFirst() {
        let c = SizeClass.index(forSize: 48 * 1024)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        let slots = Int(slab.pointee.slotCount)
        XCTAssertEqual(slots, SizeClass.slotsPerSlab(ofClass: c))
        for slot in 0..<slots {
            let inside = slab.spanStart + UInt(slot * SuperSlab.slotSize + 100)
            XCTAssertTrue(SuperSlab.slab(containing: inside) == slab, "slot \(slot) of the slab maps elsewhere")
        }
        SharedPool.releaseSlab(slab)
    }

    func testShorterSlabsReuseALongerEmptySpanBeforeClaimingFreshSlots() {
        SharedPool.maintain(now: 0, force: true)   // no other EMPTY span to pick
        let long = SizeClass.index(forSize: 48 * 1024)   // 16 slots
        guard let slab = SharedPool.acquireSlab(forClass: long, owner: 0x1000) else { return XCTFail("no slab") }
        let start = slab.spanStart
        XCTAssertEqual(Int(slab.pointee.slotCount), 16)
        SharedPool.releaseSlab(slab)
        let bytesBefore = SharedPool.emptySlabBytes

        let four = SizeClass.index(forSize: 8 * 1024)
        guard let first = SharedPool.acquireSlab(forClass: four, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(first.spanStart, start, "fresh slots claimed while an EMPTY span was resident")
        XCTAssertEqual(Int(first.pointee.slotCount), 4)
        XCTAssertEqual(SharedPool.emptySlabBytes, bytesBefore - 4 * SuperSlab.slotSize, "the rest is not EMPTY")
        let rest = SuperSlab.slab(containing: start + UInt(4 * SuperSlab.slotSize))
        XCTAssertFalse(rest == first, "the rest's slots still map to the split slab")
        XCTAssertEqual(rest.pointee.state, SlabMeta.empty)
        XCTAssertEqual(Int(rest.pointee.slotCount), 12)
        XCTAssertTrue(SuperSlab.slab(containing: start + UInt(15 * SuperSlab.slotSize) + 100) == rest)

        let eight = SizeClass.index(forSize: 16 * 1024)
        guard let second = SharedPool.acquireSlab(forClass: eight, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(second.spanStart, start + UInt(4 * SuperSlab.slotSize), "the rest was not reused")
        XCTAssertEqual(Int(second.pointee.slotCount), 8)
        SharedPool.releaseSlab(first)
        SharedPool.releaseSlab(second)
        SharedPool.maintain(now: 0, force: true)
        XCTAssertEqual(SharedPool.emptySlabBytes, 0, "a split span was lost to the purge")
    }

    func testEmptySpansSideBySideJoinAndArePurgedBeforeFreshSlotsAreClaimed() {
        SharedPool.maintain(now: 0, force: true)
        let slot = UInt(SuperSlab.slotSize)
        guard let whole = SharedPool.acquireSlab(forClass: SizeClass.index(forSize: 48 * 1024), owner: 0x1000)
        else { return XCTFail("no slab") }
        let start = whole.spanStart
        SharedPool.releaseSlab(whole)
        let four = SizeClass.index(forSize: 8 * 1024)
        guard let a = SharedPool.acquireSlab(forClass: four, owner: 0x1000),
              let b = SharedPool.acquireSlab(forClass: four, owner: 0x1000) else { return XCTFail("no slab") }
        XCTAssertEqual(a.spanStart, start)
        XCTAssertEqual(b.spanStart, start + 4 * slot)
        SharedPool.releaseSlab(a)
        XCTAssertEqual(Int(a.pointee.slotCount), 4, "joined with a slab in use")
        SharedPool.releaseSlab(b)   // between a and the 8 slots left after it
        XCTAssertEqual(a.pointee.state, SlabMeta.empty)
        XCTAssertEqual(Int(a.pointee.slotCount), 16, "EMPTY neighbours not joined")
        XCTAssertTrue(SuperSlab.slab(containing: start + 5 * slot) == a)
        XCTAssertTrue(SuperSlab.slab(containing: start + 15 * slot + 8) == a)
        XCTAssertEqual(SharedPool.emptySlabBytes, 16 * SuperSlab.slotSize)

        // No EMPTY span is long enough for 28 slots: the 16 resident ones go back first.
        let purgedBefore = SharedPool.counters.bytesPurged
        guard let large = SharedPool.acquireSlab(forClass: SizeClass.index(forSize: SizeClass.largeLimit), owner: 0x1000)
        else { return XCTFail("no slab") }
        XCTAssertEqual(Int(large.pointee.slotCount), 28)
        XCTAssertEqual(SharedPool.emptySlabBytes, 0, "EMPTY slabs kept while fresh slots were claimed")
        XCTAssertEqual(SharedPool.counters.bytesPurged - purgedBefore, UInt(16 * SuperSlab.slotSize))
        SharedPool.releaseSlab(large)
        XCTAssertEqual(SharedPool.emptySlabBytes, 28 * SuperSlab.slotSize)

        // Nor can a huge block use them: a fresh mapping sends them back too.
        HugeBlocks.maintain(now: 0, force: true)   // no cached mapping to reuse
        guard let huge = HugeBlocks.allocate(4 << 20, alignment: OS.pageSize),
              let record = HugeBlocks.record(of: UInt(bitPattern: huge)) else { return XCTFail("no huge block") }
        XCTAssertEqual(SharedPool.emptySlabBytes, 0, "EMPTY slabs kept while a fresh huge mapping was made")
        HugeBlocks.free(record)
        HugeBlocks.maintain(now: 0, force: true)
        SharedPool.maintain(now: 0, force: true)
    }

    func testPastTheBudgetTheLongestEmptySpansArePurgedTogetherRatherThanTheSlabJustReleased() {
        SharedPool.maintain(now: 0, force: true)
        let single = SizeClass.index(forSize: 48)   // one slot per slab
        var singles: [Slab] = []
        for _ in 0..<(2 * (SharedPool.emptySpanBudget / SuperSlab.slotSize) + 8) {
            guard let slab = SharedPool.acquireSlab(forClass: single, owner: 0x1000) else { return XCTFail("no slab") }
            singles.append(slab)
        }
        guard let long = SharedPool.acquireSlab(forClass: SizeClass.index(forSize: SizeClass.largeLimit), owner: 0x1000)
        else { return XCTFail("no slab") }
        let longSlots = Int(long.pointee.slotCount)
        SharedPool.releaseSlab(long)
        // Every other single slab, so that none joins another: each stays one slot long.
        let released = stride(from: 0, to: singles.count, by: 2).map { singles[$0] }
        let fitting = SharedPool.emptySpanBudget / SuperSlab.slotSize - longSlots
        for slab in released.prefix(fitting) { SharedPool.releaseSlab(slab) }
        XCTAssertEqual(SharedPool.emptySlabBytes, SharedPool.emptySpanBudget, "EMPTY slabs purged within the budget")
        XCTAssertEqual(long.pointee.state, SlabMeta.empty)

        let purgedBefore = SharedPool.counters.bytesPurged
        let past = released[fitting]
        SharedPool.releaseSlab(past)
        XCTAssertEqual(past.pointee.state, SlabMeta.empty, "the slab just released was purged")
        XCTAssertNotEqual(long.pointee.state, SlabMeta.empty, "the longest EMPTY span was kept past the budget")
        // Then the oldest single slots, until the pool is `purgeBatchDepth` below its budget:
        // the next releases purge nothing, and the spans go back in one call.
        let slot = SuperSlab.slotSize
        let longBytes = longSlots * slot
        let singlesPurged = max(0, (slot + SharedPool.purgeBatchDepth - longBytes + slot - 1) / slot)
        XCTAssertEqual(SharedPool.counters.bytesPurged - purgedBefore, UInt(longBytes + singlesPurged * slot),
                       "not the longest span and then just enough single slots")
        XCTAssertLessThanOrEqual(SharedPool.emptySlabBytes, SharedPool.emptySpanBudget - SharedPool.purgeBatchDepth)
        XCTAssertEqual(released[0].pointee.state, singlesPurged > 0 ? SlabMeta.unused : SlabMeta.empty,
                       "the oldest single slot was not among the spans purged")
        let unreleasedBefore = SharedPool.counters.bytesPurged
        SharedPool.releaseSlab(released[fitting + 1])
        XCTAssertEqual(SharedPool.counters.bytesPurged, unreleasedBefore, "a release within the budget purged")

        for slab in released.dropFirst(fitting + 2) { SharedPool.releaseSlab(slab) }
        for index in stride(from: 1, to: singles.count, by: 2) { SharedPool.releaseSlab(singles[index]) }
        SharedPool.maintain(now: 0, force: true)
        XCTAssertEqual(SharedPool.emptySlabBytes, 0)
    }

    func testFreshSlotsClaimedSoonAfterAPurgePastTheBudgetGrowItUntilMaintenanceHalvesIt() {
        SharedPool.maintain(now: 0, force: true)
        let base = ResidentBudget.base
        let slot = SuperSlab.slotSize
        XCTAssertEqual(SharedPool.emptySpanBudget, base)
        let single = SizeClass.index(forSize: 48)   // one slot per slab
        let count = base / slot + 8
        @Sendable func acquireAll() -> [UInt] {
            (0..<count).compactMap { _ in SharedPool.acquireSlab(forClass: single, owner: 0x1000).map { UInt(bitPattern: $0) } }
        }
        func releaseAll(_ slabs: [UInt]) {
            for address in slabs { SharedPool.releaseSlab(Slab(bitPattern: address)!) }
        }
        var slabs = acquireAll()
        XCTAssertEqual(slabs.count, count, "no slab")
        XCTAssertEqual(SharedPool.emptySpanBudget, base, "fresh slots claimed with no purge before them grew the budget")
        var purgedBefore = SharedPool.counters.bytesPurged
        releaseAll(slabs)
        XCTAssertGreaterThan(SharedPool.counters.bytesPurged, purgedBefore, "nothing purged past the budget")
        XCTAssertEqual(SharedPool.emptySpanBudget, base, "a purge alone grew the budget")

        // Another thread's fresh slots do not grow it: no release of that thread purged.
        nonisolated(unsafe) var others: [UInt] = []
        let claimed = DispatchSemaphore(value: 0)
        Thread {
            others = acquireAll()
            claimed.signal()
        }.start()
        claimed.wait()
        XCTAssertEqual(others.count, count, "no slab")
        XCTAssertEqual(SharedPool.emptySpanBudget, base, "another thread's fresh slots grew the budget")
        releaseAll(others)

        // This thread wants the memory back: EMPTY slabs first, then fresh slots, each of which
        // grows the budget by its bytes.
        let emptyBefore = SharedPool.emptySlabBytes
        slabs = acquireAll()
        XCTAssertEqual(slabs.count, count, "no slab")
        XCTAssertEqual(SharedPool.emptySpanBudget, base + count * slot - emptyBefore,
                       "the budget did not grow by the fresh slots claimed after the purge")
        purgedBefore = SharedPool.counters.bytesPurged
        releaseAll(slabs)
        XCTAssertEqual(SharedPool.counters.bytesPurged, purgedBefore, "the grown budget did not keep the slabs released")
        XCTAssertEqual(SharedPool.emptySlabBytes, count * slot)

        // A window with no growth: maintenance halves the budget, down to the base at least.
        SharedPool.maintain(now: OS.milliseconds() + 2 * ResidentBudget.growthWindowMilliseconds)
        XCTAssertEqual(SharedPool.emptySpanBudget, base, "maintenance did not shrink the budget back")
        XCTAssertEqual(SharedPool.emptySlabBytes, 0, "EMPTY slabs older than the purge delay kept")
        SharedPool.maintain(now: 0, force: true)
    }

    func testOnlyAbandonedSlabsWithAFreeBlockAreAdopted() {
        SharedPool.maintain(now: 0, force: true)
        let c = SizeClass.index(forSize: 100 * 1024)   // one block per slab
        guard var full = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        guard let block = full.collectFreeBlocks().head else { return XCTFail("no block carved") }
        full.pointee.live = 1
        full.pointee.freesUntilEmpty = 1
        SharedPool.abandonSlab(full)
        let adoptedBefore = SharedPool.counters.slabsAdopted
        guard let other = SharedPool.acquireSlab(forClass: c, owner: 0x2000) else { return XCTFail("no slab") }
        XCTAssertFalse(other == full, "an abandoned slab with every block live was adopted")
        XCTAssertEqual(SharedPool.counters.slabsAdopted, adoptedBefore)

        SharedPool.abandonSlab(other)   // nothing carved yet: its one block is free
        guard let adopted = SharedPool.acquireSlab(forClass: c, owner: 0x3000) else { return XCTFail("no slab") }
        XCTAssertTrue(adopted == other, "the abandoned slab with a free block was not adopted")
        XCTAssertEqual(SharedPool.counters.slabsAdopted, adoptedBefore + 1)
        XCTAssertEqual(adopted.pointee.owner.load(ordering: .relaxed), 0x3000)
        SharedPool.releaseSlab(adopted)
        SharedPool.maintain(now: 0, force: true)

        // Another thread frees the full slab's block: the sweep gives the slab back (and its
        // SuperSlab may go with it, so the slab is not looked at afterwards).
        let fullBytes = UInt(Int(full.pointee.slotCount) * SuperSlab.slotSize)
        full.pushRemoteFrees(UInt(bitPattern: block), UInt(bitPattern: block), count: 1)
        let purgedBefore = SharedPool.counters.bytesPurged
        SharedPool.maintain(now: 0, force: true)
        XCTAssertEqual(SharedPool.counters.bytesPurged - purgedBefore, fullBytes, "the emptied abandoned slab was kept")
    }

    func testFreshSuperSlabsAreCutFromLargerMappings() {
        let lock = SharedPool.lock
        lock.lock()
        var headers: [UnsafeMutablePointer<SuperSlabHeader>] = []
        for _ in 0..<(2 * SuperSlab.largestReservation) {
            guard let header = SuperSlab.map() else { lock.unlock(); return XCTFail("no SuperSlab") }
            headers.append(header)
        }
        lock.unlock()
        let bases = headers.map { UInt(bitPattern: $0) }
        XCTAssertEqual(Set(bases).count, bases.count, "a SuperSlab handed out twice")
        for base in bases {
            XCTAssertEqual(base % UInt(SuperSlab.size), 0, "SuperSlab not aligned")
            XCTAssertEqual(ChunkMap.kind(of: base + 12345), ChunkMap.superSlab)
        }
        // Once the reservations have grown, one mapping serves the next several SuperSlabs.
        let adjacent = zip(bases, bases.dropFirst()).filter { $0.1 == $0.0 + UInt(SuperSlab.size) }.count
        XCTAssertGreaterThanOrEqual(adjacent, SuperSlab.largestReservation - 1, "SuperSlabs mapped one at a time")
        lock.lock()
        for header in headers { SuperSlab.unmap(header) }
        lock.unlock()
        XCTAssertEqual(ChunkMap.kind(of: bases[0]), ChunkMap.nothing)
    }

    func testRemoteFreeStackKeepsEveryBlockFromConcurrentProducers() {
        let c = SizeClass.index(forSize: 64)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        slab.pointee.carved = slab.pointee.capacity
        let producers = 4
        let perProducer = Int(slab.pointee.capacity) / producers
        let start = slab.pointee.firstBlock
        nonisolated(unsafe) let taken = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)
        taken.pointee = 0
        let slabAddress = UInt(bitPattern: slab)
        // Producers push while the owner drains concurrently, as happens in a running program.
        DispatchQueue.concurrentPerform(iterations: producers + 1) { worker in
            let slab = Slab(bitPattern: slabAddress)!
            if worker == producers {
                for _ in 0..<200 { taken.pointee += slab.takeRemoteFrees().count }
                return
            }
            for i in 0..<perProducer {
                let block = UnsafeMutableRawPointer(bitPattern: start + UInt((worker * perProducer + i) * 64))!
                slab.pushRemoteFrees(UInt(bitPattern: block), UInt(bitPattern: block), count: 1)
            }
        }
        var seen = Set<UInt>()
        let rest = slab.takeRemoteFrees()
        var block = rest.head
        while let b = block {
            XCTAssertTrue(seen.insert(UInt(bitPattern: b)).inserted, "block pushed twice")
            block = b.load(as: UnsafeMutableRawPointer?.self)
        }
        XCTAssertEqual(Int(taken.pointee) + seen.count, producers * perProducer, "remote frees lost")
        taken.deallocate()
        slab.pointee.carved = 0
        SharedPool.releaseSlab(slab)
    }

    /// Another thread's heap, as much of it as a freeing thread touches: its give-back state.
    private func makeOtherThreadsHeap() -> UnsafeMutablePointer<ThreadHeap> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<ThreadHeap>.stride, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<ThreadHeap>.stride)
        let state = UnsafeMutableRawPointer.allocate(byteCount: MemoryLayout<GiveBackState>.stride, alignment: 64)
        state.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<GiveBackState>.stride)
        let heap = raw.bindMemory(to: ThreadHeap.self, capacity: 1)
        heap.pointee.giveBack = state.bindMemory(to: GiveBackState.self, capacity: 1)
        return heap
    }

    func testBatchedRemoteFreesDeliverEveryBlockOnce() {
        let c = SizeClass.index(forSize: 64)
        let owner = makeOtherThreadsHeap()
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: UInt(bitPattern: owner)) else { return XCTFail("no slab") }
        guard let heap = ThreadCache.heap() else { return XCTFail("no heap") }
        slab.pointee.carved = slab.pointee.capacity
        heap.pointee.eventsBeforeMaintenance = Int.max / 2   // no maintenance flush mid-test
        heap.pointee.giveBack.pointee.freedBlocks.store(GiveBackState.holdsNone, ordering: .relaxed)
        let count = Int(RemoteFrees.chainLimit) * 3 + 5   // whole chains pushed, and a pending one
        for i in 0..<count {
            RemoteFrees.free(slab.pointee.firstBlock + UInt(i * 64), into: slab, heap: heap)
        }
        // What a thread refused memory waits for (Maintenance.askOtherThreadsToGiveBack).
        XCTAssertEqual(owner.pointee.giveBack.pointee.freedBlocks.load(ordering: .relaxed), GiveBackState.mayHold,
                       "the slab's owner was not told that blocks wait on its slab")
        XCTAssertEqual(heap.pointee.giveBack.pointee.freedBlocks.load(ordering: .relaxed), GiveBackState.mayHold,
                       "the freeing thread holds a chain it has not pushed, and did not say so")
        var seen = Set<UInt>()
        // The first take goes on top of a list that is not empty (one block, `below`), so it
        // walks the chains' summaries to the stack's last block; the second onto an empty one.
        let below = UnsafeMutableRawPointer(bitPattern: slab.pointee.firstBlock + UInt(count * 64))!
        below.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
        var taken = slab.takeRemoteFrees(onto: below)
        XCTAssertEqual(Int(taken.count), count - 5, "full chains not pushed, or pushed early")
        RemoteFrees.flushAll(heap)
        let rest = slab.takeRemoteFrees()
        XCTAssertEqual(Int(rest.count), 5, "the pending chain was not pushed by flushAll")
        for (list, end) in [(taken, below), (rest, nil)] {
            var block = list.head
            var length: UInt32 = 0
            while let b = block, b != end, length <= UInt32(count) {
                XCTAssertTrue(seen.insert(UInt(bitPattern: b)).inserted, "block delivered twice")
                length += 1
                block = b.load(as: UnsafeMutableRawPointer?.self)
            }
            XCTAssertEqual(length, list.count, "the stack's count differs from the blocks on it")
            XCTAssertEqual(block, end, "the taken blocks do not end on the list they were put on: the chains' summaries name another tail")
        }
        XCTAssertEqual(seen.count, count, "remote frees lost")
        heap.pointee.eventsBeforeMaintenance = 0
        taken = (nil, 0)
        slab.pointee.carved = 0
        SharedPool.releaseSlab(slab)
    }

    func testRemoteFreesTakenOntoAnEmptyListAreEveryChainLinkedOnceEndingInNil() {
        let c = SizeClass.index(forSize: 64)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        slab.pointee.carved = slab.pointee.capacity
        // Chains of 1, 3 and 7 blocks, pushed as a freeing thread pushes them: linked through
        // their first words, each ending in nil until the push links it to the stack's top.
        var next = 0
        var pushed = Set<UInt>()
        for length in [1, 3, 7] {
            let blocks = (0..<length).map { slab.pointee.firstBlock + UInt((next + $0) * 64) }
            next += length
            for (i, block) in blocks.enumerated() {
                UnsafeMutablePointer<UInt>(bitPattern: block)!.pointee = i + 1 < length ? blocks[i + 1] : 0
                pushed.insert(block)
            }
            slab.pushRemoteFrees(blocks[0], blocks[length - 1], count: UInt32(length))
        }
        let list = slab.takeRemoteFrees()
        XCTAssertEqual(list.count, 11, "the stack's count is not the blocks pushed")
        var seen = Set<UInt>()
        var block = list.head
        while let b = block, seen.count <= pushed.count {
            XCTAssertTrue(seen.insert(UInt(bitPattern: b)).inserted, "block linked twice: the chains do not end where the next begins")
            block = b.load(as: UnsafeMutableRawPointer?.self)
        }
        XCTAssertNil(block, "the list does not end in nil")
        XCTAssertEqual(seen, pushed, "the list is not every pushed block")
        let after = slab.takeRemoteFrees()
        XCTAssertEqual(after.count, 0, "the stack was not left empty")
        XCTAssertNil(after.head, "the stack was not left empty")
        slab.pointee.carved = 0
        SharedPool.releaseSlab(slab)
    }

    /// Three stand-in slab descriptors 4 KiB apart: their addresses agree in the bits that choose
    /// a set of chain slots, so all three compete for the same two slots.
    func testTwoSlabsSharingAChainSetBothKeepTheirChainsAndAThirdPushesTheOlder() {
        let c = SizeClass.index(forSize: 64)
        let owner = makeOtherThreadsHeap()
        guard let heap = ThreadCache.heap() else { return XCTFail("no heap") }
        RemoteFrees.flushAll(heap)
        heap.pointee.eventsBeforeMaintenance = Int.max / 2   // no maintenance flush mid-test
        let stride = 4096
        let descriptors = UnsafeMutableRawPointer.allocate(byteCount: 3 * stride, alignment: stride)
        descriptors.initializeMemory(as: UInt8.self, repeating: 0, count: 3 * stride)
        let blocks = UnsafeMutableRawPointer.allocate(byteCount: 3 * 16 * 64, alignment: 64)
        let slabs = (0..<3).map { i -> Slab in
            let slab = (descriptors + i * stride).bindMemory(to: SlabMeta.self, capacity: 1)
            slab.pointee.blockSize = 64
            slab.pointee.classIndex = UInt8(c)
            slab.pointee.state = SlabMeta.active
            slab.pointee.owner.store(UInt(bitPattern: owner), ordering: .relaxed)
            return slab
        }
        func free(_ n: Int, into i: Int, from first: Int) {
            for k in first..<(first + n) {
                RemoteFrees.free(UInt(bitPattern: blocks) + UInt((i * 16 + k) * 64), into: slabs[i], heap: heap)
            }
        }
        free(3, into: 0, from: 0)
        free(3, into: 1, from: 0)
        free(1, into: 0, from: 3)   // the first slab's chain is still there, in the second slot
        XCTAssertEqual(slabs[0].takeRemoteFrees().count, 0, "a chain was pushed while its set had room for it")
        XCTAssertEqual(slabs[1].takeRemoteFrees().count, 0, "a chain was pushed while its set had room for it")
        free(2, into: 2, from: 0)
        XCTAssertEqual(slabs[0].takeRemoteFrees().count, 4, "a third slab in the set did not push the older chain whole")
        XCTAssertEqual(slabs[1].takeRemoteFrees().count, 0, "the newer chain was pushed instead of the older")
        free(1, into: 1, from: 3)
        RemoteFrees.flushAll(heap)
        XCTAssertEqual(slabs[1].takeRemoteFrees().count, 4, "the chain that stayed lost blocks or was split")
        XCTAssertEqual(slabs[2].takeRemoteFrees().count, 2, "the newest chain was not pushed by flushAll")
        heap.pointee.eventsBeforeMaintenance = 0
        blocks.deallocate()
        descriptors.deallocate()
    }

    func testRemoteFreesOfEveryLiveBlockEmptyAParkedSlabByTheirCount() {
        // The stack word counts blocks in 16 bits above a 48-bit address: every slab must fit.
        for c in 0..<SizeClass.count {
            let blocks = SizeClass.slotsPerSlab(ofClass: c) * SuperSlab.slotSize / SizeClass.blockSize(ofClass: c)
            XCTAssertLessThan(blocks, 1 << 16, "class \(c)'s slab holds more blocks than the stack can count")
        }
        let c = SizeClass.index(forSize: 64)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        slab.pointee.carved = 8
        slab.pointee.live = 8
        slab.pointee.freesUntilEmpty = 8   // parked, all eight held
        let first = slab.pointee.firstBlock
        func freeRemotely(_ index: Int) {
            let block = first + UInt(index * 64)
            slab.pushRemoteFrees(block, block, count: 1)
        }
        for i in 0..<3 { freeRemotely(i) }
        XCTAssertFalse(slab.isEmptyAfterRemoteFrees(), "a slab holding five blocks was found empty")
        XCTAssertEqual(slab.pointee.freesUntilEmpty, 5, "three remote frees were not counted")
        XCTAssertEqual(slab.localCount, 3, "three remote frees were not folded onto the slab's list")
        let foldedTop = slab.pointee.localFree
        for i in 3..<8 { freeRemotely(i) }
        XCTAssertTrue(slab.isEmptyAfterRemoteFrees(), "a slab whose every block came home was not found empty")
        XCTAssertEqual(slab.pointee.freesUntilEmpty, 0)
        XCTAssertEqual(slab.pointee.threadFree.load(ordering: .relaxed), 0, "the remote-free stack was kept")
        XCTAssertEqual(slab.pointee.localFree, foldedTop, "the last five were walked onto the list instead of counted")
        slab.pointee.carved = 0
        slab.pointee.live = 0
        SharedPool.releaseSlab(slab)
    }

    func testThreadCacheRefillHandsOutDistinctAlignedBlocks() {
        let c = SizeClass.index(forSize: 100)
        var seen = Set<UInt>()
        for _ in 0..<5000 {
            let head = ThreadCache.heads(ThreadCache.root) + c
            let block: UnsafeMutableRawPointer
            if let b = head.pointee {
                head.pointee = b.load(as: UnsafeMutableRawPointer?.self)
                block = b
            } else {
                guard let b = ThreadCache.refill(c) else { return XCTFail("refill failed") }
                block = b
            }
            XCTAssertEqual(UInt(bitPattern: block) % 16, 0)
            XCTAssertTrue(seen.insert(UInt(bitPattern: block)).inserted, "block handed out twice")
        }
        for address in seen { hakmem_free(UnsafeMutableRawPointer(bitPattern: address)) }
    }
}
