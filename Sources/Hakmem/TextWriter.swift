// TextWriter: builds text (messages, the statistics table, JSON) in memory the allocator maps
// itself, then writes it to a file descriptor. Numbers and strings are formatted by hand:
// Swift's String would allocate through malloc, which is us.

struct TextWriter {
    let buffer: UnsafeMutablePointer<UInt8>
    let capacity: Int
    var count = 0

    init(buffer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.buffer = buffer
        self.capacity = capacity
    }

    mutating func append(_ text: StaticString) {
        append(bytes: text.utf8Start, count: text.utf8CodeUnitCount)
    }

    mutating func append(bytes: UnsafePointer<UInt8>, count length: Int) {
        var i = 0
        while i < length && count < capacity {
            buffer[count] = bytes[i]
            count += 1
            i += 1
        }
    }

    /// A NUL-terminated C string (such as an environment value).
    mutating func append(cString: UnsafePointer<CChar>) {
        var p = UnsafeRawPointer(cString).assumingMemoryBound(to: UInt8.self)
        while p.pointee != 0 && count < capacity {
            buffer[count] = p.pointee
            count += 1
            p += 1
        }
    }

    mutating func append(byte: UInt8) {
        if count < capacity {
            buffer[count] = byte
            count += 1
        }
    }

    /// `value` in decimal, right-aligned in `width` columns (0: no padding).
    mutating func append(_ value: UInt, width: Int = 0) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { scratch in
            var n = 0
            var v = value
            repeat {
                scratch[n] = UInt8(48 + v % 10)
                v /= 10
                n += 1
            } while v > 0
            var pad = width - n
            while pad > 0 {
                append(byte: 32)
                pad -= 1
            }
            while n > 0 {
                n -= 1
                append(byte: scratch[n])
            }
        }
    }

    mutating func append(_ value: Int, width: Int = 0) {
        if value < 0 {
            append(byte: 45)
            append(UInt(-value), width: width > 0 ? width - 1 : 0)
        } else {
            append(UInt(value), width: width)
        }
    }

    mutating func appendHex(_ value: UInt) {
        append("0x")
        var shift = 60
        while shift > 0 && (value >> UInt(shift)) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            let digit = UInt8((value >> UInt(shift)) & 0xF)
            append(byte: digit < 10 ? 48 + digit : 87 + digit)
            shift -= 4
        }
    }

    func write(to fd: Int32) {
        var done = 0
        while done < count {
            let n = c_write(fd, buffer + done, count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Runs `body` with a writer over a stack buffer of 256 bytes: for one-line messages.
func withLineWriter(_ body: (inout TextWriter) -> Void) {
    var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &storage) { raw in
        var writer = TextWriter(buffer: raw.baseAddress!.assumingMemoryBound(to: UInt8.self), capacity: raw.count)
        body(&writer)
    }
}
