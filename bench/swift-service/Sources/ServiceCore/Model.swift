// The service's messages: a nested order request as a client would send it, and the
// response the service sends back. Sizes and shapes follow a typical e-commerce JSON API:
// a customer with an address, a few line items with free-form attributes, metadata.
// Shared by both service workloads (bench/swift-nio-service links this folder).

public struct Address: Codable, Equatable {
    public var street: String
    public var city: String
    public var postcode: String
    public var country: String
}

public struct Customer: Codable, Equatable {
    public var id: Int
    public var name: String
    public var email: String
    public var address: Address
    public var tags: [String]
}

public struct LineItem: Codable, Equatable {
    public var sku: String
    public var title: String
    public var quantity: Int
    public var unitCents: Int
    public var attributes: [String: String]
}

public struct OrderRequest: Codable, Equatable {
    public var requestID: Int
    public var customer: Customer
    public var items: [LineItem]
    public var note: String?
    public var metadata: [String: String]
}

public struct OrderResponse: Codable {
    public var requestID: Int
    public var status: String
    public var totalCents: Int
    public var lines: [String]
    public var receipt: String
    public var warnings: [String]
}

extension OrderRequest {
    /// A deterministic request: `id` picks the customer, the number of items (1–8) and
    /// their attributes, so runs under different allocators do the same work.
    public static func sample(_ id: Int) -> OrderRequest {
        let customerID = id % 997
        let customer = Customer(
            id: customerID, name: "Customer \(customerID)", email: "customer\(customerID)@example.com",
            address: Address(street: "\(customerID % 300 + 1) Market Street", city: ["Berlin", "Lyon", "Osaka", "Austin"][customerID % 4],
                             postcode: String(10_000 + customerID * 7), country: ["DE", "FR", "JP", "US"][customerID % 4]),
            tags: (0..<(customerID % 4)).map { "segment-\($0)" })
        let items = (0..<(1 + id % 8)).map { index in
            LineItem(sku: "SKU-\((id * 31 + index * 17) % 5003)", title: "Item \(index) of order \(id)",
                     quantity: 1 + (id + index) % 5, unitCents: 99 + (id * 13 + index * 101) % 20_000,
                     attributes: index % 2 == 0 ? ["colour": "blue", "size": "M"] : ["gift": "yes"])
        }
        return OrderRequest(requestID: id, customer: customer, items: items,
                            note: id % 3 == 0 ? "Leave at the door, please." : nil,
                            metadata: ["channel": id % 2 == 0 ? "web" : "app", "trace": "t-\(id)"])
    }
}
