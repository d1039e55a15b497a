// ListArguments: the comma-separated lists `hakmem bench` takes on its command line
// (--allocators, --workloads, --threads), checked with messages that name what is allowed.

public enum ListArgumentError: Error, Equatable, CustomStringConvertible {
    case empty(what: String)
    case unknownName(String, what: String, allowed: [String])
    case invalidCount(String)
    case duplicate(String)

    public var description: String {
        switch self {
        case .empty(let what): "no \(what) given"
        case .unknownName(let name, let what, let allowed):
            "unknown \(what) '\(name)'; choose from: \(allowed.joined(separator: ", "))"
        case .invalidCount(let text): "'\(text)' is not a thread count (a whole number from 1 to 1024)"
        case .duplicate(let item): "'\(item)' is listed twice"
        }
    }
}

public enum ListArguments {
    /// Splits `text` on commas, trimming spaces and dropping empty items.
    public static func items(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.filter { !$0.isWhitespace } }.filter { !$0.isEmpty }
    }

    /// Names from `allowed`, in the order given; each name may appear once.
    public static func names(_ text: String, allowed: [String], what: String) throws(ListArgumentError) -> [String] {
        let names = items(text)
        guard !names.isEmpty else { throw .empty(what: what) }
        var seen = Set<String>()
        for name in names {
            guard allowed.contains(name) else { throw .unknownName(name, what: what, allowed: allowed) }
            guard seen.insert(name).inserted else { throw .duplicate(name) }
        }
        return names
    }

    /// Thread counts such as `1,2,4,8`, sorted ascending.
    public static func threadCounts(_ text: String) throws(ListArgumentError) -> [Int] {
        let counts = items(text)
        guard !counts.isEmpty else { throw .empty(what: "thread counts") }
        var values: [Int] = []
        for count in counts {
            guard let value = Int(count), (1...1024).contains(value) else { throw .invalidCount(count) }
            guard !values.contains(value) else { throw .duplicate(count) }
            values.append(value)
        }
        return values.sorted()
    }
}
