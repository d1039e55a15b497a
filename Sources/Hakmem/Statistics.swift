// Statistics: what happened inside, printed at exit with HAKMEM_STATS=1 (text on stderr) or
// HAKMEM_STATS=json:PATH, and on demand through hakmem_stats_print().
//
// Counting never touches a hit path. Per class and per thread (in the ThreadHeap, written only
// by its thread): allocations and the owner's frees, worked out from what went through the
// thread's class lists (ClassLists.settleStatistics) or, for per-slab lists, from the blocks
// handed to a list (what is still in it is subtracted when counted) and those found on a slab's
// local list; and frees by other threads (counted by the freeing thread when it pushes). Exited
// threads' counters are folded into process totals under the pool lock. A report settles its
// own thread and sums the totals and every heap; the figures of threads still running trail by
// what they have not settled yet.
import CHakmem

struct ClassCounters {
    var handedOut: UInt
    var freed: UInt
    var remoteFreed: UInt
}

enum Statistics {
    /// Counters of exited threads, under the pool lock.
    nonisolated(unsafe) static var exitedTotals: UnsafeMutablePointer<ClassCounters>? = nil
    /// Every heap ever created (recycled heaps stay, with zeroed counters), under the pool lock.
    nonisolated(unsafe) static var allHeaps: UnsafeMutablePointer<ThreadHeap>? = nil

    static func initialize(in region: UnsafeMutableRawPointer) -> Int {
        exitedTotals = region.assumingMemoryBound(to: ClassCounters.self)
        return SizeClass.count * MemoryLayout<ClassCounters>.stride
    }

    @inline(__always)
    private static func counters(_ c: Int) -> UnsafeMutablePointer<ClassCounters>? {
        let heap = ThreadCache.root.pointee.heap
        if heap == 0 { return nil }
        return UnsafeMutablePointer<ThreadHeap>(bitPattern: heap)!.pointee.counters + c
    }

    static func listLength(_ head: UnsafeMutableRawPointer?) -> UInt {
        var count: UInt = 0
        var block = head
        while let b = block {
            count &+= 1
            block = b.load(as: UnsafeMutableRawPointer?.self)
        }
        return count
    }

    static func countHandedOut(_ n: UInt32, ofClass c: Int) {
        counters(c)?.pointee.handedOut &+= UInt(n)
    }
    static func countLocalFrees(_ n: UInt32, ofClass c: Int) {
        counters(c)?.pointee.freed &+= UInt(n)
    }
    /// Blocks joining a local free list without being local frees (folded remote frees).
    static func uncountLocalFrees(_ n: UInt32, ofClass c: Int) {
        counters(c)?.pointee.freed &-= UInt(n)
    }
    static func countRemoteFrees(_ n: UInt32, ofClass c: Int, in heap: UnsafeMutablePointer<ThreadHeap>) {
        let counters = heap.pointee.counters + c
        counters.pointee.freed &+= UInt(n)
        counters.pointee.remoteFreed &+= UInt(n)
    }

    /// Folds an exiting thread's counters into the totals. Caller holds the pool lock.
    static func retire(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        guard let totals = exitedTotals else { return }
        for c in 0..<SizeClass.count {
            let own = heap.pointee.counters + c
            totals[c].handedOut &+= own.pointee.handedOut
            totals[c].freed &+= own.pointee.freed
            totals[c].remoteFreed &+= own.pointee.remoteFreed
            own.pointee = ClassCounters(handedOut: 0, freed: 0, remoteFreed: 0)
        }
    }

    // MARK: Reports

    static func reportAtExit() {
        switch Options.current.statsMode {
        case 1: printReport(json: false, fd: 2)
        case 2:
            let fd = OS.createFile(Options.current.statsPath!)
            if fd >= 0 {
                printReport(json: true, fd: fd)
                OS.close(fd)
            } else {
                withLineWriter { line in
                    line.append("hakmem: cannot write statistics to ")
                    line.append(cString: Options.current.statsPath!)
                    line.append("\n")
                    line.write(to: 2)
                }
            }
        default: break
        }
    }

