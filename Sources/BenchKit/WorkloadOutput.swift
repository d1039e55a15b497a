// WorkloadOutput: parsing the result line a benchmark workload prints.
//
// Every C workload in bench/workloads prints one line `ops=N seconds=S name=value...`
// (see common.h). This file turns that line into numbers and says clearly what is wrong
// when the line is missing or malformed.

/// The figures of one workload run, as the program reported them.
public struct WorkloadOutput: Equatable, Sendable {
    /// Operations done in the measured part of the run.
    public var operations: Double
    /// Seconds the measured part took.
    public var seconds: Double
    /// The workload's own extra figures (for example `peak_kib`), by name.
    public var extras: [String: Double]

    /// Operations per second.
    public var throughput: Double { operations / seconds }

    public init(operations: Double, seconds: Double, extras: [String: Double] = [:]) {
        self.operations = operations
        self.seconds = seconds
        self.extras = extras
    }

    /// Parses the last line of `text` that contains `ops=`; other lines are ignored.
    public init(parsing text: String) throws(WorkloadOutputError) {
        guard let line = text.split(whereSeparator: \.isNewline).last(where: { $0.contains("ops=") }) else {
            throw .noResultLine
        }
        var fields = try KeyValueLine.fields(of: line)
        guard let operations = fields.removeValue(forKey: "ops") else { throw .missingField("ops") }
        guard let seconds = fields.removeValue(forKey: "seconds") else { throw .missingField("seconds") }
        guard seconds > 0 else { throw .nonPositiveSeconds }
        self.init(operations: operations, seconds: seconds, extras: fields)
    }
}

public enum WorkloadOutputError: Error, Equatable, CustomStringConvertible {
    case noResultLine
    case malformedField(String)
    case missingField(String)
    case nonPositiveSeconds

    public var description: String {
        switch self {
        case .noResultLine: "printed no result line (ops=...)"
        case .malformedField(let token): "printed a malformed field '\(token)' (expected name=number)"
        case .missingField(let name): "printed a result line without \(name)="
        case .nonPositiveSeconds: "reported a run time of zero seconds"
        }
    }
}
