// Maintenance: giving memory back without a background thread. Slow paths call `run`: every
// half purge delay it sweeps the calling thread's parked slabs and, if no other thread is doing
// it, ages the shared pool and the huge cache. Huge allocations and malloc_trim run it each
// time; refills and frees into other threads' slabs, which can come every few operations, count
// toward it and run it every 16 refills or 256 such frees, so its clock read stays off them.
//
// Give-back requests, for when the system refuses memory. Blocks a thread frees into another
// live thread's slabs wait on those slabs' remote-free stacks (or in the freeing thread's own
// chains, RemoteFrees.swift) until that owner takes them, and only the owner may: until then
// they keep their slabs, and the slabs' SuperSlabs, from going back. A thread refused memory
// therefore asks: it bumps `giveBackRequests`, and every thread answers at its next refill or
// maintenance by pushing its chains and sweeping its slabs (what malloc_trim does for the calling
// thread). The asking thread waits only for the threads that may hold such blocks, at most
// `giveBackWait`, then tries once more. Each heap's `GiveBackState` is the only part of it other
// threads touch: a freeing thread sets `freedBlocks` when its push finds a slab's stack empty
// (so a steady stream of frees reads the flag, set, and writes nothing), the owner clears it
// once it has answered.
import CHakmem
import Synchronization

/// When the shared structures were last maintained (OS.milliseconds).
let lastSharedMaintenance = Atomic<UInt64>(0)

/// Give-back requests made so far: each thread answers every one it has not answered yet.
let giveBackRequests = Atomic<UInt>(0)

/// A thread heap's part in give-back requests (see the file comment).
struct GiveBackState: ~Copyable {
    /// `mayHold` if the thread may hold blocks that only it can let go back (freed into its
    /// slabs by other threads, or freed by it into theirs and not pushed yet), `answering` while
    /// it answers, else `holdsNone`.
    let freedBlocks: Atomic<UInt>
    /// The last request the thread answered; `GiveBackState.notAnswering` while the heap is unused.
    let answeredRequest: Atomic<UInt>

    static let holdsNone: UInt = 0
    static let mayHold: UInt = 1
    static let answering: UInt = 2
    static let notAnswering = UInt.max
}

enum Maintenance {
    static let refillWeight = 16
    static let remoteFreeWeight = 1
    /// 256 remote frees or 16 refills take the countdown below 0. Below 0 rather than to 0: the
    /// sign test folds into the decrement of memory (`decq; js`), where `<= 0` took a load, a
    /// decrement, a store and a test (remote frees: 3 instructions each).
    static let countdownStart = 255

    /// Counts a slow-path event of the calling thread and runs maintenance when enough are due.
    @inline(__always)
    static func count(_ weight: Int, in heap: UnsafeMutablePointer<ThreadHeap>) {
        heap.pointee.eventsBeforeMaintenance &-= weight
        if _slowPath(heap.pointee.eventsBeforeMaintenance < 0) { due(heap) }
    }

    @inline(never)
    static func due(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        heap.pointee.eventsBeforeMaintenance = countdownStart
        run()
    }

