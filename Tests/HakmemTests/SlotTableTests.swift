// The slot table (free's map from a 64 KiB slot to its slab's descriptor), on the hosted build:
// every block of a slab, in every slot of a multi-slot span, leads to the slab's descriptor;
// misaligned and out-of-range addresses get slot numbers past the bound; a slot with no slab
// names the dummy descriptor, which no owner tag matches.
import XCTest
import Foundation
@testable import HakmemHosted

final class SlotTableTests: XCTestCase {
    override func setUp() {
        Lifecycle.ensureInitialized()
    }

    private func descriptor(of address: UInt) -> Slab? {
        let slot = SlotTable.slot(ofAligned: address)
        guard slot < SlotTable.slotBound else { return nil }
        let (base, offset) = SlotTable.descriptorLocation(ofSlot: slot)
        return SuperSlab.slab(base, offset)
    }

    func testEveryBlockOfATinySlabLeadsToItsDescriptor() {
        let c = SizeClass.index(forSize: 48)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        defer { SharedPool.releaseSlab(slab) }
        let first = slab.pointee.firstBlock
        for index in [0, 1, 17, Int(slab.pointee.capacity) - 1] {
            let block = first + UInt(index * 48)
            XCTAssertTrue(descriptor(of: block) == slab, "block \(index) of a 48 B slab: the slot table names another descriptor")
        }
        XCTAssertNil(descriptor(of: first + 8), "an address 8 bytes into a block got a slot (misaligned must be out of range)")
        XCTAssertNil(descriptor(of: first + 1), "an odd address got a slot")
    }

    func testEverySlotOfAMultiSlotSpanLeadsToItsDescriptor() {
        let c = SizeClass.index(forSize: 40 << 10)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        defer { SharedPool.releaseSlab(slab) }
        let slots = Int(slab.pointee.slotCount)
        XCTAssertGreaterThan(slots, 1, "a 40 KiB class should take a span of several slots")
        for slot in 0..<slots {
            let address = slab.spanStart + UInt(slot * SuperSlab.slotSize) + UInt(SuperSlab.slotSize / 2)
            XCTAssertTrue(descriptor(of: address & ~15) == slab, "slot \(slot) of a \(slots)-slot span: another descriptor")
        }
    }

    func testAddressesOutsideTheRangeAndSlotsWithoutASlabLeaveTheHitPath() {
        // A slab, so that the table exists (it is mapped with the first SuperSlab).
        guard let slab = SharedPool.acquireSlab(forClass: SizeClass.index(forSize: 64), owner: 0x1000) else { return XCTFail("no slab") }
        defer { SharedPool.releaseSlab(slab) }
        XCTAssertNil(descriptor(of: 0), "NULL got a slot")
        XCTAssertNil(descriptor(of: UInt(bitPattern: -16)), "the top of the address space got a slot")
        XCTAssertNil(descriptor(of: SlotTable.placement.rangeStart &- 16), "the address just below the range got a slot")
        guard let table = SlotTable.table else { return XCTFail("no slot table after a SuperSlab was mapped") }
        // The table's own slots never hold a slab: their entries name the dummy descriptor.
        guard let dummy = descriptor(of: UInt(bitPattern: table) + 4096) else { return XCTFail("the table is outside its own range") }
        XCTAssertTrue(SlotTable.isDummy(dummy), "a slot with no slab does not name the dummy descriptor")
        let owner = dummy.pointee.owner.load(ordering: .relaxed)
        XCTAssertNotEqual(owner, 0, "the dummy's owner matches a thread without a heap")
        XCTAssertNotEqual(owner, SlabMeta.abandonedOwner)
        XCTAssertNotEqual(owner % 8, 0, "the dummy's owner could be a heap's address")
        XCTAssertNotEqual(dummy.pointee.state, SlabMeta.active, "the dummy descriptor looks like an ACTIVE slab")
    }
}
