// What the service does with one request: parse the JSON body, check it, price the order,
// keep a per-worker reservation table (a dictionary that grows and is cleared, like a cache
// turning over), build a text receipt, and encode the JSON response. A few recent responses
// stay alive, as a response cache would keep them. One Worker per thread or event loop.

import Foundation

public struct Worker {
    private let decoder = JSONDecoder()
    private let encoder = JSONEncoder()
    private var reservations: [String: Int] = [:]
    private var recentResponses: [Data] = []
    private var nextSlot = 0
    /// Sum of response sizes and totals: the same under every allocator.
    public private(set) var checksum = 0
    public private(set) var handled = 0

    static let reservationLimit = 4096
    static let responseCacheSize = 64

    public init() {
        encoder.outputFormatting = .sortedKeys
    }

    /// Handles request `id` and returns the encoded response.
    public mutating func respond(to id: Int, _ body: Data) throws -> Data {
        let request = try decoder.decode(OrderRequest.self, from: body)
        guard request.requestID == id, request.items.count == 1 + id % 8 else {
            throw ServiceError.corruptRequest(id)
        }
        if reservations.count > Self.reservationLimit { reservations.removeAll(keepingCapacity: false) }

        var total = 0
        var lines: [String] = []
        var warnings: [String] = []
        var receipt = "Order \(request.requestID) for \(request.customer.name) <\(request.customer.email)>\n"
        receipt += "\(request.customer.address.street), \(request.customer.address.postcode) \(request.customer.address.city)\n"
        for item in request.items {
            let cost = item.quantity * item.unitCents
            total += cost
            reservations[item.sku, default: 0] += item.quantity
            let attributes = item.attributes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            let line = "\(item.quantity) x \(item.title) [\(item.sku)] \(attributes) @ \(Self.money(item.unitCents)) = \(Self.money(cost))"
            lines.append(line)
            receipt += line + "\n"
            if item.quantity > 3 { warnings.append("only \(item.quantity - 1) of \(item.sku) in stock, rest back-ordered") }
        }
        if let note = request.note { receipt += "Note: \(note)\n" }
        receipt += "Total: \(Self.money(total)) via \(request.metadata["channel"] ?? "?")"

        let response = OrderResponse(requestID: request.requestID, status: warnings.isEmpty ? "accepted" : "partial",
                                     totalCents: total, lines: lines, receipt: receipt, warnings: warnings)
        let encoded = try encoder.encode(response)
        if recentResponses.count < Self.responseCacheSize {
            recentResponses.append(encoded)
        } else {
            recentResponses[nextSlot] = encoded
            nextSlot = (nextSlot + 1) % Self.responseCacheSize
        }
        checksum &+= encoded.count &+ total
        handled += 1
        return encoded
    }

    /// Cents as "123.45".
    static func money(_ cents: Int) -> String {
        let fraction = cents % 100
        return "\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

public enum ServiceError: Error, CustomStringConvertible {
    case corruptRequest(Int)
    case badArgument(String)
    case badStatus(UInt)
    case noPort

    public var description: String {
        switch self {
        case .corruptRequest(let id): "request \(id) came back different from what was sent"
        case .badArgument(let argument): "bad argument '\(argument)' (expected requests=N or threads=N)"
        case .badStatus(let code): "the service answered HTTP \(code)"
        case .noPort: "the server socket has no port"
        }
    }
}

/// `requests=N threads=T`, the arguments both services take (bench/workloads/common.h style).
public struct ServiceParameters {
    public var requests = 20_000
    public var threads = 2

    public init<Arguments: Sequence>(_ arguments: Arguments) throws where Arguments.Element == String {
        for argument in arguments {
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int(parts[1]), value > 0 else { throw ServiceError.badArgument(argument) }
            switch parts[0] {
            case "requests": requests = value
            case "threads": threads = value
            default: throw ServiceError.badArgument(argument)
            }
        }
    }
}
