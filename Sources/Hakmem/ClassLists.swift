// Class lists: the classes from 320 B to 64 KiB (Tiny above 256 B, and Mid) hand out blocks from
// one LIFO list per class per thread, shared by all the thread's slabs of the class, so the block
// freed last is the one handed out next, whichever slab it belongs to, and is still in the cache
// (tcmalloc's order). A list per slab handed out blocks freed hundreds of operations earlier
// whenever a class's live blocks did not fit one slab (mid-large-mt and random-mixed:
// docs/PERFORMANCE.md). Smaller classes keep a list per slab (ThreadCache; see `firstClass`).
//
// The list is the class's allocation list, `heads[c]` in the thread root: every owned slab of
// the class names it as `freeTarget`, so the owner's free (the hit path) pushes onto it, and
// malloc's hit path (`pop(fromClass:root:knownToBeMid:)` for Mid classes) takes from it. Owned slabs
// all sit in the heap's `others` list of their class, those with something to hand out (a fresh
// one, or blocks sent home) moved to the front, where refill looks; `current` stays nil.
// Checked mode keeps per-slab lists for every class (ThreadCache): its checks need one slab per
// list. Large classes (one block per slab) have no list.
//
// Emptiness. A slab's blocks are home (its own `localFree`, counted in `live`, or not carved
// yet), on the list, held by the program, or freed by another thread and not taken yet; the
// slab is empty when none is held. `freesUntilEmpty` counts down with every owner free:
// - Mid: the pop adds one, so the countdown is exactly the blocks held (plus other threads' frees
//   not taken yet), and the free that reaches 0 finds the slab empty.
// - Tiny: malloc's hit path stays 12 instructions and counts nothing, so the countdown is only a
//   lower bound of what is held (at least 1, so that a free can always reach 0). Reaching 0 says
//   the slab may be empty; a walk finds out. It is made exact whenever the list is empty (at
//   refill), when every block not home is held.
// Either way the slab is marked `mayBeEmpty`. Marked slabs are looked at together, once they are
// a quarter of the class's slabs (Mid) or half (Tiny, whose marks are mostly wrong in a steady
// state), at maintenance for those marked a purge delay ago, and at thread exit, when every
// block goes home. A first walk of the list keeps its top `hotBlocks` and sends the rest home,
// so a block is walked at most once below the top (freeing 600 MiB of Mid blocks in random order
// walked the same cold blocks again and again otherwise: 0.095 s of frees against 0.055), and
// counts the marked slabs' blocks left on top: then what each holds is exact. A second walk,
// of the top only, takes the empty ones' blocks home, and they go back to the pool as ordinary
// parked slabs. The list running dry takes other threads' frees and home blocks back before
// carving.
//
// Statistics. Frees onto the list are not seen one by one, nor are Tiny pops. What goes through
// the list balances: what went in other than by a free (carved blocks, other threads' frees, an
// adopted slab's blocks: `spliced`) plus the owner's frees equals the pops, plus the blocks taken
// home, plus what is still there. Mid counts its pops (`list_pops` in the root); Tiny counts its
// frees from the countdowns (every owner free takes exactly one away; `setCountdown` collects
// them whenever a countdown is set otherwise). Settled at each report and at thread exit.
// Blocks taken home are counted as frees when they leave home (their slab given back, or back
// onto the list), and a report counts those of its own thread as they stand.
import CHakmem

struct ClassListState {
    /// Slabs of the class this thread owns.
    var slabs: Int
    /// Slabs of the class marked `mayBeEmpty`: their countdown ran out since the last walk.
    var emptied: Int
    /// Blocks put on the list other than by a free since the statistics were last settled.
    var spliced: UInt
    /// Blocks walks took from the list home since then.
    var takenHome: UInt
    /// Owner frees counted from slabs' countdowns since then (Tiny classes).
    var frees: UInt
}

enum ClassLists {
    /// Blocks a walk leaves on top of the list: those freed last, still in the cache.
    static let hotBlocks = 32

