// API surface: the exported C functions (aliased to malloc, free, ... by the linker), argument
// checks with glibc's semantics, and routing by size:
//   ≤ 1.75 MiB → a size class: the thread root's allocation list, refilled by ThreadCache;
//   larger, or aligned above 64 KiB → HugeBlocks.
// `free` routes by the slot table, then the chunk map: a SuperSlab block goes to its slab (the
// owner's list, or the slab's remote stack from any other thread), a huge block to HugeBlocks,
// anything else is reported as an invalid pointer.
import CHakmem
import Synchronization

// MARK: Allocation

@_cdecl("hakmem_malloc") @inline(__always)
public func hakmem_malloc(_ size: Int) -> UnsafeMutableRawPointer? {
    let root = ThreadCache.root
    if _fastPath(UInt(bitPattern: size) <= UInt(SizeClass.tinyLimit)) {
        let c = Int(ThreadCache.smallClassTable(root)[(size &+ 15) &>> 4])
        let head = ThreadCache.heads(root) + c
        if let block = head.pointee {
            head.pointee = block.load(as: UnsafeMutableRawPointer?.self)
            return block
        }
    } else if UInt(bitPattern: size) <= UInt(SizeClass.midLimit) {
        // Before start-up the Mid table reads class 0 (malloc(0)'s), but then every list is
        // empty: a thread's first refill waits for start-up, which fills the table first. So the
        // pop needs no test of the class; it misses and the slow path starts the allocator.
        let c = SizeClass.midIndex(forSize: size)
        if let block = pop(fromClass: c, root: root, knownToBeMid: true) { return erasingFreshMark(block) }
    }
    return c_allocateSlow(size)
}

/// malloc's way out, declared as the C function it is (`@_cdecl` below): a call from C to C
/// returning a pointer is a tail call (`jmp`). Called as Swift, it returned an integer that
/// malloc had to convert, so malloc kept a stack frame and a call for every Mid or Large request.
@_extern(c, "hakmem_allocate_slow")
func c_allocateSlow(_ size: Int) -> UnsafeMutableRawPointer?

/// What malloc's hit paths leave: refill, Large classes, huge blocks, failure.
@_cdecl("hakmem_allocate_slow") @inline(__always)
public func allocateSlow(_ size: Int) -> UnsafeMutableRawPointer? {
    let request = UInt(bitPattern: size)
    if _fastPath(request > UInt(SizeClass.tinyLimit) && request <= UInt(SizeClass.midLimit)) {
        let c = SizeClass.midIndex(forSize: size)
        if _fastPath(c != 0) { return allocate(fromClass: c) }
    }
    if request <= UInt(SizeClass.largeLimit) { return allocate(fromClass: SizeClass.index(forSize: size)) }
    return allocateHuge(size, alignment: OS.pageSize)
}

/// Pops a block of class `c` from the thread's allocation list, if it has one. The pop is
/// counted for a Mid class (Large lists stay empty; a Tiny pop counts nothing, see `countPop`).
/// `knownToBeMid` is malloc's Mid hit path, whose class needs no test (one instruction fewer).
@inline(__always)
func pop(fromClass c: Int, root: UnsafeMutablePointer<HakmemThreadRoot>,
         knownToBeMid: Bool = false) -> UnsafeMutableRawPointer? {
    let head = ThreadCache.heads(root) + c
    guard let hit = head.pointee else { return nil }
    head.pointee = hit.load(as: UnsafeMutableRawPointer?.self)
    ClassLists.countPop(hit, ofClass: c, root: root, isMid: knownToBeMid || ClassLists.countsPops(c))
    return hit
}

/// A block of class `c`, handed out to the program.
@inline(__always)
func allocate(fromClass c: Int) -> UnsafeMutableRawPointer? {
    guard let block = allocateKeepingFreshMark(fromClass: c) else { return nil }
    return erasingFreshMark(block)
}

/// A block of class `c`: a pop from the thread's allocation list, else a refill. Before the
/// allocator's start-up every list is empty, so the first call of each thread refills. The block
/// may still carry its fresh mark: only calloc hands it out so.
@inline(__always)
func allocateKeepingFreshMark(fromClass c: Int) -> UnsafeMutableRawPointer? {
    if let hit = pop(fromClass: c, root: ThreadCache.root) { return hit }
    return refillAndAllocate(fromClass: c)
}

