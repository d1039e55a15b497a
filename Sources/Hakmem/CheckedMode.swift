// Checked mode (HAKMEM_CHECK=1): every malloc and free of a SuperSlab block goes through here,
// trading speed for catching misuse (the cost is measured in docs/RELIABILITY.md).
//   - Every free is validated: the pointer must be the start of a carved block of an active slab
//     (the caller, freeToOtherThread, checks that), so interior pointers are caught as well as
//     foreign and misaligned ones.
//   - Double frees on every tier: a free block carries a mark in its second word (its address
//     mixed with a per-process secret); free finds the mark and reports, malloc clears it. Huge
//     blocks are marked in their record (HugeBlocks).
//   - Free-list links of the thread's lists are encoded with the secret and the block's address,
//     and every link is checked when it is followed (a block start of the same slab, or the end),
//     so a use-after-free write cannot make the allocator hand out memory it chose.
//   - Huge blocks end at a PROT_NONE guard page (HugeBlocks).
// Routing costs the default mode nothing: the thread root's `owner_tag` is 0, so free's hit path
// never matches; the thread's allocation lists (`heads`) are kept empty, so malloc's hit path
// always misses and its refill path comes here. `ThreadHeap.checkedLists[c]` stands in for
// `heads[c]`: like it, it holds only blocks of the class's current slab.

enum CheckedMode {
    /// The mark a free block carries in its second word.
    @inline(__always)
    static func mark(of block: UInt) -> UInt { block ^ Lifecycle.secret ^ 0x6861_6B6D_656D_2121 }

    private static func encode(_ next: UInt, at block: UInt) -> UInt { next ^ Lifecycle.secret ^ (block &>> 4) }

    private static func word(_ block: UInt, _ index: Int) -> UnsafeMutablePointer<UInt> {
        UnsafeMutablePointer<UInt>(bitPattern: block)!.advanced(by: index)
    }

    /// A link read from a free block must be the end of the list or a block start of `slab`.
    private static func checkLink(_ next: UInt, from block: UInt, in slab: Slab) {
        guard next != 0 else { return }
        guard ChunkMap.kind(of: next) == ChunkMap.superSlab, SuperSlab.slab(containing: next) == slab,
              slab.isBlockStart(next) else {
            Diagnostics.fail("malloc", "corrupted free list at", block)
        }
    }

    // MARK: Allocation

    static func allocate(fromClass c: Int) -> UnsafeMutableRawPointer? {
        guard let heap = ThreadCache.heap() else { return nil }
        let list = heap.pointee.checkedLists + c
        if list.pointee != 0 {
            let block = list.pointee
            let next = encode(word(block, 0).pointee, at: block)
            checkLink(next, from: block, in: SuperSlab.slab(containing: block))
            list.pointee = next
            word(block, 1).pointee = 0
            return UnsafeMutableRawPointer(bitPattern: block)
        }
        guard let first = ThreadCache.refill(c) else { return nil }
        // The rest of the batch went to the allocation list: move it here, checking each link.
        let heads = ThreadCache.heads(ThreadCache.root) + c
        let slab = SuperSlab.slab(containing: UInt(bitPattern: first))
        var raw = UInt(bitPattern: heads.pointee)
        heads.pointee = nil
        checkLink(raw, from: UInt(bitPattern: first), in: slab)
        while raw != 0 {
            let next = word(raw, 0).pointee
            checkLink(next, from: raw, in: slab)
            push(raw, onto: list)
            raw = next
        }
        word(UInt(bitPattern: first), 1).pointee = 0
        return first
    }

    private static func push(_ block: UInt, onto list: UnsafeMutablePointer<UInt>) {
        word(block, 0).pointee = encode(list.pointee, at: block)
        word(block, 1).pointee = mark(of: block)
        list.pointee = block
    }

    // MARK: Release

    /// Marks a block being freed (its slab and block start already validated), or reports a
    /// double free if it carries the mark already.
    static func markFreed(_ block: UInt) {
        let second = word(block, 1)
        if second.pointee == mark(of: block) { Diagnostics.doubleFree(block) }
        second.pointee = mark(of: block)
    }

    /// A free by the owner thread: onto the checked list while the slab is current, else onto
    /// the slab's own list, counted down like the hit path's.
    static func freeOwn(_ block: UInt, _ slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        markFreed(block)
        if slab.isCurrent {
            push(block, onto: heap.pointee.checkedLists + Int(slab.pointee.classIndex))
        } else {
            word(block, 0).pointee = UInt(bitPattern: slab.pointee.localFree)
            slab.pointee.localFree = UnsafeMutableRawPointer(bitPattern: block)
        }
        slab.pointee.freesUntilEmpty &-= 1
        if slab.pointee.freesUntilEmpty == 0 { ThreadCache.slabCountdownEnded(slab) }
    }

    /// At thread exit: the checked lists go back to the allocation lists, decoded, so the exit
    /// path returns them to their slabs as it does in the default mode.
    static func returnLists(of heap: UnsafeMutablePointer<ThreadHeap>) {
        let heads = ThreadCache.heads(ThreadCache.root)
        for c in 0..<SizeClass.count {
            let list = heap.pointee.checkedLists + c
            while list.pointee != 0 {
                let block = list.pointee
                list.pointee = encode(word(block, 0).pointee, at: block)
                word(block, 0).pointee = UInt(bitPattern: heads[c])
                heads[c] = UnsafeMutableRawPointer(bitPattern: block)
            }
        }
    }
}
