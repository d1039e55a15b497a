// Shared machinery for the integration tests: finds libhakmem.so, compiles the C
// programs in Tests/programs once per test run, and runs commands with or without
// hakmem preloaded, capturing their output and how they ended.
//
// The library is taken from $HAKMEM_LIBRARY when set, else from the directory the
// test binary lives in (.build/<triple>/<config>/), where SwiftPM puts libhakmem.so.

import Foundation
import XCTest

/// A failure of the harness itself, with a message meant for the test log.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

enum Harness {
    /// The package root, three levels above this file (Tests/IntegrationTests/Support.swift).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// One scratch directory per test run, removed when the test process exits.
    static let scratch: URL = {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("hakmem-integration-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: Harness.scratch) }
        return dir
    }()

    /// Directories that may hold the test binary, and so libhakmem.so beside it.
    /// Under `swift test` on Linux the .xctest is itself the executable, so
    /// /proc/self/exe and argv[0] point at it; Bundle.main is its directory.
    static var testBinaryDirectories: [URL] {
        var candidates: [URL] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append(URL(fileURLWithPath: exe).deletingLastPathComponent())
        }
        if let argv0 = CommandLine.arguments.first, argv0.contains("/") {
            candidates.append(URL(fileURLWithPath: argv0).standardizedFileURL.deletingLastPathComponent())
        }
        let bundle = Bundle.main.bundleURL
        candidates.append(bundle.pathExtension == "xctest" ? bundle.deletingLastPathComponent() : bundle)
        var seen = Set<String>()
        return candidates.filter { seen.insert($0.path).inserted }
    }

    /// Absolute path of the allocator library to preload.
    static func library() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["HAKMEM_LIBRARY"], !configured.isEmpty {
            let path = URL(fileURLWithPath: configured).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: path) else {
                throw HarnessError("HAKMEM_LIBRARY is set to \(configured), but no such file exists")
            }
            return path
        }
        let searched = testBinaryDirectories.map { $0.appendingPathComponent("libhakmem.so").path }
        if let found = searched.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            return found
        }
        throw HarnessError("""
            libhakmem.so not found; looked for \(searched.joined(separator: ", ")). \
            Build it with `swift build` (the hakmem library product) or set HAKMEM_LIBRARY \
            to the library's path.
            """)
    }

    /// `name` looked up in $PATH, or nil when it is not installed.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// `name` looked up in $PATH, or a skip of the calling test when it is absent.
    static func requireTool(_ name: String) throws -> String {
        guard let path = which(name) else { throw XCTSkip("\(name) is not installed") }
        return path
    }

    /// Path of Tests/programs/<name>.c compiled with the system C compiler (and `flags`
    /// after the usual ones); each program is compiled at most once per test run.
    static func program(_ name: String, flags: [String] = []) throws -> String {
        try programs.build(name, flags: flags)
    }

    private static let programs = ProgramCache()
}

/// Compiled C programs, shared by all test cases of one run.
private final class ProgramCache: @unchecked Sendable {
    private let lock = NSLock()
    private var built: [String: Result<String, HarnessError>] = [:]

    func build(_ name: String, flags: [String]) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        let key = ([name] + flags).joined(separator: " ")
        if let done = built[key] { return try done.get() }
        let result = Result { try compile(name, flags: flags) }.mapError { $0 as? HarnessError ?? HarnessError("\($0)") }
        built[key] = result
        return try result.get()
    }

    private func compile(_ name: String, flags: [String]) throws -> String {
        let source = Harness.packageRoot.appendingPathComponent("Tests/programs/\(name).c").path
        let output = Harness.scratch.appendingPathComponent(([name] + flags).joined(separator: "_")).path
        guard let cc = Harness.which("cc") else { throw HarnessError("no C compiler (cc) in PATH") }
        let r = try Run.command(cc, ["-O2", "-pthread", "-o", output, source] + flags, timeout: 120)
        guard r.exitedZero else {
            throw HarnessError("compiling \(source) failed (\(r.ending)):\n\(r.stderr)")
        }
        return output
    }
}

/// How a command ended and what it printed.
struct RunResult {
    let command: String
    /// The raw output bytes: comparisons use these, so no byte can hide behind
    /// a lossy UTF-8 decoding.
    let stdoutBytes: Data
    let stderrBytes: Data
    /// Exit status, or the signal number when `signaled`.
    let status: Int32
    let signaled: Bool
    let timedOut: Bool
    let timeout: TimeInterval

