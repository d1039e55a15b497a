// Slab: a run of 64 KiB slots inside a SuperSlab, cut into blocks of one size class.
//
// Free-list sharding (as in mimalloc): a slab has three lists, so no list is ever popped by
// more than one thread and none needs a compare-and-swap to pop (no ABA):
//   - the allocation list, in the thread root (`hakmem_thread_root.heads[c]`), popped by the
//     malloc hit path. A slab of 320 B – 64 KiB blocks shares it with its owner's other slabs of
//     the class (ClassLists.swift); of smaller blocks, only while it is the class's current slab
//     (so in checked mode, for every class);
//   - `localFree`: blocks at home: sent there by a walk of the class list, or freed by the owner
//     while the slab is parked or after the owner exited;
//   - `threadFree`: blocks freed by other threads, a lock-free stack they push onto; only the
//     owner (or, after the owner exited, the thread that adopts the slab) takes it, all at once.
// The owner's free pushes onto the list `freeTarget` names: the allocation list while the slab
// is listed (ClassLists) or current, `localFree` while it is parked, so a freed block is the
// next one handed out.
//
// Ownership: `owner` is the ThreadHeap address of the owning thread, `Slab.abandoned` after that
// thread exited, or 0 while the slab sits in the shared pool. Only the owner touches the
// non-atomic fields; the shared pool touches them only while no thread owns the slab.
//
// Counting: one countdown, `freesUntilEmpty`, decremented by every owner free. While the slab is
// parked it holds the live blocks not yet home (`live` minus those on `localFree`), so the free
// that brings the last one home sees 0 and takes the slow path. While a listed slab's blocks are
// on the class list, it counts the blocks held, exactly (Mid) or as a lower bound (Tiny); see
// ClassLists.swift. While the slab is current it starts at `currentCountdown`,
// and what it has counted down is the number of frees pushed onto the allocation list
// (statistics count them when the slab stops being current).
//
// A free block's first word is its link. The second is the allocator's only in three cases: the
// head of a remote-free chain records the chain's tail there (its length goes into `threadFree`),
// checked mode keeps its free mark there, and a Mid or Large block carved from fresh slots
// carries its fresh mark there until it is first handed out (`freshMark`); every hand-out but
// calloc's clears it.
import Synchronization

struct SlabMeta: ~Copyable {
    // First cache line: what the owner's free path reads and writes.
    var localFree: UnsafeMutableRawPointer?
    /// Address of the list the owner's frees push onto: `localFree`, or while the slab is listed or
    /// current the owner's allocation list for the class (in its thread root).
    var freeTarget: UInt
    /// See the file comment: live blocks not yet home (parked), or a countdown of frees (current).
    var freesUntilEmpty: UInt32
    var blockSize: UInt32
    let owner: Atomic<UInt>
    /// Where the blocks start: the span's first slot plus the slab's color (`colorOffset`).
    var firstBlock: UInt
    var reciprocal: UInt64
    var capacity: UInt32
    var carved: UInt32
    /// Carved blocks that were not free when the slab was last parked (see the file comment).
    var live: UInt32
    var classIndex: UInt8
    var state: UInt8
    var slotCount: UInt8
    var firstSlot: UInt8
    /// When the slab became entirely free (OS.milliseconds, truncated), to age it before purging.
    var emptySince: UInt32
    // Second cache line: written by other threads, and list links used on slow paths.
    let threadFree: Atomic<UInt>
    var next: UnsafeMutablePointer<SlabMeta>?
    var previous: UnsafeMutablePointer<SlabMeta>?
    /// 1 while an entirely free slab is kept parked by its owner for reuse (see ThreadCache).
    var keptFree: UInt8
    /// 1 while a listed slab's blocks are being taken out of its owner's list (ClassLists).
    var leaving: UInt8
    /// 1 once a listed slab's countdown ran out: it may be empty, and the next walk of its
    /// class's list finds out (ClassLists).
    var mayBeEmpty: UInt8
    /// While a walk of the class list runs: a marked slab's blocks it left on the hot top.
    var onHotTop: UInt8
    /// A listed slab's countdown when it was last set other than by a free (ClassLists.setCountdown).
    var countdownAtSettle: UInt32
    /// 1 if the slab's slots were UNUSED when it was claimed: its pages past `carved` have never
    /// been touched, so a carve may fault them in with one call (see `carve`).
    var freshPages: UInt8
    /// For a Mid slab on its owner's class list: `carved` as its owner's last sweep saw it, with
    /// `tailReturned` set once a sweep returned the pages past the carved blocks
    /// (ClassLists.returnUncarvedTail).
    var carveSeen: UInt32
    /// While abandoned: blocks still live. Threads freeing into the slab count it down, and the
    /// one that frees the last block gives the slab back at once (SharedPool.reclaimIfEmpty).
    let abandonedRemaining: Atomic<Int>
}

