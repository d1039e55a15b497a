// The comparison every real-program test makes: a command run once with the system allocator
// and once with hakmem preloaded must end the same way and print byte-identical output.

import Foundation
import XCTest

/// Locale and time zone pinned so both runs format alike.
enum Deterministic {
    static let environment = ["LC_ALL": "C", "TZ": "UTC"]
}

extension XCTestCase {
    /// Runs the command without and then with hakmem; exit status and both output streams must
    /// match. Returns the run under hakmem.
    @discardableResult
    func assertSameBehaviour(
        _ name: String, _ executable: String, _ arguments: [String],
        environment: [String: String] = [:], stdin: String? = nil, directory: String? = nil,
        timeout: TimeInterval = 120, file: StaticString = #filePath, line: UInt = #line
    ) throws -> RunResult {
        let env = Deterministic.environment.merging(environment) { _, new in new }
        let without = try Run.command(executable, arguments, environment: env, stdin: stdin,
                                      directory: directory, timeout: timeout)
        XCTAssertTrue(without.exitedZero, "\(name) fails even without hakmem: \(without.transcript)", file: file, line: line)
        let with = try Run.command(executable, arguments, preload: true, environment: env, stdin: stdin,
                                   directory: directory, timeout: timeout)
        XCTAssertEqual(with.ending, without.ending, "\(name) ended differently under hakmem: \(with.transcript)",
                       file: file, line: line)
        assertSameBytes("\(name) stdout", without: without.stdoutBytes, with: with.stdoutBytes,
                        context: with.transcript, file: file, line: line)
        assertSameBytes("\(name) stderr", without: without.stderrBytes, with: with.stderrBytes,
                        context: with.transcript, file: file, line: line)
        return with
    }

    /// Fails, naming the first differing line, when two outputs are not byte-identical.
    func assertSameBytes(_ what: String, without: Data, with: Data, context: String = "",
                         file: StaticString = #filePath, line: UInt = #line) {
        guard without != with else { return }
        let difference = Run.firstDifference(String(decoding: without, as: UTF8.self), String(decoding: with, as: UTF8.self))
            ?? "outputs differ in non-UTF-8 bytes"
        XCTFail("\(what) differs under hakmem; \(difference)\n\(context)", file: file, line: line)
    }
}
