// What the built library looks like from outside: safe to preload into any
// program only if it needs nothing but libc and exports nothing but the C API
// (in particular none of the embedded Swift runtime's swift_* symbols), and only
// if the loader binds it silently into any executable.

import Foundation
import XCTest

final class LibraryTests: XCTestCase {
    /// The C API every build must export.
    private static let requiredExports: Set<String> = [
        "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
        "memalign", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    ]
    /// Exports a build may add.
    private static let optionalExports: Set<String> = ["malloc_trim", "hakmem_stats_print"]

    func testNeedsOnlyLibc() throws {
        let readelf = try Harness.requireTool("readelf")
        let library = try Harness.library()
        let r = try Run.command(readelf, ["-d", library])
        XCTAssertTrue(r.exitedZero, "readelf -d \(library): \(r.transcript)")
        // Lines look like: 0x0000000000000001 (NEEDED)  Shared library: [libc.so.6]
        let needed = r.stdout.split(separator: "\n").filter { $0.contains("(NEEDED)") }.compactMap { line in
            line.split(separator: "[").last?.split(separator: "]").first.map(String.init)
        }
        XCTAssertEqual(needed, ["libc.so.6"], "\(library) must depend on libc.so.6 only:\n\(r.stdout)")
    }

    func testExportsOnlyTheCAPI() throws {
        let nm = try Harness.requireTool("nm")
        let library = try Harness.library()
        let r = try Run.command(nm, ["-D", "--defined-only", library])
        XCTAssertTrue(r.exitedZero, "nm -D \(library): \(r.transcript)")
        // Lines look like `0000000000012340 T malloc` (a version suffix @@V may follow).
        // Only global symbols are exported: an upper-case type, or i (ifunc) / u
        // (unique global).  Lower-case types are local, such as a hidden TLS
        // variable that TLS relocations keep in .dynsym; type A names a version node.
        let exported = Set(r.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let name = fields.last else { return nil }
            let type = fields[fields.count - 2]
            guard type != "A", type.uppercased() == type || type == "i" || type == "u" else { return nil }
            return String(name.split(separator: "@").first ?? name)
        })
        let swiftSymbols = exported.filter { $0.hasPrefix("swift_") || $0.hasPrefix("$s") || $0.hasPrefix("_$s") }
        XCTAssertTrue(swiftSymbols.isEmpty, "\(library) exports Swift runtime symbols: \(swiftSymbols.sorted())")
        let unexpected = exported.subtracting(Self.requiredExports).subtracting(Self.optionalExports)
        XCTAssertTrue(unexpected.isEmpty, "\(library) exports names outside the C API: \(unexpected.sorted())")
        let missing = Self.requiredExports.subtracting(exported)
        XCTAssertTrue(missing.isEmpty, "\(library) does not export: \(missing.sorted())")
    }

    /// A non-PIE program holding malloc's address (as Debian's /usr/bin/python3.11 does) must
    /// start under hakmem without the loader writing on its stderr: protected (STV_PROTECTED)
    /// exports make glibc's loader warn "direct reference to protected function" at every start.
    func testNonPIEProgramTakingMallocsAddressStartsWithoutLoaderWarnings() throws {
        let program = try Harness.program("address_of_malloc", flags: ["-no-pie", "-fno-pie"])
        let r = try Run.command(program, [], preload: true, timeout: 30)
        XCTAssertTrue(r.exitedZero, "address_of_malloc: \(r.transcript)")
        XCTAssertEqual(r.stdout, "address_of_malloc: ok\n", r.transcript)
        XCTAssertEqual(r.stderr, "", "the dynamic loader wrote on the program's stderr under hakmem: \(r.transcript)")
    }
}