typealias Slab = UnsafeMutablePointer<SlabMeta>

extension SlabMeta {
    /// Slot states, as the shared pool sees them.
    static let unused: UInt8 = 0
    static let active: UInt8 = 1
    static let empty: UInt8 = 2

    /// Owner value of a slab whose thread exited; no ThreadHeap lives at address 1.
    static let abandonedOwner: UInt = 1
    /// `freesUntilEmpty` of a current slab: far above any block count, and reached only after
    /// 2³¹ frees without a refill, which the slow path then just resets.
    static let currentCountdown: UInt32 = 1 << 31
    /// The flag of `carveSeen`; no slab carves 2³¹ blocks, so a count with it never equals `carved`.
    static let tailReturned: UInt32 = 1 << 31
    /// `threadFree` holds the stack's top block in its low 48 bits (SuperSlabs lie below 2^47,
    /// where the chunk map covers them) and the number of blocks on the stack above them: a slab
    /// holds at most 4 096 blocks (16 B in 64 KiB), far below 2^16.
    static let remoteCountShift: UInt = 48
    static let remoteTopMask: UInt = (1 << 48) - 1
}

extension UnsafeMutablePointer where Pointee == SlabMeta {
    /// The address of the span's first slot. The descriptor lives in its SuperSlab's header, so
    /// masking its own address finds the SuperSlab.
    var spanStart: UInt {
        UInt(bitPattern: SuperSlab.header(containing: UInt(bitPattern: self)))
            &+ UInt(Int(pointee.firstSlot) &* SuperSlab.slotSize)
    }

    /// Whether the owner's frees go to its allocation list (the slab is its current slab).
    @inline(__always)
    var isCurrent: Bool { pointee.freeTarget != localFreeAddress }

    @inline(__always)
    var localFreeAddress: UInt {
        UInt(bitPattern: withUnsafeMutablePointer(to: &pointee.localFree) { $0 })
    }

    /// Whether a parked or abandoned slab has a block to hand out: freed, or not carved yet.
    var hasFreeBlocks: Bool {
        pointee.localFree != nil || pointee.carved < pointee.capacity || pointee.threadFree.load(ordering: .relaxed) != 0
    }

    /// Blocks on `localFree` of a parked slab.
    var localCount: UInt32 { pointee.live &- pointee.freesUntilEmpty }

    /// Blocks freed to this slab by the owner plus those other threads pushed, and fresh blocks
    /// carved if both are empty; the slab's own lists are left empty. Returns the list and its length.
    mutating func collectFreeBlocks() -> (head: UnsafeMutableRawPointer?, count: UInt32) {
        var head: UnsafeMutableRawPointer?
        var count: UInt32
        if isCurrent {
            // The owner's own frees went straight to the allocation list: only remote ones wait,
            // and those were counted as frees when pushed.
            (head, count) = takeRemoteFrees()
        } else {
            foldRemoteFrees()
            (head, count) = (pointee.localFree, localCount)
            Statistics.countLocalFrees(count, ofClass: Int(pointee.classIndex))
            pointee.localFree = nil
        }
        if head == nil { return carve() }
        return (head, count)
    }

    /// Whether a parked slab is left without a live block once other threads' frees are counted,
    /// for a caller that then gives it back. The stack's count settles it without reading a
    /// block, and the blocks are dropped with the stack (the slab is formatted anew before its
    /// next use); else they are folded in as `foldRemoteFrees` does. Walking them cost a cache
    /// miss a chain, under the pool's lock for abandoned slabs: burst-idle's frees (600 MiB from
    /// exited threads, half of them Mid blocks, each a chain of one) spent 7 ms of their 17 in
    /// that walk, not counting the purge (docs/PERFORMANCE.md).
    func isEmptyAfterRemoteFrees() -> Bool {
        let stack = pointee.threadFree.load(ordering: .relaxed)
        let pushed = UInt32(truncatingIfNeeded: stack &>> SlabMeta.remoteCountShift)
        // A push landing in between would be a block more than the slab has live: a double free,
        // which the walk then meets as it always did.
        if pushed == pointee.freesUntilEmpty,
           pointee.threadFree.compareExchange(expected: stack, desired: 0, ordering: .acquiring).exchanged {
            countHome(remoteFrees: pushed)
            return true
        }
        foldRemoteFrees()
        return pointee.freesUntilEmpty == 0
    }

