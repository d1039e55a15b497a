// RedisSession: the redis workload — a redis-server under test, driven by redis-benchmark.
//
// The server starts with the allocator preloaded on a free loopback port, with persistence
// off (`--save '' --appendonly no`), and is stopped with SIGTERM when the benchmark is
// done. redis-benchmark (not preloaded) makes a bounded number of requests per test; the
// figure is the overall requests per second from its --csv output, and the memory figure
// is the server's peak RSS. Debian's redis-server links jemalloc, so its "glibc" run
// preloads libc.so.6 to put glibc's malloc back in front.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct RedisSession {
    let settings: RunSettings
    let benchmark: Benchmark
    let allocator: Allocator

    static let tests = "set,get,lpush,lpop,sadd,hset,lrange_100"
    static let clients = 50
    static let keyspace = 100_000
    static let valueBytes = 256
    static let startupLimitSeconds = 10.0

    func measure() throws(RunFailure) -> Measurement {
        guard let serverPath = settings.tools.redisServer, let benchmarkPath = settings.tools.redisBenchmark else {
            throw RunFailure("redis-server or redis-benchmark is not installed")
        }
        guard let port = LoopbackPort.unused() else { throw RunFailure("no free port on 127.0.0.1") }
        let serverFiles = ScratchFiles(directory: settings.scratchDirectory)
        defer { serverFiles.remove() }

        // Debian's redis-server links jemalloc; preloading libc.so.6 puts glibc's malloc first.
        let server = try MeasuredProcess.start(
            launcher: settings.launcher, program: serverPath,
            arguments: ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                        "--daemonize", "no", "--dir", settings.scratchDirectory, "--logfile", ""],
            preload: allocator.library ?? settings.tools.libc, environment: settings.baseEnvironment,
            scratchDirectory: settings.scratchDirectory, standardInput: .discard,
            standardOutput: .file(serverFiles.output), standardError: .standardOutput)

        let requests = benchmark.parameters["requests"] ?? 1000
        let outcome: Result<CompletedRun, RunFailure>
        if let startupFailure = waitUntilAccepting(server, port: port, log: serverFiles) {
            outcome = .failure(startupFailure)
        } else {
            let client = WorkloadRunner(settings: settings)
            let arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-n", "\(requests)", "-c", "\(Self.clients)",
                             "-r", "\(Self.keyspace)", "-d", "\(Self.valueBytes)", "-t", Self.tests, "--csv"]
            outcome = Result { () throws(RunFailure) in
                try client.runToCompletion(benchmarkPath, arguments: arguments, preload: nil)
            }
        }

        let serverUsage = stop(server)
        let run = try outcome.get()
        guard serverUsage.termination.succeeded else {
            throw RunFailure("redis-server " + describeFailure(serverUsage.termination, errors: serverFiles.outputText()))
        }
        let rates: RedisBenchmarkOutput
        do {
            rates = try RedisBenchmarkOutput(parsingCSV: run.output)
        } catch {
            throw RunFailure("redis-benchmark \(error)")
        }
        return Measurement(throughput: rates.overallRate, peakResidentKiB: serverUsage.peakResidentKiB,
                           seconds: run.usage.elapsedSeconds)
    }

    /// Waits until the server accepts connections; nil when it does, else why it didn't.
    private func waitUntilAccepting(_ server: MeasuredProcess, port: UInt16, log: ScratchFiles) -> RunFailure? {
        let deadline = ContinuousClock.now + .seconds(Self.startupLimitSeconds)
        while ContinuousClock.now < deadline {
            if let ended = server.reapIfEnded() {
                return RunFailure("redis-server " + describeFailure(ended.termination, errors: log.outputText()))
            }
            if LoopbackPort.accepts(port) { return nil }
            usleep(20_000)
        }
        return RunFailure("redis-server did not accept connections within \(Format.duration(Self.startupLimitSeconds))")
    }

    /// Stops the server with SIGTERM (SIGKILL if it lingers) and returns its usage.
    private func stop(_ server: MeasuredProcess) -> ProcessUsage {
        if let ended = server.reapIfEnded() { return ended }
        server.send(SIGTERM)
        return server.wait(killingAfter: Self.startupLimitSeconds).usage
    }
}

/// TCP ports on 127.0.0.1.
enum LoopbackPort {
    /// A port the kernel says is free right now.
    static func unused() -> UInt16? {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return nil }
        defer { close(socketDescriptor) }
        var address = loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketDescriptor, $0, length) == 0 && getsockname(socketDescriptor, $0, &length) == 0
            }
        }
        return bound ? UInt16(bigEndian: address.sin_port) : nil
    }

    /// Whether something accepts TCP connections on `port`.
    static func accepts(_ port: UInt16) -> Bool {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { return false }
        defer { close(socketDescriptor) }
        var address = loopbackAddress(port: port)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopbackAddress(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }
}
