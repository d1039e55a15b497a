// ExternalTools: the real programs the bench drives, and the Debian packages behind them.
//
// A workload whose program is missing is skipped with a message naming the package to
// install, rather than failing the run. The Swift workloads need the `swift` driver to build.

import Foundation

public struct ExternalTools: Sendable {
    public var python3: String?
    public var sqlite3: String?
    public var redisServer: String?
    public var redisBenchmark: String?
    /// glibc's libc.so.6, preloaded as the "glibc" allocator for programs such as Debian's
    /// redis-server that link another malloc (jemalloc) themselves.
    public var libc: String?
    /// The Swift driver that builds the Swift workloads (bench/swift-service, bench/swift-nio-service).
    public var swift: String?

    public init(python3: String?, sqlite3: String?, redisServer: String?, redisBenchmark: String?, libc: String?,
                swift: String? = nil) {
        self.python3 = python3
        self.sqlite3 = sqlite3
        self.redisServer = redisServer
        self.redisBenchmark = redisBenchmark
        self.libc = libc
        self.swift = swift
    }

    /// Looks the programs up in PATH; Debian's /usr/bin/python3 is preferred to a
    /// version manager's shim, which would run a shell script before Python.
    public static func locate(path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") -> ExternalTools {
        let directories = path.split(separator: ":").map(String.init)
        func find(_ name: String) -> String? {
            directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        let systemPython = FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : nil
        return ExternalTools(
            python3: systemPython ?? find("python3"), sqlite3: find("sqlite3"),
            redisServer: find("redis-server"), redisBenchmark: find("redis-benchmark"),
            libc: AllocatorCatalog.findLibrary("libc.so.6"), swift: find("swift")
        )
    }

    /// Why `kind` cannot run here (naming the Debian package to install), or nil if it can.
    public func missingRequirement(for kind: WorkloadKind) -> String? {
        switch kind {
        case .program: nil
        case .swiftPackage(let directory, _): swift == nil ? "swift is not in PATH (a Swift toolchain builds bench/\(directory))" : nil
        case .python: python3 == nil ? "python3 is not installed (Debian package python3)" : nil
        case .sqlite: sqlite3 == nil ? "sqlite3 is not installed (Debian package sqlite3)" : nil
        case .redis:
            if redisServer == nil { "redis-server is not installed (Debian package redis-server)" }
            else if redisBenchmark == nil { "redis-benchmark is not installed (Debian package redis-tools)" }
            else { nil }
        }
    }
}
