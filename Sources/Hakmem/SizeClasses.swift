// Size classes: which block size serves a request, and how big a slab of that class is.
//
// Class 0 serves malloc(0); classes 1...8 step by 16 bytes up to 128; above that, four classes
// per doubling (160, 192, 224, 256, 320, ...), so no class wastes more than 20% of a block above
// 128 bytes and at most 15 bytes below. Every block size is a multiple of 16, and every slab
// starts its blocks on a 64 KiB boundary plus a multiple of the block size's largest power-of-two
// divisor (Tiny slabs' cache color, `Slab.colorOffset`), so every block is 16-byte aligned and a
// block whose size is a multiple of A (a power of two ≤ 64 KiB) is A-aligned: aligned allocation
// needs no padding.
//
// Tiers: Tiny ≤ 1 KiB (one 64 KiB slot per slab), Mid ≤ 64 KiB (slabs of 1–16 slots, 16 to 32
// blocks), Large ≤ 1.75 MiB (one block per slab, the largest that fits a SuperSlab),
// and Huge above that (its own mapping, see HugeBlocks.swift).

import CHakmem

enum SizeClass {
    static let count = 64
    static let tinyLimit = 1024
    static let midLimit = 64 * 1024
    static let midBlocksPerSlab = 32
    static let midSlotLimit = 16
    /// The largest request served from a SuperSlab: class 63 is 1.75 MiB.
    static let largeLimit = 1792 * 1024

    /// The class serving `size` bytes; `size` must be ≤ `largeLimit`.
    @inline(__always)
    static func index(forSize size: Int) -> Int {
        if size <= 128 { return (size &+ 15) &>> 4 }
        let w = UInt(size &- 1)
        let log = (UInt.bitWidth &- 1) &- w.leadingZeroBitCount   // 7 ... 20
        let quarter = Int((w &>> UInt(log &- 2)) & 3)
        return 9 &+ (log &- 7) &* 4 &+ quarter
    }

    /// The start-up-filled table of Mid classes (see CHakmem.h).
    @inline(__always)
    static var midClassTable: UnsafeMutablePointer<UInt8> {
        withUnsafeMutablePointer(to: &hakmem_mid_class) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
    }

    /// The class of a request of more than 1 KiB and at most 64 KiB: one load.
    @inline(__always)
    static func midIndex(forSize size: Int) -> Int {
        Int(midClassTable[(size &+ 255) &>> 8])
    }

    static func fillMidClassTable() {
        for i in (tinyLimit / 256)...(midLimit / 256) { midClassTable[i] = UInt8(index(forSize: i &* 256)) }
    }

    /// Fills a thread's `small_class` table, the lookup malloc's hit path uses for requests ≤ 1 KiB
    /// (one load instead of the arithmetic of `index(forSize:)`).
    static func fillSmallClassTable(_ table: UnsafeMutablePointer<UInt8>) {
        for i in 0...(tinyLimit / 16) { table[i] = UInt8(index(forSize: i &* 16)) }
    }

    @inline(__always)
    static func blockSize(ofClass c: Int) -> Int {
        if c <= 8 { return c == 0 ? 16 : c &* 16 }
        let step = UInt(c &- 9)
        let log = 7 &+ (step &>> 2)
        let quarter = step & 3
        return Int((1 &<< log) &+ (quarter &+ 1) &* (1 &<< (log &- 2)))
    }

    /// Whether class `c` is Large: one block per slab.
    static func isLarge(_ c: Int) -> Bool { blockSize(ofClass: c) > midLimit }

    /// The class of `tinyLimit` and that of `midLimit`: classes in between (exclusive, inclusive)
    /// are Mid: their pops are counted, so their slabs know exactly what they hold (ClassLists.swift).
    static let lastTinyClass = 20
    static let lastMidClass = 44

    @inline(__always)
    static func isMid(_ c: Int) -> Bool { c > lastTinyClass && c <= lastMidClass }

    /// Number of 64 KiB slots a slab of this class spans.
    static func slotsPerSlab(ofClass c: Int) -> Int {
        let size = blockSize(ofClass: c)
        if size <= tinyLimit { return 1 }
        if size <= midLimit {
            // Up to 32 blocks per slab, within 16 slots (1 MiB): a thread's frees then mostly land
            // on its current slab, whose blocks are reused without a refill (mid-large-mt: refills
            // fell from one per 4 allocations to one per 200). Carving is lazy, so the untouched
            // rest of a big slab costs address space, not memory.
            var slots = 1
            while slots &* SuperSlab.slotSize < midBlocksPerSlab &* size && slots < midSlotLimit { slots &<<= 1 }
            return slots
        }
        return (size &+ SuperSlab.slotSize &- 1) / SuperSlab.slotSize
    }

    /// Multiplier that turns an offset into a block index with a multiply and a shift:
    /// `(offset * m) >> 41 == offset / size` for every exact multiple `offset` < 2 MiB,
    /// because the error term offset·(m·size − 2⁴¹)/2⁴¹ stays below one.
    static func reciprocal(ofBlockSize size: Int) -> UInt64 {
        (UInt64(1) &<< 41) / UInt64(size) &+ 1
    }
    static let reciprocalShift: UInt64 = 41

    /// The smallest class ≥ `size` whose blocks are `alignment`-aligned (a power of two above 16),
    /// as the start-up table gives it: 0 when the table cannot say (no such class, a size or an
    /// alignment outside the table, or the table not filled yet), which sends the caller to
    /// `index(forSize:alignment:)`. Class 0 is never an answer, so one value marks every case.
    /// The table has a row for every alignment a request can carry (rows above 64 KiB are all 0),
    /// so only the size needs a range check. (Finding the first class that fits from malloc's
    /// small and Mid tables instead of computing it took 12 % fewer instructions but mispredicted
    /// 43 % more branches on the aligned workload, whose sizes straddle 1 KiB at random.)
    @inline(__always)
    static func tabledIndex(forSize size: Int, alignment: Int) -> Int {
        // Unsigned, so that a negative size counts as the huge request it is.
        let wanted = UInt(bitPattern: size) < UInt(bitPattern: alignment) ? UInt(bitPattern: alignment) : UInt(bitPattern: size)
        guard wanted <= UInt(largeLimit) else { return 0 }
        let first = index(forSize: Int(wanted))
        return Int(alignedClassTable[alignment.trailingZeroBitCount &* count &+ first])
    }

    /// `tabledIndex(forSize:alignment:)` worked out without the table, for when it says 0; nil
    /// if no class will do.
    static func index(forSize size: Int, alignment: Int) -> Int? {
        guard UInt(bitPattern: size) <= UInt(largeLimit), alignment <= SuperSlab.slotSize else { return nil }
        return searchAlignedClass(from: index(forSize: size < alignment ? alignment : size), alignment: alignment)
    }

    @inline(__always)
    static var alignedClassTable: UnsafeMutablePointer<UInt8> {
        withUnsafeMutablePointer(to: &hakmem_aligned_class) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
    }

    static func searchAlignedClass(from first: Int, alignment: Int) -> Int? {
        var c = first
        while c < count {
            if blockSize(ofClass: c) & (alignment &- 1) == 0 { return c }
            c &+= 1
        }
        return nil
    }

    static func fillAlignedClassTable() {
        for shift in 5...16 {
            for c in 0..<count {
                alignedClassTable[shift &* count &+ c] = UInt8(searchAlignedClass(from: c, alignment: 1 &<< shift) ?? 0)
            }
        }
    }
}
