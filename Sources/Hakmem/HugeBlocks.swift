// Huge blocks: requests above the largest size class (1.75 MiB), and alignments above 64 KiB,
// each get a mapping of their own, 2 MiB-aligned so that its chunks are exclusively ours in the
// chunk map. The page just below the user's pointer holds the record of the mapping.
// Freed mappings wait in a small cache (bounded in count and bytes) for reuse, since mapping
// and unmapping a large region costs far more than reusing one; the cache is under its own lock.
// A cached mapping keeps its pages for the purge delay (a program that frees and reallocates a
// big buffer in a loop does not fault it in again each time); then `maintain` purges it, so only
// its first page stays resident, and unmaps it once older than the SuperSlab cache age.

struct HugeRecord {
    var magic: UInt64
    /// For a cached mapping: whether its pages were returned (so it reads as zero).
    var purged: Bool
    /// When the mapping entered the cache (OS.milliseconds).
    var cachedAt: UInt64
    var mappingStart: UInt
    var mappingLength: Int
    /// The user's pointer, so a stale or forged pointer into the mapping does not validate.
    var user: UInt
    var next: UnsafeMutablePointer<HugeRecord>?
}

struct HugeCacheState: ~Copyable {
    var lockWord: LockWord
    var first: UnsafeMutablePointer<HugeRecord>?
    var count: Int
    var bytes: Int
    var counters: HugeCounters
}

struct HugeCounters {
    var allocations: UInt = 0
    var frees: UInt = 0
    var cachedCount: Int = 0
    var mappedBytes: UInt = 0
}

enum HugeBlocks {
    static let magic: UInt64 = 0x6861_6B6D_656D_4842  // "hakmemHB"
    static let cacheCountLimit = 8
    static let cacheByteLimit = 64 << 20

    nonisolated(unsafe) static var cache: UnsafeMutablePointer<HugeCacheState>? = nil

    static func initialize(in region: UnsafeMutableRawPointer) -> Int {
        cache = region.assumingMemoryBound(to: HugeCacheState.self)
        cache!.pointee.counters = HugeCounters()
        return MemoryLayout<HugeCacheState>.stride
    }

    static var lock: FutexLock {
        FutexLock(word: withUnsafeMutablePointer(to: &cache!.pointee.lockWord) { $0 })
    }

    /// A block of at least `size` bytes aligned to `alignment` (a power of two), or nil.
    /// With `zeroed`, the block reads as zero (fresh and purged mappings already do).
    static func allocate(_ size: Int, alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        let align = alignment < OS.pageSize ? OS.pageSize : alignment
        // Record page + padding for the alignment + the block, rounded to whole chunks.
        guard size <= Int.max / 2, align <= Int.max / 4 else { return nil }
        // At least one byte of block: with size 0 and a 2 MiB alignment the padding alone fills
        // whole chunks, and the pointer would land one past the end of the mapping.
        let needed = OS.pageSize &+ (align &- OS.pageSize) &+ (size > 0 ? size : 1)
        let length = (needed &+ SuperSlab.size &- 1) & ~(SuperSlab.size &- 1)
        // A cached mapping may be longer than asked for; the record keeps its real length.
        guard let (start, mappedLength) = takeCached(length: length, zeroed: zeroed) ?? mapFresh(length) else {
            return nil
        }
        let user = (start &+ UInt(OS.pageSize) &+ UInt(align) &- 1) & ~(UInt(align) &- 1)
        let record = UnsafeMutablePointer<HugeRecord>(bitPattern: user &- UInt(OS.pageSize))!
        record.pointee = HugeRecord(magic: magic, purged: false, cachedAt: 0, mappingStart: start, mappingLength: mappedLength,
                                    user: user, next: nil)
        return UnsafeMutableRawPointer(bitPattern: user)
    }

    private static func mapFresh(_ length: Int) -> (UInt, Int)? {
        guard let base = OS.mapAligned(length, alignment: SuperSlab.size) else { return nil }
        let lock = self.lock
        lock.lock()
        ChunkMap.mark(UInt(bitPattern: base), length: length, as: ChunkMap.huge)
        cache!.pointee.counters.mappedBytes &+= UInt(length)
        cache!.pointee.counters.allocations &+= 1
        lock.unlock()
        return (UInt(bitPattern: base), length)
    }

