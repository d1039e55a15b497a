// Slot table: free's map from a 64 KiB slot to the descriptor of the slab holding it, for the
// 128 GiB of address space centred on the table (the kernel places mappings next to each other,
// downwards in the usual layout and upwards in the legacy one, and fills holes left above or
// below, so nearly all SuperSlabs land within 64 GiB of it). One load finds a block's
// descriptor, and the range test that finds the entry also rejects misaligned pointers, so
// free's hit path needs neither the chunk map nor the SuperSlab's `slabHead` (PERFORMANCE.md,
// "free: 21 instructions"). `HAKMEM_STATS` counts the SuperSlabs mapped beyond the range.
//
// Entries hold the descriptor's offset from the table's start. An entry never written is 0 and
// names the dummy descriptor at the table's start, whose owner is no thread's and whose state is
// UNUSED (the zeroed page): a pointer into anything that is not a slab (a huge block, a foreign
// mapping, an unused slot) leaves the hit path at the owner test, fails `freeToOtherThread`'s
// ACTIVE test, and is handed to `freeUnusual` there. A SuperSlab the
// kernel placed outside the range has no entries; its frees take `freeUnusual` too, which finds
// them through the chunk map and `slabHead` as before.
//
// Writers hold the pool lock: a span's entries are written with its `slabHead` entries, before
// the slab is handed out, and a SuperSlab's are cleared before it is unmapped. Readers take no
// lock. The table is mapped just before the first SuperSlab (16 MiB of address space,
// MAP_NORESERVE: a page holds the entries of 16 SuperSlabs); until then the range's start puts
// every address out of range, and if the mapping fails it stays so and frees go the chunk map's
// way.

import Synchronization

enum SlotTable {
    static let rangeSize = 128 << 30
    static let entryCount = UInt(rangeSize &>> SuperSlab.slotShift)
    /// The entries start a page after the dummy descriptor.
    static let entriesOffset = 4096
    static let mappedSize = entriesOffset &+ Int(entryCount) &* MemoryLayout<Int>.size
    /// What the dummy descriptor's owner holds: not a heap (those are aligned), not 0 (the tag of
    /// a thread without one), not `SlabMeta.abandonedOwner`.
    static let dummyOwner: UInt = 3

    /// The first address in range (the sentinel puts every user-space address out of range) and
    /// the table, side by side: free reads both.
    nonisolated(unsafe) static var placement: (rangeStart: UInt, table: UnsafeMutableRawPointer?) = (sentinel, nil)
    static let sentinel: UInt = 1 &<< 63
    static var table: UnsafeMutableRawPointer? { placement.table }

    /// The slot of `address` counted from the range's start, or a number of `slotBound` or more
    /// for an address out of range or not 16-byte aligned: rotating the low 4 bits to the top
    /// makes a misaligned address's slot number enormous. The last slot of the range is left
    /// out, so the bound is not a power of two: against one, LLVM tests the top bits and shifts
    /// twice.
    @inline(__always)
    static func slot(ofAligned address: UInt) -> UInt {
        let relative = address &- placement.rangeStart
        return ((relative &>> 4) | (relative &<< 60)) &>> UInt(SuperSlab.slotShift &- 4)
    }

    static let slotBound = entryCount &- 1

    /// free's hit path: the descriptor of `slot`'s slab as the table's start and an offset, which
    /// the hit path adds in its addressing modes. Only for a slot below `slotBound`, which means
    /// the table is mapped.
    @inline(__always)
    static func descriptorLocation(ofSlot slot: UInt) -> (base: UnsafeRawPointer, offset: Int) {
        let base = UnsafeRawPointer(table.unsafelyUnwrapped)
        return (base, (base + entriesOffset).assumingMemoryBound(to: Int.self)[Int(bitPattern: slot)])
    }

    /// Whether `slab` is the dummy descriptor (what an entry never written names).
    static func isDummy(_ slab: Slab) -> Bool {
        UnsafeMutableRawPointer(slab) == table
    }

    /// Maps the table and centres the range on it. Caller holds the pool lock.
    static func prepare() {
        guard placement.table == nil, let mapped = OS.mapAnonymous(mappedSize) else { return }
        mapped.assumingMemoryBound(to: SlabMeta.self).pointee.owner.store(dummyOwner, ordering: .relaxed)
        let centre = UInt(bitPattern: mapped)
        let start = centre > UInt(rangeSize / 2) ? centre &- UInt(rangeSize / 2) : 0
        placement = (start & ~UInt(SuperSlab.size &- 1), mapped)
    }

    /// Points the entries of slots `first ..< first + count` of `header`'s SuperSlab at the
    /// descriptor at `descriptorOffset` in it. Nothing for a SuperSlab out of range.
    static func record(_ header: UnsafeMutablePointer<SuperSlabHeader>, first: Int, count: Int, descriptorOffset: Int) {
        guard let entries = entries(of: header) else { return }
        let descriptor = UInt(bitPattern: header) &+ UInt(descriptorOffset)
        let value = Int(bitPattern: descriptor &- UInt(bitPattern: table))
        for slot in first..<(first &+ count) { entries[slot] = value }
    }

    /// Clears a SuperSlab's entries before it is unmapped: the address range may next hold a
    /// huge block or someone else's mapping.
    static func clear(_ header: UnsafeMutablePointer<SuperSlabHeader>) {
        guard let entries = entries(of: header) else { return }
        for slot in 0..<SuperSlab.slotCount { entries[slot] = 0 }
    }

    /// Whether free's hit path finds the slabs of `header`'s SuperSlab through the table.
    static func covers(_ header: UnsafeMutablePointer<SuperSlabHeader>) -> Bool {
        entries(of: header) != nil
    }

    private static func entries(of header: UnsafeMutablePointer<SuperSlabHeader>) -> UnsafeMutablePointer<Int>? {
        let first = slot(ofAligned: UInt(bitPattern: header))
        guard let table, first &+ UInt(SuperSlab.slotCount) <= slotBound else { return nil }
        return (table + entriesOffset).assumingMemoryBound(to: Int.self) + Int(first)
    }
}
