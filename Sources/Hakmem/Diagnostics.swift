// Misuse reports: one line on stderr naming the error and the pointer, then abort, as glibc does.
// Formatting uses a stack buffer and write(2): no allocation, safe inside a broken heap.

enum Diagnostics {
    /// Prints `hakmem: <function>(): <problem> 0x<pointer>` and aborts.
    static func fail(_ function: StaticString, _ problem: StaticString, _ pointer: UInt) -> Never {
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                     UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { bytes in
            var n = 0
            func append(_ text: StaticString) {
                let count = min(text.utf8CodeUnitCount, bytes.count - n - 20)
                for i in 0..<count { bytes[n + i] = text.utf8Start[i] }
                n += count
            }
            append("hakmem: ")
            append(function)
            append("(): ")
            append(problem)
            append(" 0x")
            var shift = 60
            while shift > 0 && (pointer >> UInt(shift)) & 0xF == 0 { shift -= 4 }
            while shift >= 0 {
                let digit = UInt8((pointer >> UInt(shift)) & 0xF)
                bytes[n] = digit < 10 ? 48 + digit : 87 + digit
                n += 1
                shift -= 4
            }
            bytes[n] = 10
            OS.writeStandardError(bytes.baseAddress!, n + 1)
        }
        OS.abortProcess()
    }
}
