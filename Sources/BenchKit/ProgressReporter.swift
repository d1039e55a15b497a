// ProgressReporter: the progress line `hakmem bench` keeps on stderr.
//
// It shows which benchmark, round and allocator is running, how many runs are done and
// how long the rest should take (from the average run so far). On a terminal the line is
// rewritten in place; otherwise (a log, CI) each update is its own line. Notes, such as
// a skipped allocator, are printed on lines of their own.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public final class ProgressReporter {
    private var totalRuns = 0
    private var completedRuns = 0
    private var skippedRuns = 0
    private let started = ContinuousClock.now
    private let rewritesInPlace: Bool
    private let isSilent: Bool
    private var lineIsOpen = false

    /// `silent` suppresses the progress line (notes are still printed).
    public init(silent: Bool = false) {
        rewritesInPlace = isatty(STDERR_FILENO) != 0
        isSilent = silent
    }

    public func start(totalRuns: Int) {
        self.totalRuns = totalRuns
    }

    /// Shows that a run is starting.
    public func running(_ benchmark: String, round: Int, of rounds: Int, allocator: String) {
        guard !isSilent else { return }
        let done = completedRuns + skippedRuns
        let width = String(totalRuns).count
        let counter = String(repeating: " ", count: max(0, width - String(done + 1).count)) + "\(done + 1)/\(totalRuns)"
        let elapsed = (ContinuousClock.now - started).seconds
        var timing = "\(Format.duration(elapsed)) elapsed"
        if completedRuns > 0 {
            let remaining = Double(totalRuns - done) * elapsed / Double(completedRuns)
            timing += ", ~\(Format.duration(remaining)) left"
        }
        show("[\(counter)] \(benchmark) · round \(round)/\(rounds) · \(allocator) · \(timing)")
    }

    public func finishedRun() {
        completedRuns += 1
    }

    /// Counts runs that will not happen (an allocator that already failed this benchmark).
    public func skippedRuns(_ count: Int) {
        skippedRuns += count
    }

    /// Prints a message on a line of its own.
    public func note(_ message: String) {
        closeLine()
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    /// Ends the progress line.
    public func finish() {
        closeLine()
    }

    private func show(_ line: String) {
        if rewritesInPlace {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            lineIsOpen = true
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    private func closeLine() {
        guard lineIsOpen else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        lineIsOpen = false
    }
}
