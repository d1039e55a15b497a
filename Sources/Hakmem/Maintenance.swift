// Maintenance: giving memory back without a background thread. Slow paths call `run`: every
// half purge delay it sweeps the calling thread's parked slabs and, if no other thread is doing
// it, ages the shared pool and the huge cache. Huge allocations and malloc_trim run it each
// time; refills and frees into other threads' slabs, which can come every few operations, count
// toward it and run it every 16 refills or 256 such frees, so its clock read stays off them.
import CHakmem
import Synchronization

/// When the shared structures were last maintained (OS.milliseconds).
let lastSharedMaintenance = Atomic<UInt64>(0)

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
}
