// MeasuredProcess: a program started through the bench's launcher (measured_exec).
//
// Started directly from this ~30 MB Swift process, a child's ru_maxrss would include our
// own memory (the kernel keeps the high-water mark of the address space it execs from).
// So measured programs are started by bench/launcher/measured_exec.c, which forks them
// from its own small address space, sets LD_PRELOAD for them alone, and writes their
// wait status, peak RSS and wall time to a report file that this type reads back.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

final class MeasuredProcess {
    private let launcher: ChildProcess
    private let reportFile: String
    /// The program's usage once it has been reaped; later waits return it again.
    private var finalUsage: ProcessUsage?

    private init(launcher: ChildProcess, reportFile: String) {
        self.launcher = launcher
        self.reportFile = reportFile
    }

    /// Starts `program` (looked up in PATH) with `preload` as its LD_PRELOAD (none if nil).
    static func start(
        launcher launcherPath: String, program: String, arguments: [String], preload: String?,
        environment: [String: String], scratchDirectory: String,
        standardInput: StandardStream, standardOutput: StandardStream, standardError: StandardStream
    ) throws(RunFailure) -> MeasuredProcess {
        let reportFile = "\(scratchDirectory)/report-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let launcher = try ChildProcess.spawn(
                launcherPath, arguments: [reportFile, preload ?? "", program] + arguments,
                environment: Preload.environment(environment, preloading: nil, keepingExisting: false),
                standardInput: standardInput, standardOutput: standardOutput, standardError: standardError)
            return MeasuredProcess(launcher: launcher, reportFile: reportFile)
        } catch {
            throw RunFailure(error.description)
        }
    }

    /// Waits for the program, killing it after `limit` seconds.
    func wait(killingAfter limit: Double) -> (usage: ProcessUsage, timedOut: Bool) {
        if let finalUsage { return (finalUsage, false) }
        let (usage, timedOut) = launcher.wait(killingAfter: limit)
        return (recordFinalUsage(launcherUsage: usage), timedOut)
    }

    /// The program's usage if it has ended; nil while it runs.
    func reapIfEnded() -> ProcessUsage? {
        if let finalUsage { return finalUsage }
        return launcher.reapIfEnded().map(recordFinalUsage(launcherUsage:))
    }

    /// Sends `signal` to the program (the launcher forwards SIGTERM, SIGINT and SIGHUP).
    func send(_ signal: Int32) {
        guard finalUsage == nil else { return }
        launcher.send(signal)
    }

    private func recordFinalUsage(launcherUsage: ProcessUsage) -> ProcessUsage {
        let usage = measuredUsage(launcherUsage: launcherUsage)
        finalUsage = usage
        return usage
    }

    /// The program's own figures from the report; the launcher's if there is no report
    /// (the launcher was killed, for example on a time-out).
    private func measuredUsage(launcherUsage: ProcessUsage) -> ProcessUsage {
        defer { unlink(reportFile) }
        let report = readText(reportFile)
        guard let fields = try? KeyValueLine.fields(of: Substring(report.trimmingCharacters(in: .whitespacesAndNewlines))),
              let status = fields["status"], let peak = fields["maxrss_kib"], let seconds = fields["seconds"] else {
            return launcherUsage
        }
        return ProcessUsage(termination: Termination(waitStatus: Int32(status)), peakResidentKiB: Int(peak),
                            elapsedSeconds: seconds)
    }
}
