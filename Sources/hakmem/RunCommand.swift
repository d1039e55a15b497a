// RunCommand: `hakmem run [--stats] -- COMMAND ARGS...`
//
// Starts COMMAND with libhakmem.so preloaded (the one beside this executable, or
// $HAKMEM_LIBRARY) and the environment otherwise unchanged, so HAKMEM_* settings pass
// through. Exits with the command's status; if the command was killed by a signal, the
// same signal is raised here so the caller sees the same death (or 128 + signal if that
// signal does not end this process). While waiting, SIGINT and SIGQUIT are left to the
// command (they reach it from the terminal directly) and SIGTERM and SIGHUP are forwarded.

import ArgumentParser
import BenchKit
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command with libhakmem.so preloaded.",
        discussion: """
        The library is libhakmem.so in the directory of the hakmem executable; set \
        HAKMEM_LIBRARY to use another. HAKMEM_* variables pass through to the command. \
        The exit status is the command's own.
        """
    )

    @Flag(help: "Set HAKMEM_STATS=1 so the allocator prints its statistics when the command exits.")
    var stats = false

    @Argument(parsing: .postTerminator, help: "The command to run and its arguments, after --.")
    var command: [String] = []

    /// Exit statuses of this tool's own failures, as env(1) and shells use them.
    enum OwnFailure {
        static let libraryMissing: Int32 = 125
        static let notExecutable: Int32 = 126
        static let notFound: Int32 = 127
    }

    func validate() throws {
        if command.isEmpty { throw ValidationError("Name the command to run, for example: hakmem run -- ls -l") }
    }

    func run() throws {
        let executable = command[0]
        let library = Preload.hakmemLibraryPath()
        guard FileManager.default.fileExists(atPath: library) else {
            printError("hakmem: \(library) not found; build it with `swift build -c release` or set HAKMEM_LIBRARY")
            throw ExitCode(OwnFailure.libraryMissing)
        }

        var environment = ProcessInfo.processInfo.environment
        if stats { environment["HAKMEM_STATS"] = "1" }
        environment = Preload.environment(environment, preloading: library, keepingExisting: true)

        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                executable, arguments: Array(command.dropFirst()), environment: environment,
                defaultSignals: [SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE])
        } catch {
            printError("hakmem: \(error.description)")
            throw ExitCode(error == .notExecutable(executable) ? OwnFailure.notExecutable : OwnFailure.notFound)
        }
        let usage = SignalRelay.whileWaiting(for: child) { child.wait() }

        switch usage.termination {
        case .exited(let code):
            throw ExitCode(code)
        case .signaled(let signal):
            SignalRelay.dieBy(signal)
            throw ExitCode(usage.termination.shellStatus)
        }
    }
}

/// The pid SIGTERM and SIGHUP are forwarded to; only the signal handler reads it.
nonisolated(unsafe) private var forwardingTarget: pid_t = 0

/// Signal handling of a process that waits for a child on behalf of its caller.
enum SignalRelay {
    static func whileWaiting<Result>(for child: ChildProcess, _ wait: () -> Result) -> Result {
        forwardingTarget = child.pid
        let ignored = [SIGINT, SIGQUIT].map { ($0, signal($0, SIG_IGN)) }
        let forwarded = [SIGTERM, SIGHUP].map { ($0, signal($0) { kill(forwardingTarget, $0) }) }
        defer {
            for (number, previous) in ignored + forwarded { signal(number, previous) }
        }
        return wait()
    }

    /// Ends this process by `number` with its default action and no core file, as the child
    /// ended. Returns only if that signal's default action does not end a process.
    static func dieBy(_ number: Int32) {
        var noCore = rlimit(rlim_cur: 0, rlim_max: 0)
        setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &noCore)
        signal(number, SIG_DFL)
        var mask = sigset_t()
        sigemptyset(&mask)
        sigaddset(&mask, number)
        sigprocmask(SIG_UNBLOCK, &mask, nil)
        kill(getpid(), number)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
