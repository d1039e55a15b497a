// Shared pool: where every slab comes from and goes back to. One per process, behind one lock,
// taken only when a thread's own slabs are exhausted or a slab becomes entirely free, i.e. once
// per tens of kilobytes of allocation, never on a hit.
//
// A slab is acquired in this order (the seeds' "three-stage" acquire, with abandoned slabs first):
//   1. an abandoned slab of the class with free blocks (its thread exited; it still holds live ones),
//   2. an EMPTY slab of the same length in slots (cheap to reformat: carving is lazy), else the
//      shortest longer one, split: its pages are resident already, fresh slots are not (EMPTY
//      slabs side by side are joined into one span as they come back, so that long ones form),
//   3. UNUSED slots claimed in the SuperSlab whose longest run of them is the shortest that fits,
//   4. a SuperSlab from the cache of entirely unused ones,
//   5. a freshly mapped SuperSlab.
// Giving memory back: an entirely free slab comes back as EMPTY (pages still resident, ready for
// reuse); after the purge delay its pages are returned to the kernel (MADV_DONTNEED) and its
// slots become UNUSED. Past a budget of EMPTY bytes (16 MiB, more while a thread claims fresh
// slots right after its own frees made the pool purge: ResidentBudget.swift), the longest EMPTY
// spans go at once, several in one system call (`takeSpansPastBudget`).
// Invariant: UNUSED slots hold no resident pages (unless the kernel refused to purge them: locked
// pages, see `OS.purge` and `purgeRefused`). A SuperSlab whose slots are all UNUSED waits
// in a bounded cache, then is unmapped. Abandoned slabs that other threads' frees emptied are
// found by `maintain`.
//
// Why a lock rather than lock-free stacks: the pool is visited rarely and briefly, and HAKMEM's
// own lock-free free list (seed 003) came out slower than a mutex; what costs is sharing, which
// the per-thread slabs already avoid. The lock counts its contention for the statistics.
import Synchronization

struct PoolState: ~Copyable {
    var lockWord: LockWord
    var cachedCount: Int
    var emptySpanBytes: Int
    /// Past this many EMPTY bytes a release purges at once.
    var emptySpanBudget: ResidentBudget
    var counters: PoolCounters
    /// Per class: abandoned slabs. Per slot count: EMPTY slabs, most recently emptied first.
    var abandoned: UnsafeMutablePointer<ListEnds<SlabMeta>>
    var emptySpans: UnsafeMutablePointer<ListEnds<SlabMeta>>
    /// Per class: slabs formatted for the class and not yet given back.
    var slabsInUse: UnsafeMutablePointer<Int>
    /// The lists of SuperSlabs, indexed by `SuperSlabHeader.list`: the cache of entirely unused
    /// ones (most recently emptied first), then per length of their longest run of UNUSED slots
    /// (1 ... 31), those that also have a used one.
    var superSlabs: UnsafeMutablePointer<ListEnds<SuperSlabHeader>>
    /// Bytes faulted in ahead of carves (`Slab.carve`): added by the carving thread, without the lock.
    let bytesPopulated: Atomic<UInt>
    /// Bytes Mid slabs' owners returned from past their carved blocks (ClassLists), without the lock.
    let bytesPurgedFromSlabTails: Atomic<UInt>
}

struct PoolCounters {
    var superSlabsMapped: UInt = 0
    /// Of those, how many the kernel placed outside the slot table's range (their frees take the
    /// chunk map's way: SlotTable.swift).
    var superSlabsBeyondSlotTable: UInt = 0
    var superSlabsUnmapped: UInt = 0
    var slabsAdopted: UInt = 0
    var bytesPurged: UInt = 0
}

enum SharedPool {
    nonisolated(unsafe) static var state: UnsafeMutablePointer<PoolState>? = nil

    /// The most EMPTY bytes kept resident for quick reuse before the purge delay has passed,
    /// once a program has shown that it wants purged memory back (ResidentBudget.swift).
    static let largestEmptySpanBudget = 256 << 20

    /// `SuperSlabHeader.list`: in no list (every slot used, or on its way to the cache or out),
    /// in the cache, or `listPartial(run:)`.
    static let listNone: UInt32 = 0
    static let listCached: UInt32 = 1
    static func listPartial(run: Int) -> UInt32 { UInt32(1 &+ run) }

