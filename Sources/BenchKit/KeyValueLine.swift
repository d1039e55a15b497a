// KeyValueLine: the `name=number name=number ...` lines the bench's C programs print —
// the workloads' result line and the launcher's report.

public enum KeyValueLine {
    /// The fields of one line; any token that is not `name=number` is an error.
    public static func fields(of line: Substring) throws(WorkloadOutputError) -> [String: Double] {
        var fields: [String: Double] = [:]
        for token in line.split(whereSeparator: \.isWhitespace) {
            let parts = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let value = Double(parts[1]), value.isFinite else {
                throw .malformedField(String(token))
            }
            fields[String(parts[0])] = value
        }
        return fields
    }
}