/// Every hand-out of a block but calloc's goes through here: once the program has a block, its
/// second word no longer proves it untouched (see `Slab.freshMark`). One store, into the line
/// the pop has just read.
@inline(__always)
func erasingFreshMark(_ block: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    block.storeBytes(of: 0, toByteOffset: 8, as: UInt.self)
    return block
}

@inline(never)
func refillAndAllocate(fromClass c: Int) -> UnsafeMutableRawPointer? {
    Lifecycle.ensureInitialized()
    let take = Options.current.checked ? CheckedMode.allocate(fromClass:) : ThreadCache.refill
    let block = take(c) ?? retryAfterGivingBack { take(c) }
    if block == nil { OS.setErrno(OS.enomem) }
    return block
}

@inline(never)
func allocateHuge(_ size: Int, alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
    guard size >= 0 else {
        OS.setErrno(OS.enomem)
        return nil
    }
    Lifecycle.ensureInitialized()
    // Mapping memory is the moment to give some back.
    Maintenance.run()
    let block = HugeBlocks.allocate(size, alignment: alignment, zeroed: zeroed)
        ?? retryAfterGivingBack { HugeBlocks.allocate(size, alignment: alignment, zeroed: zeroed) }
    if block == nil { OS.setErrno(OS.enomem) }
    return block
}

/// The system refused a mapping, but memory freed earlier may still be held: for reuse (cached
/// huge mappings and SuperSlabs, empty slabs), or by other threads, on whose slabs blocks freed
/// by others wait for them (Maintenance.swift, give-back requests). Gives back what this
/// thread and the pool hold, as malloc_trim(0) does, and tries `allocation` again if anything
/// went; if that fails too, asks the other threads and tries once more after they answered. That
/// last try is made even if no thread had to be waited for: this thread's own answer, or other
/// threads giving back meanwhile, may have freed what it needs (a version that skipped it failed
/// `out_of_memory threads` 2 times in 3 000 under load, with 16 MiB of EMPTY slabs in the pool).
@inline(never)
func retryAfterGivingBack(_ allocation: () -> UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    if Maintenance.run(force: true), let block = allocation() { return block }
    Maintenance.askOtherThreadsToGiveBack()
    Maintenance.run(force: true)
    return allocation()
}

/// A block of `size` bytes aligned to `alignment` (a power of two). A class whose blocks are all
/// aligned serves it through the class's ordinary allocation path.
func allocateAligned(_ size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    if alignment <= 16 { return hakmem_malloc(size) }
    let c = SizeClass.tabledIndex(forSize: size, alignment: alignment)
    if _fastPath(c != 0) { return allocate(fromClass: c) }
    return allocateAlignedUntabled(size, alignment: alignment)
}

/// What the aligned-class table does not answer: requests before start-up, and those no class
/// serves (huge blocks). Out of line, so that the table's hits need no stack frame.
@inline(never)
func allocateAlignedUntabled(_ size: Int, alignment: Int) -> UnsafeMutableRawPointer? {
    if let c = SizeClass.index(forSize: size, alignment: alignment) { return allocate(fromClass: c) }
    return allocateHuge(size, alignment: alignment)
}

@_cdecl("hakmem_calloc")
public func hakmem_calloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow, total >= 0 else {
        OS.setErrno(OS.enomem)
        return nil
    }
    if total > SizeClass.largeLimit { return allocateHuge(total, alignment: OS.pageSize, zeroed: true) }
    if total > SizeClass.tinyLimit { return calloc(total, fromClass: SizeClass.index(forSize: total)) }
    guard let block = hakmem_malloc(total) else { return nil }
    _ = c_memset(block, 0, total)
    return block
}

/// A Mid or Large block that has not been the program's since it was cut from fresh pages reads
/// as zero but for its link and its mark: clearing only those leaves the pages the program never
/// writes untouched, and not resident (a program that callocs big tables and fills them
/// sparsely would otherwise pay for every page).
private func calloc(_ total: Int, fromClass c: Int) -> UnsafeMutableRawPointer? {
    guard let block = allocateKeepingFreshMark(fromClass: c) else { return nil }
    if Slab.isUntouchedSinceCarve(block) {
        block.storeBytes(of: 0, as: UInt.self)
        return erasingFreshMark(block)
    }
    _ = c_memset(block, 0, total)
    return block
}

