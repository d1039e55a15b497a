// A bounded queue of request bodies between the connection thread and the workers, so that
// each body is allocated on one thread and freed on another, as in a server whose I/O thread
// reads requests and hands them to a pool.

import Foundation

final class RequestQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var bodies: [(id: Int, body: Data)] = []
    private var closed = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Waits while the queue is full, then appends.
    func push(_ id: Int, _ body: Data) {
        condition.lock()
        while bodies.count >= capacity { condition.wait() }
        bodies.append((id, body))
        condition.broadcast()
        condition.unlock()
    }

    /// The oldest request, waiting for one; nil once the queue is closed and empty.
    func pop() -> (id: Int, body: Data)? {
        condition.lock()
        defer { condition.unlock() }
        while bodies.isEmpty && !closed { condition.wait() }
        guard !bodies.isEmpty else { return nil }
        let request = bodies.removeFirst()
        condition.broadcast()
        return request
    }

    /// No more requests will come; workers drain what is left and stop.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
