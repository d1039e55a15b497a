// Chunk map: one byte per 2 MiB of the 47-bit address space saying what hakmem placed there.
// It is how free's slow paths and the queries (`malloc_usable_size`, realloc) tell hakmem's
// pointers from foreign ones without touching foreign memory; free's hit path uses the slot
// table (SlotTable.swift), whose range test and dummy descriptor do the same for its slots.
// Storage is a .bss array in CHakmem (untouched pages cost nothing). Writers hold the lock of
// the structure that maps or unmaps the region (shared pool or huge cache); readers take no lock.
import CHakmem

enum ChunkMap {
    static let nothing: UInt8 = 0
    static let superSlab: UInt8 = 1
    static let huge: UInt8 = 2
    static let chunkCount = UInt(1) &<< UInt(47 &- SuperSlab.shift)

    /// What lives in the chunk holding `address` (0 for anything outside user space).
    @inline(__always)
    static func kind(of address: UInt) -> UInt8 {
        let chunk = address &>> UInt(SuperSlab.shift)
        if chunk >= chunkCount { return nothing }
        return bytes[Int(chunk)]
    }

    /// `kind(of:)` for an address that must also be 16-byte aligned (`nothing` if it is not).
    /// Rotating the low 4 bits to the top turns a misaligned address into a chunk number far out
    /// of range, so free's hit path checks range and alignment with one comparison. The map has
    /// one byte more than there are chunks, always 0 (the chunk at 2^47, outside user space), so
    /// the bound compared with is `chunkCount` itself: against a power of two LLVM tests the
    /// rotated address's top bits instead and shifts twice, one instruction more.
    @inline(__always)
    static func kind(ofAligned address: UInt) -> UInt8 {
        let rotated = (address &>> 4) | (address &<< 60)
        let chunk = rotated &>> UInt(SuperSlab.shift &- 4)
        if chunk > chunkCount { return nothing }
        return bytes[Int(chunk)]
    }

    @inline(__always)
    static var bytes: UnsafeMutablePointer<UInt8> {
        withUnsafeMutablePointer(to: &hakmem_chunk_map) { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) }
    }

    static func mark(_ start: UInt, length: Int, as kind: UInt8) {
        var chunk = start &>> UInt(SuperSlab.shift)
        let end = (start &+ UInt(length) &+ UInt(SuperSlab.size) &- 1) &>> UInt(SuperSlab.shift)
        while chunk < end {
            bytes[Int(chunk)] = kind
            chunk &+= 1
        }
    }
}
