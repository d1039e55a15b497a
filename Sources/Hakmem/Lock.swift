// A futex-backed mutex for the allocator's shared structures (the shared pool, the huge-block
// cache). It is taken only on slow paths: a thread's hit path never locks.
// State: 0 free, 1 held, 2 held with waiters (Drepper, "Futexes are tricky", mutex 2).
// It counts acquisitions and contended acquisitions so the statistics can show lock pressure.
// The lock word lives in the allocator's metadata region (never copied: the futex needs its address).
import Synchronization

struct LockWord: ~Copyable {
    let state: Atomic<UInt32>
    let acquisitions: Atomic<UInt>
    let contended: Atomic<UInt>
}

struct FutexLock {
    let word: UnsafeMutablePointer<LockWord>

    func lock() {
        word.pointee.acquisitions.wrappingAdd(1, ordering: .relaxed)
        if word.pointee.state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            return
        }
        word.pointee.contended.wrappingAdd(1, ordering: .relaxed)
        // Spin briefly first: the holder is usually a few hundred instructions from releasing.
        for _ in 0..<64 {
            if word.pointee.state.load(ordering: .relaxed) == 0,
               word.pointee.state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
                return
            }
        }
        while word.pointee.state.exchange(2, ordering: .acquiring) != 0 {
            _ = c_syscall(FutexLock.sysFutex, UnsafeMutableRawPointer(word), FutexLock.futexWaitPrivate,
                          2, nil, nil, 0)
        }
    }

    /// Takes the lock only if nobody holds it; for work that can wait for another turn.
    func tryLock() -> Bool {
        if word.pointee.state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
            word.pointee.acquisitions.wrappingAdd(1, ordering: .relaxed)
            return true
        }
        return false
    }

    func unlock() {
        if word.pointee.state.exchange(0, ordering: .releasing) == 2 {
            _ = c_syscall(FutexLock.sysFutex, UnsafeMutableRawPointer(word), FutexLock.futexWakePrivate,
                          1, nil, nil, 0)
        }
    }

    /// After fork the child has one thread: whoever held the lock is gone.
    func resetAfterFork() { word.pointee.state.store(0, ordering: .relaxed) }

    var acquisitions: UInt { word.pointee.acquisitions.load(ordering: .relaxed) }
    var contendedAcquisitions: UInt { word.pointee.contended.load(ordering: .relaxed) }

    private static let sysFutex = 202
    private static let futexWaitPrivate: Int32 = 0 | 128
    private static let futexWakePrivate: Int32 = 1 | 128
}
