// Mid tier (blocks of 1¼–64 KiB): one LIFO list per class per thread, shared by all the thread's
// slabs of the class, so the block freed last is the one handed out next, whichever slab it
// belongs to, and is still in the cache (tcmalloc's order). A list per slab, as the Tiny tier
// keeps, handed out blocks freed hundreds of operations earlier whenever a class's live blocks
// did not fit one slab (mid-large-mt: docs/PERFORMANCE.md).
//
// The list is the class's allocation list, `heads[c]` in the thread root: every owned Mid slab's
// `freeTarget` names it, so the owner's free (the hit path, unchanged) pushes onto it, and the
// Mid pop (`allocate(fromClass:)`) takes from it. Owned Mid slabs all sit in the heap's `others`
// list of their class, those with something to hand out (a fresh one, or blocks sent home) moved
// to the front, where refill looks; `current` stays nil. Checked mode keeps the
// per-slab lists of the Tiny tier for every class: its checks need one slab per list.
//
// Counting: a Mid slab's `freesUntilEmpty` is the number of its blocks the program holds (plus
// frees by other threads not yet folded in). The pop adds one; the owner's free takes one away,
// and the free that reaches 0 finds every block of the slab free (`slabEmptied`): on the list,
// or home on the slab's own `localFree` (counted in `live`), where walks of the list send blocks
// below its hot top. Emptied slabs leave together: one walk of the list takes their blocks home,
// and they go back to the pool as ordinary parked slabs. A walk is made once the emptied slabs
// are a quarter of the class's slabs, at maintenance for those emptied a purge delay ago, and at
// thread exit, when every block goes home. Each walk keeps only the top `hotBlocks` on the list,
// so a block is walked at most once below the top: freeing 600 MiB of Mid blocks in random
// order walked the same cold blocks again and again otherwise (0.095 s of frees against 0.055).
// The list running dry takes a slab's home blocks back before carving.
//
// Statistics: allocations are the pops (`mid_pops` in the root). Frees onto the list are not
// seen one by one; they are what went into the list other than by a free (carved blocks, folded
// remote frees, an adopted slab's blocks: `spliced`) subtracted from what came out (pops, blocks
// taken home) and what is still there, settled at each report and at thread exit. Blocks taken
// home are counted as frees when they leave home (their slab given back, or back onto the list),
// and a report counts those of its own thread as they stand.
import CHakmem

struct MidClassState {
    /// Slabs of the class this thread owns.
    var slabs: Int
    /// Times a slab of the class emptied since the last walk.
    var emptied: Int
    /// Blocks put on the list other than by a free since the statistics were last settled.
    var spliced: UInt
}

enum MidTier {
    /// Blocks a walk leaves on top of the list: those freed last, still in the cache.
    static let hotBlocks = 32

    /// Whether class `c` uses the shared per-class list: Mid, outside checked mode.
    @inline(__always)
    static func pools(_ c: Int) -> Bool { SizeClass.isMid(c) && !Options.current.checked }

