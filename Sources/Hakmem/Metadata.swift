// Metadata arena: memory for the allocator's own records (the pool state, thread heaps),
// mapped from the OS in 64 KiB pieces and never returned (a few KiB per thread alive at once:
// a thread's heap is recycled when the thread exits). Callers hold the shared pool's lock,
// except `initialize`, which runs once before any other thread can reach the allocator.

enum Metadata {
    nonisolated(unsafe) static var cursor: UInt = 0
    nonisolated(unsafe) static var end: UInt = 0
    static let pieceSize = 64 << 10

    /// `size` zeroed bytes aligned to 64 (a cache line), or nil when the system is out of memory.
    static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        let rounded = UInt((size &+ 63) & ~63)
        if cursor == 0 || cursor &+ rounded > end {
            let length = rounded > UInt(pieceSize) ? Int(rounded) : pieceSize
            guard let piece = OS.mapAnonymous(length) else { return nil }
            cursor = UInt(bitPattern: piece)
            end = cursor &+ UInt(length)
        }
        let result = cursor
        cursor &+= rounded
        return UnsafeMutableRawPointer(bitPattern: result)
    }
}
