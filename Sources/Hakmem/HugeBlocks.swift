// Huge blocks: requests above the largest size class (1.75 MiB), and alignments above 64 KiB,
// each get a mapping of their own, 2 MiB-aligned so that its chunks are exclusively ours in the
// chunk map. The page just below the user's pointer holds the record of the mapping.
// Freed mappings wait in a small cache (bounded in count and bytes) for reuse, since mapping,
// unmapping and faulting in a large region costs far more than reusing one; cached mappings that
// adjoin merge, and are split, or moved together, to the length asked for. The cache is under
// its own lock.
// A cached mapping keeps its pages for the purge delay (a program that frees and reallocates a
// big buffer in a loop does not fault it in again each time); then `maintain` purges it, so only
// its first page stays resident, and unmaps it once older than the SuperSlab cache age. Past a
// budget of resident cached bytes (16 MiB, more while a thread allocates again right after its
// own free made the cache purge: ResidentBudget.swift), a free purges the oldest at once, so that
// a program that frees a big array and goes idle gives it back.

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
    /// In checked mode, the PROT_NONE page right after the block; else 0.
    var guardPage: UInt
    var next: UnsafeMutablePointer<HugeRecord>?
}

struct HugeCacheState: ~Copyable {
    var lockWord: LockWord
    var first: UnsafeMutablePointer<HugeRecord>?
    var count: Int
    var bytes: Int
    /// Of `bytes`, those of mappings not purged: resident, unless the program never touched them.
    var unpurgedBytes: Int
    var residentBudget: ResidentBudget
    var counters: HugeCounters
}

struct HugeCounters {
    var allocations: UInt = 0
    var frees: UInt = 0
    var cachedCount: Int = 0
    /// Of the cached mappings, the bytes not purged, and the resident budget (see `free`).
    var cachedUnpurgedBytes: Int = 0
    var residentBudget: Int = 0
    var mappedBytes: UInt = 0
}

enum HugeBlocks {
    static let magic: UInt64 = 0x6861_6B6D_656D_4842  // "hakmemHB"
    /// A freed block's record, until its mapping is reused: a second free reports a double free.
    static let freedMagic: UInt64 = 0x6861_6B6D_656D_4846
    static let cacheCountLimit = 64
    static let cacheByteLimit = 128 << 20

    nonisolated(unsafe) static var cache: UnsafeMutablePointer<HugeCacheState>? = nil

    static func initialize(in region: UnsafeMutableRawPointer) -> Int {
        cache = region.assumingMemoryBound(to: HugeCacheState.self)
        cache!.pointee.counters = HugeCounters()
        cache!.pointee.residentBudget = ResidentBudget(largest: cacheByteLimit, cache: ResidentBudget.hugeCache)
        return MemoryLayout<HugeCacheState>.stride
    }

    static var lock: FutexLock {
        FutexLock(word: withUnsafeMutablePointer(to: &cache!.pointee.lockWord) { $0 })
    }

    /// A block of at least `size` bytes aligned to `alignment` (a power of two), or nil.
    /// With `zeroed`, the block reads as zero (fresh and purged mappings already do).
    static func allocate(_ size: Int, alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        let align = alignment < OS.pageSize ? OS.pageSize : alignment
        // Record page + padding for the alignment + the block (+ a guard page in checked mode),
        // rounded to whole chunks.
        guard size <= Int.max / 2, align <= Int.max / 4 else { return nil }
        let guarded = Options.current.checked
        // At least one byte of block: with size 0 and a 2 MiB alignment the padding alone fills
        // whole chunks, and the pointer would land one past the end of the mapping.
        let needed = OS.pageSize &+ (align &- OS.pageSize) &+ (size > 0 ? size : 1) &+ (guarded ? OS.pageSize : 0)
        let length = (needed &+ SuperSlab.size &- 1) & ~(SuperSlab.size &- 1)
        // A cached mapping may be longer than asked for; the record keeps its real length.
        guard let (start, mappedLength) = takeCached(length: length, zeroed: zeroed) ?? mapFresh(length) else {
            return nil
        }
        let user = (start &+ UInt(OS.pageSize) &+ UInt(align) &- 1) & ~(UInt(align) &- 1)
        let record = UnsafeMutablePointer<HugeRecord>(bitPattern: user &- UInt(OS.pageSize))!
        var guardPage: UInt = 0
        if guarded {
            guardPage = (user &+ UInt(size) &+ UInt(OS.pageSize) &- 1) & ~(UInt(OS.pageSize) &- 1)
            if !OS.protect(guardPage, OS.pageSize, accessible: false) { guardPage = 0 }
        }
        record.pointee = HugeRecord(magic: magic, purged: false, cachedAt: 0, mappingStart: start, mappingLength: mappedLength,
                                    user: user, guardPage: guardPage, next: nil)
        return UnsafeMutableRawPointer(bitPattern: user)
    }