    var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
    var exitedZero: Bool { !signaled && !timedOut && status == 0 }

    /// "exit 0", "killed by signal 6 (Aborted)" or "timed out after 120 s and was killed".
    var ending: String {
        if timedOut { return "timed out after \(Int(timeout)) s and was killed" }
        if signaled { return "killed by signal \(status) (\(String(cString: strsignal(status))))" }
        return "exit \(status)"
    }

    /// The command, its ending and the tail of its output, for assertion messages.
    var transcript: String {
        "`\(command)` \(ending)\n--- stdout (tail) ---\n\(Run.tail(stdout))\n--- stderr (tail) ---\n\(Run.tail(stderr))"
    }
}

enum Run {
    /// Runs `executable` with hakmem preloaded (LD_PRELOAD=<absolute path>) or, when
    /// `preload` is false, with the system allocator (any inherited LD_PRELOAD is
    /// removed).  `stdin` is fed from a file; the process is killed after `timeout`.
    static func command(
        _ executable: String, _ arguments: [String], preload: Bool = false,
        environment extra: [String: String] = [:], stdin: String? = nil,
        directory: String? = nil, timeout: TimeInterval = 120
    ) throws -> RunResult {
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "LD_PRELOAD")
        let library = preload ? try Harness.library() : nil
        if let library { environment["LD_PRELOAD"] = library }
        environment.merge(extra) { _, new in new }

        // Output goes to files rather than pipes, so a chatty program can never
        // block on a full pipe while we wait for it.
        let id = UUID().uuidString
        let outURL = Harness.scratch.appendingPathComponent("\(id).out")
        let errURL = Harness.scratch.appendingPathComponent("\(id).err")
        let inURL = Harness.scratch.appendingPathComponent("\(id).in")
        defer { for url in [outURL, errURL, inURL] { try? FileManager.default.removeItem(at: url) } }
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        var inHandle: FileHandle?
        defer { for handle in [outHandle, errHandle, inHandle].compactMap({ $0 }) { try? handle.close() } }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = outHandle
        process.standardError = errHandle
        if let stdin {
            try Data(stdin.utf8).write(to: inURL)
            inHandle = try FileHandle(forReadingFrom: inURL)
            process.standardInput = inHandle
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }

        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                timedOut = true
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()

        let shown = ((library.map { ["LD_PRELOAD=\($0)"] } ?? []) + [executable] + arguments).joined(separator: " ")
        let result = RunResult(
            command: shown,
            stdoutBytes: (try? Data(contentsOf: outURL)) ?? Data(),
            stderrBytes: (try? Data(contentsOf: errURL)) ?? Data(),
            status: process.terminationStatus,
            signaled: process.terminationReason == .uncaughtSignal,
            timedOut: timedOut, timeout: timeout)
        // A preload the dynamic loader rejects is skipped with only a warning: the
        // program would then test glibc, not hakmem.
        if preload, result.stderr.contains("cannot be preloaded") {
            throw HarnessError("the dynamic loader refused to preload the library for `\(shown)`:\n\(tail(result.stderr))")
        }
        return result
    }

    /// Runs a compiled test program from Tests/programs under hakmem.
    static func program(_ name: String, _ arguments: [String], environment: [String: String] = [:],
                        timeout: TimeInterval = 120) throws -> RunResult {
        try command(Harness.program(name), arguments, preload: true, environment: environment, timeout: timeout)
    }

    /// The last `lines` lines of `text`, for assertion messages.
    static func tail(_ text: String, lines: Int = 30) -> String {
        let all = text.split(separator: "\n", omittingEmptySubsequences: false)
        if all.count <= lines { return text }
        return "[... \(all.count - lines) lines omitted ...]\n" + all.suffix(lines).joined(separator: "\n")
    }

    /// Where two outputs first differ, for assertion messages; nil if equal.
    static func firstDifference(_ expected: String, _ actual: String) -> String? {
        if expected == actual { return nil }
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end of output>"
            let al = i < a.count ? String(a[i]) : "<end of output>"
            if el != al {
                return "first difference at line \(i + 1) (of \(e.count) without / \(a.count) with hakmem):\n"
                    + "  without: \(el.prefix(300))\n  with:    \(al.prefix(300))"
            }
        }
        return "outputs differ (\(expected.utf8.count) vs \(actual.utf8.count) bytes)"
    }
}
