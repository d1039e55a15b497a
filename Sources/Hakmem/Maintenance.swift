// Maintenance: giving memory back without a background thread. Slow paths (refill, huge
// allocation, malloc_trim) call `run`, which every half purge delay sweeps the calling thread's
// parked slabs and, if no other thread is doing it, ages the shared pool and the huge cache.
// A coarse clock read is the whole cost when nothing is due.

enum Maintenance {
    @discardableResult
    static func run(force: Bool = false) -> Bool {
        let now = OS.milliseconds()
        ThreadCache.sweepParkedSlabs(now: now, force: force)
        let pool = SharedPool.maintain(now: now, force: force)
        let huge = (force || pool) ? HugeBlocks.maintain(now: now, force: force) : false
        return pool || huge || force && SharedPool.counters.bytesPurged > 0
    }
}