    /// The first class with a class list: 320 B. A slab of blocks up to 256 B holds 256 of them or
    /// more, so a class's live blocks seldom spread over many slabs and the slab's own list serves
    /// them well (ThreadCache); and walks cost a cache miss per small block sent home. With lists
    /// for every class python ran 10 % slower (465 → 513 ms, its walks 150 k last-level misses
    /// under cachegrind); from 320 B it runs as before and random-mixed 5 % faster; from 640 B
    /// random-mixed missed the first-level cache 5 % more than from 320 B.
    static let firstClass = 13

    /// Whether class `c` uses the shared per-class list: Tiny above 256 B and Mid, outside checked
    /// mode.
    @inline(__always)
    static func serves(_ c: Int) -> Bool { c >= firstClass && c <= SizeClass.lastMidClass && !Options.current.checked }

    /// Whether the class's pops are counted, so that its slabs' countdowns are exact (Mid), or
    /// not, so that a countdown is a lower bound of the blocks held, at least 1 (Tiny).
    @inline(__always)
    static func countsPops(_ c: Int) -> Bool { c > SizeClass.lastTinyClass }

    @inline(__always)
    static func pops(_ root: UnsafeMutablePointer<HakmemThreadRoot>) -> UnsafeMutablePointer<UInt64> {
        withUnsafeMutablePointer(to: &root.pointee.list_pops) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self) }
    }

    /// A block just taken from class `c`'s list: for a Mid class, its slab's program holds one
    /// more. Without a branch: aligned allocations land in Tiny and Mid classes at random, and a
    /// test of the class cost 0.39 mispredicts per `aligned` operation (cachegrind, 10 % of its
    /// time). A Tiny slab gets 0 added; `list_pops` of a Tiny class is never read.
    @inline(__always)
    static func countPop(_ block: UnsafeMutableRawPointer, ofClass c: Int, root: UnsafeMutablePointer<HakmemThreadRoot>,
                         isMid: Bool) {
        let mid: UInt32 = isMid ? 1 : 0
        SuperSlab.slab(containing: UInt(bitPattern: block)).pointee.freesUntilEmpty &+= mid
        pops(root)[c] &+= 1
    }

    // MARK: Refill

    /// Fills the empty list of class `c` and pops a block: other threads' frees into this
    /// thread's slabs first, then blocks a walk sent home, then fresh blocks, each from the slabs
    /// near the front; then a slab from the pool (an abandoned one adopted, or a new one).
    static func refill(_ c: Int, heap: UnsafeMutablePointer<ThreadHeap>) -> UnsafeMutableRawPointer? {
        let root = ThreadCache.root
        let head = ThreadCache.heads(root) + c
        let slabs = ThreadCache.others(heap, c)
        let state = heap.pointee.lists + c
        var candidate = slabs.first
        var scanned = 0
        if !countsPops(c) {
            // The list is empty, so every block of a slab that is not home is held, or freed by
            // another thread and not taken yet: the countdowns can be exact for once. Done before
            // any block joins the list, since the loop below may come back to a slab it moved.
            while let slab = candidate, scanned < ThreadCache.refillScanLimit {
                candidate = slab.pointee.next
                scanned &+= 1
                let held = slab.pointee.carved &- slab.pointee.live
                guard held != 0 else { continue }
                setCountdown(of: slab, to: held, state: state)
                if slab.pointee.mayBeEmpty != 0 {
                    slab.pointee.mayBeEmpty = 0
                    state.pointee.emptied &-= 1
                }
            }
            candidate = slabs.first
            scanned = 0
        }
        while let slab = candidate, scanned < ThreadCache.refillScanLimit {
            candidate = slab.pointee.next
            scanned &+= 1
            spliceRemoteFrees(of: slab, onto: head, heap: heap)
            // Nothing left to hand out: to the back, so that the next refill looks at other
            // slabs' remote frees instead of carving a new slab while they wait for a sweep.
            if slab.pointee.localFree == nil && slab.pointee.carved == slab.pointee.capacity && slabs.last != slab {
                slabs.remove(slab)
                slabs.pushBack(slab)
            }
        }
        while head.pointee == nil {
            candidate = slabs.first
            scanned = 0
            while head.pointee == nil, let slab = candidate, scanned < ThreadCache.refillScanLimit {
                candidate = slab.pointee.next
                scanned &+= 1
                // Home blocks left the list as frees nobody counted yet (`live` counts them).
                spliceHomeBlocks(of: slab, count: slab.pointee.live, onto: head, heap: heap)
            }
            candidate = slabs.first
            scanned = 0
            while head.pointee == nil, var slab = candidate, scanned < ThreadCache.refillScanLimit {
                candidate = slab.pointee.next
                scanned &+= 1
                if slab.pointee.carved < slab.pointee.capacity {
                    let (first, count) = slab.carve()
                    splice(first!, count: count, onto: head, heap: heap, ofClass: c)
                }
            }
            guard head.pointee == nil else { break }
            // The new slab goes first: the next round carves it if it brought no free block.
            guard let slab = SharedPool.acquireSlab(forClass: c, owner: UInt(bitPattern: heap)) else { return nil }
            take(slab, onto: head, heap: heap)
            slabs.pushFront(slab)
        }
        return pop(fromClass: c, root: root)
    }

    /// A slab from the pool joins the thread's list: a fresh one with nothing to hand out yet, or
    /// an adopted one whose free blocks (its exited owner's frees, and other threads') join now;
    /// the exited owner's frees are counted by whoever takes the slab (SharedPool.abandonSlab).
    private static func take(_ slab: Slab, onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                             heap: UnsafeMutablePointer<ThreadHeap>) {
        slab.foldRemoteFrees()
        spliceHomeBlocks(of: slab, count: slab.localCount, onto: head, heap: heap)
        slab.pointee.live = 0
        slab.pointee.mayBeEmpty = 0
        if !countsPops(Int(slab.pointee.classIndex)) && slab.pointee.freesUntilEmpty == 0 { slab.pointee.freesUntilEmpty = 1 }
        slab.pointee.countdownAtSettle = slab.pointee.freesUntilEmpty
        slab.pointee.freeTarget = UInt(bitPattern: head)
        slab.pointee.emptySince = UInt32(truncatingIfNeeded: OS.milliseconds())
        (heap.pointee.lists + Int(slab.pointee.classIndex)).pointee.slabs &+= 1
    }

    /// Moves the `count` blocks on `slab`'s `localFree` onto the list, counting them as frees
    /// (they were freed, and no count saw them yet).
    private static func spliceHomeBlocks(of slab: Slab, count: UInt32,
                                         onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                                         heap: UnsafeMutablePointer<ThreadHeap>) {
        guard let first = slab.pointee.localFree else { return }
        let c = Int(slab.pointee.classIndex)
        Statistics.countLocalFrees(count, ofClass: c)
        slab.pointee.localFree = nil
        slab.pointee.live = 0
        splice(first, count: count, onto: head, heap: heap, ofClass: c)
    }

    /// Puts a chain of `count` free blocks, linked through their first words and ending in nil, on
    /// top of the list (walking to its end only if the list is not empty).
    private static func splice(_ first: UnsafeMutableRawPointer, count: UInt32,
                               onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                               heap: UnsafeMutablePointer<ThreadHeap>, ofClass c: Int) {
        if let top = head.pointee {
            var last = first
            while let next = last.load(as: UnsafeMutableRawPointer?.self) { last = next }
            last.storeBytes(of: top, as: UnsafeMutableRawPointer?.self)
        }
        head.pointee = first
        (heap.pointee.lists + c).pointee.spliced &+= UInt(count)
    }

    /// Other threads' frees into `slab` join the list; they were counted as frees when pushed.
    private static func spliceRemoteFrees(of slab: Slab, onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                                          heap: UnsafeMutablePointer<ThreadHeap>) {
        let remote = slab.takeRemoteFrees(onto: head.pointee)
        guard let first = remote.head else { return }
        let c = Int(slab.pointee.classIndex)
        head.pointee = first
        let state = heap.pointee.lists + c
        state.pointee.spliced &+= UInt(remote.count)
        if slab.pointee.freesUntilEmpty <= remote.count {
            setCountdown(of: slab, to: 0, state: state)
            noteEmptied(slab, heap: heap)
        } else {
            setCountdown(of: slab, to: slab.pointee.freesUntilEmpty &- remote.count, state: state)
        }
    }

    // MARK: Giving slabs back

    /// The owner's free ran `slab`'s countdown out: for a Mid slab no block is held; a Tiny slab
    /// may still hold some (see the file comment).
    static func slabEmptied(_ slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        noteEmptied(slab, heap: heap)
        // Keep the slab that just emptied: a program freeing and reallocating the class in a
        // loop would otherwise hand it back and take a fresh one each time.
        if walkIsDue(ofClass: Int(slab.pointee.classIndex), heap: heap) {
            release(emptiedSlabsOfClass: Int(slab.pointee.classIndex), heap: heap, keeping: slab, olderThan: nil)
        }
    }

    /// Whether `slabEmptied` has nothing to do: `slab` is listed and marked already (so its
    /// class's count of marked slabs stays as it is) and that count is below the walk's
    /// threshold. A loop that allocates and frees one Mid block ends the countdown of the same
    /// marked slab at every free; this test, first on that slow path, spares it the rest
    /// (48 instructions a free before).
    @inline(__always)
    static func isMarkedBelowWalk(_ slab: Slab) -> Bool {
        guard slab.pointee.mayBeEmpty != 0 else { return false }
        let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: ThreadCache.root.pointee.heap).unsafelyUnwrapped
        return !walkIsDue(ofClass: Int(slab.pointee.classIndex), heap: heap)
    }

    /// Whether enough of the class's slabs are marked for a walk to look at them. A Mid slab
    /// marked is empty; a Tiny one only may be (most are not, in a steady state), so Tiny
    /// classes wait for half their slabs: with a quarter, and lists for every Tiny class,
    /// random-mixed walked 8 400 times in 2 M operations, 4 200 with half.
    @inline(__always)
    private static func walkIsDue(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>) -> Bool {
        let state = heap.pointee.lists + c
        let share = countsPops(c) ? 4 : 2
        return state.pointee.emptied >= 2 && state.pointee.emptied &* share >= state.pointee.slabs
    }

    private static func noteEmptied(_ slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        guard slab.pointee.mayBeEmpty == 0 else { return }
        slab.pointee.mayBeEmpty = 1
        slab.pointee.emptySince = UInt32(truncatingIfNeeded: OS.milliseconds())
        (heap.pointee.lists + Int(slab.pointee.classIndex)).pointee.emptied &+= 1
    }

    /// Gives back the class's slabs whose blocks are all free (except `keeping`; with `olderThan`,
    /// only those whose countdown ran out at least that many milliseconds ago). A first walk of
    /// the list sends the blocks below its hot top home and counts the marked slabs' blocks left
    /// on top: then what each marked slab holds is exact, and those that hold some get that count
    /// as their countdown. A second walk, of the top only, takes the empty ones' blocks home, and
    /// each goes to the pool as a parked slab with every block home.
    private static func release(emptiedSlabsOfClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>,
                                keeping: Slab?, olderThan age: UInt32?) {
        let state = heap.pointee.lists + c
        let slabs = ThreadCache.others(heap, c)
        let now = UInt32(truncatingIfNeeded: OS.milliseconds())
        takeBlocksHome(ofClass: c, heap: heap, keepingHot: hotBlocks, countingMarked: true) { _ in false }
        var leaving = 0
        var staying = 0
        var candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            guard slab.pointee.mayBeEmpty != 0 else { continue }
            // The rest is held, or freed by other threads and not taken yet.
            let held = slab.pointee.carved &- slab.pointee.live &- UInt32(slab.pointee.onHotTop)
            slab.pointee.onHotTop = 0
            if held != 0 {
                setCountdown(of: slab, to: held, state: state)
                slab.pointee.mayBeEmpty = 0
            } else if slab == keeping || (age.map { now &- slab.pointee.emptySince < $0 } ?? false) {
                // Stays marked; a Tiny slab's countdown stays at least 1 (see the file comment).
                setCountdown(of: slab, to: countsPops(c) ? 0 : 1, state: state)
                staying &+= 1
            } else {
                slab.pointee.leaving = 1
                leaving &+= 1
            }
        }
        // Those still empty stay counted, so that a later sweep gives them back.
        state.pointee.emptied = staying
        guard leaving > 0 else { return }
        takeBlocksHome(ofClass: c, heap: heap, keepingHot: hotBlocks, countingMarked: false) { $0.pointee.leaving != 0 }
        candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            guard slab.pointee.leaving != 0 else { continue }
            slab.pointee.leaving = 0
            slab.pointee.mayBeEmpty = 0
            slabs.remove(slab)
            state.pointee.slabs &-= 1
            setCountdown(of: slab, to: 0, state: state)
            slab.pointee.freeTarget = slab.localFreeAddress
            SharedPool.releaseSlab(slab)
        }
    }

    /// Moves blocks from the list to their slab's `localFree`, counting them in the slab's `live`
    /// (so that `localCount` is their number), in one walk: among the top `hot` blocks those of
    /// the slabs `leaves` picks, below them every block. A staying slab that gets its first home
    /// block moves to the front of `slabs`, where refill looks. `countingMarked`: counts in
    /// `onHotTop` the blocks of slabs marked `mayBeEmpty` that stay on top.
    private static func takeBlocksHome(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>, keepingHot hot: Int,
                                       countingMarked: Bool, where leaves: (Slab) -> Bool) {
        let slabs = ThreadCache.others(heap, c)
        var link = ThreadCache.heads(ThreadCache.root) + c
        var kept = 0
        var taken: UInt = 0
        let counting: UInt8 = countingMarked ? 1 : 0
        defer { (heap.pointee.lists + c).pointee.takenHome &+= taken }
        while let block = link.pointee {
            let slab = SuperSlab.slab(containing: UInt(bitPattern: block))
            let leaving = leaves(slab)
            if kept >= hot || leaving {
                if !leaving && slab.pointee.live == 0 && slabs.first != slab {
                    slabs.remove(slab)
                    slabs.pushFront(slab)
                }
                link.pointee = block.load(as: UnsafeMutableRawPointer?.self)
                block.storeBytes(of: slab.pointee.localFree, as: UnsafeMutableRawPointer?.self)
                slab.pointee.localFree = block
                slab.pointee.live &+= 1
                taken &+= 1
            } else {
                // Without a branch: which slabs are marked is not predictable.
                slab.pointee.onHotTop &+= slab.pointee.mayBeEmpty & counting
                link = block.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
                kept &+= 1
            }
        }
    }

    /// Maintenance, every half purge delay: folds other threads' frees into every list, returns
    /// the uncarved pages of Mid slabs that stopped carving, and gives back the slabs that
    /// emptied a purge delay ago (all of them with `force`).
    static func sweep(heap: UnsafeMutablePointer<ThreadHeap>, force: Bool) {
        let heads = ThreadCache.heads(ThreadCache.root)
        for c in firstClass...SizeClass.lastMidClass {
            let slabs = ThreadCache.others(heap, c)
            var candidate = slabs.first
            while let slab = candidate {
                candidate = slab.pointee.next
                spliceRemoteFrees(of: slab, onto: heads + c, heap: heap)
                if SizeClass.isMid(c) { returnUncarvedTail(of: slab, force: force) }
            }
            if (heap.pointee.lists + c).pointee.emptied > 0 || force {
                release(emptiedSlabsOfClass: c, heap: heap, keeping: nil,
                        olderThan: force ? nil : UInt32(Options.current.purgeDelayMilliseconds))
            }
        }
    }

    /// A Mid slab made from an EMPTY span has all its pages resident from the start, where one
    /// made from fresh slots has only those it carved (carving is lazy): python, with slabs in
    /// many Mid classes carved in part, peaked 2 % higher for it (PERFORMANCE.md). So a slab
    /// that carved nothing between two of its owner's sweeps (half a purge delay apart at
    /// least; any, with `force`: `malloc_trim`) returns the pages past its carved blocks, once
    /// (`carveSeen` keeps the count, with `tailReturned` set once returned); a later carve
    /// faults them in again. `freshPages` stays 0: the page the carved blocks end in keeps its
    /// bytes, so calloc may not take the tail for zero.
    static func returnUncarvedTail(of slab: Slab, force: Bool) {
        let carved = slab.pointee.carved
        let seen = slab.pointee.carveSeen
        guard slab.pointee.freshPages == 0, carved < slab.pointee.capacity, seen != carved | SlabMeta.tailReturned else { return }
        guard seen == carved || force else {
            slab.pointee.carveSeen = carved
            return
        }
        slab.pointee.carveSeen = carved | SlabMeta.tailReturned
        let page = UInt(OS.pageSize)
        let carvedEnd = slab.pointee.firstBlock &+ UInt(carved) &* UInt(slab.pointee.blockSize)
        let start = (carvedEnd &+ page &- 1) & ~(page &- 1)
        let end = slab.spanStart &+ UInt(Int(slab.pointee.slotCount) &* SuperSlab.slotSize)
        guard end &- start >= UInt(SuperSlab.slotSize) else { return }
        if OS.purge(UnsafeMutableRawPointer(bitPattern: start)!, Int(end &- start)) {
            SharedPool.countPurgedSlabTail(bytes: Int(end &- start))
        }
    }

    // MARK: Thread exit and statistics

    /// Thread exit: every listed block goes home and the class's slabs become ordinary parked
    /// slabs (`live` = held + home, `freesUntilEmpty` = held), left in the `others` list for
    /// the exit path to release or abandon.
    static func sendHome(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>) {
        let slabs = ThreadCache.others(heap, c)
        takeBlocksHome(ofClass: c, heap: heap, keepingHot: 0, countingMarked: false) { _ in true }
        var candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            // Every block not home is held, or freed by other threads and not taken yet.
            setCountdown(of: slab, to: slab.pointee.carved &- slab.pointee.live, state: heap.pointee.lists + c)
            slab.pointee.live = slab.pointee.carved
            slab.pointee.mayBeEmpty = 0
            slab.pointee.freeTarget = slab.localFreeAddress
        }
        settleStatistics(ofClass: c, heap: heap, listed: 0)
        (heap.pointee.lists + c).pointee = ClassListState(slabs: 0, emptied: 0, spliced: 0, takenHome: 0, frees: 0)
    }

    /// Blocks of class `c` on the `localFree` of the thread's slabs: freed, not counted yet.
    static func homeBlocks(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>) -> UInt {
        var count: UInt = 0
        var candidate = ThreadCache.others(heap, c).first
        while let slab = candidate {
            candidate = slab.pointee.next
            count &+= UInt(slab.pointee.live)
        }
        return count
    }

    /// Counts the class's allocations and frees since the last settling. Frees onto the list are
    /// pops + blocks taken home (counted as frees when they leave home) + `listed` (still on the
    /// list) − what was spliced in; a Tiny class knows its frees and so its pops.
    static func settleStatistics(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>, listed: UInt) {
        let state = heap.pointee.lists + c
        let counters = heap.pointee.counters + c
        let pops: UInt
        if countsPops(c) {
            pops = UInt(truncatingIfNeeded: ClassLists.pops(ThreadCache.root)[c])
            ClassLists.pops(ThreadCache.root)[c] = 0
        } else {
            // The Tiny hit path counts nothing: the frees come from the countdowns, and the pops
            // are what left the list other than home.
            var candidate = ThreadCache.others(heap, c).first
            while let slab = candidate {
                candidate = slab.pointee.next
                setCountdown(of: slab, to: slab.pointee.freesUntilEmpty, state: state)
            }
            pops = state.pointee.spliced &+ state.pointee.frees &- state.pointee.takenHome &- listed
        }
        counters.pointee.handedOut &+= pops
        counters.pointee.freed &+= pops &+ listed &- state.pointee.spliced
        state.pointee.spliced = listed
        state.pointee.takenHome = 0
        state.pointee.frees = 0
    }

    /// Sets a listed slab's countdown other than by a free, first counting (for a Tiny class) the
    /// owner frees it counted down since it was last set: every owner free takes exactly one away.
    private static func setCountdown(of slab: Slab, to value: UInt32, state: UnsafeMutablePointer<ClassListState>) {
        state.pointee.frees &+= UInt(slab.pointee.countdownAtSettle &- slab.pointee.freesUntilEmpty)
        slab.pointee.freesUntilEmpty = value
        slab.pointee.countdownAtSettle = value
    }
}
