// The slot table (free's map from a 64 KiB slot to its slab's descriptor), on the hosted build:
// every block of a slab, in every slot of a multi-slot span, leads to the slab's descriptor when
// its SuperSlab lies in the table's range, and out of the hit path when it does not (the test
// process's other mappings decide where SuperSlabs land); misaligned and out-of-range addresses
// get slot numbers past the bound; a slot with no slab names the dummy descriptor, which no owner
// tag matches.
import XCTest
import Foundation
@testable import HakmemHosted

final class SlotTableTests: XCTestCase {
    override func setUp() {
        Lifecycle.ensureInitialized()
    }

    /// Where the range and the table are, for failure messages.
    private func placement(_ address: UInt) -> String {
        let start = SlotTable.placement.rangeStart
        return "address 0x\(String(address, radix: 16)), range 0x\(String(start, radix: 16))..<0x\(String(start &+ UInt(SlotTable.rangeSize), radix: 16)), table \(String(describing: SlotTable.table))"
    }

    /// The descriptor free's hit path would use for `address`, or nil if it leaves the hit path
    /// at the range test.
    private func descriptor(of address: UInt) -> Slab? {
        let slot = SlotTable.slot(ofAligned: address)
        guard slot < SlotTable.slotBound else { return nil }
        let (base, offset) = SlotTable.descriptorLocation(ofSlot: slot)
        return SuperSlab.slab(base, offset)
    }

    /// Whether the whole SuperSlab holding `address` lies in the range (the last slot excluded).
    private func superSlabInRange(_ address: UInt) -> Bool {
        let header = address & ~UInt(SuperSlab.size - 1)
        let offset = header &- SlotTable.placement.rangeStart
        return offset <= UInt(SlotTable.rangeSize - SuperSlab.size - SuperSlab.slotSize)
    }

    /// `address` of `slab` leads to `slab` if its SuperSlab is in range, else out of the hit path
    /// (out of range, or the dummy of a SuperSlab straddling the range's end).
    private func checkLeadsToSlab(_ address: UInt, _ slab: Slab, _ what: String, line: UInt = #line) {
        let found = descriptor(of: address)
        if superSlabInRange(address) {
            XCTAssertTrue(found == slab, "\(what): the slot table names another descriptor (\(placement(address)))", line: line)
        } else {
            XCTAssertTrue(found == nil || SlotTable.isDummy(found!),
                          "\(what), out of range: the slot table names a slab's descriptor (\(placement(address)))", line: line)
        }
    }

    func testEveryBlockOfATinySlabLeadsToItsDescriptor() {
        let c = SizeClass.index(forSize: 48)
        guard let slab = SharedPool.acquireSlab(forClass: c, owner: 0x1000) else { return XCTFail("no slab") }
        defer { SharedPool.releaseSlab(slab) }
        let first = slab.pointee.firstBlock
        print("SlotTableTests: the 48 B slab's SuperSlab is \(superSlabInRange(first) ? "in" : "beyond") the range (\(placement(first)))")
        for index in [0, 1, 17, Int(slab.pointee.capacity) - 1] {
            checkLeadsToSlab(first + UInt(index * 48), slab, "block \(index) of a 48 B slab")
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
            checkLeadsToSlab(address, slab, "slot \(slot) of a \(slots)-slot span")
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
