// Thread cache: each thread's heap of slabs, and what runs when an allocation list is empty
// (refill), the periodic sweep of the thread's slabs, and thread exit (hand everything back).
//
// The hit paths (API.swift) touch only the thread root (`hakmem_thread_root`, initial-exec TLS):
// malloc pops `heads[c]`, the allocation list of class c. For the classes of 320 B – 64 KiB it
// holds the blocks of all the thread's slabs of the class (ClassLists.swift, which refills,
// sweeps and sends home those classes). The rest is here: the classes up to 256 B (and every
// class in checked mode), where each class has one current slab whose free blocks make up the
// list and the others are parked with their own free lists, and the Large classes, whose
// one-block slabs are parked and never current.
//
// Ownership: a ThreadHeap and every slab it owns are touched only by the owning thread; other
// threads reach its slabs only through their atomic `threadFree` stacks, and the heap only
// through its `giveBack` state (atomics on a line of their own; Maintenance.swift). When the
// thread exits, entirely free slabs go back to the shared pool and the others are abandoned to
// it, to be adopted by the next thread that needs their class: nothing stays stranded with a
// thread.
import CHakmem
import Synchronization

struct ThreadHeap {
    /// Recycling link while the heap is not in use.
    var nextUnused: UnsafeMutablePointer<ThreadHeap>?
    /// Link of the list of every heap, for statistics (under the pool lock).
    var nextInAll: UnsafeMutablePointer<ThreadHeap>?
    /// Per class: the current slab, whose free blocks are the allocation list `heads[c]`.
    var current: UnsafeMutablePointer<Slab?>
    /// Per class: owned slabs that are not current. Parked ones least recently looked at first;
    /// a listed class's slabs in ClassLists' order.
    var others: UnsafeMutablePointer<ListEnds<SlabMeta>>
    /// Per class: this thread's statistics counters.
    var counters: UnsafeMutablePointer<ClassCounters>
    /// Per class, in checked mode only: the encoded free list standing in for `heads[c]`.
    var checkedLists: UnsafeMutablePointer<UInt>
    /// Blocks this thread freed into other threads' slabs, not yet pushed (RemoteFrees).
    var remoteChains: UnsafeMutablePointer<RemoteChain>
    /// When this thread last swept its parked slabs (OS.milliseconds).
    var lastSweep: UInt64
    /// Bytes of entirely free slabs kept parked (`keptFree`) instead of going back to the pool.
    var keptFreeBytes: Int
    /// Per class: the state of the thread's class list (ClassLists).
    var lists: UnsafeMutablePointer<ClassListState>
    /// Slow-path events left before this thread runs maintenance (see Maintenance.count); frees
    /// into other threads' slabs count too, since a thread that only frees (a consumer) must
    /// still let the memory it frees go back to the system.
    var eventsBeforeMaintenance: Int
    /// What other threads read and write: this thread's answers to give-back requests
    /// (Maintenance.swift), on a cache line of its own.
    var giveBack: UnsafeMutablePointer<GiveBackState>
}

enum ThreadCache {
    /// Owned slabs looked at per refill before asking the shared pool for a new one.
    static let refillScanLimit = 8
    /// Entirely free parked slabs a thread keeps for reuse (up to the purge delay, at most one per
    /// class; ClassLists keeps its own) before giving them back: a program that frees and
    /// reallocates the last blocks of a slab in a loop would otherwise take the pool lock and
    /// purge pages on every round. Only the thread itself gives them back, on a slow path, so a thread that goes
    /// idle after a burst keeps them: hence one per class, not a budget's worth.
    static let keptFreeBudget = 4 << 20

    nonisolated(unsafe) static var unusedHeaps: UnsafeMutablePointer<ThreadHeap>? = nil

    @inline(__always)
    static var root: UnsafeMutablePointer<HakmemThreadRoot> {
        withUnsafeMutablePointer(to: &hakmem_thread_root) { $0 }
    }

