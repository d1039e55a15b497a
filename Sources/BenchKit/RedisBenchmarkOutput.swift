// RedisBenchmarkOutput: parsing `redis-benchmark --csv`.
//
// redis-benchmark prints one CSV row per test, `"SET","81234.57",...`, after an optional
// header row `"test","rps",...`. The bench summarises the tests as one requests-per-second
// figure: total requests over total time, which for equal request counts is the harmonic
// mean of the per-test rates.

public struct RedisBenchmarkOutput: Equatable, Sendable {
    /// Requests per second of each test, in the order printed.
    public var requestsPerSecond: [(test: String, rate: Double)]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.requestsPerSecond.elementsEqual(rhs.requestsPerSecond) { $0.test == $1.test && $0.rate == $1.rate }
    }

    public init(parsingCSV text: String) throws(WorkloadOutputError) {
        var rates: [(test: String, rate: Double)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let cells = line.split(separator: ",").map { $0.trimmingCharacters(in: "\" ") }
            guard cells.count >= 2, cells[0] != "test" else { continue }
            guard let rate = Double(cells[1]), rate > 0 else { throw .malformedField(String(line)) }
            rates.append((cells[0], rate))
        }
        guard !rates.isEmpty else { throw .noResultLine }
        requestsPerSecond = rates
    }

    /// Requests per second over all tests, each test having made the same number of requests.
    public var overallRate: Double {
        Double(requestsPerSecond.count) / requestsPerSecond.reduce(0) { $0 + 1 / $1.rate }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in characters: String) -> String {
        String(drop(while: characters.contains).reversed().drop(while: characters.contains).reversed())
    }
}
