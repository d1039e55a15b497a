// Tests of the command line's list arguments and of the environment and paths the tool
// derives from them.

import BenchKit
import XCTest

final class ArgumentTests: XCTestCase {
    let allocators = AllocatorCatalog.names

    func testNamesKeepTheGivenOrderAndTrimSpaces() throws {
        XCTAssertEqual(try ListArguments.names("jemalloc, glibc", allowed: allocators, what: "allocator"), ["jemalloc", "glibc"])
        XCTAssertEqual(try ListArguments.names("glibc,,mimalloc,", allowed: allocators, what: "allocator"), ["glibc", "mimalloc"])
    }

    func testUnknownNameListsTheChoices() {
        XCTAssertThrowsError(try ListArguments.names("glibc,ptmalloc", allowed: allocators, what: "allocator")) { error in
            let error = error as? ListArgumentError
            XCTAssertEqual(error, .unknownName("ptmalloc", what: "allocator", allowed: allocators))
            XCTAssertEqual(error?.description, "unknown allocator 'ptmalloc'; choose from: glibc, hakmem, mimalloc, jemalloc, tcmalloc")
        }
    }

    func testEmptyAndDuplicateNamesAreErrors() {
        XCTAssertThrowsError(try ListArguments.names(" , ", allowed: allocators, what: "allocator")) { error in
            XCTAssertEqual(error as? ListArgumentError, .empty(what: "allocator"))
        }
        XCTAssertThrowsError(try ListArguments.names("glibc,glibc", allowed: allocators, what: "allocator")) { error in
            XCTAssertEqual(error as? ListArgumentError, .duplicate("glibc"))
        }
    }

    func testWorkloadNamesComeFromTheCatalog() throws {
        XCTAssertEqual(try ListArguments.names("redis,random-mixed", allowed: WorkloadCatalog.names, what: "workload"),
                       ["redis", "random-mixed"])
        XCTAssertEqual(WorkloadCatalog.names.count, 15)
    }

    func testThreadCountsAreSortedPositiveWholeNumbers() throws {
        XCTAssertEqual(try ListArguments.threadCounts("8,1,4"), [1, 4, 8])
        XCTAssertEqual(try ListArguments.threadCounts("16"), [16])
        for bad in ["0", "-1", "two", "1.5", "2000"] {
            XCTAssertThrowsError(try ListArguments.threadCounts(bad)) { error in
                XCTAssertEqual(error as? ListArgumentError, .invalidCount(bad))
            }
        }
        XCTAssertThrowsError(try ListArguments.threadCounts("2,2"))
        XCTAssertThrowsError(try ListArguments.threadCounts(""))
    }

    func testHakmemLibraryIsBesideTheExecutableUnlessOverridden() {
        XCTAssertEqual(Preload.hakmemLibraryPath(environment: [:], executableDirectory: "/opt/hakmem/bin"),
                       "/opt/hakmem/bin/libhakmem.so")
        XCTAssertEqual(Preload.hakmemLibraryPath(environment: ["HAKMEM_LIBRARY": "/tmp/other.so"], executableDirectory: "/x"),
                       "/tmp/other.so")
        let relative = Preload.hakmemLibraryPath(environment: ["HAKMEM_LIBRARY": "lib/x.so"], executableDirectory: "/x")
        XCTAssertEqual(relative, FileManager.default.currentDirectoryPath + "/lib/x.so")
    }

    func testPreloadEnvironment() {
        let base = ["PATH": "/bin", "HAKMEM_STATS": "1", "LD_PRELOAD": "/old.so"]
        XCTAssertEqual(Preload.environment(base, preloading: "/new.so", keepingExisting: true),
                       ["PATH": "/bin", "HAKMEM_STATS": "1", "LD_PRELOAD": "/new.so:/old.so"])
        XCTAssertEqual(Preload.environment(base, preloading: "/new.so", keepingExisting: false),
                       ["PATH": "/bin", "HAKMEM_STATS": "1", "LD_PRELOAD": "/new.so"])
        XCTAssertEqual(Preload.environment(base, preloading: nil, keepingExisting: false),
                       ["PATH": "/bin", "HAKMEM_STATS": "1"])
    }

    /// The control runs hakmem's own library under another name, only when asked for.
    func testControlIsHakmemsLibraryUnderItsOwnName() throws {
        let library = #filePath
        XCTAssertFalse(AllocatorCatalog.names.contains(AllocatorCatalog.controlName), "not measured by default")
        XCTAssertEqual(try ListArguments.names("hakmem,hakmem-control", allowed: AllocatorCatalog.selectableNames, what: "allocator"),
                       ["hakmem", "hakmem-control"])
        let (found, missing) = AllocatorCatalog.resolve(["hakmem", "hakmem-control"], hakmemLibrary: library, libraryDirectories: [])
        XCTAssertEqual(found, [Allocator(name: "hakmem", library: library), Allocator(name: "hakmem-control", library: library)])
        XCTAssertTrue(missing.isEmpty)
        XCTAssertFalse(found[1].isPeer)
    }

    func testMissingPeerNamesItsDebianPackage() {
        let (found, missing) = AllocatorCatalog.resolve(
            ["glibc", "hakmem", "tcmalloc"], hakmemLibrary: "/nonexistent/libhakmem.so", libraryDirectories: ["/nonexistent"])
        XCTAssertEqual(found, [Allocator(name: "glibc", library: nil)])
        XCTAssertEqual(missing.map(\.name), ["hakmem", "tcmalloc"])
        XCTAssertTrue(missing[0].reason.contains("swift build -c release"))
        XCTAssertTrue(missing[1].reason.contains("libtcmalloc-minimal4"))
    }
}