    /// A cached mapping of exactly `length` bytes up to 1.5× that, so reuse wastes little.
    private static func takeCached(length: Int, zeroed: Bool) -> (UInt, Int)? {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        var link = withUnsafeMutablePointer(to: &cache!.pointee.first) { $0 }
        while let record = link.pointee {
            if record.pointee.mappingLength >= length && record.pointee.mappingLength <= length &+ length / 2 {
                link.pointee = record.pointee.next
                cache!.pointee.count &-= 1
                cache!.pointee.bytes &-= record.pointee.mappingLength
                cache!.pointee.counters.allocations &+= 1
                if zeroed && !record.pointee.purged { purge(record) }
                return (record.pointee.mappingStart, record.pointee.mappingLength)
            }
            link = withUnsafeMutablePointer(to: &record.pointee.next) { $0 }
        }
        return nil
    }

    /// The record of the huge block starting at `address`, or nil if it is not one.
    static func record(of address: UInt) -> UnsafeMutablePointer<HugeRecord>? {
        guard address & UInt(OS.pageSize &- 1) == 0, address >= UInt(OS.pageSize),
              ChunkMap.kind(of: address &- UInt(OS.pageSize)) == ChunkMap.huge else { return nil }
        let record = UnsafeMutablePointer<HugeRecord>(bitPattern: address &- UInt(OS.pageSize))!
        guard record.pointee.magic == magic, record.pointee.user == address else { return nil }
        return record
    }

    static func usableSize(_ record: UnsafeMutablePointer<HugeRecord>) -> Int {
        Int(record.pointee.mappingStart &+ UInt(record.pointee.mappingLength) &- record.pointee.user)
    }

    static func free(_ record: UnsafeMutablePointer<HugeRecord>) {
        let start = record.pointee.mappingStart
        let length = record.pointee.mappingLength
        record.pointee.magic = 0
        let lock = self.lock
        lock.lock()
        cache!.pointee.counters.frees &+= 1
        if cache!.pointee.count < cacheCountLimit && cache!.pointee.bytes &+ length <= cacheByteLimit {
            let cached = UnsafeMutablePointer<HugeRecord>(bitPattern: start)!
            cached.pointee = HugeRecord(magic: 0, purged: false, cachedAt: OS.milliseconds(), mappingStart: start,
                                        mappingLength: length, user: 0, next: cache!.pointee.first)
            cache!.pointee.first = cached
            cache!.pointee.count &+= 1
            cache!.pointee.bytes &+= length
            lock.unlock()
            return
        }
        unmapLocked(start, length)
        lock.unlock()
    }

    private static func purge(_ record: UnsafeMutablePointer<HugeRecord>) {
        OS.purge(UnsafeMutableRawPointer(bitPattern: record.pointee.mappingStart &+ UInt(OS.pageSize))!,
                 record.pointee.mappingLength &- OS.pageSize)
        record.pointee.purged = true
    }

    private static func unmapLocked(_ start: UInt, _ length: Int) {
        ChunkMap.mark(start, length: length, as: ChunkMap.nothing)
        cache!.pointee.counters.mappedBytes &-= UInt(length)
        OS.unmap(UnsafeMutableRawPointer(bitPattern: start)!, length)
    }

    /// Purges cached mappings older than the purge delay and unmaps those older than the
    /// SuperSlab cache age (all of them when `force`).
    @discardableResult
    static func maintain(now: UInt64, force: Bool) -> Bool {
        guard let cache else { return false }
        let lock = self.lock
        if force { lock.lock() } else if !lock.tryLock() { return false }
        defer { lock.unlock() }
        let age = force ? 0 : UInt64(Options.current.superSlabCacheMilliseconds)
        let delay = force ? 0 : UInt64(Options.current.purgeDelayMilliseconds)
        var released = false
        var link = withUnsafeMutablePointer(to: &cache.pointee.first) { $0 }
        while let record = link.pointee {
            if !record.pointee.purged && now &- record.pointee.cachedAt >= delay {
                purge(record)
                released = true
            }
            if now &- record.pointee.cachedAt >= age {
                link.pointee = record.pointee.next
                cache.pointee.count &-= 1
                cache.pointee.bytes &-= record.pointee.mappingLength
                unmapLocked(record.pointee.mappingStart, record.pointee.mappingLength)
                released = true
            } else {
                link = withUnsafeMutablePointer(to: &record.pointee.next) { $0 }
            }
        }
        return released
    }

    static var counters: HugeCounters {
        guard let cache else { return HugeCounters() }
        var counters = cache.pointee.counters
        counters.cachedCount = cache.pointee.count
        return counters
    }
}
