// What the service does with one request: parse the JSON body, check it, price the order,
// keep a per-worker reservation table (a dictionary that grows and is cleared, like a cache
// turning over), build a text receipt, and encode the JSON response. A few recent responses
// stay alive, as a response cache would keep them.

import Foundation

struct Worker {
    private let decoder = JSONDecoder()
    private let encoder = JSONEncoder()
    private var reservations: [String: Int] = [:]
    private var recentResponses: [Data] = []
    private var nextSlot = 0
    /// Sum of response sizes and totals: the same under every allocator.
    private(set) var checksum = 0
    private(set) var handled = 0

    static let reservationLimit = 4096
    static let responseCacheSize = 64

    init() {
        encoder.outputFormatting = .sortedKeys
    }

    mutating func handle(_ id: Int, _ body: Data) throws {
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
    }

    /// Cents as "123.45".
    static func money(_ cents: Int) -> String {
        let fraction = cents % 100
        return "\(cents / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}

enum ServiceError: Error, CustomStringConvertible {
    case corruptRequest(Int)
    case badArgument(String)

    var description: String {
        switch self {
        case .corruptRequest(let id): "request \(id) came back different from what was sent"
        case .badArgument(let argument): "bad argument '\(argument)' (expected requests=N or threads=N)"
        }
    }
}
