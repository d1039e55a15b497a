// SystemInventory: what results.json records about the machine and the software measured.
//
// The machine: CPU model, cores, memory, kernel and load, from /proc and uname. The software:
// hakmem's git commit (with "-dirty" for uncommitted changes), the Debian package versions
// of the peers and of the real programs (dpkg-query), and the C compiler's version.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum SystemInventory {
    /// The 1-minute load average (from /proc/loadavg).
    public static func loadAverage() -> Double? {
        readText("/proc/loadavg").split(separator: " ").first.flatMap { Double($0) }
    }

    public static func machine(loadAverageAtStart: Double?) -> MachineDescription {
        let cpuInfo = readText("/proc/cpuinfo")
        let cpuModel = cpuInfo.split(separator: "\n")
            .first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineDescription(
            cpuModel: cpuModel, cores: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: ProcessInfo.processInfo.physicalMemory, kernel: kernel, loadAverageAtStart: loadAverageAtStart)
    }

    /// Debian packages whose versions the report records, by the name shown.
    public static let packages: [(component: String, package: String)] =
        [("glibc", "libc6")] + AllocatorCatalog.peers.map { ($0.name, $0.debianPackage) }
        + [("python3", "python3"), ("sqlite3", "sqlite3"), ("redis-server", "redis-server")]

    public static func versions(packageRoot: String?, compiler: String) -> [String: String] {
        var versions: [String: String] = [:]
        versions["hakmem"] = packageRoot.flatMap(gitCommit(in:)) ?? "unknown (not a git checkout with commits)"
        for (component, package) in packages {
            if let version = debianVersion(of: package) { versions[component] = "\(package) \(version)" }
        }
        if let line = ChildProcess.output(of: compiler, arguments: ["--version"])?.text.split(separator: "\n").first {
            versions["cc"] = String(line)
        }
        return versions
    }

    /// The checked-out commit, with `-dirty` when the work tree has uncommitted changes.
    static func gitCommit(in directory: String) -> String? {
        guard let head = ChildProcess.output(of: "git", arguments: ["-C", directory, "rev-parse", "HEAD"]),
              head.termination.succeeded else { return nil }
        let commit = head.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let status = ChildProcess.output(of: "git", arguments: ["-C", directory, "status", "--porcelain", "--untracked-files=no"])
        let dirty = status.map { !$0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } ?? false
        return dirty ? commit + "-dirty" : commit
    }

    static func debianVersion(of package: String) -> String? {
        guard let query = ChildProcess.output(of: "dpkg-query", arguments: ["-W", "-f=${Version}", package]),
              query.termination.succeeded else { return nil }
        let version = query.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return version.isEmpty ? nil : version
    }
}