    @inline(__always)
    static func heads(_ root: UnsafeMutablePointer<HakmemThreadRoot>) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        UnsafeMutableRawPointer(root).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
    }

    @inline(__always)
    static func smallClassTable(_ root: UnsafeMutablePointer<HakmemThreadRoot>) -> UnsafeMutablePointer<UInt8> {
        // After heads[HAKMEM_CLASS_SLOTS], heap and owner_tag.
        (UnsafeMutableRawPointer(root) + MemoryLayout<UInt>.stride &* (Int(HAKMEM_CLASS_SLOTS) &+ 2))
            .assumingMemoryBound(to: UInt8.self)
    }

    static func others(_ heap: UnsafeMutablePointer<ThreadHeap>, _ c: Int) -> IntrusiveList<SlabMeta> {
        IntrusiveList(ends: heap.pointee.others + c)
    }

    /// The calling thread's heap, created (and registered for the thread-exit hook) on first use.
    static func heap() -> UnsafeMutablePointer<ThreadHeap>? {
        let root = self.root
        if root.pointee.heap != 0 { return UnsafeMutablePointer(bitPattern: root.pointee.heap) }
        let lock = SharedPool.lock
        lock.lock()
        var heap = unusedHeaps
        if let recycled = heap {
            unusedHeaps = recycled.pointee.nextUnused
        } else if let fresh = makeHeap() {
            fresh.pointee.nextInAll = Statistics.allHeaps
            Statistics.allHeaps = fresh
            heap = fresh
        }
        lock.unlock()
        guard let heap else { return nil }
        heap.pointee.nextUnused = nil
        heap.pointee.lastSweep = OS.milliseconds()
        Maintenance.startAnswering(heap)
        SizeClass.fillSmallClassTable(smallClassTable(root))
        root.pointee.heap = UInt(bitPattern: heap)
        root.pointee.owner_tag = Options.current.checked ? 0 : UInt(bitPattern: heap)
        Lifecycle.registerThreadExit(heap)
        return heap
    }

    /// A zeroed heap from the metadata arena. Caller holds the pool lock.
    private static func makeHeap() -> UnsafeMutablePointer<ThreadHeap>? {
        let currentBytes = SizeClass.count * MemoryLayout<Slab?>.stride
        let othersBytes = SizeClass.count * MemoryLayout<ListEnds<SlabMeta>>.stride
        let countersBytes = SizeClass.count * MemoryLayout<ClassCounters>.stride
        let checkedBytes = SizeClass.count * MemoryLayout<UInt>.stride
        let chainBytes = RemoteFrees.slotCount * MemoryLayout<RemoteChain>.stride
        let listBytes = SizeClass.count * MemoryLayout<ClassListState>.stride
        // Rounded to whole cache lines, so that nothing of the owner's shares them.
        let giveBackBytes = (MemoryLayout<GiveBackState>.stride &+ 63) & ~63
        // The chains start on a cache line, so that each set of two is one line (RemoteFrees).
        let chainsOffset = (giveBackBytes + MemoryLayout<ThreadHeap>.stride + currentBytes + othersBytes
                            + countersBytes + checkedBytes + 63) & ~63
        guard let raw = Metadata.allocate(chainsOffset + chainBytes + listBytes)
        else { return nil }
        let heap = (raw + giveBackBytes).assumingMemoryBound(to: ThreadHeap.self)
        heap.pointee.giveBack = raw.assumingMemoryBound(to: GiveBackState.self)
        var cursor = raw + giveBackBytes + MemoryLayout<ThreadHeap>.stride
        heap.pointee.current = cursor.assumingMemoryBound(to: Slab?.self)
        cursor += currentBytes
        heap.pointee.others = cursor.assumingMemoryBound(to: ListEnds<SlabMeta>.self)
        cursor += othersBytes
        heap.pointee.counters = cursor.assumingMemoryBound(to: ClassCounters.self)
        cursor += countersBytes
        heap.pointee.checkedLists = cursor.assumingMemoryBound(to: UInt.self)
        cursor = raw + chainsOffset
        heap.pointee.remoteChains = cursor.assumingMemoryBound(to: RemoteChain.self)
        cursor += chainBytes
        heap.pointee.lists = cursor.assumingMemoryBound(to: ClassListState.self)
        return heap
    }

    /// Refills class `c` for the calling thread and returns one block, or nil when out of memory.
    static func refill(_ c: Int) -> UnsafeMutableRawPointer? {
        guard let heap = heap() else { return nil }
        // Before taking more memory, a moment to give some back.
        Maintenance.count(Maintenance.refillWeight, in: heap)
        Maintenance.answerGiveBackRequest(heap)
        if ClassLists.serves(c) { return ClassLists.refill(c, heap: heap) }
        let head = heads(root) + c
        if var slab = heap.pointee.current[c] {
            if let block = take(&slab, into: head, heap: heap) { return block }
            // Every carved block is live: park the slab until frees come back to it.
            slab.park()
            others(heap, c).pushBack(slab)
            heap.pointee.current[c] = nil
        }
        let parked = others(heap, c)
        // A Large class's parked slabs all have their one block live (see `take`): none to scan.
        var scanned = SizeClass.isLarge(c) ? refillScanLimit : 0
        while scanned < refillScanLimit, var slab = parked.first {
            scanned &+= 1
            parked.remove(slab)
            if let block = take(&slab, into: head, heap: heap) {
                heap.pointee.current[c] = slab
                return block
            }
            parked.pushBack(slab)
        }
        while true {
            guard var slab = SharedPool.acquireSlab(forClass: c, owner: UInt(bitPattern: heap)) else { return nil }
            if let block = take(&slab, into: head, heap: heap) {
                if slab.isCurrent { heap.pointee.current[c] = slab } else { parked.pushBack(slab) }
                return block
            }
            // An adopted slab with every block live: keep it parked like our own.
            parked.pushBack(slab)
        }
    }

    /// Moves a slab's free blocks to the allocation list and returns the first, making the slab
    /// current, or returns nil and leaves the slab untouched. A Large slab (one block) is not
    /// made current but stays parked with its block live, so that freeing the block ends its
    /// countdown and sends the slab straight back to the pool (`slabCountdownEnded`): there its
    /// pages serve any class, where a current slab would hold them for this one class.
    private static func take(_ slab: inout Slab, into head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                             heap: UnsafeMutablePointer<ThreadHeap>) -> UnsafeMutableRawPointer? {
        let (first, count) = slab.collectFreeBlocks()
        guard let block = first else { return nil }
        if slab.pointee.keptFree != 0 { unkeep(slab, heap) }
        Statistics.countHandedOut(count, ofClass: Int(slab.pointee.classIndex))
        if SizeClass.isLarge(Int(slab.pointee.classIndex)) {
            slab.pointee.live = 1
            slab.pointee.freesUntilEmpty = 1
            return block
        }
        if slab.isCurrent { slab.settleCurrentCountdown() } else { slab.makeCurrent(allocationList: head) }
        head.pointee = block.load(as: UnsafeMutableRawPointer?.self)
        return block
    }

    /// realloc of a Large block of this thread's to a larger Large class, without moving it,
    /// if the slots after its slab are free (SharedPool.growLargeSlab). Counted as a free of
    /// the old class and an allocation of the new one, as a realloc that copies is.
    static func growLargeBlockInPlace(_ block: UnsafeMutableRawPointer, toHold size: Int) -> Bool {
        let heapAddress = root.pointee.heap
        // A huge block (an aligned one may be this small) has no slab to grow.
        guard heapAddress != 0, !Options.current.checked,
              ChunkMap.kind(of: UInt(bitPattern: block)) == ChunkMap.superSlab else { return false }
        let slab = SuperSlab.slab(containing: UInt(bitPattern: block))
        guard slab.pointee.owner.load(ordering: .relaxed) == heapAddress else { return false }
        let old = Int(slab.pointee.classIndex)
        let new = SizeClass.index(forSize: size)
        guard SharedPool.growLargeSlab(slab, toClass: new) else { return false }
        let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: heapAddress)!
        others(heap, old).remove(slab)
        others(heap, new).pushBack(slab)
        Statistics.countLocalFrees(1, ofClass: old)
        Statistics.countHandedOut(1, ofClass: new)
        return true
    }

    /// The owner's free counted a slab's countdown down to 0. For a parked slab, its last live
    /// block came home: keep the slab at the front of its class's parked list for reuse while the
    /// budget allows, else give it back. A current slab just ran its countdown out: reset it.
    static func slabCountdownEnded(_ slab: Slab) {
        let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: root.pointee.heap)!
        if ClassLists.serves(Int(slab.pointee.classIndex)) { return ClassLists.slabEmptied(slab, heap: heap) }
        if slab.isCurrent { return slab.settleCurrentCountdown() }
        let parked = others(heap, Int(slab.pointee.classIndex))
        parked.remove(slab)
        let bytes = Int(slab.pointee.slotCount) &* SuperSlab.slotSize
        // One kept slab per class is enough for a free-and-reallocate loop; more would only
        // hold memory for a thread that may never come back to a slow path to give it back.
        // A Large slab goes back at once: the pool keeps it resident for a while too, and there
        // a program whose Large sizes keep changing (growing arrays) reuses its pages.
        let alreadyKeeping = parked.first.map { $0.pointee.keptFree != 0 } ?? false
        if !SizeClass.isLarge(Int(slab.pointee.classIndex)) && !alreadyKeeping && heap.pointee.keptFreeBytes &+ bytes <= keptFreeBudget && Options.current.purgeDelayMilliseconds > 0 {
            heap.pointee.keptFreeBytes &+= bytes
            slab.pointee.keptFree = 1
            slab.pointee.emptySince = UInt32(truncatingIfNeeded: OS.milliseconds())
            parked.pushFront(slab)
            return
        }
        SharedPool.releaseSlab(slab)
    }

    private static func unkeep(_ slab: Slab, _ heap: UnsafeMutablePointer<ThreadHeap>) {
        slab.pointee.keptFree = 0
        heap.pointee.keptFreeBytes &-= Int(slab.pointee.slotCount) &* SuperSlab.slotSize
    }

    /// Every purge period, from a slow path of this thread: fold other threads' frees into the
    /// parked slabs and give back those left without a live block, so memory freed by other
    /// threads returns even if this thread never allocates that class again.
    static func sweepParkedSlabs(now: UInt64, force: Bool = false) {
        let rootHeap = root.pointee.heap
        guard rootHeap != 0 else { return }
        let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: rootHeap)!
        if !force && now &- heap.pointee.lastSweep < UInt64(Options.current.purgeDelayMilliseconds / 2) { return }
        heap.pointee.lastSweep = now
        let delay = force ? 0 : UInt32(Options.current.purgeDelayMilliseconds)
        if !Options.current.checked { ClassLists.sweep(heap: heap, force: force) }
        for c in 0..<SizeClass.count where !ClassLists.serves(c) {
            let parked = others(heap, c)
            var candidate = parked.first
            while let slab = candidate {
                candidate = slab.pointee.next
                if slab.pointee.keptFree != 0 {
                    if UInt32(truncatingIfNeeded: now) &- slab.pointee.emptySince >= delay {
                        unkeep(slab, heap)
                        parked.remove(slab)
                        SharedPool.releaseSlab(slab)
                    }
                } else if slab.isEmptyAfterRemoteFrees() {
                    parked.remove(slab)
                    SharedPool.releaseSlab(slab)
                }
            }
        }
    }

    /// Thread exit: every slab goes back to the shared pool, free (EMPTY) or abandoned.
    static func release(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        let root = self.root
        let heads = self.heads(root)
        if Options.current.checked { CheckedMode.returnLists(of: heap) }
        RemoteFrees.flushAll(heap)
        for c in 0..<SizeClass.count {
            if ClassLists.serves(c) { ClassLists.sendHome(ofClass: c, heap: heap) }
            if let slab = heap.pointee.current[c] {
                heap.pointee.current[c] = nil
                slab.park()
                // The allocation list goes back onto the slab's own free list; those blocks were
                // counted as handed out and are neither allocations nor frees.
                var count: UInt32 = 0
                var block = heads[c]
                heads[c] = nil
                while let b = block {
                    let next = b.load(as: UnsafeMutableRawPointer?.self)
                    b.storeBytes(of: slab.pointee.localFree, as: UnsafeMutableRawPointer?.self)
                    slab.pointee.localFree = b
                    count &+= 1
                    block = next
                }
                heap.pointee.counters[c].handedOut &-= UInt(count)
                Statistics.uncountLocalFrees(count, ofClass: c)
                slab.pointee.freesUntilEmpty &-= count
                settle(slab)
            }
            let parked = others(heap, c)
            while let slab = parked.popFront() { settle(slab) }
        }
        heap.pointee.keptFreeBytes = 0
        Maintenance.stopAnswering(heap)
        root.pointee.heap = 0
        root.pointee.owner_tag = 0
        let lock = SharedPool.lock
        lock.lock()
        Statistics.retire(heap)
        heap.pointee.nextUnused = unusedHeaps
        unusedHeaps = heap
        lock.unlock()
    }

    /// Folds remote frees into the slab's own list, then releases or abandons it. An abandoned
    /// slab's local frees are counted by whoever gives it back.
    private static func settle(_ slab: Slab) {
        slab.pointee.keptFree = 0
        if slab.isEmptyAfterRemoteFrees() {
            SharedPool.releaseSlab(slab)
        } else {
            SharedPool.abandonSlab(slab)
        }
    }
}