@_cdecl("hakmem_realloc")
public func hakmem_realloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    guard let pointer else { return hakmem_malloc(size) }
    if size == 0 {
        hakmem_free(pointer)
        return nil
    }
    let usable = usableSize(of: pointer, caller: "realloc")
    // A size above PTRDIFF_MAX (negative here) is no size at all: fail and keep the block, as
    // glibc does, rather than find that it "fits".
    guard size > 0 else {
        OS.setErrno(OS.enomem)
        return nil
    }
    // Keep the block when the new size fits and would not waste more than half of it.
    if size <= usable && (size >= usable / 2 || usable <= 128) { return pointer }
    // A huge block that stays huge changes its mapping's length instead of being copied. As a
    // huge allocation does, it gives the cache a moment to age first.
    if size > SizeClass.largeLimit && usable > SizeClass.largeLimit,
       let record = HugeBlocks.record(of: UInt(bitPattern: pointer)) {
        Maintenance.run()
        if let resized = HugeBlocks.resize(record, toHold: size) { return resized }
    }
    // A Large block growing within the Large classes takes the free slots after it, if any.
    if size > usable && usable > SizeClass.midLimit && size <= SizeClass.largeLimit,
       ThreadCache.growLargeBlockInPlace(pointer, toHold: size) {
        return pointer
    }
    guard let fresh = hakmem_malloc(size) else { return nil }
    _ = c_memcpy(fresh, pointer, size < usable ? size : usable)
    hakmem_free(pointer)
    return fresh
}

@_cdecl("hakmem_reallocarray")
public func hakmem_reallocarray(_ pointer: UnsafeMutableRawPointer?, _ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow, total >= 0 else {
        OS.setErrno(OS.enomem)
        return nil
    }
    return hakmem_realloc(pointer, total)
}

@_cdecl("hakmem_posix_memalign")
public func hakmem_posix_memalign(_ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ alignment: Int,
                                  _ size: Int) -> Int32 {
    // Unsigned: 2^63 is a power of two, valid, and unservable (ENOMEM, as glibc).
    let requested = UInt(bitPattern: alignment)
    guard requested >= UInt(MemoryLayout<UnsafeRawPointer>.size), requested & (requested &- 1) == 0 else {
        return OS.einval
    }
    guard requested <= UInt(Int.max) else { return OS.enomem }
    guard let block = allocateAligned(size, alignment: alignment) else { return OS.enomem }
    result.pointee = block
    return 0
}

/// glibc's memalign: a non-power-of-two alignment is rounded up to the next power of two; above
/// 2^63 it is invalid (EINVAL), and 2^63 itself cannot be served (ENOMEM).
@_cdecl("hakmem_memalign")
public func hakmem_memalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    let requested = UInt(bitPattern: alignment)
    if requested <= 16 { return hakmem_malloc(size) }
    guard requested <= UInt(Int.max) &+ 1 else {
        OS.setErrno(OS.einval)
        return nil
    }
    let rounded = UInt(1) &<< (UInt.bitWidth &- (requested &- 1).leadingZeroBitCount)
    guard rounded <= UInt(Int.max) else {
        OS.setErrno(OS.enomem)
        return nil
    }
    return allocateAligned(size, alignment: Int(rounded))
}

/// glibc 2.36 makes aligned_alloc an alias of memalign.
@_cdecl("hakmem_aligned_alloc")
public func hakmem_aligned_alloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    hakmem_memalign(alignment, size)
}

@_cdecl("hakmem_valloc")
public func hakmem_valloc(_ size: Int) -> UnsafeMutableRawPointer? {
    allocateAligned(size, alignment: OS.pageSize)
}

@_cdecl("hakmem_pvalloc")
public func hakmem_pvalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    // Unsigned: a size above PTRDIFF_MAX must not round up past zero to one page.
    guard UInt(bitPattern: size) <= UInt(Int.max - OS.pageSize) else {
        OS.setErrno(OS.enomem)
        return nil
    }
    let rounded = (size &+ OS.pageSize &- 1) & ~(OS.pageSize &- 1)
    return allocateAligned(rounded == 0 ? OS.pageSize : rounded, alignment: OS.pageSize)
}

// MARK: Release

