// Option parsing, the size lookup table and the allocation-free text writer used for reports.
import XCTest
@testable import HakmemHosted

final class OptionsAndTextTests: XCTestCase {
    func testWholeNumbersParseAndEverythingElseIsRejected() {
        XCTAssertEqual(Options.parseWholeNumber("0"), 0)
        XCTAssertEqual(Options.parseWholeNumber("250"), 250)
        XCTAssertNil(Options.parseWholeNumber(""), "empty value accepted")
        XCTAssertNil(Options.parseWholeNumber("12ms"), "trailing text accepted")
        XCTAssertNil(Options.parseWholeNumber("-5"), "negative value accepted")
        XCTAssertNil(Options.parseWholeNumber("99999999999999999999999"), "overflow accepted")
    }

    func testOutOfRangeValueFallsBackToTheDefault() {
        setenv("HAKMEM_TEST_OPTION", "70000", 1)
        XCTAssertEqual(Options.integer("HAKMEM_TEST_OPTION", in: 0...60_000, default: 100), 100)
        setenv("HAKMEM_TEST_OPTION", "42", 1)
        XCTAssertEqual(Options.integer("HAKMEM_TEST_OPTION", in: 0...60_000, default: 100), 42)
        unsetenv("HAKMEM_TEST_OPTION")
        XCTAssertEqual(Options.integer("HAKMEM_TEST_OPTION", in: 0...60_000, default: 100), 100)
    }

    func testSmallClassTableAgreesWithTheArithmetic() {
        var table = [UInt8](repeating: 0, count: 72)
        table.withUnsafeMutableBufferPointer { SizeClass.fillSmallClassTable($0.baseAddress!) }
        for size in 0...SizeClass.tinyLimit {
            XCTAssertEqual(Int(table[(size + 15) >> 4]), SizeClass.index(forSize: (size + 15) & ~15),
                           "table and arithmetic disagree for \(size) bytes")
            XCTAssertGreaterThanOrEqual(SizeClass.blockSize(ofClass: Int(table[(size + 15) >> 4])), size,
                                        "table gives too small a class for \(size) bytes")
        }
    }

    func testTextWriterFormatsNumbersWithoutAllocating() {
        var bytes = [UInt8](repeating: 0, count: 64)
        let text: String = bytes.withUnsafeMutableBufferPointer { buffer in
            var writer = TextWriter(buffer: buffer.baseAddress!, capacity: 64)
            writer.append("n=")
            writer.append(UInt(1234567), width: 9)
            writer.append(" ")
            writer.append(-42)
            writer.append(" ")
            writer.appendHex(0xdead_beef)
            return String(decoding: UnsafeBufferPointer(start: buffer.baseAddress, count: writer.count), as: UTF8.self)
        }
        XCTAssertEqual(text, "n=  1234567 -42 0xdeadbeef")
    }
}
