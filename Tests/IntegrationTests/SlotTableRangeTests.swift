// Blocks of SuperSlabs beyond the slot table's range (Tests/programs/slot_table_range.c): free's
// hit path finds slabs through a table covering 64 GiB each side of it, and frees beyond it take the
// chunk map's way. The program fills that range with a PROT_NONE reservation so that its blocks
// land beyond it, and checks they are freed, reused and reported as the others are.

import Foundation
import XCTest

final class SlotTableRangeTests: XCTestCase {
    func testBlocksBeyondTheRangeAreFreedAndReused() throws {
        let path = Harness.scratch.appendingPathComponent("slot-table-\(UUID().uuidString).json").path
        let r = try Run.program("slot_table_range", ["blocks"], environment: ["HAKMEM_STATS": "json:\(path)"], timeout: 120)
        try skipIfLayoutDiffers(r)
        let summary = r.stdout.split(separator: "\n").last { $0.hasPrefix("slot_table_range: ") }.map(String.init)
        print(summary ?? "slot_table_range: no summary line, \(r.ending)")
        XCTAssertTrue(r.exitedZero, "slot_table_range blocks failed: \(r.transcript)")
        XCTAssertTrue(summary?.hasSuffix("failures=0") ?? false, "slot_table_range blocks: \(r.transcript)")
        // The statistics must see what the program arranged: SuperSlabs beyond the range.
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "no JSON statistics written to \(path)")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], "statistics are not a JSON object")
        XCTAssertGreaterThan(json["superslabs_beyond_slot_table"] as? Int ?? 0, 0,
                             "no SuperSlab counted beyond the slot table although the program's blocks lie beyond it")
    }

    func testMisalignedFreeBeyondTheRangeIsReported() throws {
        try expectAbort("misaligned", saying: "invalid pointer")
    }

    func testDoubleFreeBeyondTheRangeIsReported() throws {
        try expectAbort("double", saying: "double free")
    }

    private func expectAbort(_ mode: String, saying text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("slot_table_range", [mode], timeout: 60)
        try skipIfLayoutDiffers(r)
        XCTAssertFalse(r.stdout.contains("survived"), "slot_table_range \(mode): the bad free returned: \(r.transcript)",
                       file: file, line: line)
        XCTAssertTrue(r.signaled && r.status == SIGABRT, "slot_table_range \(mode): expected SIGABRT, got \(r.ending): \(r.transcript)",
                      file: file, line: line)
        XCTAssertTrue(r.stderr.contains("hakmem: free(): \(text)"),
                      "slot_table_range \(mode): no `hakmem: free(): \(text)` on stderr: \(r.transcript)", file: file, line: line)
    }

    private func skipIfLayoutDiffers(_ r: RunResult) throws {
        if let skip = r.stdout.split(separator: "\n").first(where: { $0.hasPrefix("skip: ") }) {
            throw XCTSkip(String(skip))
        }
    }
}
