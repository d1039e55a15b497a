// Shared pool: where every slab comes from and goes back to. One per process, behind one lock,
// taken only when a thread's own slabs are exhausted or a slab becomes entirely free, i.e. once
// per tens of kilobytes of allocation, never on a hit.
//
// A slab is acquired in this order (the seeds' "three-stage" acquire, with abandoned slabs first):
//   1. an abandoned slab of the class (its thread exited; it still holds live and free blocks),
//   2. an EMPTY slab of the same length in slots (cheap to reformat: carving is lazy),
//   3. UNUSED slots claimed in a SuperSlab that has room,
//   4. a SuperSlab from the cache of entirely unused ones,
//   5. a freshly mapped SuperSlab.
// Entirely free slabs come back as EMPTY up to a byte budget; past it their slots become UNUSED,
// and a SuperSlab whose slots are all UNUSED goes to a bounded cache, then back to the kernel.
//
// Why a lock rather than lock-free stacks: the pool is visited rarely and briefly, and HAKMEM's
// own lock-free free list (seed 003) came out slower than a mutex; what costs is sharing, which
// the per-thread slabs already avoid. The lock counts its contention for the statistics.

import Synchronization

struct PoolState: ~Copyable {
    var lockWord: LockWord
    /// SuperSlabs with at least one UNUSED slot and at least one used one.
    var partial: ListEnds<SuperSlabHeader>
    /// Entirely unused SuperSlabs, most recently emptied first.
    var cached: ListEnds<SuperSlabHeader>
    var cachedCount: Int
    var emptySpanBytes: Int
    var superSlabsMapped: UInt
    var superSlabsUnmapped: UInt
    var slabsAdopted: UInt
    /// Per class: abandoned slabs. Per slot count: EMPTY slabs.
    var abandoned: UnsafeMutablePointer<ListEnds<SlabMeta>>
    var emptySpans: UnsafeMutablePointer<ListEnds<SlabMeta>>
}

enum SharedPool {
    nonisolated(unsafe) static var state: UnsafeMutablePointer<PoolState>? = nil

    /// EMPTY slabs kept formatted for reuse before their slots are released.
    static let emptySpanBudget = 8 << 20
    /// Entirely unused SuperSlabs kept mapped before being unmapped.
    static let cachedSuperSlabLimit = 4

    static let listNone: UInt32 = 0
    static let listPartial: UInt32 = 1
    static let listCached: UInt32 = 2

    static func initialize(in region: UnsafeMutableRawPointer) -> Int {
        let pointer = region.assumingMemoryBound(to: PoolState.self)
        let arrays = (region + MemoryLayout<PoolState>.stride).assumingMemoryBound(to: ListEnds<SlabMeta>.self)
        pointer.pointee.abandoned = arrays
        pointer.pointee.emptySpans = arrays + SizeClass.count
        state = pointer
        return MemoryLayout<PoolState>.stride + (SizeClass.count + SuperSlab.slotCount) * MemoryLayout<ListEnds<SlabMeta>>.stride
    }

    static var lock: FutexLock {
        FutexLock(word: withUnsafeMutablePointer(to: &state!.pointee.lockWord) { $0 })
    }

    private static var partialList: IntrusiveList<SuperSlabHeader> {
        IntrusiveList(ends: withUnsafeMutablePointer(to: &state!.pointee.partial) { $0 })
    }
    private static var cachedList: IntrusiveList<SuperSlabHeader> {
        IntrusiveList(ends: withUnsafeMutablePointer(to: &state!.pointee.cached) { $0 })
    }
    private static func abandonedList(_ c: Int) -> IntrusiveList<SlabMeta> {
        IntrusiveList(ends: state!.pointee.abandoned + c)
    }
    private static func emptyList(slots: Int) -> IntrusiveList<SlabMeta> {
        IntrusiveList(ends: state!.pointee.emptySpans + slots)
    }

    /// A slab of class `c` owned by `owner`, or nil if the system has no memory left.
    /// An adopted slab may have no free block yet; the caller collects and decides.
    static func acquireSlab(forClass c: Int, owner: UInt) -> Slab? {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        if let slab = abandonedList(c).popFront() {
            state!.pointee.slabsAdopted &+= 1
            slab.pointee.owner.store(owner, ordering: .releasing)
            return slab
        }
        let slots = SizeClass.slotsPerSlab(ofClass: c)
        if var slab = emptyList(slots: slots).popFront() {
            state!.pointee.emptySpanBytes &-= slots &* SuperSlab.slotSize
            slab.format(forClass: c, owner: owner)
            return slab
        }
        guard var slab = claimSlots(slots) else { return nil }
        slab.format(forClass: c, owner: owner)
        return slab
    }

    private static func claimSlots(_ slots: Int) -> Slab? {
        var candidate = partialList.first
        while let header = candidate {
            candidate = header.pointee.next
            if let slot = SuperSlab.claimSlots(header, count: slots) {
                if header.pointee.usedSlots == SuperSlab.allSlotsUsed { move(header, to: listNone) }
                return SuperSlab.slab(header, slot: slot)
            }
        }
        let header: UnsafeMutablePointer<SuperSlabHeader>
        if let cached = cachedList.first {
            move(cached, to: listNone)
            state!.pointee.cachedCount &-= 1
            header = cached
        } else {
            guard let fresh = SuperSlab.map() else { return nil }
            state!.pointee.superSlabsMapped &+= 1
            header = fresh
        }
        let slot = SuperSlab.claimSlots(header, count: slots)!
        if header.pointee.usedSlots != SuperSlab.allSlotsUsed { move(header, to: listPartial) }
        return SuperSlab.slab(header, slot: slot)
    }

    private static func move(_ header: UnsafeMutablePointer<SuperSlabHeader>, to list: UInt32) {
        switch header.pointee.list {
        case listPartial: partialList.remove(header)
        case listCached: cachedList.remove(header)
        default: break
        }
        header.pointee.list = list
        switch list {
        case listPartial: partialList.pushFront(header)
        case listCached: cachedList.pushFront(header)
        default: break
        }
    }

    /// Takes back a slab with no live block. Its owner has stopped using it.
    static func releaseSlab(_ slab: Slab) {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        slab.pointee.owner.store(0, ordering: .relaxed)
        slab.pointee.state = SlabMeta.empty
        let bytes = Int(slab.pointee.slotCount) &* SuperSlab.slotSize
        if state!.pointee.emptySpanBytes &+ bytes <= emptySpanBudget {
            state!.pointee.emptySpanBytes &+= bytes
            emptyList(slots: Int(slab.pointee.slotCount)).pushFront(slab)
            return
        }
        releaseSlots(of: slab)
    }

    private static func releaseSlots(of slab: Slab) {
        let header = SuperSlab.superSlab(of: slab)
        SuperSlab.releaseSlots(of: slab)
        guard SuperSlab.isEntirelyUnused(header) else {
            if header.pointee.list == listNone { move(header, to: listPartial) }
            return
        }
        if state!.pointee.cachedCount < cachedSuperSlabLimit {
            move(header, to: listCached)
            state!.pointee.cachedCount &+= 1
        } else {
            move(header, to: listNone)
            SuperSlab.unmap(header)
            state!.pointee.superSlabsUnmapped &+= 1
        }
    }

    /// Hands a slab that still has live blocks to the pool after its owner thread exited;
    /// the next thread that needs its class adopts it, remote frees meanwhile keep arriving.
    static func abandonSlab(_ slab: Slab) {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        slab.pointee.owner.store(SlabMeta.abandonedOwner, ordering: .releasing)
        abandonedList(Int(slab.pointee.classIndex)).pushFront(slab)
    }
}
