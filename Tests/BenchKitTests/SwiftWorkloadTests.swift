// The Swift workloads (bench/swift-service, bench/swift-nio-service): they are in the
// catalogue as Swift packages the bench builds itself, each package exists with the product
// the catalogue names, a missing `swift` skips them with a reason, a build is redone when a
// source — also one in a linked folder — is newer than the executable, and a broken package
// gives a failure (which the suite turns into a skip).

import BenchKit
import Foundation
import XCTest

final class SwiftWorkloadTests: XCTestCase {
    static var benchDirectory: String { CommandLineTests.benchDirectory }

    func testSwiftServicesAreCatalogueWorkloadsBuiltFromBench() throws {
        for name in ["swift-service", "swift-nio-service"] {
            let workload = try XCTUnwrap(WorkloadCatalog.workload(named: name))
            guard case .swiftPackage(let directory, let product) = workload.kind else {
                return XCTFail("\(name) is not a Swift package workload: \(workload.kind)")
            }
            let manifest = try String(contentsOfFile: "\(Self.benchDirectory)/\(directory)/Package.swift", encoding: .utf8)
            XCTAssertTrue(manifest.contains("name: \"\(product)\""), "bench/\(directory)/Package.swift has no target \(product)")
            XCTAssertEqual(workload.threading, .largestCount(minimum: 2))
            XCTAssertEqual(workload.throughputUnit, "requests/s")
            XCTAssertGreaterThan(workload.parameters(for: .quick)["requests"] ?? 0, workload.parameters(for: .tiny)["requests"] ?? 0)
        }
        // Both services share one request-processing core; the NIO package links it.
        let linkedCore = "\(Self.benchDirectory)/swift-nio-service/Sources/ServiceCore/Worker.swift"
        XCTAssertTrue(FileManager.default.fileExists(atPath: linkedCore), "\(linkedCore) is missing")
    }

    func testMissingSwiftSkipsTheWorkloadWithAReason() throws {
        let kind = try XCTUnwrap(WorkloadCatalog.workload(named: "swift-service")).kind
        let without = ExternalTools(python3: nil, sqlite3: nil, redisServer: nil, redisBenchmark: nil, libc: nil, swift: nil)
        XCTAssertEqual(without.missingRequirement(for: kind), "swift is not in PATH (a Swift toolchain builds bench/swift-service)")
        let with = ExternalTools(python3: nil, sqlite3: nil, redisServer: nil, redisBenchmark: nil, libc: nil, swift: "/usr/bin/swift")
        XCTAssertNil(with.missingRequirement(for: kind))
    }

    func testAnExecutableOlderThanASourceIsStale() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hakmem-swift-package-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let package = "\(root)/bench/demo"
        try FileManager.default.createDirectory(atPath: "\(package)/Sources/Demo", withIntermediateDirectories: true)
        let builder = SwiftPackageBuilder(benchDirectory: "\(root)/bench", cacheDirectory: "\(root)/cache", swift: "/bin/false")
        let binary = builder.executablePath(package: "demo", product: "Demo")
        try FileManager.default.createDirectory(atPath: (binary as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let source = "\(package)/Sources/Demo/main.swift"
        for path in ["\(package)/Package.swift", source] {
            XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        }
        XCTAssertFalse(builder.isUpToDate(binary, packagePath: package), "a missing executable is up to date")

        let past = Date(timeIntervalSinceNow: -60)
        for path in ["\(package)/Package.swift", source] {
            try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: path)
        }
        XCTAssertTrue(FileManager.default.createFile(atPath: binary, contents: Data()))
        XCTAssertTrue(builder.isUpToDate(binary, packagePath: package))

        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: source)
        XCTAssertFalse(builder.isUpToDate(binary, packagePath: package), "a newer source did not make the executable stale")

        // A file in a linked folder counts as the package's own.
        let shared = "\(root)/shared"
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: source)
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(shared)/Core.swift", contents: Data()))
        try FileManager.default.setAttributes([.modificationDate: past], ofItemAtPath: "\(shared)/Core.swift")
        try FileManager.default.createSymbolicLink(atPath: "\(package)/Sources/Core", withDestinationPath: "../../../shared")
        XCTAssertTrue(builder.isUpToDate(binary, packagePath: package))
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: "\(shared)/Core.swift")
        XCTAssertFalse(builder.isUpToDate(binary, packagePath: package), "a newer source behind a link did not make the executable stale")

        // /bin/false stands in for a swift build that fails: the reason is reported, not thrown away.
        guard case .failure(let failure) = builder.executable(package: "demo", product: "Demo") else {
            return XCTFail("a failing build produced an executable")
        }
        XCTAssertTrue(failure.description.contains("swift build of bench/demo failed"), failure.description)
    }
}
