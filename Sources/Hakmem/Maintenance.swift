// Maintenance: giving memory back without a background thread. Slow paths (refill, huge
// allocation, malloc_trim) call `run`: every half purge delay it sweeps the calling thread's
// parked slabs and, if no other thread is doing it, ages the shared pool and the huge cache.
// A coarse clock read (vDSO, no system call) is the whole cost when nothing is due.
import Synchronization

/// When the shared structures were last maintained (OS.milliseconds).
let lastSharedMaintenance = Atomic<UInt64>(0)

enum Maintenance {
    @discardableResult
    static func run(force: Bool = false) -> Bool {
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
