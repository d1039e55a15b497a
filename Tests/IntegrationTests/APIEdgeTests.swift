// The malloc API's edge cases under hakmem (Tests/programs/api_edge.c): each
// `FAIL` line the program prints becomes part of the assertion message.

import Foundation
import XCTest

final class APIEdgeTests: XCTestCase {
    func testEdgeCases() throws {
        let r = try Run.program("api_edge", [])
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let failures = lines.filter { $0.hasPrefix("FAIL ") }
        XCTAssertTrue(failures.isEmpty, "api_edge failed checks:\n\(failures.joined(separator: "\n"))")
        // A crash ends the run mid-check: the check after the last line printed.
        let crashedAfter = r.signaled || r.timedOut ? " (it died after `\(lines.last ?? "")`)" : ""
        XCTAssertTrue(r.exitedZero, "api_edge \(r.ending)\(crashedAfter): \(r.transcript)")

        // The program names the object its malloc comes from: it must be the
        // preloaded library, or the checks above tested glibc instead.
        let library = try Harness.library()
        let provider = lines.first { $0.hasPrefix("info malloc from ") }?.dropFirst("info malloc from ".count)
        XCTAssertEqual(provider.map { URL(fileURLWithPath: String($0)).resolvingSymlinksInPath().path },
                       URL(fileURLWithPath: library).resolvingSymlinksInPath().path,
                       "api_edge: malloc did not come from the preloaded \(library)")
    }
}
