// SuperSlab: a 2 MiB-aligned region of 32 slots of 64 KiB, shared by all size classes.
//
// Slot 0 holds the header: the slot bitmap, `slabHead` (per slot, the offset in the header of
// the descriptor of the slab holding it: 32 UInt16 in one of 32 tables from byte 64, picked by
// the SuperSlab's address: `slabHeads(of:)`), and the 32 slab descriptors, which start further in
// for some SuperSlabs than for others (`descriptorOffset`: their color). Both colors keep the
// hot lines of 2 MiB-aligned headers out of one first-level cache set.
// Slots 1...31 hold blocks. Keeping metadata out of the slots means a user pointer is never
// preceded by a header: free's hit path finds the slab through the slot table (SlotTable.swift),
// every other path by masking the address for the SuperSlab and reading `slabHead`, and blocks
// stay naturally aligned.
//
// The header's fields other than the slab descriptors belong to the shared pool and change only
// under its lock. `slabHead` entries are written under the lock before the slab is handed out, and
// read by any thread freeing into a slab it obtained a pointer from (so after that write).

struct SuperSlabHeader {
    var magic: UInt64
    /// Bit i set: slot i belongs to an ACTIVE or EMPTY slab (bit 0, the header, always set).
    var usedSlots: UInt32
    /// Which pool list holds this SuperSlab (see SharedPool).
    var list: UInt32
    var next: UnsafeMutablePointer<SuperSlabHeader>?
    var previous: UnsafeMutablePointer<SuperSlabHeader>?
    /// When it entered the cache of empty SuperSlabs, in slow-path ticks.
    var cachedAt: UInt64
}

enum SuperSlab {
    static let size = 2 << 20
    static let shift = 21
    static let slotSize = 64 << 10
    static let slotShift = 16
    static let slotCount = 32
    static let magic: UInt64 = 0x6861_6B6D_656D_5353  // "hakmemSS"
    static let allSlotsUsed = UInt32.max

    /// `slabHead` tables start here, one per head color, 64 B apart; each SuperSlab uses the one
    /// its address picks (`slabHeads(of:)`). With one fixed table every SuperSlab's `slabHead`
    /// line sat in the same first-level cache set, and frees missed it: perl freeing a
    /// 150 000-key hash on 44 % of its frees, mid-large-mt at 1 thread on 36 % (cachegrind); its
    /// CPU per thread went from 0.0776 s to 0.0722 s (tcmalloc 0.0715). free's hit path reads the
    /// slot table now, but `malloc_usable_size` (redis asks at every malloc and free) and the
    /// slow paths still read `slabHead`. The color costs nothing: the address bits that pick the
    /// table sit just above those of the slot, so one wider mask finds the entry.
    static let slabHeadOffset = 64
    static let headColorCount = 32
    static let headTableStride = 64
    static let slabsOffset = slabHeadOffset + headColorCount * headTableStride
    static let slabStride = 128
    /// Descriptor placements (colors) and how far apart they are: a page and four cache lines.
    /// Every SuperSlab is 2 MiB-aligned, so at one fixed offset the descriptors of the same slot
    /// in all of them would share a set of the first-level cache (indexed by the offset in the
    /// page): a thread whose slabs spread over many SuperSlabs missed on its own descriptors.
    /// mid-large-mt's CPU time per thread for 6 M operations, medians of 15 alternated runs:
    /// 0.0836 s alone and 0.1002 s beside a second thread at one offset; 0.0809 and 0.0844 s
    /// with 8 colors (tcmalloc: 0.0747 and 0.0780).
    static let colorCount = 8
    static let colorStride = 4096 + 4 * 64

    @inline(__always)
    static func header(containing address: UInt) -> UnsafeMutablePointer<SuperSlabHeader> {
        UnsafeMutablePointer(bitPattern: address & ~UInt(size &- 1))!
    }

