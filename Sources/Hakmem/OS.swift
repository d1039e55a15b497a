// OS layer: the only file that talks to the kernel or to libc.
// Every other file asks for memory, page purging, time and output through these functions
// (mremap through a C shim in CHakmem's os_shims.c, because it is variadic).
// Nothing here allocates; failures are returned to the caller (nil / false), never trapped.

import CHakmem
import Synchronization

/// Set once the kernel refused a purge (see `OS.purge`). From then on a range that was purged,
/// or UNUSED slots, may hold old bytes: calloc no longer counts on them reading as zero.
/// Stored before the purged range is handed on under a lock, so whoever takes it sees the flag.
let purgeRefused = Atomic<Bool>(false)

@_extern(c, "mmap")
func c_mmap(_ addr: UnsafeMutableRawPointer?, _ len: Int, _ prot: Int32, _ flags: Int32,
            _ fd: Int32, _ off: Int) -> UnsafeMutableRawPointer?
@_extern(c, "munmap")
func c_munmap(_ addr: UnsafeMutableRawPointer, _ len: Int) -> Int32
@_extern(c, "madvise")
func c_madvise(_ addr: UnsafeMutableRawPointer, _ len: Int, _ advice: Int32) -> Int32
@_extern(c, "mprotect")
func c_mprotect(_ addr: UnsafeMutableRawPointer, _ len: Int, _ prot: Int32) -> Int32
@_extern(c, "write")
func c_write(_ fd: Int32, _ buf: UnsafeRawPointer, _ count: Int) -> Int
@_extern(c, "abort")
func c_abort()
@_extern(c, "__errno_location")
func c_errno_location() -> UnsafeMutablePointer<Int32>
@_extern(c, "memcpy")
func c_memcpy(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) -> UnsafeMutableRawPointer
@_extern(c, "memset")
func c_memset(_ dst: UnsafeMutableRawPointer, _ byte: Int32, _ n: Int) -> UnsafeMutableRawPointer
@_extern(c, "syscall")
func c_syscall(_ number: Int, _ a1: UnsafeMutableRawPointer, _ a2: Int32, _ a3: UInt32,
               _ a4: UnsafeRawPointer?, _ a5: UnsafeRawPointer?, _ a6: UInt32) -> Int
@_extern(c, "sched_yield")
func c_sched_yield() -> Int32
@_extern(c, "nanosleep")
func c_nanosleep(_ request: UnsafeRawPointer, _ remaining: UnsafeMutableRawPointer?) -> Int32
@_extern(c, "clock_gettime")
func c_clock_gettime(_ clock: Int32, _ time: UnsafeMutableRawPointer) -> Int32
@_extern(c, "open")
func c_open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: UInt32) -> Int32
@_extern(c, "read")
func c_read(_ fd: Int32, _ buf: UnsafeMutableRawPointer, _ count: Int) -> Int
@_extern(c, "close")
func c_close(_ fd: Int32) -> Int32

enum OS {
    static let pageSize = 4096
    static let enomem: Int32 = 12
    static let einval: Int32 = 22
    static let eagain: Int32 = 11
    static let eintr: Int32 = 4

    private static let protReadWrite: Int32 = 0x1 | 0x2
    private static let mapPrivateAnonymous: Int32 = 0x02 | 0x20
    private static let mapNoReserve: Int32 = 0x4000
    private static let madviseDontNeed: Int32 = 4
    private static let madvisePopulateWrite: Int32 = 23
    private static let mremapMayMove: Int32 = 1
    private static let mremapFixed: Int32 = 2

    /// Maps `length` bytes (a multiple of `alignment`, itself a power of two ≥ a page) aligned to
    /// `alignment`. When the kernel's first choice is not aligned, over-maps and trims the
    /// excess; either way the result is exclusively ours. `accounted`: see `mapAnonymous`.
    static func mapAligned(_ length: Int, alignment: Int, accounted: Bool = false) -> UnsafeMutableRawPointer? {
        guard length > 0, length <= Int.max - alignment else { return nil }
        // The kernel places a mapping just below the previous one, so after an aligned mapping
        // of a multiple of the alignment the next one is often aligned already: one system call.
        guard let exact = mapAnonymous(length, accounted: accounted) else { return nil }
        if UInt(bitPattern: exact) & UInt(alignment &- 1) == 0 { return exact }
        _ = c_munmap(exact, length)
        guard let raw = mapAnonymous(length + alignment, accounted: accounted) else { return nil }
        let start = UInt(bitPattern: raw)
        let aligned = (start + UInt(alignment) - 1) & ~(UInt(alignment) - 1)
        let head = Int(aligned - start)
        let tail = alignment - head
        if head > 0 { _ = c_munmap(raw, head) }
        if tail > 0 { _ = c_munmap(UnsafeMutableRawPointer(bitPattern: aligned + UInt(length))!, tail) }
        return UnsafeMutableRawPointer(bitPattern: aligned)
    }

