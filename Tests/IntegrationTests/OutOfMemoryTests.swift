// Out of memory under hakmem (Tests/programs/out_of_memory.c): with the address space capped by
// RLIMIT_AS, every request that cannot be served returns NULL with errno ENOMEM (posix_memalign
// returns ENOMEM), a failed realloc leaves its block intact, nothing crashes or hangs, and freed
// memory can be allocated again.

import Foundation
import XCTest

final class OutOfMemoryTests: XCTestCase {
    /// Each tier (48 B, 20 KB, 700 KB, 5 MiB) run out twice in 256 MiB of headroom: under 2 s.
    func testEveryTierFailsWithENOMEMAndRecovers() throws {
        try outOfMemory(["single", "256"])
    }

    /// Eight threads allocate mixed sizes until each has seen 200 NULLs, freeing each other's blocks.
    func testThreadsRunningOutTogetherFailCleanlyAndRecover() throws {
        try outOfMemory(["threads", "256", "8"])
    }

    /// One thread allocates until memory runs out and hands every block to another, which frees
    /// them into the first one's slabs and then needs that memory while the first keeps running:
    /// only a give-back request (Maintenance.swift) can free it, since the long purge delay keeps
    /// the owner's periodic sweep away.
    func testMemoryFreedIntoAnotherLiveThreadsSlabsCanBeAllocatedAgain() throws {
        try outOfMemory(["handover", "64"], environment: ["HAKMEM_PURGE_DELAY_MS": "60000"])
    }

    private func outOfMemory(_ arguments: [String], environment: [String: String] = [:],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try Run.program("out_of_memory", arguments, environment: environment, timeout: 60)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let failures = lines.filter { $0.hasPrefix("FAIL ") }
        let summary = lines.last { $0.hasPrefix("out_of_memory: mode=") }
        print((lines.filter { $0.hasPrefix("tier ") || $0.hasPrefix("threads=") || $0.hasPrefix("handover ") } + [summary ?? "no summary"])
            .joined(separator: "\n"))
        XCTAssertTrue(failures.isEmpty, "out_of_memory \(arguments.joined(separator: " ")):\n"
                      + failures.joined(separator: "\n"), file: file, line: line)
        // A crash or a hang ends the run before its summary line.
        XCTAssertTrue(r.exitedZero, "out_of_memory \(arguments.joined(separator: " ")) \(r.ending) "
                      + "(a timeout means a deadlock once memory ran out): \(r.transcript)", file: file, line: line)
        XCTAssertNotNil(summary.flatMap { $0.range(of: "failures=0") },
                        "out_of_memory \(arguments.joined(separator: " ")): \(r.transcript)", file: file, line: line)
    }
}
