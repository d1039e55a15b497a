// Remote frees: blocks a thread frees into slabs other threads own.
//
// Pushing each block onto its slab's `threadFree` stack costs a locked compare-and-swap on a
// cache line the owner also writes; a producer/consumer pair pays it on every block. So a
// thread gathers the small blocks it frees remotely into short chains, one per destination
// slab, in sets of two slots of its heap (chosen by the slab's address), and pushes a whole
// chain with one CAS when the chain reaches `chainLimit` blocks, when a third slab needs the
// set, at maintenance (every 256 remote frees or 16 refills of this thread, and malloc_trim) and
// at thread exit.
// Blocks above 1 KiB go at once: a pending chain keeps its slab from being given back, and
// those slabs are large.
//
// Ownership: the slots belong to the freeing thread's heap; only that thread touches them.
// A pending block is live as far as its slab's owner knows, so the slab cannot be released
// or unmapped under the chain.
import Synchronization

struct RemoteChain {
    var slab: UInt
    var head: UInt
    var tail: UInt
    /// Blocks the chain can still take before it is pushed: a countdown, so that the free's
    /// test is the decrement's own zero flag (`decl; je`), 3 instructions fewer than counting up.
    var room: UInt32

    var count: UInt32 { RemoteFrees.chainLimit &- room }
}

enum RemoteFrees {
    /// 32 sets of 2. With 32 direct-mapped slots, a consumer of 16 threads' producer-consumer
    /// ring (blocks of 16 classes, from slabs all over the SuperSlabs) found the slot taken by
    /// another slab at 65 % of its chain starts, and its chains held 6 blocks on average; two
    /// ways halve the starts (callgrind: 266 k → 114 k for 1.6 M blocks; PERFORMANCE.md).
    static let slotCount = 64
    static let chainLimit: UInt32 = 64
    static let largestDeferredBlock: UInt32 = 1024

    /// Frees `block` (already validated) into `slab`, owned by another thread or abandoned.
    @inline(__always)
    static func free(_ block: UInt, into slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        if slab.pointee.blockSize > largestDeferredBlock { return sendHomeNow(block, into: slab, heap: heap) }
        // Slab descriptors are 128 bytes apart: bits 7–11 spread neighbours over the sets (each
        // set one cache line: a chain is 32 bytes).
        let set = heap.pointee.remoteChains + Int((UInt(bitPattern: slab) &>> 6) & UInt(slotCount &- 2))
        var chain = set
        if chain.pointee.slab != UInt(bitPattern: slab) {
            chain = set + 1
            guard chain.pointee.slab == UInt(bitPattern: slab) else { return startChain(block, into: slab, heap: heap, set: set) }
        }
        UnsafeMutablePointer<UInt>(bitPattern: block).unsafelyUnwrapped.pointee = chain.pointee.head
        chain.pointee.head = block
        chain.pointee.room &-= 1
        if _slowPath(chain.pointee.room == 0) { return flushAndCount(chain, heap: heap) }
        // The maintenance countdown lives in the freeing thread's heap, so a thread that only
        // frees (a consumer) still gives memory back; maintenance flushes the chains too.
        Maintenance.count(Maintenance.remoteFreeWeight, in: heap)
    }

    /// A free by a thread that could not get a heap (out of memory): straight onto the slab.
    static func sendHomeWithoutHeap(_ block: UInt, into slab: Slab) {
        push(block, block, count: 1, into: slab)
    }

    /// Blocks above 1 KiB go home at once: a pending chain would keep a large slab from being given back.
    @inline(never)
    private static func sendHomeNow(_ block: UInt, into slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>) {
        Statistics.countRemoteFrees(1, ofClass: Int(slab.pointee.classIndex), in: heap)
        push(block, block, count: 1, into: slab)
        Maintenance.count(Maintenance.remoteFreeWeight, in: heap)
    }

    /// Neither slot of the set holds this slab's chain: the new chain takes the first slot, the
    /// chain there moves to the second, and the one in the second, if any, is pushed (the older
    /// of the two goes).
    @inline(never)
    private static func startChain(_ block: UInt, into slab: Slab, heap: UnsafeMutablePointer<ThreadHeap>,
                                   set: UnsafeMutablePointer<RemoteChain>) {
        if set.pointee.slab != 0 {
            if set[1].slab != 0 { flush(set + 1, heap: heap) }
            set[1] = set.pointee
        }
        // Until pushed, the chain keeps its slab from going back: a give-back request must wait for us.
        Maintenance.noteFreedBlocks(in: heap)
        UnsafeMutablePointer<UInt>(bitPattern: block).unsafelyUnwrapped.pointee = 0
        set.pointee = RemoteChain(slab: UInt(bitPattern: slab), head: block, tail: block, room: chainLimit &- 1)
        Maintenance.count(Maintenance.remoteFreeWeight, in: heap)
    }

    @inline(never)
    private static func flushAndCount(_ chain: UnsafeMutablePointer<RemoteChain>, heap: UnsafeMutablePointer<ThreadHeap>) {
        flush(chain, heap: heap)
        Maintenance.count(Maintenance.remoteFreeWeight, in: heap)
    }

    /// Pushes every pending chain of the calling thread.
    static func flushAll(_ heap: UnsafeMutablePointer<ThreadHeap>) {
        for i in 0..<slotCount where heap.pointee.remoteChains[i].slab != 0 {
            flush(heap.pointee.remoteChains + i, heap: heap)
        }
    }

    private static func flush(_ chain: UnsafeMutablePointer<RemoteChain>, heap: UnsafeMutablePointer<ThreadHeap>) {
        let pending = chain.pointee
        chain.pointee = RemoteChain(slab: 0, head: 0, tail: 0, room: chainLimit)
        let slab = Slab(bitPattern: pending.slab).unsafelyUnwrapped
        // Counted before the push: afterwards the slab may be gone.
        Statistics.countRemoteFrees(pending.count, ofClass: Int(slab.pointee.classIndex), in: heap)
        push(pending.head, pending.tail, count: pending.count, into: slab)
    }

    /// One CAS for the chain `head`…`tail`. After the push this thread must not touch the slab
    /// unguarded: its last block may be home, and another thread may give the slab back and
    /// unmap its SuperSlab; so whether this chain ends an abandoned slab is settled before.
    /// After the push the slab may be gone, but not its owner's heap: heaps are recycled, never
    /// unmapped, so flagging it afterwards is safe even if the owner exited meanwhile (an unused
    /// heap's flag is ignored).
    private static func push(_ head: UInt, _ tail: UInt, count: UInt32, into slab: Slab) {
        let owner = slab.pointee.owner.load(ordering: .acquiring)
        let lastOfAbandoned = owner == SlabMeta.abandonedOwner
            && slab.pointee.abandonedRemaining.wrappingSubtract(Int(count), ordering: .relaxed).oldValue == Int(count)
        let stackWasEmpty = slab.pushRemoteFrees(head, tail, count: count)
        if lastOfAbandoned { return SharedPool.reclaimIfEmpty(slab) }
        if stackWasEmpty, owner > SlabMeta.abandonedOwner {
            Maintenance.noteFreedBlocks(in: UnsafeMutablePointer<ThreadHeap>(bitPattern: owner).unsafelyUnwrapped)
        }
    }
}