    static func printReport(json: Bool, fd: Int32) {
        guard SharedPool.state != nil else { return }
        let capacity = 64 << 10
        guard let buffer = OS.mapAnonymous(capacity) else { return }
        defer { OS.unmap(buffer, capacity) }
        var out = TextWriter(buffer: buffer.assumingMemoryBound(to: UInt8.self), capacity: capacity)
        let snapshot = Snapshot.take()
        if json { writeJSON(snapshot, &out) } else { writeTable(snapshot, &out) }
        out.write(to: fd)
    }

    private static func writeTable(_ s: Snapshot, _ out: inout TextWriter) {
        out.append("hakmem statistics\n")
        out.append("class     size  allocations        frees  remote frees  slabs\n")
        for c in 0..<SizeClass.count {
            let k = s.classes + c
            if k.pointee.handedOut == 0 && k.pointee.freed == 0 && s.slabsInUse[c] == 0 { continue }
            out.append(c, width: 5)
            out.append(SizeClass.blockSize(ofClass: c), width: 9)
            out.append(k.pointee.handedOut, width: 13)
            out.append(k.pointee.freed, width: 13)
            out.append(k.pointee.remoteFreed, width: 14)
            out.append(s.slabsInUse[c], width: 7)
            out.append("\n")
        }
        out.append("SuperSlabs: mapped ")
        out.append(s.pool.superSlabsMapped)
        out.append(" (beyond the slot table ")
        out.append(s.pool.superSlabsBeyondSlotTable)
        out.append("), cached ")
        out.append(s.cachedSuperSlabs)
        out.append(", unmapped ")
        out.append(s.pool.superSlabsUnmapped)
        out.append("; slabs adopted from exited threads ")
        out.append(s.pool.slabsAdopted)
        out.append("\nhuge blocks: allocated ")
        out.append(s.huge.allocations)
        out.append(", freed ")
        out.append(s.huge.frees)
        out.append(", cached ")
        out.append(s.huge.cachedCount)
        out.append(" (not purged ")
        out.append(s.huge.cachedUnpurgedBytes >> 10)
        out.append(" KiB, budget ")
        out.append(s.huge.residentBudget >> 10)
        out.append(" KiB)")
        out.append("\nmemory (KiB): mapped ")
        out.append(s.mappedBytes >> 10)
        out.append(", empty slabs kept ")
        out.append(s.emptySlabBytes >> 10)
        out.append(" (budget ")
        out.append(s.emptySlabBudget >> 10)
        out.append("), purged ")
        out.append(s.pool.bytesPurged >> 10)
        out.append(", populated ahead of use ")
        out.append(s.populatedBytes >> 10)
        out.append(", process resident ")
        out.append(s.residentBytes >> 10)
        out.append(", peak resident ")
        out.append(s.peakResidentBytes >> 10)
        out.append("\nshared pool lock: ")
        out.append(s.poolLockAcquisitions)
        out.append(" acquisitions, ")
        out.append(s.poolLockContended)
        out.append(" contended; huge cache lock: ")
        out.append(s.hugeLockAcquisitions)
        out.append(" acquisitions, ")
        out.append(s.hugeLockContended)
        out.append(" contended\n")
    }