    static func initialize(in region: UnsafeMutableRawPointer) -> Int {
        let pointer = region.assumingMemoryBound(to: PoolState.self)
        var cursor = region + MemoryLayout<PoolState>.stride
        pointer.pointee.abandoned = cursor.assumingMemoryBound(to: ListEnds<SlabMeta>.self)
        cursor += SizeClass.count * MemoryLayout<ListEnds<SlabMeta>>.stride
        pointer.pointee.emptySpans = cursor.assumingMemoryBound(to: ListEnds<SlabMeta>.self)
        cursor += SuperSlab.slotCount * MemoryLayout<ListEnds<SlabMeta>>.stride
        pointer.pointee.slabsInUse = cursor.assumingMemoryBound(to: Int.self)
        cursor += SizeClass.count * MemoryLayout<Int>.stride
        pointer.pointee.superSlabs = cursor.assumingMemoryBound(to: ListEnds<SuperSlabHeader>.self)
        cursor += (1 &+ SuperSlab.slotCount) * MemoryLayout<ListEnds<SuperSlabHeader>>.stride
        pointer.pointee.counters = PoolCounters()
        pointer.pointee.emptySpanBudget = ResidentBudget(largest: largestEmptySpanBudget, cache: ResidentBudget.sharedPool)
        state = pointer
        return cursor - region
    }

    static var lock: FutexLock {
        FutexLock(word: withUnsafeMutablePointer(to: &state!.pointee.lockWord) { $0 })
    }

    /// The list a SuperSlab whose `list` is `list` is in; not for `listNone`.
    private static func superSlabList(_ list: UInt32) -> IntrusiveList<SuperSlabHeader> {
        IntrusiveList(ends: state!.pointee.superSlabs + (Int(list) &- 1))
    }
    private static var cachedList: IntrusiveList<SuperSlabHeader> { superSlabList(listCached) }
    private static func abandonedList(_ c: Int) -> IntrusiveList<SlabMeta> {
        IntrusiveList(ends: state!.pointee.abandoned + c)
    }
    private static func emptyList(slots: Int) -> IntrusiveList<SlabMeta> {
        IntrusiveList(ends: state!.pointee.emptySpans + slots)
    }

    // MARK: Acquire

    /// A slab of class `c` owned by `owner`, or nil if the system has no memory left.
    /// An adopted slab may have no free block yet; the caller collects and decides.
    static func acquireSlab(forClass c: Int, owner: UInt) -> Slab? {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        // Abandoned slabs with free blocks are at the front (see `abandonSlab`); adopting one
        // with none would only cost a lock round trip now and another at the adopter's exit.
        if let slab = abandonedList(c).first, slab.hasFreeBlocks {
            abandonedList(c).remove(slab)
            state!.pointee.counters.slabsAdopted &+= 1
            slab.pointee.owner.store(owner, ordering: .releasing)
            return slab
        }
        let slots = SizeClass.slotsPerSlab(ofClass: c)
        var slab: Slab
        var freshPages = false
        if let empty = emptyList(slots: slots).popFront() {
            takeFirstSlots(slots, ofEmptySpan: empty)
            slab = empty
        } else if let empty = splitLongerEmptySpan(slots) {
            slab = empty
        } else {
            // Fresh slots will become resident: return as many bytes of the EMPTY slabs, all
            // too short for this request, that only wait for reuse. Their slots turn UNUSED and
            // may join a run long enough for it.
            purgeEmptySpansLocked(bytes: slots &* SuperSlab.slotSize)
            guard let claimed = claimSlots(slots) else { return nil }
            // Purged memory wanted back (a program changing phases, PERFORMANCE.md) grows the budget.
            state!.pointee.emptySpanBudget.noteClaimOfPurgedMemory(slots &* SuperSlab.slotSize)
            slab = claimed
            freshPages = true
        }
        slab.format(forClass: c, owner: owner, freshPages: freshPages)
        state!.pointee.slabsInUse[c] &+= 1
        return slab
    }

    /// Takes the shortest EMPTY span longer than `slots`, keeps its first `slots` slots and
    /// leaves the rest EMPTY: resident pages are reused before fresh ones are touched.
    private static func splitLongerEmptySpan(_ slots: Int) -> Slab? {
        var length = slots &+ 1
        while length < SuperSlab.slotCount {
            if let span = emptyList(slots: length).popFront() {
                takeFirstSlots(slots, ofEmptySpan: span)
                return span
            }
            length &+= 1
        }
        return nil
    }

