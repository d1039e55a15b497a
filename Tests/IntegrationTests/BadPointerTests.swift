// Invalid frees under hakmem (Tests/programs/bad_pointer.c): each must be caught
// with a `hakmem: ` diagnostic on stderr and SIGABRT, never survived silently.

import Foundation
import XCTest

final class BadPointerTests: XCTestCase {
    func testFreeOfStackAddress() throws { try expectAbort("stack", saying: "invalid pointer") }
    func testFreeOfStaticArray() throws { try expectAbort("static", saying: "invalid pointer") }
    func testFreeOfInteriorPointer() throws { try expectAbort("interior", saying: "invalid pointer") }
    func testFreeOfMisalignedPointer() throws { try expectAbort("misaligned", saying: "invalid pointer") }
    func testReallocOfStackAddress() throws { try expectAbort("realloc-bad", saying: "invalid pointer") }
    func testDoubleFree() throws { try expectAbort("double", saying: "double free") }

    private func expectAbort(_ mode: String, saying text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("bad_pointer", [mode], timeout: 30)
        XCTAssertFalse(r.stdout.contains("survived"),
                       "bad_pointer \(mode): the bad call returned normally: \(r.transcript)", file: file, line: line)
        XCTAssertTrue(r.signaled && r.status == SIGABRT,
                      "bad_pointer \(mode): expected SIGABRT, got \(r.ending): \(r.transcript)", file: file, line: line)
        let diagnostic = r.stderr.split(separator: "\n").first { $0.hasPrefix("hakmem: ") && $0.contains(text) }
        XCTAssertNotNil(diagnostic,
                        "bad_pointer \(mode): no stderr line starting `hakmem: ` and containing `\(text)`: \(r.transcript)",
                        file: file, line: line)
    }
}
