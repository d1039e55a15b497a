// Tests of starting and reaping children: exit statuses, signals, time limits, redirection.

import BenchKit
import Foundation
import XCTest

final class ChildProcessTests: XCTestCase {
    let environment = ProcessInfo.processInfo.environment

    func testExitStatusAndElapsedTime() throws {
        let child = try ChildProcess.spawn("sh", arguments: ["-c", "exit 3"], environment: environment)
        let usage = child.wait()
        XCTAssertEqual(usage.termination, .exited(3))
        XCTAssertGreaterThan(usage.elapsedSeconds, 0)
    }

    func testDeathBySignal() throws {
        let child = try ChildProcess.spawn("sh", arguments: ["-c", "kill -KILL $$"], environment: environment)
        XCTAssertEqual(child.wait().termination, .signaled(SIGKILL))
    }

    func testTimeLimitKillsTheChild() throws {
        let child = try ChildProcess.spawn("sleep", arguments: ["10"], environment: environment)
        let started = ContinuousClock.now
        let (usage, timedOut) = child.wait(killingAfter: 0.2)
        XCTAssertTrue(timedOut)
        XCTAssertEqual(usage.termination, .signaled(SIGKILL))
        XCTAssertLessThan((ContinuousClock.now - started).seconds, 5)
    }

    func testChildWithinTheLimitIsNotKilled() throws {
        let child = try ChildProcess.spawn("true", environment: environment)
        let (usage, timedOut) = child.wait(killingAfter: 30)
        XCTAssertFalse(timedOut)
        XCTAssertEqual(usage.termination, .exited(0))
    }

    func testMissingProgramIsReported() {
        XCTAssertThrowsError(try ChildProcess.spawn("no-such-program-for-hakmem", environment: environment)) { error in
            XCTAssertEqual(error as? SpawnError, .notFound("no-such-program-for-hakmem"))
        }
    }

    func testOutputCaptureAndEnvironment() throws {
        let result = try XCTUnwrap(ChildProcess.output(
            of: "sh", arguments: ["-c", "echo \"$GREETING\"; echo oops >&2"], environment: ["GREETING": "hello", "PATH": "/usr/bin:/bin"]))
        XCTAssertEqual(result.termination, .exited(0))
        XCTAssertEqual(result.text, "hello\noops\n")
    }

    func testRedirectedInput() throws {
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("hakmem-input-\(UUID().uuidString)").path
        XCTAssertTrue(FileManager.default.createFile(atPath: input, contents: Data("exit 7\n".utf8)))
        defer { try? FileManager.default.removeItem(atPath: input) }
        let child = try ChildProcess.spawn("sh", environment: environment, standardInput: .file(input))
        XCTAssertEqual(child.wait().termination, .exited(7))
    }
}