    private static func mapFresh(_ length: Int) -> (UInt, Int)? {
        // The new pages will be resident: first return as many the pool holds only for reuse
        // (EMPTY slabs), which a huge block cannot use.
        SharedPool.purgeEmptySpans(bytes: length)
        guard let base = OS.mapAligned(length, alignment: SuperSlab.size, accounted: true) else { return nil }
        let lock = self.lock
        lock.lock()
        ChunkMap.mark(UInt(bitPattern: base), length: length, as: ChunkMap.huge)
        cache!.pointee.counters.mappedBytes &+= UInt(length)
        cache!.pointee.counters.allocations &+= 1
        cache!.pointee.residentBudget.noteClaimOfPurgedMemory(length)
        lock.unlock()
        return (UInt(bitPattern: base), length)
    }

    /// Cached mappings reshaped to exactly `length` bytes with their resident pages kept: the
    /// shortest one that is long enough, its tail split off; else the longest ones moved side by
    /// side into a fresh aligned range (the kernel moves page tables, not bytes), any shortfall
    /// left as fresh pages. Reusing only mappings of about the right length made a program that
    /// cycles big buffers of varying sizes fault in fresh pages nearly every time.
    private static func takeCached(length: Int, zeroed: Bool) -> (UInt, Int)? {
        let lock = self.lock
        lock.lock()
        defer { lock.unlock() }
        guard let first = removeClosest(to: length) else { return nil }
        var piece = Piece(first)
        let start: UInt
        var purged = piece.purged
        // Bytes of the block whose pages stay resident from a mapping not purged; the rest will
        // fault in, as if the mapping were fresh.
        var residentReused = 0
        if piece.length >= length {
            start = piece.start
            if piece.length > length { keepTail(of: piece, from: length) }
            if !piece.purged { residentReused = length }
        } else {
            // Fresh (zero) pages wherever no piece lands.
            guard let target = OS.mapAligned(length, alignment: SuperSlab.size, accounted: true) else {
                keepTail(of: piece, from: 0)
                return nil
            }
            start = UInt(bitPattern: target)
            ChunkMap.mark(start, length: length, as: ChunkMap.huge)
            cache!.pointee.counters.mappedBytes &+= UInt(length)
            var filled = 0
            while true {
                let moved = piece.length < length &- filled ? piece.length : length &- filled
                // Cleared before the move, as every unmap does: once the range is vacated, another
                // thread may map a SuperSlab there and mark it, and a later clearing would erase that.
                ChunkMap.mark(piece.start, length: moved, as: ChunkMap.nothing)
                if OS.move(piece.start, length: moved, to: start &+ UInt(filled), newLength: moved) {
                    cache!.pointee.counters.mappedBytes &-= UInt(moved)
                    // A piece's first page holds its cache record: inside the block unless it lands first.
                    purged = purged && piece.purged && filled == 0
                    if !piece.purged { residentReused &+= moved }
                    if moved < piece.length { keepTail(of: piece, from: moved) }
                } else {
                    unmapLocked(piece.start, piece.length)
                }
                filled &+= moved
                guard filled < length, let next = removeClosest(to: length &- filled) else { break }
                piece = Piece(next)
            }
        }
        cache!.pointee.counters.allocations &+= 1
        cache!.pointee.residentBudget.noteClaimOfPurgedMemory(length &- residentReused)
        if zeroed && !purged {
            let block = UnsafeMutableRawPointer(bitPattern: start &+ UInt(OS.pageSize))!
            // Locked pages keep their bytes through a purge: clear them by hand.
            if !OS.purge(block, length &- OS.pageSize) { _ = c_memset(block, 0, length &- OS.pageSize) }
        }
        return (start, length)
    }

