// Purging several ranges in one call (OS.purge(_:), PurgeRanges): every range reads as zero
// afterwards and the pages between them keep their bytes, whether the kernel takes the batch
// (process_madvise on the process itself) or the ranges go one by one.
import XCTest
import Foundation
@testable import HakmemHosted

final class PurgeRangesTests: XCTestCase {
    private let page = OS.pageSize

    /// Maps `pages` pages filled with 0xA5, purges every other run of `runPages` pages through
    /// `OS.purge(_:)` and checks each page's bytes.
    private func checkPurgeOfEveryOtherRun(runPages: Int, runs: Int, file: StaticString = #filePath, line: UInt = #line) {
        let length = 2 * runs * runPages * page
        guard let base = OS.mapAnonymous(length) else { return XCTFail("no mapping", file: file, line: line) }
        defer { OS.unmap(base, length) }
        memset(base, 0xA5, length)
        var ranges = PurgeRanges()
        for run in 0..<runs {
            ranges.append(UInt(bitPattern: base) + UInt(2 * run * runPages * page), length: runPages * page)
        }
        XCTAssertEqual(ranges.count, runs, file: file, line: line)
        XCTAssertEqual(ranges.totalBytes, runs * runPages * page, file: file, line: line)
        XCTAssertTrue(OS.purge(&ranges), "the kernel refused a purge", file: file, line: line)
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        for pageIndex in 0..<(length / page) {
            let purged = (pageIndex / runPages) % 2 == 0
            let first = bytes[pageIndex * page], last = bytes[pageIndex * page + page - 1]
            if purged {
                XCTAssertEqual([first, last], [0, 0], "page \(pageIndex) of a purged range kept its bytes", file: file, line: line)
            } else {
                XCTAssertEqual([first, last], [0xA5, 0xA5], "page \(pageIndex) between the ranges lost its bytes", file: file, line: line)
            }
        }
    }

    func testAFullBatchOfRangesReadsAsZeroAndThePagesBetweenKeepTheirBytes() {
        checkPurgeOfEveryOtherRun(runPages: 16, runs: PurgeRanges.capacity)
    }

    func testOneRangeAndShortRangesArePurgedToo() {
        checkPurgeOfEveryOtherRun(runPages: 4, runs: 1)
        checkPurgeOfEveryOtherRun(runPages: 1, runs: 5)
    }

    func testRangesGoOneByOneWhenTheKernelCannotTakeTheBatch() {
        let saved = OS.rangesPurgeUnsupported
        OS.rangesPurgeUnsupported = true
        defer { OS.rangesPurgeUnsupported = saved }
        checkPurgeOfEveryOtherRun(runPages: 8, runs: 6)
    }

    func testABatchLeavesErrnoAlone() {
        errno = 1234
        checkPurgeOfEveryOtherRun(runPages: 2, runs: 3)
        XCTAssertEqual(errno, 1234, "purging changed the caller's errno")
    }
}
