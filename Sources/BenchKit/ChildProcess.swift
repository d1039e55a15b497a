// ChildProcess: starting a program and learning how it ended and how much memory it used.
//
// Foundation's Process cannot report a child's resource usage, and the bench needs each
// child's peak resident set (ru_maxrss from wait4). So children are started with
// posix_spawnp, their standard streams optionally redirected to files, and reaped with
// wait4. `hakmem run` uses the same code to start the command it wraps.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How a process ended.
public enum Termination: Equatable, Sendable, Codable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    /// Decodes a wait status (the WIFEXITED/WTERMSIG macros are not visible from Swift).
    public init(waitStatus: Int32) {
        let signal = waitStatus & 0x7f
        self = signal == 0 ? .exited((waitStatus >> 8) & 0xff) : .signaled(signal)
    }

    public var succeeded: Bool { self == .exited(0) }

    /// The status a shell reports: the exit code, or 128 plus the signal number.
    public var shellStatus: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by \(Termination.signalName(signal))"
        }
    }

    /// `SIGSEGV` for 11, and so on; `signal N` for numbers without a name.
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [
            SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
            SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1",
            SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2", SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM",
            SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ", SIGSYS: "SIGSYS",
        ]
        return names[signal] ?? "signal \(signal)"
    }
}

/// What a finished child did and used.
public struct ProcessUsage: Sendable {
    public var termination: Termination
    /// The child's peak resident set size in KiB (ru_maxrss).
    public var peakResidentKiB: Int
    /// Wall time from start to exit.
    public var elapsedSeconds: Double
}

/// Where a child's standard stream goes.
public enum StandardStream: Sendable {
    case inherit
    case discard
    /// For input, the file is read; for output, it is created or truncated.
    case file(String)
    /// Output only: the same destination as the child's standard output.
    case standardOutput
}

public enum SpawnError: Error, Equatable, CustomStringConvertible {
    case notFound(String)
    case notExecutable(String)
    case failed(String, code: Int32)

    public var description: String {
        switch self {
        case .notFound(let command): "\(command): command not found"
        case .notExecutable(let command): "\(command): permission denied"
        case .failed(let command, let code): "\(command): cannot start: \(String(cString: strerror(code)))"
        }
    }
}

/// A started child process, to be waited for exactly once.
public struct ChildProcess: Sendable {
    public let pid: pid_t
    private let started: ContinuousClock.Instant

    /// Starts `executable` (looked up in PATH when it has no slash) with `arguments`
    /// (not including the program name) and exactly `environment`. Signals in
    /// `defaultSignals` start with their default action even if this process ignores them.
    public static func spawn(
        _ executable: String,
        arguments: [String] = [],
        environment: [String: String],
        standardInput: StandardStream = .inherit,
        standardOutput: StandardStream = .inherit,
        standardError: StandardStream = .inherit,
        defaultSignals: [Int32] = []
    ) throws(SpawnError) -> ChildProcess {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        redirect(&fileActions, descriptor: 0, to: standardInput, writing: false)
        redirect(&fileActions, descriptor: 1, to: standardOutput, writing: true)
        redirect(&fileActions, descriptor: 2, to: standardError, writing: true)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signalsToReset = sigset_t()
        sigemptyset(&signalsToReset)
        for signal in defaultSignals { sigaddset(&signalsToReset, signal) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &signalsToReset)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }

        var pid: pid_t = 0
        let started = ContinuousClock.now
        let result = posix_spawnp(&pid, executable, &fileActions, &attributes, argv, envp)
        switch result {
        case 0: return ChildProcess(pid: pid, started: started)
        case ENOENT: throw .notFound(executable)
        case EACCES: throw .notExecutable(executable)
        default: throw .failed(executable, code: result)
        }
    }

    private static func redirect(
        _ actions: inout posix_spawn_file_actions_t, descriptor: Int32, to stream: StandardStream, writing: Bool
    ) {
        let flags = writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY
        switch stream {
        case .inherit: break
        case .discard: posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", flags, 0o644)
        case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, flags, 0o644)
        case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, descriptor)
        }
    }

    /// Waits for the child to end and reaps it.
    public func wait() -> ProcessUsage {
        reap(options: 0)!
    }

    /// Waits for the child to end, killing it (SIGKILL) if it runs longer than `limit`
    /// seconds; `timedOut` tells whether that happened.
    public func wait(killingAfter limit: Double) -> (usage: ProcessUsage, timedOut: Bool) {
        let watchdog = Watchdog()
        DispatchQueue.global().asyncAfter(deadline: .now() + limit) { [pid] in
            watchdog.fireUnlessFinished { kill(pid, SIGKILL) }
        }
        // Wait without reaping first, so the watchdog can never signal a recycled pid.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        let timedOut = watchdog.finish()
        return (wait(), timedOut)
    }

    /// Reaps the child if it has ended; nil while it is still running.
    public func reapIfEnded() -> ProcessUsage? {
        reap(options: WNOHANG)
    }

    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    private func reap(options: Int32) -> ProcessUsage? {
        var status: Int32 = 0
        var usage = rusage()
        while true {
            let result = wait4(pid, &status, options, &usage)
            if result == pid { break }
            if result == 0 { return nil }
            if errno != EINTR { return ProcessUsage(termination: .exited(127), peakResidentKiB: 0, elapsedSeconds: 0) }
        }
        return ProcessUsage(
            termination: Termination(waitStatus: status),
            peakResidentKiB: usage.ru_maxrss,
            elapsedSeconds: (ContinuousClock.now - started).seconds
        )
    }
}

extension ChildProcess {
    /// Runs a short command to completion and returns its combined output, or nil if it
    /// could not start or did not succeed. For version queries and compiler runs.
    public static func output(
        of executable: String, arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> (termination: Termination, text: String)? {
        let outputFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("hakmem-output-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        defer { unlink(outputFile) }
        guard let child = try? spawn(
            executable, arguments: arguments, environment: environment,
            standardInput: .discard, standardOutput: .file(outputFile), standardError: .standardOutput
        ) else { return nil }
        let usage = child.wait()
        return (usage.termination, readText(outputFile))
    }
}

/// Lets a timer kill a child only while it has not been seen to end.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var finished = false
    private var fired = false

    func fireUnlessFinished(_ action: () -> Void) {
        lock.withLock {
            guard !finished else { return }
            fired = true
            action()
        }
    }

    /// Marks the child as ended and returns whether the watchdog had fired.
    func finish() -> Bool {
        lock.withLock {
            finished = true
            return fired
        }
    }
}

extension Duration {
    /// The duration as a floating-point number of seconds.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