    /// A cached mapping's record, copied out before the mapping is reshaped or moved.
    private struct Piece {
        let start: UInt
        let length: Int
        let purged: Bool
        let cachedAt: UInt64

        init(_ record: UnsafeMutablePointer<HugeRecord>) {
            start = record.pointee.mappingStart
            length = record.pointee.mappingLength
            purged = record.pointee.purged
            cachedAt = record.pointee.cachedAt
        }
    }

    /// What follows the first `used` bytes of a piece (all of it for 0) goes back to the cache.
    private static func keepTail(of piece: Piece, from used: Int) {
        cacheOrUnmap(piece.start &+ UInt(used), length: piece.length &- used, purged: piece.purged,
                     cachedAt: piece.cachedAt)
    }

    /// Unlinks and returns the shortest cached mapping of at least `length` bytes, or failing
    /// that the longest one. Caller holds the lock.
    private static func removeClosest(to length: Int) -> UnsafeMutablePointer<HugeRecord>? {
        var best: UnsafeMutablePointer<UnsafeMutablePointer<HugeRecord>?>? = nil
        var link = withUnsafeMutablePointer(to: &cache!.pointee.first) { $0 }
        while let record = link.pointee {
            if let current = best?.pointee {
                let have = current.pointee.mappingLength
                let candidate = record.pointee.mappingLength
                let better = have >= length ? (candidate >= length && candidate < have) : candidate > have
                if better { best = link }
            } else {
                best = link
            }
            link = withUnsafeMutablePointer(to: &record.pointee.next) { $0 }
        }
        guard let best else { return nil }
        return unlink(best)
    }

    /// Takes the record `link` points to out of the cache and its totals. Caller holds the lock.
    @discardableResult
    private static func unlink(_ link: UnsafeMutablePointer<UnsafeMutablePointer<HugeRecord>?>)
        -> UnsafeMutablePointer<HugeRecord>? {
        guard let record = link.pointee else { return nil }
        link.pointee = record.pointee.next
        cache!.pointee.count &-= 1
        cache!.pointee.bytes &-= record.pointee.mappingLength
        if !record.pointee.purged { cache!.pointee.unpurgedBytes &-= record.pointee.mappingLength }
        return record
    }

    /// Unlinks and returns the cached mapping that ends at `start` or begins at `end`, if any.
    /// Caller holds the lock.
    private static func removeNeighbour(of start: UInt, end: UInt) -> UnsafeMutablePointer<HugeRecord>? {
        var link = withUnsafeMutablePointer(to: &cache!.pointee.first) { $0 }
        while let record = link.pointee {
            let recordStart = record.pointee.mappingStart
            if recordStart == end || recordStart &+ UInt(record.pointee.mappingLength) == start { return unlink(link) }
            link = withUnsafeMutablePointer(to: &record.pointee.next) { $0 }
        }
        return nil
    }

    /// Puts a mapping of ours in the cache if the bounds allow (its first page takes the record),
    /// else unmaps it. Caller holds the lock.
    /// `freedUser` is the block just freed from this mapping, if any: its record stays marked as
    /// freed (the cache record takes its place), so a second free of it reads as a double free.
    /// A mapping that adjoins cached ones merges with them into one cached range (purged only if
    /// all its parts were; the newest part's time), as a page heap coalesces free spans: a later
    /// request longer than any one freed block then takes a range already in place, where moving
    /// pieces together cost an `mremap` each (large-huge: 476 for 2 000 operations, 9 % of its
    /// time). Each part's first page keeps its own record, so a second free of a block freed into
    /// the range still reads as a double free.
    private static func cacheOrUnmap(_ start: UInt, length: Int, purged: Bool, cachedAt: UInt64,
                                     freedUser: UInt = 0) {
        guard cache!.pointee.bytes &+ length <= cacheByteLimit else { return unmapLocked(start, length) }
        let arriving = UnsafeMutablePointer<HugeRecord>(bitPattern: start)!
        arriving.pointee = HugeRecord(magic: freedUser != 0 ? freedMagic : 0, purged: purged, cachedAt: cachedAt,
                                      mappingStart: start, mappingLength: length, user: freedUser, guardPage: 0,
                                      next: nil)
        var cached = arriving
        while let neighbour = removeNeighbour(of: cached.pointee.mappingStart,
                                             end: cached.pointee.mappingStart &+ UInt(cached.pointee.mappingLength)) {
            let (low, high) = neighbour.pointee.mappingStart < cached.pointee.mappingStart
                ? (neighbour, cached) : (cached, neighbour)
            low.pointee.mappingLength &+= high.pointee.mappingLength
            low.pointee.purged = low.pointee.purged && high.pointee.purged
            low.pointee.cachedAt = max(low.pointee.cachedAt, high.pointee.cachedAt)
            cached = low
        }
        // Merged, it takes the place of its neighbours' records; alone, it needs one more.
        if cached == arriving && cache!.pointee.count >= cacheCountLimit { return unmapLocked(start, length) }
        cached.pointee.next = cache!.pointee.first
        cache!.pointee.first = cached
        cache!.pointee.count &+= 1
        cache!.pointee.bytes &+= cached.pointee.mappingLength
        if !cached.pointee.purged { cache!.pointee.unpurgedBytes &+= cached.pointee.mappingLength }
    }