/// Takes the pointer as an address (the same register in the C ABI) so the hit path never
/// branches on Optional: NULL is out of the slot table's range or in a slot with no slab, and
/// takes the unusual path like any foreign pointer.
///
/// The hit path checks what costs a few instructions: the pointer is 16-byte aligned and lies in
/// the slot table's range (one comparison covers both), its slot belongs to a slab this thread
/// owns (a slot with no slab names the dummy descriptor, owned by no one), and it is not the
/// block freed just before (the commonest double free). Whether it is the start
/// of a block is checked for frees into other threads' slabs, and for every free in checked mode
/// (HAKMEM_CHECK=1), which sends all frees to the slow path.
@_cdecl("hakmem_free") @inline(__always)
public func hakmem_free(_ address: UInt) {
    let slot = SlotTable.slot(ofAligned: address)
    guard _fastPath(slot < SlotTable.slotBound) else {
        return freeUnusual(UnsafeMutableRawPointer(bitPattern: address))
    }
    let (base, offset) = SlotTable.descriptorLocation(ofSlot: slot)
    freeBlock(address, descriptorBase: base, offset: offset)
}

/// The hit path once the slab is known, as `base + offset` (the slot table's, or for a SuperSlab
/// out of its range, `freeUnusual`'s through the chunk map and `slabHead`).
@inline(__always)
func freeBlock(_ address: UInt, descriptorBase base: UnsafeRawPointer, offset: Int) {
    let slab = SuperSlab.slab(base, offset)
    let root = ThreadCache.root
    guard _fastPath(slab.pointee.owner.load(ordering: .relaxed) == root.pointee.owner_tag) else {
        return freeToOtherThread(address, descriptorBase: base, offset: offset)
    }
    let list = UnsafeMutablePointer<UInt>(bitPattern: slab.pointee.freeTarget).unsafelyUnwrapped
    let top = list.pointee
    if _slowPath(top == address) { Diagnostics.doubleFree(address) }
    UnsafeMutablePointer<UInt>(bitPattern: address).unsafelyUnwrapped.pointee = top
    list.pointee = address
    slab.pointee.freesUntilEmpty &-= 1
    if _slowPath(slab.pointee.freesUntilEmpty == 0) { slabCountdownEnded(descriptorBase: base, offset: offset) }
}

/// The slow paths out of free's hit path take the descriptor as a base and an offset, not its
/// address: the hit path then never computes that address into a register.
@inline(never)
func slabCountdownEnded(descriptorBase base: UnsafeRawPointer, offset: Int) {
    let slab = SuperSlab.slab(base, offset)
    if ClassLists.isMarkedBelowWalk(slab) { return }
    ThreadCache.slabCountdownEnded(slab)
}

/// Frees from inside the allocator (realloc, the other API functions).
@inline(__always)
func hakmem_free(_ pointer: UnsafeMutableRawPointer?) {
    hakmem_free(UInt(bitPattern: pointer))
}

/// A SuperSlab block this thread does not own (or an invalid interior pointer). The common
/// case, a valid block freed by a thread with a heap in the default mode, ends in
/// RemoteFrees.free; the rest goes to `freeToOtherThreadUnusual`.
@inline(never)
func freeToOtherThread(_ address: UInt, descriptorBase base: UnsafeRawPointer, offset: Int) {
    let slab = SuperSlab.slab(base, offset)
    guard slab.pointee.state == SlabMeta.active, slab.isBlockStart(address) else {
        // The slot table's dummy (a slot with no slab: a huge block, a foreign pointer) is never
        // ACTIVE, so only this branch needs to tell it apart.
        if SlotTable.isDummy(slab) { return freeUnusual(UnsafeMutableRawPointer(bitPattern: address)) }
        Diagnostics.invalidPointer(address)
    }
    // `owner_tag` is the heap, except in checked mode and before the thread has a heap, where it
    // is 0: one test covers both cases `freeToOtherThreadUnusual` takes.
    let ownerTag = ThreadCache.root.pointee.owner_tag
    guard ownerTag != 0 else { return freeToOtherThreadUnusual(address, slab) }
    RemoteFrees.free(address, into: slab, heap: UnsafeMutablePointer<ThreadHeap>(bitPattern: ownerTag).unsafelyUnwrapped)
}

