// swift-service: `swift-service requests=N threads=T` — the connection thread (main) encodes
// N order requests as JSON and queues them; T worker threads decode, process and answer them.
// Prints `ops=N seconds=S threads=T checksum=C` like the C workloads (bench/workloads/common.h);
// the time covers the whole request stream, not start-up.

import Foundation
import ServiceCore

let parameters: ServiceParameters
do {
    parameters = try ServiceParameters(CommandLine.arguments.dropFirst())
} catch {
    FileHandle.standardError.write(Data("swift-service: \(error)\n".utf8))
    exit(2)
}
let requests = parameters.requests
let threads = parameters.threads

/// What each worker thread reports when the queue runs dry.
final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var handled = 0
    private(set) var checksum = 0
    private(set) var failure: String?

    func add(_ worker: Worker) {
        lock.withLock {
            handled += worker.handled
            checksum &+= worker.checksum
        }
    }

    func fail(_ message: String) {
        lock.withLock { failure = failure ?? message }
    }
}

let queue = RequestQueue(capacity: 256)
let outcome = Outcome()
let finished = DispatchSemaphore(value: 0)
let started = ContinuousClock.now
for _ in 0..<threads {
    let thread = Thread {
        var worker = Worker()
        while let (id, body) = queue.pop() {
            do {
                _ = try worker.respond(to: id, body)
            } catch {
                outcome.fail("\(error)")
            }
        }
        outcome.add(worker)
        finished.signal()
    }
    thread.stackSize = 1 << 20
    thread.start()
}

let encoder = JSONEncoder()
for id in 0..<requests {
    queue.push(id, try encoder.encode(OrderRequest.sample(id)))
}
queue.close()
for _ in 0..<threads { finished.wait() }
let elapsed = ContinuousClock.now - started

if let failure = outcome.failure {
    FileHandle.standardError.write(Data("swift-service: \(failure)\n".utf8))
    exit(1)
}
guard outcome.handled == requests else {
    FileHandle.standardError.write(Data("swift-service: handled \(outcome.handled) of \(requests) requests\n".utf8))
    exit(1)
}
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("ops=\(requests) seconds=\(seconds) threads=\(threads) checksum=\(outcome.checksum)")