    private static func writeJSON(_ s: Snapshot, _ out: inout TextWriter) {
        out.append("{\n  \"classes\": [")
        var first = true
        for c in 0..<SizeClass.count {
            let k = s.classes + c
            if k.pointee.handedOut == 0 && k.pointee.freed == 0 && s.slabsInUse[c] == 0 { continue }
            out.append(first ? "\n" : ",\n")
            first = false
            out.append("    {\"class\": ")
            out.append(c)
            out.append(", \"size\": ")
            out.append(SizeClass.blockSize(ofClass: c))
            out.append(", \"allocations\": ")
            out.append(k.pointee.handedOut)
            out.append(", \"frees\": ")
            out.append(k.pointee.freed)
            out.append(", \"remote_frees\": ")
            out.append(k.pointee.remoteFreed)
            out.append(", \"slabs_in_use\": ")
            out.append(s.slabsInUse[c])
            out.append("}")
        }
        out.append("\n  ],\n")
        field(&out, "superslabs_mapped", s.pool.superSlabsMapped)
        field(&out, "superslabs_beyond_slot_table", s.pool.superSlabsBeyondSlotTable)
        field(&out, "superslabs_cached", UInt(s.cachedSuperSlabs))
        field(&out, "superslabs_unmapped", s.pool.superSlabsUnmapped)
        field(&out, "slabs_adopted", s.pool.slabsAdopted)
        field(&out, "huge_allocations", s.huge.allocations)
        field(&out, "huge_frees", s.huge.frees)
        field(&out, "huge_cached", UInt(s.huge.cachedCount))
        field(&out, "bytes_huge_cached_not_purged", UInt(s.huge.cachedUnpurgedBytes))
        field(&out, "bytes_huge_budget", UInt(s.huge.residentBudget))
        field(&out, "bytes_mapped", s.mappedBytes)
        field(&out, "bytes_empty_kept", UInt(s.emptySlabBytes))
        field(&out, "bytes_empty_budget", UInt(s.emptySlabBudget))
        field(&out, "bytes_purged", s.pool.bytesPurged)
        field(&out, "bytes_populated", s.populatedBytes)
        field(&out, "bytes_resident", s.residentBytes)
        field(&out, "bytes_peak_resident", s.peakResidentBytes)
        field(&out, "pool_lock_acquisitions", s.poolLockAcquisitions)
        field(&out, "pool_lock_contended", s.poolLockContended)
        field(&out, "huge_lock_acquisitions", s.hugeLockAcquisitions)
        field(&out, "huge_lock_contended", s.hugeLockContended, last: true)
        out.append("}\n")
    }

    private static func field(_ out: inout TextWriter, _ name: StaticString, _ value: UInt, last: Bool = false) {
        out.append("  \"")
        out.append(name)
        out.append("\": ")
        out.append(value)
        out.append(last ? "\n" : ",\n")
    }
}

/// Every figure of a report, gathered under the pool lock.
struct Snapshot {
    var classes: UnsafeMutablePointer<ClassCounters>
    var slabsInUse: UnsafeMutablePointer<Int>
    var pool: PoolCounters
    var huge: HugeCounters
    var cachedSuperSlabs: Int
    var emptySlabBytes: Int
    var emptySlabBudget: Int
    var populatedBytes: UInt
    var mappedBytes: UInt
    var residentBytes: UInt
    var peakResidentBytes: UInt
    var poolLockAcquisitions: UInt
    var poolLockContended: UInt
    var hugeLockAcquisitions: UInt
    var hugeLockContended: UInt