/// A valid block not on the hit path in checked mode, or freed by a thread without a heap yet.
@inline(never)
func freeToOtherThreadUnusual(_ address: UInt, _ slab: Slab) {
    let rootHeap = ThreadCache.root.pointee.heap
    if Options.current.checked {
        let owner = slab.pointee.owner.load(ordering: .relaxed)
        if owner == rootHeap, let heap = UnsafeMutablePointer<ThreadHeap>(bitPattern: owner) {
            return CheckedMode.freeOwn(address, slab, heap: heap)
        }
        CheckedMode.markFreed(address)
    }
    // A thread that only frees gets a heap too: its counters and maintenance countdown live there.
    let heap = rootHeap != 0 ? UnsafeMutablePointer<ThreadHeap>(bitPattern: rootHeap) : ThreadCache.heap()
    guard let heap else { return RemoteFrees.sendHomeWithoutHeap(address, into: slab) }
    RemoteFrees.free(address, into: slab, heap: heap)
}

/// A huge block, a block of a SuperSlab outside the slot table's range, or a pointer hakmem
/// never handed out (misaligned ones included).
@inline(never)
func freeUnusual(_ pointer: UnsafeMutableRawPointer?) {
    guard let pointer else { return }
    let address = UInt(bitPattern: pointer)
    if ChunkMap.kind(ofAligned: address) == ChunkMap.superSlab {
        let (base, offset) = SuperSlab.descriptorLocation(containing: address)
        return freeBlock(address, descriptorBase: base, offset: offset)
    }
    guard let record = HugeBlocks.record(of: address) else {
        if HugeBlocks.record(of: address, freed: true) != nil { Diagnostics.doubleFree(address) }
        Diagnostics.invalidPointer(address)
    }
    HugeBlocks.free(record)
}

@_cdecl("hakmem_free_sized")
public func hakmem_free_sized(_ pointer: UnsafeMutableRawPointer?, _ size: Int) {
    hakmem_free(UInt(bitPattern: pointer))
}

@_cdecl("hakmem_free_aligned_sized")
public func hakmem_free_aligned_sized(_ pointer: UnsafeMutableRawPointer?, _ alignment: Int, _ size: Int) {
    hakmem_free(UInt(bitPattern: pointer))
}

/// Returns to the kernel all memory that can be returned now: this thread's parked slabs that
/// other threads emptied, every EMPTY slab, cached SuperSlabs and huge mappings. Returns 1 if
/// any memory was released (glibc's convention); `pad` is accepted and ignored.
@_cdecl("hakmem_malloc_trim")
public func hakmem_malloc_trim(_ pad: Int) -> Int32 {
    Lifecycle.ensureInitialized()
    return Maintenance.run(force: true) ? 1 : 0
}

// MARK: Queries

@_cdecl("hakmem_malloc_usable_size")
public func hakmem_malloc_usable_size(_ pointer: UnsafeMutableRawPointer?) -> Int {
    guard let pointer else { return 0 }
    return usableSize(of: pointer, caller: "malloc_usable_size")
}

/// The bytes the caller may use at `pointer`; aborts with a report if hakmem did not hand it out.
/// Inlined into its two callers, with the blocks of SuperSlabs in the slot table's range answered
/// here and the rest out of line: programs that account their memory (redis's zmalloc) ask this
/// at every malloc and free, and the call that the huge case and the report make kept a stack
/// frame on every query (56 instructions a query, then 32 with the chunk map, 26 with the slot
/// table; mimalloc's 28: PERFORMANCE.md).
@inline(__always)
func usableSize(of pointer: UnsafeMutableRawPointer, caller: StaticString) -> Int {
    let address = UInt(bitPattern: pointer)
    let slot = SlotTable.slot(ofAligned: address)
    if _fastPath(slot < SlotTable.slotBound) {
        let (base, offset) = SlotTable.descriptorLocation(ofSlot: slot)
        if let size = SuperSlab.slab(base, offset).blockSize(ifBlockStarts: address) { return size }
    }
    return usableSizeOutsideSlabs(of: address, caller: caller)
}

/// `usableSize` of a block of a SuperSlab beyond the slot table's range or of a huge block;
/// anything else is not a block hakmem handed out.
@inline(never)
func usableSizeOutsideSlabs(of address: UInt, caller: StaticString) -> Int {
    if ChunkMap.kind(ofAligned: address) == ChunkMap.superSlab {
        if let size = SuperSlab.slab(containing: address).blockSize(ifBlockStarts: address) { return size }
    }
    if ChunkMap.kind(of: address) == ChunkMap.huge, let record = HugeBlocks.record(of: address) {
        return HugeBlocks.usableSize(record)
    }
    Diagnostics.fail(caller, "invalid pointer", address)
}