    /// Moves the remote frees onto a parked slab's own free list.
    func foldRemoteFrees() {
        let remote = takeRemoteFrees(onto: pointee.localFree)
        guard let first = remote.head else { return }
        pointee.localFree = first
        countHome(remoteFrees: remote.count)
    }

    /// Remote frees taken off the stack are home, no longer held. They were counted as frees when
    /// pushed; home blocks are counted when they are consumed or the slab is given back.
    private func countHome(remoteFrees count: UInt32) {
        pointee.freesUntilEmpty &-= count
        Statistics.uncountLocalFrees(count, ofClass: Int(pointee.classIndex))
    }

    /// Makes the slab its owner's current slab for the class, whose allocation list is `list`.
    mutating func makeCurrent(allocationList list: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        pointee.freeTarget = UInt(bitPattern: list)
        pointee.freesUntilEmpty = SlabMeta.currentCountdown
    }

    /// Frees the owner pushed onto the allocation list since the countdown was last reset: they
    /// are counted as frees, and as blocks handed out again (they were, or still are, on the list).
    func settleCurrentCountdown() {
        let frees = SlabMeta.currentCountdown &- pointee.freesUntilEmpty
        Statistics.countLocalFrees(frees, ofClass: Int(pointee.classIndex))
        Statistics.countHandedOut(frees, ofClass: Int(pointee.classIndex))
        pointee.freesUntilEmpty = SlabMeta.currentCountdown
    }

    /// A current slab whose allocation list is empty and which has no free block left stops
    /// being current: every carved block is live, and the owner's frees go to `localFree` again.
    func park() {
        settleCurrentCountdown()
        pointee.freeTarget = localFreeAddress
        pointee.live = pointee.carved
        pointee.freesUntilEmpty = pointee.live
    }

    /// Takes every block other threads freed into this slab, as one list on top of `list` (the
    /// caller's list, nil if empty), and their count. Only the owner calls it, so the exchange is
    /// the only consumer of the stack: the push side needs no ABA protection. Each push linked
    /// its chain's last block to the top it was pushed onto, so the stack is already one list
    /// ending in nil: onto an empty list it goes as it is, reading no block. Only a list that is
    /// not empty needs the stack's last block, and the first block of each chain names the
    /// chain's last: the owner then reads two blocks per chain, not every block. The freeing
    /// thread wrote them last, often on the other core: a walk through every block was one cache
    /// miss after another (producer-consumer, 20 M blocks, 16 threads: 0.69 s with it, 0.59 s
    /// without), and skipping the walk onto an empty list, where every Tiny refill puts them, took
    /// 6-11 % more off producer-consumer pinned to one CPU (docs/PERFORMANCE.md). Checked mode
    /// keeps its freed-block mark in that word (CheckedMode.markFreed), so there the owner still
    /// walks every block.
    func takeRemoteFrees(onto list: UnsafeMutableRawPointer? = nil) -> (head: UnsafeMutableRawPointer?, count: UInt32) {
        // A plain load first: most refills find no remote frees, and the exchange is a locked op.
        guard pointee.threadFree.load(ordering: .relaxed) != 0 else { return (nil, 0) }
        let stack = pointee.threadFree.exchange(0, ordering: .acquiring)
        let head = UnsafeMutableRawPointer(bitPattern: stack & SlabMeta.remoteTopMask)
        let count = UInt32(truncatingIfNeeded: stack &>> SlabMeta.remoteCountShift)
        guard let head, let list else { return (head, count) }
        let checked = Options.current.checked
        var block = UInt(bitPattern: head)
        while true {
            let last = checked ? block : UnsafeMutablePointer<UInt>(bitPattern: block &+ 8).unsafelyUnwrapped.pointee
            let next = UnsafeMutablePointer<UInt>(bitPattern: last).unsafelyUnwrapped.pointee
            guard next != 0 else {
                UnsafeMutablePointer<UnsafeMutableRawPointer?>(bitPattern: last).unsafelyUnwrapped.pointee = list
                return (head, count)
            }
            block = next
        }
    }

