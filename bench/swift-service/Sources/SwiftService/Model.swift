// The service's messages: a nested order request as a client would send it, and the
// response the service sends back. Sizes and shapes follow a typical e-commerce JSON API:
// a customer with an address, a few line items with free-form attributes, metadata.

struct Address: Codable, Equatable {
    var street: String
    var city: String
    var postcode: String
    var country: String
}

struct Customer: Codable, Equatable {
    var id: Int
    var name: String
    var email: String
    var address: Address
    var tags: [String]
}

struct LineItem: Codable, Equatable {
    var sku: String
    var title: String
    var quantity: Int
    var unitCents: Int
    var attributes: [String: String]
}

struct OrderRequest: Codable, Equatable {
    var requestID: Int
    var customer: Customer
    var items: [LineItem]
    var note: String?
    var metadata: [String: String]
}

struct OrderResponse: Codable {
    var requestID: Int
    var status: String
    var totalCents: Int
    var lines: [String]
    var receipt: String
    var warnings: [String]
}

extension OrderRequest {
    /// A deterministic request: `id` picks the customer, the number of items (1–8) and
    /// their attributes, so runs under different allocators do the same work.
    static func sample(_ id: Int) -> OrderRequest {
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