    static func take() -> Snapshot {
        // Per-class sums live in a scratch piece of the metadata arena, reused by every report.
        if scratch == nil {
            let lock = SharedPool.lock
            lock.lock()
            scratch = Metadata.allocate(SizeClass.count * (MemoryLayout<ClassCounters>.stride + 8))
            lock.unlock()
        }
        let classes = scratch!.assumingMemoryBound(to: ClassCounters.self)
        let slabsInUse = (scratch! + SizeClass.count * MemoryLayout<ClassCounters>.stride).assumingMemoryBound(to: Int.self)
        // The reporting thread's frees onto its current slabs' allocation lists are counted when
        // a slab stops being current, those through its class lists when settled: count them now.
        let heads = ThreadCache.heads(ThreadCache.root)
        if let own = UnsafeMutablePointer<ThreadHeap>(bitPattern: ThreadCache.root.pointee.heap) {
            for c in 0..<SizeClass.count {
                own.pointee.current[c]?.settleCurrentCountdown()
                if ClassLists.serves(c) { ClassLists.settleStatistics(ofClass: c, heap: own, listed: Statistics.listLength(heads[c])) }
            }
        }
        let lock = SharedPool.lock
        lock.lock()
        for c in 0..<SizeClass.count {
            var sum = Statistics.exitedTotals![c]
            var heap = Statistics.allHeaps
            while let h = heap {
                let own = h.pointee.counters + c
                sum.handedOut &+= own.pointee.handedOut
                sum.freed &+= own.pointee.freed
                sum.remoteFreed &+= own.pointee.remoteFreed
                heap = h.pointee.nextInAll
            }
            classes[c] = sum
        }
        SharedPool.forEachClassInUse { c, n in slabsInUse[c] = n }
        // Blocks on abandoned slabs' own lists (freed by their exited owner, or folded in from
        // other threads) are counted when the slab is given back, which may never happen
        // before the report: count them now, so that a program that freed everything shows it.
        SharedPool.forEachClassAbandonedFrees { c, n in classes[c].freed &+= UInt(n) }
        let pool = SharedPool.counters
        let cached = SharedPool.cachedSuperSlabs
        let empty = SharedPool.emptySlabBytes
        let budget = SharedPool.emptySpanBudget
        lock.unlock()
        // The reporting thread's own per-slab allocation lists hold blocks not yet allocated; its
        // class lists' slabs hold freed blocks at home, not counted until they leave.
        let ownHeap = UnsafeMutablePointer<ThreadHeap>(bitPattern: ThreadCache.root.pointee.heap)
        for c in 0..<SizeClass.count {
            if !ClassLists.serves(c) {
                classes[c].handedOut &-= Statistics.listLength(heads[c])
            } else if let ownHeap {
                classes[c].freed &+= ClassLists.homeBlocks(ofClass: c, heap: ownHeap)
            }
        }
        let huge = HugeBlocks.counters
        let live = pool.superSlabsMapped &- pool.superSlabsUnmapped
        return Snapshot(
            classes: classes, slabsInUse: slabsInUse, pool: pool, huge: huge,
            cachedSuperSlabs: cached, emptySlabBytes: empty, emptySlabBudget: budget, populatedBytes: SharedPool.bytesPopulated,
            mappedBytes: live &* UInt(SuperSlab.size) &+ huge.mappedBytes,
            residentBytes: Snapshot.processResidentBytes(), peakResidentBytes: Snapshot.peakResidentBytes(),
            poolLockAcquisitions: SharedPool.lock.acquisitions, poolLockContended: SharedPool.lock.contendedAcquisitions,
            hugeLockAcquisitions: HugeBlocks.lock.acquisitions, hugeLockContended: HugeBlocks.lock.contendedAcquisitions)
    }

    nonisolated(unsafe) static var scratch: UnsafeMutableRawPointer? = nil

    /// Resident set of the whole process, from /proc/self/statm (second field, in pages).
    static func processResidentBytes() -> UInt {
        var text: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &text) { raw -> UInt in
            let n = OS.readFile("/proc/self/statm", into: raw.baseAddress!, capacity: raw.count - 1)
            var i = 0
            while i < n && raw[i] != 32 { i += 1 }
            i += 1
            var pages: UInt = 0
            while i < n && raw[i] >= 48 && raw[i] <= 57 {
                pages = pages &* 10 &+ UInt(raw[i] - 48)
                i += 1
            }
            return pages &* UInt(OS.pageSize)
        }
    }

    /// The process's peak resident set (VmHWM in /proc/self/status).
    static func peakResidentBytes() -> UInt {
        let capacity = 4096
        guard let buffer = OS.mapAnonymous(capacity) else { return 0 }
        defer { OS.unmap(buffer, capacity) }
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        let n = OS.readFile("/proc/self/status", into: buffer, capacity: capacity)
        let key: StaticString = "VmHWM:"
        var i = 0
        while i + key.utf8CodeUnitCount < n {
            var matched = true
            for j in 0..<key.utf8CodeUnitCount where bytes[i + j] != key.utf8Start[j] {
                matched = false
                break
            }
            if matched {
                i += key.utf8CodeUnitCount
                while i < n && (bytes[i] == 32 || bytes[i] == 9) { i += 1 }
                var kib: UInt = 0
                while i < n && bytes[i] >= 48 && bytes[i] <= 57 {
                    kib = kib &* 10 &+ UInt(bytes[i] - 48)
                    i += 1
                }
                return kib << 10
            }
            i += 1
        }
        return 0
    }
}

@_cdecl("hakmem_stats_print")
public func hakmem_stats_print() {
    Statistics.printReport(json: false, fd: 2)
}

@_cdecl("hakmem_library_destructor")
public func hakmem_library_destructor() {
    Statistics.reportAtExit()
}
