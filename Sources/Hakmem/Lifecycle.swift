// Process and thread lifecycle: start-up, the thread-exit hook, and fork.
//
// Start-up runs once, from the library constructor or from the first malloc, whichever comes
// first; concurrent callers wait for it. Thread exit is caught with a pthread key destructor
// (the only portable hook libc gives) and hands the thread's slabs to the shared pool.
// Fork: the pool and huge-cache locks are taken before fork and released in both processes,
// so the child never inherits a lock held by a thread that does not exist there.
import Synchronization
import CHakmem

@_extern(c, "pthread_key_create")
func c_pthread_key_create(_ key: UnsafeMutablePointer<UInt32>,
                          _ destructor: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?) -> Int32
@_extern(c, "pthread_setspecific")
func c_pthread_setspecific(_ key: UInt32, _ value: UnsafeRawPointer?) -> Int32
@_extern(c, "pthread_atfork")
func c_pthread_atfork(_ prepare: (@convention(c) () -> Void)?, _ parent: (@convention(c) () -> Void)?,
                      _ child: (@convention(c) () -> Void)?) -> Int32

@_extern(c, "getrandom")
func c_getrandom(_ buffer: UnsafeMutableRawPointer, _ length: Int, _ flags: UInt32) -> Int
private let grndNonblock: UInt32 = 1

let lifecycleState = Atomic<UInt8>(0)

enum Lifecycle {
    static let uninitialized: UInt8 = 0
    static let initializing: UInt8 = 1
    static let ready: UInt8 = 2
    /// The piece of the metadata arena holding the pool state, the huge cache and the statistics totals.
    static let sharedStateBytes = 16384

    nonisolated(unsafe) static var threadExitKey: UInt32 = 0
    /// Mixed into the marks blocks carry (fresh blocks, checked mode's free blocks) and checked
    /// mode's list links, so that no program writes one by accident. Set once, at start-up.
    nonisolated(unsafe) static var secret: UInt = 0

    @inline(__always)
    static func ensureInitialized() {
        if lifecycleState.load(ordering: .acquiring) != ready { initialize() }
    }

    static func initialize() {
        if lifecycleState.compareExchange(expected: uninitialized, desired: initializing,
                                          ordering: .acquiring).exchanged {
            Options.load()
            SizeClass.fillMidClassTable()
            SizeClass.fillAlignedClassTable()
            secret = makeSecret()
            // Pool state, huge cache and statistics totals share one zeroed piece of the arena.
            guard let region = Metadata.allocate(sharedStateBytes) else { OS.abortProcess() }
            var used = (SharedPool.initialize(in: region) &+ 63) & ~63
            used &+= (HugeBlocks.initialize(in: region + used) &+ 63) & ~63
            used &+= Statistics.initialize(in: region + used)
            // A layout grown past the piece would overlap other metadata: stop at the first start.
            if used > sharedStateBytes { OS.abortProcess() }
            _ = c_pthread_key_create(&threadExitKey, threadDidExit)
            lifecycleState.store(ready, ordering: .releasing)
            // May allocate (libc's atfork table), so only once the allocator is ready.
            _ = c_pthread_atfork(prepareFork, afterForkInParent, afterForkInChild)
            return
        }
        while lifecycleState.load(ordering: .acquiring) != ready { _ = c_sched_yield() }
    }

    private static func makeSecret() -> UInt {
        var value: UInt = 0
        // Non-blocking: early in boot the pool may not be ready, and start-up must not wait.
        // A malloc that succeeds leaves errno alone.
        let errno = c_errno_location()
        let savedErrno = errno.pointee
        defer { errno.pointee = savedErrno }
        if c_getrandom(&value, MemoryLayout<UInt>.size, grndNonblock) != MemoryLayout<UInt>.size {
            // No entropy source: the clock and an address still differ from run to run.
            let address = withUnsafePointer(to: &value) { UInt(bitPattern: $0) }
            value = UInt(truncatingIfNeeded: OS.milliseconds()) &* 0x9E37_79B9_7F4A_7C15 ^ address
        }
        return value | 1
    }

    static func registerThreadExit(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        _ = c_pthread_setspecific(threadExitKey, UnsafeRawPointer(heap))
    }
}

private let threadDidExit: @convention(c) (UnsafeMutableRawPointer?) -> Void = { value in
    guard let value else { return }
    let heap = value.assumingMemoryBound(to: ThreadHeap.self)
    // Later destructors of this thread may allocate again; they get a fresh heap and a new round.
    if ThreadCache.root.pointee.heap == UInt(bitPattern: heap) {
        ThreadCache.release(heap)
    }
}

private let prepareFork: @convention(c) () -> Void = {
    SharedPool.lock.lock()
    HugeBlocks.lock.lock()
}

private let afterForkInParent: @convention(c) () -> Void = {
    HugeBlocks.lock.unlock()
    SharedPool.lock.unlock()
}

private let afterForkInChild: @convention(c) () -> Void = {
    HugeBlocks.lock.resetAfterFork()
    SharedPool.lock.resetAfterFork()
    Maintenance.forgetThreadsLostInFork()
}

@_cdecl("hakmem_library_constructor")
public func hakmem_library_constructor() {
    Lifecycle.ensureInitialized()
}
