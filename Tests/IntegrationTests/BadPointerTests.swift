// Invalid frees under hakmem (Tests/programs/bad_pointer.c): each must be caught
// with a `hakmem: ` diagnostic on stderr and SIGABRT, never survived silently. The default
// mode catches what its hit path can check in a few instructions; checked mode
// (HAKMEM_CHECK=1) catches the rest, and every default-mode catch too.

import Foundation
import XCTest

final class BadPointerTests: XCTestCase {
    func testFreeOfStackAddress() throws { try expectAbort("stack", saying: "invalid pointer") }
    func testFreeOfStaticArray() throws { try expectAbort("static", saying: "invalid pointer") }
    func testFreeOfMisalignedPointer() throws { try expectAbort("misaligned", saying: "invalid pointer") }
    func testReallocOfStackAddress() throws { try expectAbort("realloc-bad", saying: "invalid pointer") }
    func testUsableSizeOfInteriorPointer() throws {
        try expectAbort("usable-size-interior", saying: "malloc_usable_size(): invalid pointer")
    }
    func testDoubleFree() throws { try expectAbort("double", saying: "double free") }
    func testDoubleFreeOfHugeBlock() throws { try expectAbort("double-huge", saying: "double free") }

    func testCheckedModeCatchesEveryDefaultModeError() throws {
        for mode in ["stack", "static", "misaligned", "realloc-bad", "usable-size-interior", "double", "double-huge"] {
            try expectAbort(mode, saying: mode == "double" || mode == "double-huge" ? "double free" : "invalid pointer",
                            checked: true)
        }
    }
    func testCheckedModeCatchesInteriorPointer() throws {
        try expectAbort("interior", saying: "invalid pointer", checked: true)
    }
    func testCheckedModeCatchesDoubleFreeOfOlderBlock() throws {
        try expectAbort("double-later", saying: "double free", checked: true)
    }
    func testCheckedModeCatchesDoubleFreeAfterRemoteFree() throws {
        try expectAbort("double-remote", saying: "double free", checked: true)
    }
    func testCheckedModeCatchesForgedFreeListLink() throws {
        try expectAbort("forged-link", saying: "corrupted free list", checked: true)
    }
    func testCheckedModeGuardPageStopsHugeOverflow() throws {
        let r = try Run.program("bad_pointer", ["huge-overflow"], environment: ["HAKMEM_CHECK": "1"], timeout: 30)
        XCTAssertFalse(r.stdout.contains("survived"), "huge-overflow: the write past the block went unnoticed: \(r.transcript)")
        XCTAssertTrue(r.signaled && r.status == SIGSEGV, "huge-overflow: expected SIGSEGV on the guard page, got \(r.ending)")
    }

    private func expectAbort(_ mode: String, saying text: String, checked: Bool = false,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("bad_pointer", [mode], environment: checked ? ["HAKMEM_CHECK": "1"] : [:], timeout: 30)
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
