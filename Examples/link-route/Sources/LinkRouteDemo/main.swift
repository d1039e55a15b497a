// A small service-like job (Codable JSON round trips, string building, a dictionary) that
// says which shared object serves its malloc, so a person or a test can see hakmem at work.
// With HAKMEM_STATS=1 hakmem prints its statistics table on stderr at exit; with the argument
// --stats the program asks for the table itself, as a service's admin endpoint could.
//
// Usage: <demo> [orders] [--stats]
//
// Shared by both examples (package-route links to this file): the program is the same, only
// the way hakmem is linked differs.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct LineItem: Codable {
    var sku: String
    var quantity: Int
    var cents: Int
}

struct Order: Codable {
    var id: Int
    var customer: String
    var tags: [String]
    var items: [LineItem]
}

/// The file of the shared object that `malloc` resolves to in the global lookup scope —
/// the one every library in the process calls. (dladdr is not visible from Swift's Glibc
/// module, so the address is looked up in /proc/self/maps.)
func mallocProvider() -> String {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc") else { return "unknown" }
    let address = UInt(bitPattern: symbol)
    let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
    for line in maps.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        let bounds = fields.first?.split(separator: "-").compactMap { UInt($0, radix: 16) } ?? []
        if fields.count >= 6, bounds.count == 2, bounds[0] <= address, address < bounds[1] {
            return String(fields[5])
        }
    }
    return "unknown"
}

/// Prints hakmem's statistics on stderr now; false when hakmem is not in this process.
/// Looked up at run time, so the same code runs (and says so) under any allocator.
func printAllocatorStatistics() -> Bool {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "hakmem_stats_print") else { return false }
    unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)()
    return true
}

let arguments = CommandLine.arguments.dropFirst()
let count = arguments.lazy.compactMap { Int($0) }.first ?? 2_000
let encoder = JSONEncoder()
let decoder = JSONDecoder()
var totals: [String: Int] = [:]
var log = ""
for id in 0..<count {
    let items = (0..<(1 + id % 7)).map { LineItem(sku: "SKU-\($0 * 31 + id % 97)", quantity: 1 + $0, cents: 199 * ($0 + 1)) }
    let order = Order(id: id, customer: "customer-\(id % 113)", tags: ["web", "eu-\(id % 5)"], items: items)
    let body = try encoder.encode(order)
    let decoded = try decoder.decode(Order.self, from: body)
    totals[decoded.customer, default: 0] += decoded.items.reduce(0) { $0 + $1.quantity * $1.cents }
    log += "order \(decoded.id) for \(decoded.customer): \(body.count) bytes\n"
}
print("malloc from: \(mallocProvider())")
print("orders=\(count) customers=\(totals.count) cents=\(totals.values.reduce(0, +)) log_bytes=\(log.utf8.count)")
if arguments.contains("--stats") && !printAllocatorStatistics() {
    print("hakmem_stats_print is not in this process: hakmem is not linked or preloaded")
}