    /// The slab a block address belongs to: mask, slot index, then the descriptor of the slab
    /// holding that slot, whose offset in the header `slabHead` stores ready to add.
    @inline(__always)
    static func slab(containing address: UInt) -> Slab {
        let (base, offset) = descriptorLocation(containing: address)
        return slab(base, offset)
    }

    /// `slab(containing:)` in two parts, the SuperSlab and the descriptor's offset in it, as free
    /// takes them for a SuperSlab outside the slot table's range (`SlotTable.descriptorLocation`
    /// for the others): free reaches the descriptor's fields as base + offset + field in one
    /// addressing mode, with no register holding the descriptor's address.
    @inline(__always)
    static func descriptorLocation(containing address: UInt) -> (base: UnsafeRawPointer, offset: Int) {
        // Pointer arithmetic rather than integer: it lets the offsets fold into addressing modes.
        let base = UnsafeRawPointer(bitPattern: address & ~UInt(size &- 1)).unsafelyUnwrapped
        return (base, Int(base.load(fromByteOffset: slabHeadEntryOffset(containing: address), as: UInt16.self)))
    }

    /// Where in its SuperSlab's header the `slabHead` entry of `address`'s slot is: in the table of
    /// the SuperSlab's color (`slabHeads(of:)`). Shifted right by one bit less than the slot
    /// shift, the address has the slot in bits 1...5 (times an entry's 2 bytes) and the color,
    /// the bits just above, in bits 6...10 (times a table's 64 bytes): one mask takes both.
    @inline(__always)
    static func slabHeadEntryOffset(containing address: UInt) -> Int {
        slabHeadOffset &+ Int(truncatingIfNeeded: (address &>> UInt(slotShift &- 1)) & headEntryMask)
    }

    static let headEntryMask = UInt((slotCount &- 1) &<< 1 | (headColorCount &- 1) &* headTableStride)

    /// The `slabHead` table of `header`'s SuperSlab: the entry of slot 0, found the way free
    /// finds any entry, so the pool writes where free reads.
    static func slabHeads(of header: UnsafeMutablePointer<SuperSlabHeader>) -> UnsafeMutablePointer<UInt16> {
        let address = UInt(bitPattern: header)
        return UnsafeMutablePointer(bitPattern: address &+ UInt(slabHeadEntryOffset(containing: address)))!
    }

    @inline(__always)
    static func slab(_ base: UnsafeRawPointer, _ offset: Int) -> Slab {
        UnsafeMutableRawPointer(mutating: base + offset).assumingMemoryBound(to: SlabMeta.self)
    }

    /// What `slabHead` holds for the slots of a slab starting at slot `first` of `header`'s
    /// SuperSlab: its descriptor's offset, which depends on the SuperSlab's color (the address
    /// bits above the SuperSlab's size, so neighbouring SuperSlabs differ). Whoever reads the
    /// offset from `slabHead` (or the slot table) adds it as it is, so the color costs nothing.
    static func descriptorOffset(ofSlot first: Int, in header: UnsafeMutablePointer<SuperSlabHeader>) -> UInt16 {
        let color = Int(truncatingIfNeeded: (UInt(bitPattern: header) &>> UInt(shift)) % UInt(colorCount))
        return UInt16(slabsOffset &+ color &* colorStride &+ first &* slabStride)
    }

    static func slab(_ header: UnsafeMutablePointer<SuperSlabHeader>, slot: Int) -> Slab {
        Slab(bitPattern: UInt(bitPattern: header) &+ UInt(descriptorOffset(ofSlot: slot, in: header)))!
    }

    static func superSlab(of slab: Slab) -> UnsafeMutablePointer<SuperSlabHeader> {
        header(containing: UInt(bitPattern: slab))
    }

