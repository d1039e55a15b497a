// Resident budget: how many bytes of freed memory a cache keeps resident for reuse before it
// purges at once (the shared pool's EMPTY slabs, the huge cache's mappings). Each cache owns
// one and changes it under its own lock; the calling thread's root records, per cache, when a
// release of that thread went past its budget.
//
// The budget starts small, so that a program that frees a burst and goes idle (and so reaches
// no slow path that could purge later) keeps little. It grows while a thread takes memory from
// a cache that will fault in, within a second after its own release made that cache purge past
// its budget: the purged pages were wanted again, as when a program frees one phase's blocks
// and allocates the next phase's, or frees a big buffer and allocates another. Only that
// thread's claims count: threads that free their bursts while others are still allocating
// theirs, and then idle, keep no more. Maintenance halves a budget that has not grown for a
// second; `malloc_trim` resets it.
import CHakmem

struct ResidentBudget {
    static let base = 16 << 20
    /// Claims within this time of the thread's purge grow the budget; a budget that has not
    /// grown for this long halves at maintenance.
    static let growthWindowMilliseconds: UInt64 = 1000

    /// The caches, as indexes of the thread root's `purged_past_budget_at`.
    static let sharedPool = 0
    static let hugeCache = 1

    /// Past this many resident bytes the cache purges at once.
    private(set) var bytes: Int
    /// The most `bytes` grows to. It grows only by bytes the program claimed again, so a cache
    /// never keeps more than the program recently had in use.
    let largest: Int
    let cache: Int
    private var lastGrowth: UInt64 = 0

    init(largest: Int, cache: Int) {
        bytes = ResidentBudget.base
        self.largest = largest
        self.cache = cache
    }

    /// When a release of the calling thread last took this cache past its budget (0: never).
    private var threadPurge: UnsafeMutablePointer<UInt64> {
        withUnsafeMutablePointer(to: &hakmem_thread_root.purged_past_budget_at) {
            UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt64.self) + cache
        }
    }

    /// A release by the calling thread took the cache past its budget, which purges now.
    func notePurgePastBudget(now: UInt64) {
        threadPurge.pointee = now
    }

    /// The calling thread takes `claimed` bytes from this cache that will fault in (fresh, or
    /// purged before).
    mutating func noteClaimOfPurgedMemory(_ claimed: Int) {
        let lastPurge = threadPurge.pointee
        guard lastPurge != 0, claimed > 0 else { return }
        let now = OS.milliseconds()
        guard now &- lastPurge < ResidentBudget.growthWindowMilliseconds else { return }
        bytes = min(largest, bytes &+ claimed)
        lastGrowth = now
    }

    /// Maintenance: halves a budget that has not grown for a while; `force` (malloc_trim)
    /// resets it, and the calling thread's record.
    mutating func age(now: UInt64, force: Bool) {
        if force {
            bytes = ResidentBudget.base
            threadPurge.pointee = 0
        } else if bytes > ResidentBudget.base && now &- lastGrowth >= ResidentBudget.growthWindowMilliseconds {
            bytes = max(ResidentBudget.base, bytes / 2)
            lastGrowth = now
        }
    }
}