    /// Takes the first `slots` slots of an EMPTY span already out of its list; the rest, if
    /// any, stays EMPTY in the list of its length. Caller holds the lock.
    private static func takeFirstSlots(_ slots: Int, ofEmptySpan span: Slab) {
        state!.pointee.emptySpanBytes &-= slots &* SuperSlab.slotSize
        let length = Int(span.pointee.slotCount)
        guard length > slots else { return }
        let rest = SuperSlab.splitSpan(span, keeping: slots)
        rest.pointee.state = SlabMeta.empty
        rest.pointee.emptySince = span.pointee.emptySince
        rest.pointee.owner.store(0, ordering: .relaxed)
        emptyList(slots: length &- slots).pushFront(rest)
    }

    /// Grows a Large slab, whose one block is live, in place to class `c`: over the slots after
    /// it in its SuperSlab, if each is UNUSED or in an EMPTY span. A buffer grown by realloc
    /// then keeps its address: nothing is copied, and the pages it filled stay the ones it has.
    /// Returns false, changing nothing, if a slot is taken or the SuperSlab ends first. The
    /// caller owns the slab (and moves it to the class's parked list).
    static func growLargeSlab(_ slab: Slab, toClass c: Int) -> Bool {
        let first = Int(slab.pointee.firstSlot)
        let end = first &+ SizeClass.slotsPerSlab(ofClass: c)
        guard end <= SuperSlab.slotCount else { return false }
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        let header = SuperSlab.superSlab(of: slab)
        let grownFrom = first &+ Int(slab.pointee.slotCount)
        // After the slab, and after each free run or EMPTY span, a used slot starts a span.
        var slot = grownFrom
        while slot < end {
            guard SuperSlab.isUsed(slot: slot, of: header) else {
                slot &+= 1
                continue
            }
            guard let span = SuperSlab.emptySpan(atSlot: slot, of: header) else { return false }
            slot &+= Int(span.pointee.slotCount)
        }
        slot = grownFrom
        while slot < end {
            guard let span = SuperSlab.emptySpan(atSlot: slot, of: header) else {
                slot &+= 1
                continue
            }
            emptyList(slots: Int(span.pointee.slotCount)).remove(span)
            takeFirstSlots(min(Int(span.pointee.slotCount), end &- slot), ofEmptySpan: span)
            slot &+= Int(span.pointee.slotCount)
            span.pointee.state = SlabMeta.unused   // no longer the head of a span
        }
        SuperSlab.extend(slab, toSlots: end &- first)
        refile(header)
        state!.pointee.slabsInUse[Int(slab.pointee.classIndex)] &-= 1
        state!.pointee.slabsInUse[c] &+= 1
        slab.changeLargeClass(to: c)
        return true
    }