    @inline(__always)
    static func pops(_ root: UnsafeMutablePointer<HakmemThreadRoot>) -> UnsafeMutablePointer<UInt64> {
        withUnsafeMutablePointer(to: &root.pointee.mid_pops) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self) }
    }

    /// A block just taken from class `c`'s list: for a Mid class, its slab's program holds one
    /// more. Without a branch: aligned allocations land in Tiny and Mid classes at random, and a
    /// test of the class cost 0.39 mispredicts per `aligned` operation (cachegrind, 10 % of its
    /// time). A Tiny slab gets 0 added; `mid_pops` of a Tiny class is never read.
    @inline(__always)
    static func countPop(_ block: UnsafeMutableRawPointer, ofClass c: Int, root: UnsafeMutablePointer<HakmemThreadRoot>) {
        let mid: UInt32 = c > SizeClass.lastTinyClass ? 1 : 0
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
        var candidate = slabs.first
        var scanned = 0
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
        let block = head.pointee!
        head.pointee = block.load(as: UnsafeMutableRawPointer?.self)
        countPop(block, ofClass: c, root: root)
        return block
    }

    /// A slab from the pool joins the thread's list: a fresh one with nothing to hand out yet, or
    /// an adopted one whose free blocks (its exited owner's frees, and other threads') join now;
    /// the exited owner's frees are counted by whoever takes the slab (SharedPool.abandonSlab).
    private static func take(_ slab: Slab, onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                             heap: UnsafeMutablePointer<ThreadHeap>) {
        slab.foldRemoteFrees()
        spliceHomeBlocks(of: slab, count: slab.localCount, onto: head, heap: heap)
        slab.pointee.live = 0
        slab.pointee.freeTarget = UInt(bitPattern: head)
        slab.pointee.emptySince = UInt32(truncatingIfNeeded: OS.milliseconds())
        (heap.pointee.mid + Int(slab.pointee.classIndex)).pointee.slabs &+= 1
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
        (heap.pointee.mid + c).pointee.spliced &+= UInt(count)
    }

    /// Other threads' frees into `slab` join the list; they were counted as frees when pushed.
    private static func spliceRemoteFrees(of slab: Slab, onto head: UnsafeMutablePointer<UnsafeMutableRawPointer?>,
                                          heap: UnsafeMutablePointer<ThreadHeap>) {
        let remote = slab.takeRemoteFrees()
        guard let first = remote.head else { return }
        let c = Int(slab.pointee.classIndex)
        remote.tail!.storeBytes(of: head.pointee, as: UnsafeMutableRawPointer?.self)
        head.pointee = first
        (heap.pointee.mid + c).pointee.spliced &+= UInt(remote.count)
        slab.pointee.freesUntilEmpty &-= remote.count
        if slab.pointee.freesUntilEmpty == 0 { noteEmptied(slab, heap: heap) }
    }

    // MARK: Giving slabs back

    /// The owner's free found no block of `slab` left in the program.
    static func slabEmptied(_ slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        noteEmptied(slab, heap: heap)
        let state = heap.pointee.mid + Int(slab.pointee.classIndex)
        // Keep the slab that just emptied: a program freeing and reallocating the class in a
        // loop would otherwise hand it back and take a fresh one each time.
        if state.pointee.emptied >= 2 && state.pointee.emptied &* 4 >= state.pointee.slabs {
            release(emptiedSlabsOfClass: Int(slab.pointee.classIndex), heap: heap, keeping: slab, olderThan: nil)
        }
    }

    private static func noteEmptied(_ slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        slab.pointee.emptySince = UInt32(truncatingIfNeeded: OS.milliseconds())
        (heap.pointee.mid + Int(slab.pointee.classIndex)).pointee.emptied &+= 1
    }

    /// Gives back the class's slabs whose blocks are all free (except `keeping`; with `olderThan`,
    /// only those that emptied at least that many milliseconds ago): one walk of the list takes
    /// their blocks home, then each goes to the pool as a parked slab with every block home.
    private static func release(emptiedSlabsOfClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>,
                                keeping: Slab?, olderThan age: UInt32?) {
        let state = heap.pointee.mid + c
        let slabs = ThreadCache.others(heap, c)
        let now = UInt32(truncatingIfNeeded: OS.milliseconds())
        var leaving = 0
        var staying = 0
        var candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            guard slab.pointee.freesUntilEmpty == 0 else { continue }
            if let age, now &- slab.pointee.emptySince < age { staying &+= 1; continue }
            if slab == keeping { staying &+= 1; continue }
            slab.pointee.leaving = 1
            leaving &+= 1
        }
        // Those still empty stay counted, so that a later sweep gives them back.
        state.pointee.emptied = staying
        guard leaving > 0 else { return }
        takeBlocksHome(ofClass: c, of: slabs, keepingHot: hotBlocks) { $0.pointee.leaving != 0 }
        candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            guard slab.pointee.leaving != 0 else { continue }
            slab.pointee.leaving = 0
            slabs.remove(slab)
            state.pointee.slabs &-= 1
            slab.pointee.freeTarget = slab.localFreeAddress
            SharedPool.releaseSlab(slab)
        }
    }

    /// Moves blocks from the list to their slab's `localFree`, counting them in the slab's `live`
    /// (so that `localCount` is their number), in one walk: among the top `hot` blocks those of
    /// the slabs `leaves` picks, below them every block. A staying slab that gets its first home
    /// block moves to the front of `slabs`, where refill looks.
    private static func takeBlocksHome(ofClass c: Int, of slabs: IntrusiveList<SlabMeta>, keepingHot hot: Int,
                                       where leaves: (Slab) -> Bool) {
        var link = ThreadCache.heads(ThreadCache.root) + c
        var kept = 0
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
            } else {
                link = block.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
                kept &+= 1
            }
        }
    }

    /// Maintenance, every half purge delay: folds other threads' frees into every Mid list and
    /// gives back the slabs that emptied a purge delay ago (all of them with `force`).
    static func sweep(heap: UnsafeMutablePointer<ThreadHeap>, force: Bool) {
        let heads = ThreadCache.heads(ThreadCache.root)
        for c in (SizeClass.lastTinyClass &+ 1)...SizeClass.lastMidClass {
            let slabs = ThreadCache.others(heap, c)
            var candidate = slabs.first
            while let slab = candidate {
                candidate = slab.pointee.next
                spliceRemoteFrees(of: slab, onto: heads + c, heap: heap)
            }
            if (heap.pointee.mid + c).pointee.emptied > 0 || force {
                release(emptiedSlabsOfClass: c, heap: heap, keeping: nil,
                        olderThan: force ? nil : UInt32(Options.current.purgeDelayMilliseconds))
            }
        }
    }

    // MARK: Thread exit and statistics

    /// Thread exit: every listed block goes home and the class's slabs become ordinary parked
    /// slabs (`live` = held + home, `freesUntilEmpty` = held), left in the `others` list for
    /// the exit path to release or abandon.
    static func sendHome(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>) {
        let slabs = ThreadCache.others(heap, c)
        var candidate = slabs.first
        while let slab = candidate {
            candidate = slab.pointee.next
            slab.pointee.live &+= slab.pointee.freesUntilEmpty
            slab.pointee.freeTarget = slab.localFreeAddress
        }
        takeBlocksHome(ofClass: c, of: slabs, keepingHot: 0) { _ in true }
        settleStatistics(ofClass: c, heap: heap, listed: 0)
        (heap.pointee.mid + c).pointee = MidClassState(slabs: 0, emptied: 0, spliced: 0)
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
    /// pops + blocks taken home (counted as frees when their slab is given back) + `listed`
    /// (still on the list) − what was spliced in.
    static func settleStatistics(ofClass c: Int, heap: UnsafeMutablePointer<ThreadHeap>, listed: UInt) {
        let pops = UInt(truncatingIfNeeded: MidTier.pops(ThreadCache.root)[c])
        let state = heap.pointee.mid + c
        let counters = heap.pointee.counters + c
        counters.pointee.handedOut &+= pops
        counters.pointee.freed &+= pops &+ listed &- state.pointee.spliced
        MidTier.pops(ThreadCache.root)[c] = 0
        state.pointee.spliced = listed
    }
}
