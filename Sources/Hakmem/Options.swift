// Options: the few HAKMEM_* environment variables, read once at start-up (docs/OPTIONS.md).
// A malformed or out-of-range value is never fatal: one line on stderr names the variable and
// the default used instead. Values are plain globals afterwards, read on slow paths only.

@_extern(c, "getenv")
func c_getenv(_ name: UnsafePointer<CChar>) -> UnsafePointer<CChar>?

struct OptionValues {
    /// How long an empty slab keeps its pages before they are returned to the kernel.
    var purgeDelayMilliseconds: Int = 100
    /// Entirely unused SuperSlabs kept mapped for reuse, and for how long.
    var superSlabCacheCount: Int = 4
    var superSlabCacheMilliseconds: Int = 1000
    /// Bytes a thread takes from a slab into its allocation list at once (the per-class cache).
    var classCacheBytes: Int = 16 << 10
    /// Checked mode (HAKMEM_CHECK=1): every malloc and free on a validating slow path.
    var checked: Bool = false
    /// Statistics at exit: 0 none, 1 text on stderr, 2 JSON to `statsPath`.
    var statsMode: Int = 0
    var statsPath: UnsafePointer<CChar>? = nil
}

enum Options {
    nonisolated(unsafe) static var current = OptionValues()

    static func load() {
        var values = OptionValues()
        values.purgeDelayMilliseconds = integer("HAKMEM_PURGE_DELAY_MS", in: 0...60_000, default: 100)
        values.superSlabCacheCount = integer("HAKMEM_SUPERSLAB_CACHE", in: 0...1024, default: 4)
        values.superSlabCacheMilliseconds = integer("HAKMEM_SUPERSLAB_CACHE_MS", in: 0...600_000, default: 1000)
        values.classCacheBytes = integer("HAKMEM_CLASS_CACHE_KB", in: 1...1024, default: 16) << 10
        values.checked = integer("HAKMEM_CHECK", in: 0...1, default: 0) == 1
        if let stats = c_getenv("HAKMEM_STATS") {
            if matches(stats, "0") || matches(stats, "") {
                values.statsMode = 0
            } else if matches(stats, "1") {
                values.statsMode = 1
            } else if hasPrefix(stats, "json:") && stats[5] != 0 {
                values.statsMode = 2
                values.statsPath = stats + 5
            } else {
                warn("HAKMEM_STATS", stats, expected: "0, 1 or json:PATH", defaultValue: 0)
            }
        }
        current = values
    }

    /// The value of `name` if it is a whole number in `range`, else `defaultValue` (with a warning).
    static func integer(_ name: StaticString, in range: ClosedRange<Int>, default defaultValue: Int) -> Int {
        guard let text = c_getenv(UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)) else {
            return defaultValue
        }
        if let value = parseWholeNumber(text), range.contains(value) { return value }
        warn(name, text, expected: "a whole number from ", range: range, defaultValue: defaultValue)
        return defaultValue
    }

    static func parseWholeNumber(_ text: UnsafePointer<CChar>) -> Int? {
        var value = 0
        var i = 0
        while text[i] != 0 {
            let c = Int(text[i])
            guard c >= 48 && c <= 57 else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = shifted.addingReportingOverflow(c - 48)
            if o1 || o2 { return nil }
            value = sum
            i += 1
        }
        return i == 0 ? nil : value
    }

    private static func matches(_ text: UnsafePointer<CChar>, _ literal: StaticString) -> Bool {
        hasPrefix(text, literal) && text[literal.utf8CodeUnitCount] == 0
    }

    private static func hasPrefix(_ text: UnsafePointer<CChar>, _ literal: StaticString) -> Bool {
        for i in 0..<literal.utf8CodeUnitCount where UInt8(bitPattern: text[i]) != literal.utf8Start[i] {
            return false
        }
        return true
    }

    private static func warn(_ name: StaticString, _ value: UnsafePointer<CChar>, expected: StaticString,
                             range: ClosedRange<Int>? = nil, defaultValue: Int) {
        withLineWriter { line in
            line.append("hakmem: ignoring ")
            line.append(name)
            line.append("=")
            line.append(cString: value)
            line.append(" (expected ")
            line.append(expected)
            if let range {
                line.append(range.lowerBound)
                line.append(" to ")
                line.append(range.upperBound)
            }
            line.append("); using the default ")
            line.append(defaultValue)
            line.append("\n")
            line.write(to: 2)
        }
    }
}