    /// Makes a fresh SuperSlab and registers it in the chunk map (and its spans, as they are made,
    /// in the slot table). Caller holds the pool lock.
    static func map() -> UnsafeMutablePointer<SuperSlabHeader>? {
        SlotTable.prepare()
        guard let base = takeFreshAddressSpace() else { return nil }
        let header = base.assumingMemoryBound(to: SuperSlabHeader.self)
        header.pointee.magic = magic
        header.pointee.usedSlots = 1
        for slot in 1..<slotCount {
            let slab = self.slab(header, slot: slot)
            slab.pointee.firstSlot = UInt8(slot)
        }
        ChunkMap.mark(UInt(bitPattern: base), length: size, as: ChunkMap.superSlab)
        return header
    }

    /// Address space mapped for SuperSlabs and not handed out yet: `reserved.start ..< reserved.end`.
    nonisolated(unsafe) private static var reserved: (start: UInt, end: UInt, regions: Int) = (0, 0, 0)
    /// The most SuperSlabs mapped with one `mmap`.
    static let largestReservation = 16

    /// 2 MiB of fresh, aligned address space. SuperSlabs are mapped several at a time, 1, 2, 4,
    /// up to 16 as the process keeps asking: each `mmap` waits for the process's page faults in
    /// flight and makes new ones wait, so a burst of threads faulting in fresh slabs stalls on
    /// every one. Caller holds the pool lock.
    private static func takeFreshAddressSpace() -> UnsafeMutableRawPointer? {
        if reserved.start == reserved.end {
            var count = 1 << min(reserved.regions, largestReservation.trailingZeroBitCount)
            var region = OS.mapAligned(count &* size, alignment: size)
            if region == nil && count > 1 {
                count = 1
                region = OS.mapAligned(size, alignment: size)
            }
            guard let region else { return nil }
            reserved = (UInt(bitPattern: region), UInt(bitPattern: region) &+ UInt(count &* size), reserved.regions &+ 1)
        }
        let base = reserved.start
        reserved.start &+= UInt(size)
        return UnsafeMutableRawPointer(bitPattern: base)
    }

    static func unmap(_ header: UnsafeMutablePointer<SuperSlabHeader>) {
        let base = UInt(bitPattern: header)
        SlotTable.clear(header)
        ChunkMap.mark(base, length: size, as: ChunkMap.nothing)
        OS.unmap(UnsafeMutableRawPointer(header), size)
    }

    /// Claims `count` contiguous unused slots, returning the first, or nil if there is no room.
    /// Of the runs of unused slots long enough, the shortest (the first of those): the longer
    /// runs stay whole for the longer requests.
    static func claimSlots(_ header: UnsafeMutablePointer<SuperSlabHeader>, count: Int) -> Int? {
        let used = header.pointee.usedSlots
        var best: (first: Int, length: Int)? = nil
        var unused = ~used
        while unused != 0 {
            let first = unused.trailingZeroBitCount
            let length = (~(unused &>> UInt32(first))).trailingZeroBitCount
            if length >= count && length < (best?.length ?? Int.max) { best = (first, length) }
            unused &= first &+ length >= 32 ? 0 : ~((UInt32(1) &<< UInt32(first &+ length)) &- 1)
        }
        guard let best else { return nil }
        header.pointee.usedSlots = used | (runMask(count) &<< UInt32(best.first))
        makeSpan(header, first: best.first, count: count)
        return best.first
    }

    /// The longest run of unused slots: what the shared pool files a partial SuperSlab under.
    static func longestUnusedRun(_ header: UnsafeMutablePointer<SuperSlabHeader>) -> Int {
        var run = 0
        var unused = ~header.pointee.usedSlots
        while unused != 0 {
            unused &= unused &>> 1   // each step shortens every run by one
            run &+= 1
        }
        return run
    }

    /// `count` low bits set.
    private static func runMask(_ count: Int) -> UInt32 {
        count >= 32 ? UInt32.max : (UInt32(1) &<< UInt32(count)) &- 1
    }

