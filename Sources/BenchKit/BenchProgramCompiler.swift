// BenchProgramCompiler: building the bench's C programs on demand.
//
// The workloads (bench/workloads) and the measuring launcher (bench/launcher) are
// compiled with `cc -O2 -pthread` into a cache directory (by default .build/bench) when a
// binary is missing or older than its source or a header beside it (common.h). Each is
// compiled to a temporary name and renamed into place, so an interrupted or concurrent
// build never leaves a half-written program behind.

import Foundation

public struct BenchProgramCompiler: Sendable {
    public var benchDirectory: String
    public var cacheDirectory: String
    /// The C compiler: $CC, or `cc`.
    public var compiler: String

    public static let flags = ["-O2", "-pthread"]

    public init(benchDirectory: String, cacheDirectory: String,
                compiler: String = ProcessInfo.processInfo.environment["CC"] ?? "cc") {
        self.benchDirectory = benchDirectory
        self.cacheDirectory = cacheDirectory
        self.compiler = compiler
    }

    /// The path of the built program whose source is `<bench>/<path>.c` (for example
    /// `workloads/random_mixed`), compiling it first if needed.
    public func program(_ path: String) throws(BenchError) -> String {
        let source = "\(benchDirectory)/\(path).c"
        let binary = "\(cacheDirectory)/\((path as NSString).lastPathComponent)"
        guard FileManager.default.fileExists(atPath: source) else { throw .missingFile(source) }
        if isUpToDate(binary, against: [source] + headers(beside: source)) { return binary }

        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(cacheDirectory, reason: error.localizedDescription)
        }
        let temporary = "\(binary).building-\(ProcessInfo.processInfo.processIdentifier)"
        guard let result = ChildProcess.output(of: compiler, arguments: Self.flags + ["-o", temporary, source]) else {
            throw .compilerUnavailable(compiler)
        }
        guard result.termination.succeeded else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw .compilationFailed(source, output: result.text)
        }
        guard rename(temporary, binary) == 0 else {
            throw .cannotWrite(binary, reason: String(cString: strerror(errno)))
        }
        return binary
    }

    private func headers(beside source: String) -> [String] {
        let directory = (source as NSString).deletingLastPathComponent
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".h") }.map { "\(directory)/\($0)" }
    }

    private func isUpToDate(_ binary: String, against sources: [String]) -> Bool {
        guard let built = modificationDate(binary) else { return false }
        return sources.allSatisfy { (modificationDate($0) ?? .distantFuture) <= built }
    }

    private func modificationDate(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }
}