    /// Pushes the chain `head`…`tail` of `count` blocks freed by a thread that does not own the
    /// slab (linked through their first words; `count` at most `RemoteFrees.chainLimit`). Lock-free;
    /// never waits. The head's second word records the tail for `takeRemoteFrees` (except in
    /// checked mode); the stack word counts the blocks. The tail links to the top the exchange
    /// expects, so a top taken and pushed again in between is still linked right. Returns
    /// whether the stack was empty before.
    @discardableResult
    func pushRemoteFrees(_ head: UInt, _ tail: UInt, count: UInt32) -> Bool {
        if !Options.current.checked {
            UnsafeMutablePointer<UInt>(bitPattern: head &+ 8).unsafelyUnwrapped.pointee = tail
        }
        let link = UnsafeMutablePointer<UInt>(bitPattern: tail)!
        let added = UInt(count) &<< SlabMeta.remoteCountShift
        var stack = pointee.threadFree.load(ordering: .relaxed)
        while true {
            link.pointee = stack & SlabMeta.remoteTopMask
            let (exchanged, current) = pointee.threadFree.compareExchange(
                expected: stack, desired: (stack & ~SlabMeta.remoteTopMask) &+ added | head, ordering: .releasing)
            if exchanged { return stack & SlabMeta.remoteTopMask == 0 }
            stack = current
        }
    }

    /// Threads the next batch of never-used blocks into a list. Carving lazily keeps untouched
    /// pages untouched (no RSS) and bounds the work a single refill does.
    /// Blocks no larger than a page put a link in every page of the batch, so on fresh pages the
    /// carve first asks the kernel for exactly those pages in one call instead of taking a fault
    /// on each: 0.6 µs less per page here (600 MiB: 0.27 s touched, 0.18 s populated), and no
    /// page becomes resident that the carve would not have touched. Larger blocks get a link in
    /// their first page only; the rest is the program's to touch or not.
    mutating func carve() -> (head: UnsafeMutableRawPointer?, count: UInt32) {
        let remaining = pointee.capacity &- pointee.carved
        guard remaining > 0 else { return (nil, 0) }
        let size = UInt(pointee.blockSize)
        var batch = UInt32(UInt(Options.current.classCacheBytes) / size)
        if batch == 0 { batch = 1 }
        if batch > 256 { batch = 256 }
        if batch > remaining { batch = remaining }
        let first = pointee.firstBlock &+ UInt(pointee.carved) &* size
        if pointee.freshPages != 0, let pages = Slab.pagesWritten(byCarving: batch, blocksOf: size, from: first) {
            if OS.populate(pages.start, pages.length) { SharedPool.countPopulated(bytes: pages.length) }
        }
        // Mid and Large blocks cut from fresh pages carry a fresh mark after the link (see
        // `freshMark`); a Tiny carve writes every page anyway.
        let marked = pointee.freshPages != 0 && Int(pointee.classIndex) > SizeClass.lastTinyClass
        let last = first &+ UInt(batch &- 1) &* size
        var block = first
        while true {
            let link = UnsafeMutableRawPointer(bitPattern: block)!
            link.storeBytes(of: block == last ? 0 : block &+ size, as: UInt.self)
            if marked { link.storeBytes(of: Slab.freshMark(of: block), toByteOffset: 8, as: UInt.self) }
            if block == last { break }
            block &+= size
        }
        pointee.carved &+= batch
        return (UnsafeMutableRawPointer(bitPattern: first), batch)
    }

    // MARK: Fresh marks

    /// The word a Mid or Large block cut from fresh pages carries after its link until it is first handed
    /// out. Every hand-out but calloc's erases it (`erasingFreshMark`), so a block that still has
    /// it was never the program's: the slab's pages were zero when it was formatted and only the
    /// two words the carve wrote are not, and calloc clears those instead of the whole block. A
    /// calloc of blocks that the program fills sparsely then makes resident only the pages it
    /// writes (30 000 callocs of 1-64 KiB with one byte written each: see PERFORMANCE.md).
    /// Mixed with the process secret, so a program never writes one by accident.
    @inline(__always)
    static func freshMark(of block: UInt) -> UInt { block ^ Lifecycle.secret ^ 0x6672_6573_6862_6C6B }

    /// Whether `block`, of a Mid or Large class and just allocated, still has its fresh
    /// mark: it reads as zero past its first two words. Never in checked mode, whose free blocks
    /// carry its own mark in that word, nor once the kernel refused a purge (the UNUSED slots a
    /// fresh slab was formatted on may hold old bytes).
    static func isUntouchedSinceCarve(_ block: UnsafeMutableRawPointer) -> Bool {
        let address = UInt(bitPattern: block)
        guard block.load(fromByteOffset: 8, as: UInt.self) == freshMark(of: address),
              !Options.current.checked, OS.purgedPagesReadAsZero else { return false }
        return SuperSlab.slab(containing: address).pointee.freshPages != 0
    }

