// Statistics (HAKMEM_STATS=1 on stderr, json:PATH to a file, hakmem_stats_print) and option
// validation (a bad value gets one warning naming the variable and the default).

import Foundation
import XCTest

final class ObservabilityTests: XCTestCase {
    private func stressWith(_ environment: [String: String]) throws -> RunResult {
        try Run.command(Harness.program("stress"), ["2", "20000", "1"], preload: true, environment: environment)
    }

    func testTextStatisticsAtExit() throws {
        let r = try stressWith(["HAKMEM_STATS": "1"])
        XCTAssertTrue(r.exitedZero, "stress with HAKMEM_STATS=1: \(r.transcript)")
        let err = r.stderr
        XCTAssertTrue(err.contains("hakmem statistics"), "no statistics table on stderr: \(Run.tail(err))")
        XCTAssertTrue(err.contains("class     size  allocations        frees  remote frees  slabs"),
                      "statistics table has no class header: \(Run.tail(err))")
        XCTAssertTrue(err.contains("shared pool lock: "), "no lock statistics: \(Run.tail(err))")
        // stress frees across threads, so some class must show remote frees.
        let rows = err.split(separator: "\n").compactMap { line -> [Int]? in
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            return numbers.count == 6 ? numbers : nil
        }
        XCTAssertFalse(rows.isEmpty, "no class rows: \(Run.tail(err))")
        XCTAssertGreaterThan(rows.map { $0[4] }.reduce(0, +), 0, "no remote frees counted: \(Run.tail(err))")
        XCTAssertGreaterThan(rows.map { $0[2] }.reduce(0, +), 10_000, "too few allocations counted: \(Run.tail(err))")
        // stress frees what it allocates, from exited threads too: frees on slabs still
        // abandoned at exit must be counted (a few blocks stay with the C library).
        let allocations = rows.map { $0[2] }.reduce(0, +), frees = rows.map { $0[3] }.reduce(0, +)
        XCTAssertLessThan(allocations - frees, 200, "frees missing from the statistics: \(Run.tail(err))")
        for row in rows {
            XCTAssertGreaterThanOrEqual(row[3], row[4], "class \(row[0]) counts fewer frees than remote frees: \(Run.tail(err))")
        }
    }

    func testStatisticsCountEveryAllocationAndFreeOfAClass() throws {
        // Three threads allocate and free a known number of 720 B blocks through their class
        // lists (the hit paths count nothing); the exit report must count each one, the main
        // thread's too, although it never exits before the report.
        let r = try Run.command(Harness.program("counted"), ["3"], preload: true, environment: ["HAKMEM_STATS": "1"])
        XCTAssertTrue(r.exitedZero, "counted 3 with HAKMEM_STATS=1: \(r.transcript)")
        let printed = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let expected = try XCTUnwrap(Int(printed.dropFirst("expected=".count)), "counted printed no expected count: \(r.transcript)")
        var counts: [Int] = []
        for line in r.stderr.split(separator: "\n") {
            let numbers = line.split(separator: " ").compactMap { Int($0) }
            if numbers.count == 6 && numbers[1] == 768 { counts = numbers }
        }
        XCTAssertEqual(counts.count, 6, "no row for the 768 B class: \(Run.tail(r.stderr))")
        guard counts.count == 6 else { return }
        XCTAssertEqual(counts[2], expected, "allocations of 720 B blocks miscounted: \(Run.tail(r.stderr))")
        XCTAssertEqual(counts[3], expected, "frees of 720 B blocks miscounted: \(Run.tail(r.stderr))")
    }

    func testJSONStatisticsAtExit() throws {
        let path = Harness.scratch.appendingPathComponent("stats-\(UUID().uuidString).json").path
        let r = try stressWith(["HAKMEM_STATS": "json:\(path)"])
        XCTAssertTrue(r.exitedZero, "stress with HAKMEM_STATS=json: \(r.transcript)")
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "no JSON statistics written to \(path)")
        let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        let json = try XCTUnwrap(object, "statistics file is not a JSON object: \(String(decoding: data, as: UTF8.self))")
        for key in ["classes", "superslabs_mapped", "bytes_mapped", "bytes_purged", "bytes_populated", "bytes_peak_resident",
                    "pool_lock_acquisitions", "pool_lock_contended"] {
            XCTAssertNotNil(json[key], "JSON statistics lack \(key)")
        }
        let classes = try XCTUnwrap(json["classes"] as? [[String: Any]], "classes is not a list")
        XCTAssertFalse(classes.isEmpty, "no class in the JSON statistics")
        // free's hit path finds every SuperSlab of an ordinary program through the slot table.
        XCTAssertGreaterThan(json["superslabs_mapped"] as? Int ?? 0, 0, "stress mapped no SuperSlab")
        XCTAssertEqual(json["superslabs_beyond_slot_table"] as? Int, 0,
                       "stress had SuperSlabs outside the slot table's range, whose frees miss the hit path")
        // stress carves fresh slabs of small blocks: the preloaded library populates their pages
        // in one call each, where the kernel knows MADV_POPULATE_WRITE (Linux 5.14).
        if Self.kernelPopulates() {
            XCTAssertGreaterThan(json["bytes_populated"] as? Int ?? 0, 0, "no carve populated its fresh pages")
        }
    }

    /// Whether this kernel accepts MADV_POPULATE_WRITE, tried on a page of the test's own.
    private static func kernelPopulates() -> Bool {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let mapping = mmap(nil, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              mapping != MAP_FAILED else { return false }
        defer { munmap(mapping, page) }
        return madvise(mapping, page, 23 /* MADV_POPULATE_WRITE */) == 0
    }

    func testMalformedOptionsWarnOnceAndUseTheDefault() throws {
        let r = try stressWith(["HAKMEM_PURGE_DELAY_MS": "soon", "HAKMEM_SUPERSLAB_CACHE": "99999",
                                "HAKMEM_STATS": "verbose"])
        XCTAssertTrue(r.exitedZero, "a bad option must not stop the program: \(r.transcript)")
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("hakmem: ignoring ") }
        XCTAssertEqual(warnings.count, 3, "expected one warning per bad variable: \(Run.tail(r.stderr))")
        XCTAssertTrue(r.stderr.contains("hakmem: ignoring HAKMEM_PURGE_DELAY_MS=soon (expected a whole number from 0 to 60000); using the default 100"),
                      Run.tail(r.stderr))
        XCTAssertTrue(r.stderr.contains("HAKMEM_SUPERSLAB_CACHE=99999"), Run.tail(r.stderr))
        XCTAssertTrue(r.stderr.contains("HAKMEM_STATS=verbose"), Run.tail(r.stderr))
        XCTAssertFalse(r.stderr.contains("hakmem statistics"), "a rejected HAKMEM_STATS still printed statistics")
    }

    func testGoodOptionsAreSilent() throws {
        let r = try stressWith(["HAKMEM_PURGE_DELAY_MS": "0", "HAKMEM_SUPERSLAB_CACHE": "0",
                                "HAKMEM_SUPERSLAB_CACHE_MS": "10", "HAKMEM_CLASS_CACHE_KB": "64"])
        XCTAssertTrue(r.exitedZero, "stress with every option set: \(r.transcript)")
        XCTAssertFalse(r.stderr.contains("hakmem:"), "valid options produced a message: \(Run.tail(r.stderr))")
    }
}