    /// Makes slots `first ..< first + count` one span: each slot's `slabHead` names the
    /// descriptor of `first`, which records the span. Caller holds the pool lock.
    @discardableResult
    private static func makeSpan(_ header: UnsafeMutablePointer<SuperSlabHeader>, first: Int, count: Int) -> Slab {
        let heads = slabHeads(of: header)
        let offset = descriptorOffset(ofSlot: first, in: header)
        for slot in first..<(first &+ count) { heads[slot] = offset }
        SlotTable.record(header, first: first, count: count, descriptorOffset: Int(offset))
        let span = slab(header, slot: first)
        span.pointee.slotCount = UInt8(count)
        span.pointee.firstSlot = UInt8(first)
        return span
    }

    /// Shortens a span to its first `count` slots and returns the descriptor of the rest, whose
    /// slots now point to it. Caller holds the pool lock; neither part is in use.
    static func splitSpan(_ span: Slab, keeping count: Int) -> Slab {
        let first = Int(span.pointee.firstSlot)
        let rest = Int(span.pointee.slotCount) &- count
        span.pointee.slotCount = UInt8(count)
        return makeSpan(superSlab(of: span), first: first &+ count, count: rest)
    }

    /// The EMPTY span ending just before `span` in its SuperSlab, if there is one.
    static func emptySpan(before span: Slab) -> Slab? {
        let first = Int(span.pointee.firstSlot)
        guard first > 1 else { return nil }
        return emptySpan(atSlot: first &- 1, of: superSlab(of: span))
    }

    /// The EMPTY span starting just after `span` in its SuperSlab, if there is one.
    static func emptySpan(after span: Slab) -> Slab? {
        let end = Int(span.pointee.firstSlot) &+ Int(span.pointee.slotCount)
        guard end < slotCount else { return nil }
        return emptySpan(atSlot: end, of: superSlab(of: span))
    }

    /// The span holding `slot` if it is EMPTY: a used slot's `slabHead` names its span's descriptor.
    static func emptySpan(atSlot slot: Int, of header: UnsafeMutablePointer<SuperSlabHeader>) -> Slab? {
        guard isUsed(slot: slot, of: header) else { return nil }
        let span = self.slab(containing: UInt(bitPattern: header) &+ UInt(slot &* slotSize))
        return span.pointee.state == SlabMeta.empty ? span : nil
    }

    /// Joins `second` to `first`, the span just before it; neither is in use. Returns `first`,
    /// to which every slot of both now points. Caller holds the pool lock.
    static func join(_ first: Slab, _ second: Slab) -> Slab {
        second.pointee.state = SlabMeta.unused   // no longer the head of a span
        return makeSpan(superSlab(of: first), first: Int(first.pointee.firstSlot),
                        count: Int(first.pointee.slotCount) &+ Int(second.pointee.slotCount))
    }

    static func isUsed(slot: Int, of header: UnsafeMutablePointer<SuperSlabHeader>) -> Bool {
        header.pointee.usedSlots & (UInt32(1) &<< UInt32(slot)) != 0
    }

    /// Stretches a span over the slots after it, up to `count` slots in all: UNUSED ones, or
    /// ones the caller took out of their EMPTY spans. Caller holds the pool lock.
    static func extend(_ span: Slab, toSlots count: Int) {
        let header = superSlab(of: span)
        let first = Int(span.pointee.firstSlot)
        header.pointee.usedSlots |= runMask(count) &<< UInt32(first)
        makeSpan(header, first: first, count: count)
    }

    /// Returns a slab's slots to UNUSED. Caller holds the pool lock.
    static func releaseSlots(of slab: Slab) {
        let header = superSlab(of: slab)
        let first = Int(slab.pointee.firstSlot)
        let count = Int(slab.pointee.slotCount)
        header.pointee.usedSlots &= ~(runMask(count) &<< UInt32(first))
        slab.pointee.state = SlabMeta.unused
    }

    static func isEntirelyUnused(_ header: UnsafeMutablePointer<SuperSlabHeader>) -> Bool {
        header.pointee.usedSlots == 1
    }
}