    /// Maps `length` bytes of zeroed memory. Address space the allocator reserves for itself
    /// (SuperSlabs, records) is mapped with MAP_NORESERVE: most of it may never be touched.
    /// A huge block is the program's own request, so it is `accounted` (mapped without it): under
    /// the kernel's default overcommit heuristic a request larger than the machine could ever
    /// back then fails at once with ENOMEM, as glibc's malloc does, instead of succeeding (1 TiB
    /// did) and failing page by page later.
    static func mapAnonymous(_ length: Int, accounted: Bool = false) -> UnsafeMutableRawPointer? {
        let flags = mapPrivateAnonymous | (accounted ? 0 : mapNoReserve)
        let p = c_mmap(nil, length, protReadWrite, flags, -1, 0)
        // MAP_FAILED is (void*)-1.
        if p == nil || UInt(bitPattern: p) == UInt.max { return nil }
        return p
    }

    /// Grows or shrinks a mapping where it is (no move): growing fails if the address space right
    /// after it is taken.
    static func resizeInPlace(_ address: UInt, length: Int, newLength: Int) -> Bool {
        let result = hakmem_os_remap(UnsafeMutableRawPointer(bitPattern: address), length, newLength, 0, nil)
        return UInt(bitPattern: result) == address
    }

    /// Moves the mapping at `address` onto `target` (which must be mapped by us and at least
    /// `newLength` long), growing it to `newLength`. The kernel moves page tables, not bytes.
    static func move(_ address: UInt, length: Int, to target: UInt, newLength: Int) -> Bool {
        let result = hakmem_os_remap(UnsafeMutableRawPointer(bitPattern: address), length, newLength,
                                     mremapMayMove | mremapFixed, UnsafeMutableRawPointer(bitPattern: target))
        return result != nil && UInt(bitPattern: result) == target
    }

    static func unmap(_ address: UnsafeMutableRawPointer, _ length: Int) {
        _ = c_munmap(address, length)
    }

    /// Makes pages inaccessible (a guard page) or accessible again.
    @discardableResult
    static func protect(_ address: UInt, _ length: Int, accessible: Bool) -> Bool {
        c_mprotect(UnsafeMutableRawPointer(bitPattern: address)!, length, accessible ? protReadWrite : 0) == 0
    }

    /// Whether purged ranges and UNUSED slots are sure to read as zero: no purge was refused yet.
    static var purgedPagesReadAsZero: Bool { !purgeRefused.load(ordering: .relaxed) }

    /// Gives the pages back to the kernel; the range stays mapped and reads as zero afterwards.
    /// Returns false if the kernel refused: it does for locked pages (a program's `mlock` of a
    /// block it then freed, or `mlockall`), which then keep their bytes. `purgeRefused` records
    /// it for good, and the caller's errno is kept (free leaves errno alone).
    @discardableResult
    static func purge(_ address: UnsafeMutableRawPointer, _ length: Int) -> Bool {
        let errno = c_errno_location()
        let saved = errno.pointee
        if c_madvise(address, length, madviseDontNeed) == 0 { return true }
        purgeRefused.store(true, ordering: .relaxed)
        errno.pointee = saved
        return false
    }

    /// Set once the kernel refuses to purge several ranges in one call (process_madvise on the
    /// process itself needs Linux 6.15; a sandbox may forbid it). Then each range goes alone.
    nonisolated(unsafe) static var rangesPurgeUnsupported = false
    private static let ebadf: Int32 = 9
    private static let enosys: Int32 = 38
    private static let eperm: Int32 = 1

    /// `purge` for several ranges (see `PurgeRanges`), in one system call where the kernel
    /// allows: one TLB flush for all of them instead of one each. A `madvise` of up to 33 pages
    /// flushes them one by one, so short ranges cost about three times as much a page alone
    /// (PERFORMANCE.md). Returns false if the kernel refused a range (locked pages).
    @discardableResult
    static func purge(_ ranges: inout PurgeRanges) -> Bool {
        // Bytes the batch advised, from the first range on; -1 if the kernel refused it whole.
        var advised = 0
        var failure: Int32 = 0
        if ranges.count > 1 && !rangesPurgeUnsupported {
            let errno = c_errno_location()
            let saved = errno.pointee
            advised = ranges.withPairs { hakmem_os_advise_ranges($0, $1, madviseDontNeed) }
            failure = errno.pointee
            errno.pointee = saved
            if advised == ranges.totalBytes { return true }
        }
        // The rest goes range by range, which tells locked pages (`purgeRefused`) from a kernel
        // that cannot take the batch.
        var done = max(advised, 0)
        var allPurged = true
        for index in 0..<ranges.count {
            let (start, length) = ranges[index]
            if done >= length { done -= length; continue }
            done = 0
            let purged = purge(UnsafeMutableRawPointer(bitPattern: start)!, length)
            if advised < 0 && index == 0 && purged && (failure == ebadf || failure == enosys || failure == eperm || failure == einval) {
                rangesPurgeUnsupported = true
            }
            allPurged = allPurged && purged
        }
        return allPurged
    }

