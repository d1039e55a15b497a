// swift-nio-service: `SwiftNIOService requests=N threads=T` — an HTTP/1.1 JSON service on
// SwiftNIO, on a free port of 127.0.0.1, driven by an in-process client over 8 keep-alive
// connections until N requests are answered. The server's event loops (T threads) decode each
// order request, process it like swift-service's workers, and answer with JSON. Prints
// `ops=N seconds=S threads=T checksum=C`.

import Foundation
import ServiceCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// The server side of one connection: collects a request body, hands it to the worker of
/// this event loop, writes the response.
final class OrderHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var body: ByteBuffer?
    private var requestID = 0
    private var worker = Worker()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestID = Int(head.headers.first(name: "x-request-id") ?? "") ?? -1
            body = context.channel.allocator.buffer(capacity: 1024)
        case .body(var part):
            body?.writeBuffer(&part)
        case .end:
            let request = body.map { Data($0.readableBytesView) } ?? Data()
            body = nil
            var headers = HTTPHeaders()
            headers.add(name: "content-type", value: "application/json")
            let status: HTTPResponseStatus
            var payload = context.channel.allocator.buffer(capacity: 0)
            do {
                let response = try worker.respond(to: requestID, request)
                payload.writeBytes(response)
                status = .ok
            } catch {
                payload.writeString("\(error)")
                status = .badRequest
            }
            headers.add(name: "content-length", value: String(payload.readableBytes))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(payload))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

/// Hands out request numbers to the client connections until `limit` have been sent.
final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    func take() -> Int? {
        lock.withLock {
            guard next < limit else { return nil }
            defer { next += 1 }
            return next
        }
    }
}

/// The client side of one keep-alive connection: sends an order, waits for the whole
/// response, sends the next; succeeds with the sum of the response sizes once the counter
/// runs out.
final class ClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let counter: RequestCounter
    private let promise: EventLoopPromise<Int>
    private let encoder = JSONEncoder()
    private var received = 0
    private var failed = false

    init(counter: RequestCounter, promise: EventLoopPromise<Int>) {
        self.counter = counter
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
    }

    private func sendNext(context: ChannelHandlerContext) {
        guard let id = counter.take() else {
            promise.succeed(received)
            context.close(promise: nil)
            return
        }
        let body: Data
        do {
            body = try encoder.encode(OrderRequest.sample(id))
        } catch {
            return fail(error, context: context)
        }
        var headers = HTTPHeaders()
        headers.add(name: "host", value: "127.0.0.1")
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.count))
        headers.add(name: "x-request-id", value: String(id))
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/orders", headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if head.status != .ok { fail(ServiceError.badStatus(head.status.code), context: context) }
        case .body(let part):
            received &+= part.readableBytes
        case .end:
            if !failed { sendNext(context: context) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(error, context: context)
    }

    private func fail(_ error: Error, context: ChannelHandlerContext) {
        guard !failed else { return }
        failed = true
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// Connections the client keeps open, each with one request in flight.
let connections = 8
let parameters = try ServiceParameters(CommandLine.arguments.dropFirst())

let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: parameters.threads)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try ServerBootstrap(group: serverGroup)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(OrderHandler())
        }
    }
    .bind(host: "127.0.0.1", port: 0).wait()
guard let port = server.localAddress?.port else { throw ServiceError.noPort }

let counter = RequestCounter(limit: parameters.requests)
let started = ContinuousClock.now
let finished: [EventLoopFuture<Int>] = (0..<connections).map { _ in
    let promise = clientGroup.next().makePromise(of: Int.self)
    ClientBootstrap(group: clientGroup)
        .channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(ClientHandler(counter: counter, promise: promise))
            }
        }
        .connect(host: "127.0.0.1", port: port)
        .whenFailure { promise.fail($0) }
    return promise.futureResult
}
let received = try EventLoopFuture.whenAllSucceed(finished, on: clientGroup.next()).wait().reduce(0, &+)
let elapsed = ContinuousClock.now - started

try server.close().wait()
try clientGroup.syncShutdownGracefully()
try serverGroup.syncShutdownGracefully()
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
print("ops=\(parameters.requests) seconds=\(seconds) threads=\(parameters.threads) checksum=\(received)")