    /// The record of the huge block starting at `address`, or nil if it is not one; with
    /// `freed`, the record a freed block left behind (its mapping not reused yet).
    static func record(of address: UInt, freed: Bool = false) -> UnsafeMutablePointer<HugeRecord>? {
        guard address & UInt(OS.pageSize &- 1) == 0, address >= UInt(OS.pageSize),
              ChunkMap.kind(of: address &- UInt(OS.pageSize)) == ChunkMap.huge else { return nil }
        let record = UnsafeMutablePointer<HugeRecord>(bitPattern: address &- UInt(OS.pageSize))!
        guard record.pointee.magic == (freed ? freedMagic : magic), record.pointee.user == address else { return nil }
        return record
    }

    static func usableSize(_ record: UnsafeMutablePointer<HugeRecord>) -> Int {
        let end = record.pointee.guardPage != 0
            ? record.pointee.guardPage : record.pointee.mappingStart &+ UInt(record.pointee.mappingLength)
        return Int(end &- record.pointee.user)
    }

    /// Makes a huge block's mapping hold `size` bytes without copying them: in place when the
    /// address space after it is free (or to shrink it), else its pages move to the start of a
    /// fresh aligned range (mremap: the kernel moves page tables, not bytes). realloc used to
    /// copy, so a growing buffer was resident twice at each step (a Python bytearray grown to
    /// 40 MB peaked 1.7 times glibc's, which grows its mappings this way). Nil when it cannot: an
    /// aligned block, checked mode (guard pages), a mapping the kernel will not remap; realloc
    /// then copies. The caller's errno is kept.
    static func resize(_ record: UnsafeMutablePointer<HugeRecord>, toHold size: Int) -> UnsafeMutableRawPointer? {
        let start = record.pointee.mappingStart
        let length = record.pointee.mappingLength
        guard !Options.current.checked, record.pointee.user == start &+ UInt(OS.pageSize), size <= Int.max / 2 else {
            return nil
        }
        var newLength = (OS.pageSize &+ size &+ SuperSlab.size &- 1) & ~(SuperSlab.size &- 1)
        if newLength == length { return UnsafeMutableRawPointer(bitPattern: record.pointee.user) }
        let errno = c_errno_location()
        let saved = errno.pointee
        defer { errno.pointee = saved }
        var newStart = start
        if newLength < length {
            // The tail's chunks are cleared before it goes, as every unmap does.
            ChunkMap.mark(start &+ UInt(newLength), length: length &- newLength, as: ChunkMap.nothing)
            guard OS.resizeInPlace(start, length: length, newLength: newLength) else {
                ChunkMap.mark(start &+ UInt(newLength), length: length &- newLength, as: ChunkMap.huge)
                return nil
            }
        } else if OS.resizeInPlace(start, length: length, newLength: newLength) {
            ChunkMap.mark(start &+ UInt(length), length: newLength &- length, as: ChunkMap.huge)
        } else {
            // A new mapping, from the cache first (its resident pages serve the growth), as for
            // an allocation; the old one is vacated, as by a free: the counters see both.
            guard let (target, targetLength) = takeCached(length: newLength, zeroed: false) ?? mapFresh(newLength) else {
                return nil
            }
            ChunkMap.mark(start, length: length, as: ChunkMap.nothing)
            let movedOver = OS.move(start, length: length, to: target, newLength: length)
            let lock = self.lock
            lock.lock()
            cache!.pointee.counters.frees &+= 1
            if movedOver {
                cache!.pointee.counters.mappedBytes &-= UInt(length)
            } else {
                ChunkMap.mark(start, length: length, as: ChunkMap.huge)
                cacheOrUnmap(target, length: targetLength, purged: false, cachedAt: OS.milliseconds())
            }
            lock.unlock()
            guard movedOver else { return nil }
            newStart = target
            newLength = targetLength
        }
        // The record moved with the mapping's first page.
        let moved = UnsafeMutablePointer<HugeRecord>(bitPattern: newStart)!
        moved.pointee.mappingStart = newStart
        moved.pointee.mappingLength = newLength
        moved.pointee.user = newStart &+ UInt(OS.pageSize)
        if newStart == start {
            let lock = self.lock
            lock.lock()
            cache!.pointee.counters.mappedBytes = cache!.pointee.counters.mappedBytes &+ UInt(newLength) &- UInt(length)
            lock.unlock()
        }
        return UnsafeMutableRawPointer(bitPattern: moved.pointee.user)
    }

