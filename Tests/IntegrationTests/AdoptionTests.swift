// Adopting hakmem from Swift without LD_PRELOAD (docs/ADOPTING.md): the link route (one set
// of linker flags) and the package route (a path dependency on the `hakmem` product). For
// each example the tests check that
// - the process's malloc resolves to libhakmem.so (the example says which file serves it),
// - the Swift runtime, Foundation and the program itself bind malloc to libhakmem.so
//   (LD_DEBUG=bindings, which shows the loader's decisions), and
// - HAKMEM_STATS=1 prints hakmem's statistics with the program's allocations counted, and
//   the program can print them itself through hakmem_stats_print (looked up with dlsym).
// Each route is built twice: with the Swift runtime as shared libraries, and with
// --static-swift-stdlib (as the Vapor template builds), where the runtime and Foundation are
// inside the executable. No LD_LIBRARY_PATH is given: the executables must find
// libhakmem.so through their rpath.

import Foundation
import XCTest

final class AdoptionTests: XCTestCase {
    /// Orders the example programs process; enough for thousands of allocations.
    private static let orders = "2000"

    /// Every run leaves the loader to find libhakmem.so on its own.
    private static let noLibraryPath = ["LD_LIBRARY_PATH": ""]

    /// Callers whose malloc binding is checked when the Swift runtime is shared.
    private static let sharedRuntimeCallers = ["libswiftCore.so", "libFoundationEssentials.so", "libc.so.6"]
    /// With a static runtime, the executable holds the runtime and Foundation.
    private static let staticRuntimeCallers = ["libc.so.6"]

    func testLinkRouteServesTheWholeProcessFromHakmem() throws {
        let executable = try ExamplePackages.build(
            "link-route", product: "LinkRouteDemo", extraArguments: try linkRouteFlags())
        try assertServedByHakmem(executable, callers: Self.sharedRuntimeCallers)
    }

    func testLinkRouteWithStaticSwiftStdlib() throws {
        let executable = try ExamplePackages.build(
            "link-route", product: "LinkRouteDemo", staticSwiftStdlib: true, extraArguments: try linkRouteFlags())
        try assertServedByHakmem(executable, callers: Self.staticRuntimeCallers)
    }

    func testPackageRouteServesTheWholeProcessFromHakmem() throws {
        let executable = try ExamplePackages.build("package-route", product: "PackageRouteDemo")
        try assertServedByHakmem(executable, callers: Self.sharedRuntimeCallers)
    }

    func testPackageRouteWithStaticSwiftStdlib() throws {
        let executable = try ExamplePackages.build("package-route", product: "PackageRouteDemo", staticSwiftStdlib: true)
        try assertServedByHakmem(executable, callers: Self.staticRuntimeCallers)
    }

    /// The link route's flags for the libhakmem.so the other tests use.
    private func linkRouteFlags() throws -> [String] {
        let libraryDirectory = URL(fileURLWithPath: try Harness.library()).deletingLastPathComponent().path
        return ExamplePackages.linkRouteFlags(libraryDirectory: libraryDirectory)
    }

    // MARK: - Checks

    private func assertServedByHakmem(_ executable: String, callers libraries: [String],
                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let plain = try Run.command(executable, [Self.orders], environment: Self.noLibraryPath)
        XCTAssertTrue(plain.exitedZero, "example failed: \(plain.transcript)", file: file, line: line)
        let provider = plain.stdout.split(separator: "\n").first { $0.hasPrefix("malloc from: ") }
        XCTAssertTrue(provider?.hasSuffix("/libhakmem.so") ?? false,
                      "malloc is not served by libhakmem.so: \(plain.transcript)", file: file, line: line)
        XCTAssertTrue(plain.stdout.contains("orders=\(Self.orders) customers=113"), plain.transcript, file: file, line: line)

        let traced = try Run.command(executable, [Self.orders],
                                     environment: Self.noLibraryPath.merging(["LD_DEBUG": "bindings"]) { $1 })
        XCTAssertTrue(traced.exitedZero, "example failed under LD_DEBUG: \(Run.tail(traced.stderr))", file: file, line: line)
        let executableName = URL(fileURLWithPath: executable).lastPathComponent
        for caller in libraries + [executableName] {
            let bindings = traced.stderr.split(separator: "\n").filter {
                $0.contains("binding file ") && $0.contains("/\(caller) [") && $0.contains("symbol `malloc'")
            }
            XCTAssertFalse(bindings.isEmpty, "no malloc binding of \(caller) in LD_DEBUG output", file: file, line: line)
            for binding in bindings {
                XCTAssertTrue(binding.contains("/libhakmem.so ["), "\(caller) calls a malloc other than hakmem's: \(binding)",
                              file: file, line: line)
            }
        }

        let counted = try Run.command(executable, [Self.orders],
                                      environment: Self.noLibraryPath.merging(["HAKMEM_STATS": "1"]) { $1 })
        XCTAssertTrue(counted.exitedZero, "example failed with HAKMEM_STATS=1: \(counted.transcript)", file: file, line: line)
        XCTAssertTrue(counted.stderr.contains("hakmem statistics"), "no statistics table: \(Run.tail(counted.stderr))",
                      file: file, line: line)
        // Class rows are six numbers: class, size, allocations, frees, remote frees, slabs.
        let allocations = counted.stderr.split(separator: "\n").compactMap { row -> Int? in
            let numbers = row.split(separator: " ").compactMap { Int($0) }
            return numbers.count == 6 ? numbers[2] : nil
        }.reduce(0, +)
        // 2000 orders, each encoded and decoded with Foundation, allocate far more than this.
        XCTAssertGreaterThan(allocations, 20_000, "too few allocations counted: \(Run.tail(counted.stderr))",
                             file: file, line: line)

        let onDemand = try Run.command(executable, ["10", "--stats"], environment: Self.noLibraryPath)
        XCTAssertTrue(onDemand.exitedZero, "example failed with --stats: \(onDemand.transcript)", file: file, line: line)
        XCTAssertTrue(onDemand.stderr.contains("hakmem statistics"),
                      "hakmem_stats_print printed no table: \(onDemand.transcript)", file: file, line: line)
    }
}