    /// The pages a carve of `count` blocks of `size` bytes from `first` writes its links into,
    /// as one range, or nil when they are not one range (blocks larger than a page).
    static func pagesWritten(byCarving count: UInt32, blocksOf size: UInt, from first: UInt)
        -> (start: UnsafeMutableRawPointer, length: Int)? {
        let page = UInt(OS.pageSize)
        guard size <= page, count > 0 else { return nil }
        let start = first & ~(page &- 1)
        let lastLinkEnd = first &+ UInt(count &- 1) &* size &+ UInt(MemoryLayout<UInt>.size)
        let end = (lastLinkEnd &+ page &- 1) & ~(page &- 1)
        return (UnsafeMutableRawPointer(bitPattern: start)!, Int(end &- start))
    }

    /// The block size if `address` is the start of a block of this slab and the slab is ACTIVE.
    @inline(__always)
    func blockSize(ifBlockStarts address: UInt) -> Int? {
        pointee.state == SlabMeta.active && isBlockStart(address) ? Int(pointee.blockSize) : nil
    }

    /// Whether `address` is the start of one of this slab's blocks (not an interior pointer).
    @inline(__always)
    func isBlockStart(_ address: UInt) -> Bool {
        let offset = UInt64(address &- pointee.firstBlock)
        let index = (offset &* pointee.reciprocal) &>> SizeClass.reciprocalShift
        return index &* UInt64(pointee.blockSize) == offset && index < UInt64(pointee.carved)
    }

    /// A Large slab grown in place over more slots (SharedPool.growLargeSlab) holds its one
    /// block as class `c` from now on. The slots it took may have been an EMPTY span's, written.
    func changeLargeClass(to c: Int) {
        let size = SizeClass.blockSize(ofClass: c)
        pointee.freshPages = 0
        pointee.classIndex = UInt8(c)
        pointee.blockSize = UInt32(size)
        pointee.reciprocal = SizeClass.reciprocal(ofBlockSize: size)
    }

    /// How far into its first slot a slab of class `c` starts its blocks: its cache color.
    /// A program with few live blocks per class keeps reusing the first blocks of each class's
    /// slab. With every slab starting on a 64 KiB boundary, those hot blocks of all classes sat
    /// at the same page offsets, in the same few sets of the 8-way first-level cache, and pushed
    /// the program's own hot lines out: sqlite3 building an index missed on 3 lines of its
    /// interpreter every row, all in one set (PERFORMANCE.md). Tiny slabs start 0-31 cache lines
    /// in: a line picked by class and slot, different for every class of one slot and every slot
    /// of one class, then rounded down to the block size's largest power-of-two divisor, so a
    /// block whose size is a multiple of A stays A-aligned (the rounding merges a few: the 21
    /// classes of a slot start on 16-20 different lines). This costs at most 1 984 bytes of a
    /// 64 KiB slab. Mid and Large blocks span many lines each and start at 0.
    /// `colorCount` must be a power of two (the line is taken modulo it by a mask).
    static func colorOffset(forClass c: Int, firstSlot: Int) -> Int {
        guard c <= SizeClass.lastTinyClass else { return 0 }
        let line = (c &* 9 &+ firstSlot &* 5) & (colorCount &- 1)
        let naturalAlignment = 1 &<< SizeClass.blockSize(ofClass: c).trailingZeroBitCount
        return (line &* 64) & ~(naturalAlignment &- 1)
    }

    static let colorCount = 32

    /// Prepares an unowned slot run for class `c`, owned by `owner`. `freshPages`: its slots were
    /// UNUSED, so none of its pages is resident.
    mutating func format(forClass c: Int, owner: UInt, freshPages: Bool) {
        let size = SizeClass.blockSize(ofClass: c)
        pointee.classIndex = UInt8(c)
        pointee.blockSize = UInt32(size)
        pointee.reciprocal = SizeClass.reciprocal(ofBlockSize: size)
        let color = Slab.colorOffset(forClass: c, firstSlot: Int(pointee.firstSlot))
        pointee.firstBlock = spanStart &+ UInt(color)
        pointee.capacity = UInt32((Int(pointee.slotCount) &* SuperSlab.slotSize &- color) / size)
        pointee.carved = 0
        pointee.live = 0
        pointee.localFree = nil
        pointee.freeTarget = localFreeAddress
        pointee.freesUntilEmpty = 0
        pointee.threadFree.store(0, ordering: .relaxed)
        pointee.keptFree = 0
        pointee.mayBeEmpty = 0
        pointee.freshPages = freshPages ? 1 : 0
        pointee.carveSeen = SlabMeta.tailReturned   // as if returned with nothing carved: only a carve makes a tail worth returning
        pointee.state = SlabMeta.active
        pointee.owner.store(owner, ordering: .releasing)
    }
}