    /// UNUSED slots for a slab of `slots` slots: in the partial SuperSlab whose longest unused
    /// run is the shortest that fits (the longer runs stay whole for longer slabs), else in a
    /// cached or fresh SuperSlab. The lists by run make this a look at 31 list heads at most,
    /// where a walk of all partial SuperSlabs took 70 % of a program holding 3 000 blocks of
    /// 100 KB - 1.5 MB (PERFORMANCE.md).
    private static func claimSlots(_ slots: Int) -> Slab? {
        for run in slots..<SuperSlab.slotCount {
            if let header = superSlabList(listPartial(run: run)).first {
                let slot = SuperSlab.claimSlots(header, count: slots)!
                refile(header)
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
            state!.pointee.counters.superSlabsMapped &+= 1
            if !SlotTable.covers(fresh) { state!.pointee.counters.superSlabsBeyondSlotTable &+= 1 }
            header = fresh
        }
        let slot = SuperSlab.claimSlots(header, count: slots)!
        refile(header)
        return SuperSlab.slab(header, slot: slot)
    }

    /// Puts a SuperSlab with a used slot besides the header, whose slots just changed, in the
    /// list of its longest unused run, or in none if it has no unused slot.
    private static func refile(_ header: UnsafeMutablePointer<SuperSlabHeader>) {
        let run = SuperSlab.longestUnusedRun(header)
        move(header, to: run == 0 ? listNone : listPartial(run: run))
    }

    private static func move(_ header: UnsafeMutablePointer<SuperSlabHeader>, to list: UInt32) {
        if header.pointee.list != listNone { superSlabList(header.pointee.list).remove(header) }
        header.pointee.list = list
        if list != listNone { superSlabList(list).pushFront(header) }
    }

    // MARK: Release

    /// Takes back a slab with no live block. Its owner has stopped using it.
    static func releaseSlab(_ slab: Slab) {
        let lock = self.lock
        lock.lock()
        let toPurge = releaseLocked(slab)
        lock.unlock()
        if let toPurge { purgeOutsideLock(toPurge) }
    }

    /// Every slab comes back with all its blocks on its local list: they are counted as frees here.
    /// It becomes EMPTY, joined with the EMPTY spans beside it. Past the EMPTY budget, returns
    /// EMPTY spans taken out of their lists to be purged (`takeSpansPastBudget`): the caller does
    /// that once it has let go of the lock (`purgeOutsideLock`).
    private static func releaseLocked(_ slab: Slab) -> Slab? {
        Statistics.countLocalFrees(slab.localCount, ofClass: Int(slab.pointee.classIndex))
        slab.pointee.owner.store(0, ordering: .relaxed)
        state!.pointee.slabsInUse[Int(slab.pointee.classIndex)] &-= 1
        guard Options.current.purgeDelayMilliseconds > 0 else {
            slab.pointee.next = nil  // a chain of one to purge; the pool owns the slab now
            return slab
        }
        state!.pointee.emptySpanBytes &+= Int(slab.pointee.slotCount) &* SuperSlab.slotSize
        var span = slab
        if let before = SuperSlab.emptySpan(before: span) {
            emptyList(slots: Int(before.pointee.slotCount)).remove(before)
            span = SuperSlab.join(before, span)
        }
        if let after = SuperSlab.emptySpan(after: span) {
            emptyList(slots: Int(after.pointee.slotCount)).remove(after)
            span = SuperSlab.join(span, after)
        }
        let now = OS.milliseconds()
        span.pointee.state = SlabMeta.empty
        span.pointee.emptySince = UInt32(truncatingIfNeeded: now)
        emptyList(slots: Int(span.pointee.slotCount)).pushFront(span)
        guard state!.pointee.emptySpanBytes > state!.pointee.emptySpanBudget.bytes else { return nil }
        state!.pointee.emptySpanBudget.notePurgePastBudget(now: now)
        return takeSpansPastBudget()
    }

    /// The most EMPTY spans purged together, and how far below its budget that takes the pool.
    static let purgeBatchLimit = PurgeRanges.capacity
    static let purgeBatchDepth = ResidentBudget.base / 8

    /// Takes EMPTY spans out of the pool until it holds `purgeBatchDepth` less than its budget
    /// (at most `purgeBatchLimit` spans), longest first, linked through `next`. The longest rather
    /// than the one just released: a burst of frees then returns its pages in fewer and longer
    /// ranges, since the spans it empties have had time to join. Several at once: they go back
    /// in one system call (`OS.purge(_:)`), and the next releases purge nothing until the pool
    /// is past its budget again.
    private static func takeSpansPastBudget() -> Slab? {
        let target = state!.pointee.emptySpanBudget.bytes &- purgeBatchDepth
        var chain: Slab? = nil
        var taken = 0
        while taken < purgeBatchLimit, state!.pointee.emptySpanBytes > target, let span = takeLongestEmptySpan() {
            span.pointee.next = chain
            chain = span
            taken &+= 1
        }
        return chain
    }

    /// Removes the longest EMPTY span (the oldest of that length) from the pool for purging. It
    /// is marked ACTIVE meanwhile, so that no release joins it while its pages go.
    private static func takeLongestEmptySpan() -> Slab? {
        var slots = SuperSlab.slotCount &- 1
        while slots > 0 {
            if let span = emptyList(slots: slots).ends.pointee.last {
                emptyList(slots: slots).remove(span)
                state!.pointee.emptySpanBytes &-= slots &* SuperSlab.slotSize
                span.pointee.state = SlabMeta.active
                return span
            }
            slots &-= 1
        }
        return nil
    }

    /// Purges the pages of spans taken out of the pool (`takeSpansPastBudget`, linked through
    /// `next`) without holding the lock, then returns their slots. A madvise under the lock made
    /// every other thread freeing a burst wait for it (burst-idle: the frees took 0.07 s against
    /// mimalloc's 0.003 s). Meanwhile the spans are in no list and not EMPTY, so no one reuses or
    /// joins them, and their slots stay used, so their SuperSlabs stay.
    private static func purgeOutsideLock(_ spans: Slab) {
        purgePages(of: spans)
        let lock = self.lock
        lock.lock()
        releasePurgedSlots(of: spans)
        lock.unlock()
    }

    /// Purges spans out of the pool's lists (linked through `next`; a span taken out of a list
    /// alone is a chain of one) and returns their slots. Caller holds the lock.
    private static func purgeAndReleaseSlots(of spans: Slab) {
        purgePages(of: spans)
        releasePurgedSlots(of: spans)
    }

    /// The pages of a chain of at most `purgeBatchLimit` spans go back in one call.
    private static func purgePages(of spans: Slab) {
        var ranges = PurgeRanges()
        var span: Slab? = spans
        while let current = span {
            ranges.append(current.spanStart, length: Int(current.pointee.slotCount) &* SuperSlab.slotSize)
            span = current.pointee.next
        }
        OS.purge(&ranges)
    }

    private static func releasePurgedSlots(of spans: Slab) {
        var span: Slab? = spans
        while let current = span {
            span = current.pointee.next
            current.pointee.next = nil
            releasePurgedSlot(of: current)
        }
    }

    /// Returns a purged slab's slots to UNUSED; may cache or unmap the SuperSlab. Caller holds the lock.
    private static func releasePurgedSlot(of slab: Slab) {
        let bytes = Int(slab.pointee.slotCount) &* SuperSlab.slotSize
        state!.pointee.counters.bytesPurged &+= UInt(bytes)
        let header = SuperSlab.superSlab(of: slab)
        SuperSlab.releaseSlots(of: slab)
        guard SuperSlab.isEntirelyUnused(header) else { return refile(header) }
        if state!.pointee.cachedCount < Options.current.superSlabCacheCount {
            header.pointee.cachedAt = OS.milliseconds()
            move(header, to: listCached)
            state!.pointee.cachedCount &+= 1
        } else {
            unmap(header)
        }
    }

    private static func unmap(_ header: UnsafeMutablePointer<SuperSlabHeader>) {
        move(header, to: listNone)
        SuperSlab.unmap(header)
        state!.pointee.counters.superSlabsUnmapped &+= 1
    }

    /// Hands a slab that still has live blocks to the pool after its owner thread exited;
    /// the next thread that needs its class adopts it, remote frees meanwhile keep arriving.
    static func abandonSlab(_ slab: Slab) {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        slab.pointee.abandonedRemaining.store(Int(slab.pointee.freesUntilEmpty), ordering: .relaxed)
        slab.pointee.owner.store(SlabMeta.abandonedOwner, ordering: .releasing)
        // Slabs to adopt first, slabs with every block live last: other threads' frees or a
        // sweep of the abandoned slabs give those back once they are empty.
        if slab.hasFreeBlocks {
            abandonedList(Int(slab.pointee.classIndex)).pushFront(slab)
        } else {
            abandonedList(Int(slab.pointee.classIndex)).pushBack(slab)
        }
    }

    /// Called by a thread that just freed what the countdown says was an abandoned slab's last
    /// live block: the slab goes back now instead of waiting for a sweep. The countdown can be
    /// stale (the slab adopted meanwhile, frees it did not see), so the slab is checked under the
    /// lock, and it may already have been given back and its SuperSlab unmapped: the chunk map,
    /// stable under the lock, says whether to look at all.
    static func reclaimIfEmpty(_ slab: Slab) {
        let lock = self.lock
        lock.lock()
        guard ChunkMap.kind(of: UInt(bitPattern: slab)) == ChunkMap.superSlab,
              slab.pointee.owner.load(ordering: .acquiring) == SlabMeta.abandonedOwner,
              slab.isEmptyAfterRemoteFrees() else { return lock.unlock() }
        abandonedList(Int(slab.pointee.classIndex)).remove(slab)
        let toPurge = releaseLocked(slab)
        lock.unlock()
        if let toPurge { purgeOutsideLock(toPurge) }
    }

    // MARK: Maintenance

    /// Returns memory whose time has come: EMPTY slabs past the purge delay, abandoned slabs
    /// that remote frees emptied, cached SuperSlabs past their age; `force` (malloc_trim)
    /// returns everything returnable now. Never waits for the lock unless forced.
    /// Returns whether any memory went back.
    @discardableResult
    static func maintain(now: UInt64, force: Bool = false) -> Bool {
        guard let state else { return false }
        let lock = self.lock
        if force { lock.lock() } else if !lock.tryLock() { return false }
        defer { lock.unlock() }
        let purgedBefore = state.pointee.counters.bytesPurged
        let unmappedBefore = state.pointee.counters.superSlabsUnmapped
        sweepAbandoned()
        state.pointee.emptySpanBudget.age(now: now, force: force)
        let delay = force ? 0 : UInt32(Options.current.purgeDelayMilliseconds)
        var due = SpansToPurge()
        for slots in 1..<SuperSlab.slotCount {
            let list = emptyList(slots: slots)
            // Split spans keep their age, so a list is not ordered by age: look at every span
            // (at most the budget's worth).
            var candidate = list.first
            while let span = candidate {
                candidate = span.pointee.next
                guard UInt32(truncatingIfNeeded: now) &- span.pointee.emptySince >= delay else { continue }
                list.remove(span)
                state.pointee.emptySpanBytes &-= slots &* SuperSlab.slotSize
                due.add(span)
            }
        }
        due.purgeAndRelease()
        let age = force ? 0 : UInt64(Options.current.superSlabCacheMilliseconds)
        while let oldest = cachedList.ends.pointee.last, now &- oldest.pointee.cachedAt >= age {
            state.pointee.cachedCount &-= 1
            unmap(oldest)
        }
        return state.pointee.counters.bytesPurged != purgedBefore
            || state.pointee.counters.superSlabsUnmapped != unmappedBefore
    }

    /// Purges EMPTY slabs, longest first, until `bytes` are purged or none is left.
    static func purgeEmptySpans(bytes: Int) {
        guard state != nil else { return }
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        purgeEmptySpansLocked(bytes: bytes)
    }

    private static func purgeEmptySpansLocked(bytes: Int) {
        var purged = 0
        var due = SpansToPurge()
        while purged < bytes, let span = takeLongestEmptySpan() {
            purged &+= Int(span.pointee.slotCount) &* SuperSlab.slotSize
            due.add(span)
        }
        due.purgeAndRelease()
    }

    /// Spans out of the pool's lists, gathered under the lock to be purged `purgeBatchLimit` at a time.
    private struct SpansToPurge {
        var chain: Slab? = nil
        var count = 0

        mutating func add(_ span: Slab) {
            span.pointee.next = chain
            chain = span
            count &+= 1
            if count == SharedPool.purgeBatchLimit { purgeAndRelease() }
        }

        mutating func purgeAndRelease() {
            if let chain { SharedPool.purgeAndReleaseSlots(of: chain) }
            chain = nil
            count = 0
        }
    }

    /// Abandoned slabs belong to the pool: fold in their remote frees and release the empty ones.
    private static func sweepAbandoned() {
        for c in 0..<SizeClass.count {
            let list = abandonedList(c)
            var candidate = list.first
            while let slab = candidate {
                candidate = slab.pointee.next
                if slab.isEmptyAfterRemoteFrees() {
                    list.remove(slab)
                    if let toPurge = releaseLocked(slab) { purgeAndReleaseSlots(of: toPurge) }
                } else if slab.pointee.localFree != nil {
                    // Frees came home to a slab that had none: it is worth adopting now.
                    list.remove(slab)
                    list.pushFront(slab)
                }
            }
        }
    }

    // MARK: Statistics

    static func forEachClassInUse(_ body: (Int, Int) -> Void) {
        for c in 0..<SizeClass.count { body(c, state!.pointee.slabsInUse[c]) }
    }

    /// Per class, the blocks waiting on abandoned slabs' own free lists: freed, but counted as
    /// frees only when the slab is given back. Caller holds the lock.
    static func forEachClassAbandonedFrees(_ body: (Int, UInt32) -> Void) {
        for c in 0..<SizeClass.count {
            var frees: UInt32 = 0
            var candidate = abandonedList(c).first
            while let slab = candidate {
                frees &+= slab.localCount
                candidate = slab.pointee.next
            }
            if frees != 0 { body(c, frees) }
        }
    }

    /// With the bytes Mid slabs returned past their carved blocks counted as purged.
    static var counters: PoolCounters {
        var counters = state!.pointee.counters
        counters.bytesPurged &+= state!.pointee.bytesPurgedFromSlabTails.load(ordering: .relaxed)
        return counters
    }
    static func countPurgedSlabTail(bytes: Int) {
        state!.pointee.bytesPurgedFromSlabTails.wrappingAdd(UInt(bytes), ordering: .relaxed)
    }
    static var bytesPopulated: UInt { state!.pointee.bytesPopulated.load(ordering: .relaxed) }
    static func countPopulated(bytes: Int) {
        state!.pointee.bytesPopulated.wrappingAdd(UInt(bytes), ordering: .relaxed)
    }
    static var cachedSuperSlabs: Int { state!.pointee.cachedCount }
    static var emptySlabBytes: Int { state!.pointee.emptySpanBytes }
    static var emptySpanBudget: Int { state!.pointee.emptySpanBudget.bytes }
}