    /// Set once the kernel refuses MADV_POPULATE_WRITE for good: kernels before 5.14 do not know
    /// it (EINVAL), and a sandbox may forbid it (EPERM, ENOSYS). Then it is not asked again.
    nonisolated(unsafe) static var populateUnsupported = false

    /// Faults in pages about to be written, in one system call instead of a fault per page. Only
    /// a hint: on failure the writes fault as they would have, and the caller's errno is kept (a
    /// malloc that succeeds leaves errno alone). Returns whether the kernel did it.
    static func populate(_ address: UnsafeMutableRawPointer, _ length: Int) -> Bool {
        if populateUnsupported { return false }
        let errno = c_errno_location()
        let saved = errno.pointee
        if c_madvise(address, length, madvisePopulateWrite) == 0 { return true }
        // ENOMEM, EAGAIN, EINTR: memory is short now; later calls may succeed.
        switch errno.pointee {
        case enomem, eagain, eintr: break
        default: populateUnsupported = true
        }
        errno.pointee = saved
        return false
    }

    /// Raises SIGABRT, like glibc after a heap-corruption report.
    static func abortProcess() -> Never {
        while true { c_abort() }
    }

    /// Milliseconds on a coarse monotonic clock (a vDSO read, no system call): enough to age
    /// empty memory before returning it.
    static func milliseconds() -> UInt64 {
        var time = (0, 0)
        withUnsafeMutableBytes(of: &time) { _ = c_clock_gettime(6 /* CLOCK_MONOTONIC_COARSE */, $0.baseAddress!) }
        return UInt64(time.0) &* 1000 &+ UInt64(time.1 / 1_000_000)
    }

    /// Sleeps about `microseconds` (less if a signal comes): lets the threads a caller waits for run.
    static func sleep(microseconds: Int) {
        let request = (microseconds / 1_000_000, (microseconds % 1_000_000) &* 1000)
        withUnsafeBytes(of: request) { _ = c_nanosleep($0.baseAddress!, nil) }
    }

    /// Reads up to `capacity` bytes of a (small, /proc) file; returns the count, 0 on failure.
    static func readFile(_ path: StaticString, into buffer: UnsafeMutableRawPointer, capacity: Int) -> Int {
        let fd = c_open(UnsafeRawPointer(path.utf8Start).assumingMemoryBound(to: CChar.self), 0, 0)
        if fd < 0 { return 0 }
        var total = 0
        while total < capacity {
            let n = c_read(fd, buffer + total, capacity - total)
            if n <= 0 { break }
            total += n
        }
        _ = c_close(fd)
        return total
    }

    static func createFile(_ path: UnsafePointer<CChar>) -> Int32 {
        c_open(path, 0o1 | 0o100 | 0o1000 /* O_WRONLY | O_CREAT | O_TRUNC */, 0o644)
    }

    static func close(_ fd: Int32) { _ = c_close(fd) }

    static func setErrno(_ value: Int32) { c_errno_location().pointee = value }

    static func writeStandardError(_ bytes: UnsafeRawPointer, _ count: Int) {
        var done = 0
        while done < count {
            let n = c_write(2, bytes + done, count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Up to `capacity` address ranges to purge with one call (`OS.purge(_:)`), kept on the caller's
/// stack: the pairs have the layout of `struct iovec`.
struct PurgeRanges {
    static let capacity = 16
    private var words: (UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt,
                        UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt, UInt) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    private(set) var count = 0
    private(set) var totalBytes = 0

    mutating func append(_ start: UInt, length: Int) {
        precondition(count < PurgeRanges.capacity)
        withUnsafeMutableBytes(of: &words) { $0.storeBytes(of: start, toByteOffset: count &* 16, as: UInt.self) }
        withUnsafeMutableBytes(of: &words) { $0.storeBytes(of: UInt(length), toByteOffset: count &* 16 &+ 8, as: UInt.self) }
        count &+= 1
        totalBytes &+= length
    }

    subscript(index: Int) -> (start: UInt, length: Int) {
        withUnsafeBytes(of: words) {
            ($0.load(fromByteOffset: index &* 16, as: UInt.self), Int($0.load(fromByteOffset: index &* 16 &+ 8, as: UInt.self)))
        }
    }

    mutating func withPairs<R>(_ body: (UnsafePointer<UInt>, Int) -> R) -> R {
        let count = self.count
        return withUnsafeMutableBytes(of: &words) { body($0.baseAddress!.assumingMemoryBound(to: UInt.self), count) }
    }
}