    @discardableResult
    static func run(force: Bool = false) -> Bool {
        if let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: ThreadCache.root.pointee.heap) {
            answerGiveBackRequest(heap)
            RemoteFrees.flushAll(heap)
        }
        let now = OS.milliseconds()
        ThreadCache.sweepParkedSlabs(now: now, force: force)
        let last = lastSharedMaintenance.load(ordering: .relaxed)
        if !force {
            guard now &- last >= UInt64(Options.current.purgeDelayMilliseconds / 2),
                  lastSharedMaintenance.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
            else { return false }
        }
        let pool = SharedPool.maintain(now: now, force: force)
        let huge = HugeBlocks.maintain(now: now, force: force)
        return pool || huge
    }

    // MARK: Give-back requests

    /// How long a thread refused memory waits for the others to answer, at most.
    static let giveBackWait: UInt64 = 100

    /// A heap taken into use answers only the requests made from now on.
    static func startAnswering(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        heap.pointee.giveBack.pointee.freedBlocks.store(GiveBackState.holdsNone, ordering: .relaxed)
        heap.pointee.giveBack.pointee.answeredRequest.store(giveBackRequests.load(ordering: .relaxed), ordering: .relaxed)
    }

    /// At thread exit, after every chain was pushed and every slab given back or abandoned.
    static func stopAnswering(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        heap.pointee.giveBack.pointee.freedBlocks.store(GiveBackState.holdsNone, ordering: .relaxed)
        heap.pointee.giveBack.pointee.answeredRequest.store(GiveBackState.notAnswering, ordering: .releasing)
    }

    /// In a forked child: the parent's other threads do not exist here and will never answer.
    /// (Their slabs stay with their heaps, as before; only the waiting for them is spared.)
    static func forgetThreadsLostInFork() {
        let me = ThreadCache.root.pointee.heap
        var heap = Statistics.allHeaps
        while let h = heap {
            if UInt(bitPattern: h) != me { stopAnswering(h) }
            heap = h.pointee.nextInAll
        }
    }

    /// Another thread freed blocks into a slab of `heap`'s, or `heap`'s thread started a chain.
    @inline(__always)
    static func noteFreedBlocks(in heap: UnsafeMutablePointer<ThreadHeap>) {
        let state = heap.pointee.giveBack
        if state.pointee.freedBlocks.load(ordering: .relaxed) != GiveBackState.mayHold {
            state.pointee.freedBlocks.store(GiveBackState.mayHold, ordering: .relaxed)
        }
    }

    /// From the calling thread's slow paths: answers a give-back request it has not answered.
    @inline(__always)
    static func answerGiveBackRequest(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        let request = giveBackRequests.load(ordering: .relaxed)
        if _slowPath(request != heap.pointee.giveBack.pointee.answeredRequest.load(ordering: .relaxed)) {
            answer(request, heap)
        }
    }

    @inline(never)
    private static func answer(_ request: UInt, _ heap: UnsafeMutablePointer<ThreadHeap>) {
        let state = heap.pointee.giveBack
        // Askers keep waiting while this runs (`answering` is not `holdsNone`); a block freed
        // into this thread's slabs meanwhile sets `mayHold`, which the exchange below then keeps.
        state.pointee.freedBlocks.store(GiveBackState.answering, ordering: .relaxed)
        RemoteFrees.flushAll(heap)
        ThreadCache.sweepParkedSlabs(now: OS.milliseconds(), force: true)
        state.pointee.answeredRequest.store(request, ordering: .releasing)
        _ = state.pointee.freedBlocks.compareExchange(expected: GiveBackState.answering, desired: GiveBackState.holdsNone,
                                                      ordering: .relaxed)
    }

    /// The calling thread was refused memory after giving back what it and the shared pool
    /// held. Asks every thread to give back what others freed into its slabs, and waits until
    /// those that may hold such blocks have answered (at most `giveBackWait` ms).
    static func askOtherThreadsToGiveBack() {
        // A thread may have no heap: its first allocation came when no memory was left for one.
        let me = UnsafeMutablePointer<ThreadHeap>(bitPattern: ThreadCache.root.pointee.heap)
        let request = giveBackRequests.add(1, ordering: .relaxed).newValue
        let deadline = OS.milliseconds() &+ giveBackWait
        while true {
            // Threads out of memory together wait for each other: each answers while it waits.
            if let me { answerGiveBackRequest(me) }
            if threadsYetToAnswer(request, besides: me) == 0 || OS.milliseconds() >= deadline { return }
            OS.sleep(microseconds: 50)
        }
    }

    /// Heaps in use, other than `me`, that may hold freed blocks and have not answered `request`.
    private static func threadsYetToAnswer(_ request: UInt, besides me: UnsafeMutablePointer<ThreadHeap>?) -> Int {
        let lock = SharedPool.lock
        lock.lock()
        var count = 0
        var heap = Statistics.allHeaps
        while let h = heap {
            let state = h.pointee.giveBack
            let answered = state.pointee.answeredRequest.load(ordering: .acquiring)
            if h != me, answered < request, state.pointee.freedBlocks.load(ordering: .relaxed) != GiveBackState.holdsNone {
                count &+= 1
            }
            heap = h.pointee.nextInAll
        }
        lock.unlock()
        return count
    }
}
