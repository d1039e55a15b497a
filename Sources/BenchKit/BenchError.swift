// BenchError: why a bench run as a whole could not go on (as opposed to one run failing,
// which is recorded in the results and reported).

public enum BenchError: Error, Equatable, CustomStringConvertible {
    case missingFile(String)
    case benchDirectoryNotFound(searched: [String])
    case compilerUnavailable(String)
    case compilationFailed(String, output: String)
    case cannotWrite(String, reason: String)
    case baselineUnusable(String)
    case nothingToRun

    public var description: String {
        switch self {
        case .missingFile(let path): "\(path) is missing"
        case .benchDirectoryNotFound(let searched):
            "cannot find the bench/ directory (looked in \(searched.joined(separator: ", "))); "
                + "run from the hakmem checkout or pass --bench-dir"
        case .compilerUnavailable(let compiler): "cannot run the C compiler '\(compiler)' (install gcc, or set CC)"
        case .compilationFailed(let source, let output): "compiling \(source) failed:\n\(output)"
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .baselineUnusable(let reason): "glibc itself failed the smoke test: \(reason)"
        case .nothingToRun: "no workload can run: nothing to measure"
        }
    }
}