    static func free(_ record: UnsafeMutablePointer<HugeRecord>) {
        let start = record.pointee.mappingStart
        let length = record.pointee.mappingLength
        if record.pointee.guardPage != 0 { OS.protect(record.pointee.guardPage, OS.pageSize, accessible: true) }
        record.pointee.magic = freedMagic
        let lock = self.lock
        lock.lock()
        cache!.pointee.counters.frees &+= 1
        let now = OS.milliseconds()
        cacheOrUnmap(start, length: length, purged: false, cachedAt: now, freedUser: record.pointee.user)
        purgePastResidentBudget(now: now)
        lock.unlock()
    }

    /// Past the resident budget, purges the oldest cached mappings not purged yet until the
    /// cache is within it. Under the lock, as maintenance purges: huge frees are rare, and a
    /// mapping half purged must not be taken meanwhile. Caller holds the lock.
    private static func purgePastResidentBudget(now: UInt64) {
        guard cache!.pointee.unpurgedBytes > cache!.pointee.residentBudget.bytes else { return }
        cache!.pointee.residentBudget.notePurgePastBudget(now: now)
        while cache!.pointee.unpurgedBytes > cache!.pointee.residentBudget.bytes {
            var oldest: UnsafeMutablePointer<HugeRecord>? = nil
            var candidate = cache!.pointee.first
            while let record = candidate {
                if !record.pointee.purged { oldest = record }
                candidate = record.pointee.next
            }
            guard let oldest else { return }
            purge(oldest)
            // Locked pages stay whatever is done: leave them to maintenance, which tries again.
            guard oldest.pointee.purged else { return }
            cache!.pointee.unpurgedBytes &-= oldest.pointee.mappingLength
        }
    }

    /// A mapping whose pages the kernel would not drop (locked) stays unpurged: calloc then clears it.
    private static func purge(_ record: UnsafeMutablePointer<HugeRecord>) {
        record.pointee.purged = OS.purge(UnsafeMutableRawPointer(bitPattern: record.pointee.mappingStart &+ UInt(OS.pageSize))!,
                                         record.pointee.mappingLength &- OS.pageSize)
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
        cache.pointee.residentBudget.age(now: now, force: force)
        var released = false
        var link = withUnsafeMutablePointer(to: &cache.pointee.first) { $0 }
        while let record = link.pointee {
            if !record.pointee.purged && now &- record.pointee.cachedAt >= delay {
                purge(record)
                if record.pointee.purged { cache.pointee.unpurgedBytes &-= record.pointee.mappingLength }
                released = released || record.pointee.purged
            }
            if now &- record.pointee.cachedAt >= age {
                unlink(link)
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
        counters.cachedUnpurgedBytes = cache.pointee.unpurgedBytes
        counters.residentBudget = cache.pointee.residentBudget.bytes
        return counters
    }
}
