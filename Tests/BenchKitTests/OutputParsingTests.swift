// Tests of parsing what the programs print: workload result lines, the launcher's
// key=value report, and redis-benchmark's CSV.

import BenchKit
import XCTest

final class OutputParsingTests: XCTestCase {
    func testParsesOperationsSecondsAndExtras() throws {
        let output = try WorkloadOutput(parsing: "ops=2000000 seconds=0.5 threads=4 rss_at_500ms_kib=1024\n")
        XCTAssertEqual(output.operations, 2_000_000)
        XCTAssertEqual(output.seconds, 0.5)
        XCTAssertEqual(output.throughput, 4_000_000)
        XCTAssertEqual(output.extras, ["threads": 4, "rss_at_500ms_kib": 1024])
    }

    func testUsesLastResultLineAndIgnoresOtherOutput() throws {
        let text = "warming up\nops=1 seconds=1\nsome noise\nops=10 seconds=2 slots=4096\n"
        let output = try WorkloadOutput(parsing: text)
        XCTAssertEqual(output.operations, 10)
        XCTAssertEqual(output.extras, ["slots": 4096])
    }

    func testRejectsOutputWithoutResultLine() {
        XCTAssertThrowsError(try WorkloadOutput(parsing: "hello\n")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .noResultLine)
        }
        XCTAssertThrowsError(try WorkloadOutput(parsing: "")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .noResultLine)
        }
    }

    func testRejectsMalformedFields() {
        XCTAssertThrowsError(try WorkloadOutput(parsing: "ops=12 seconds=abc")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .malformedField("seconds=abc"))
        }
        XCTAssertThrowsError(try WorkloadOutput(parsing: "ops=12 seconds=1 junk")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .malformedField("junk"))
        }
        XCTAssertThrowsError(try WorkloadOutput(parsing: "ops=12 seconds=1 =3")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .malformedField("=3"))
        }
    }

    func testRequiresSecondsAndPositiveTime() {
        XCTAssertThrowsError(try WorkloadOutput(parsing: "ops=12 threads=2")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .missingField("seconds"))
        }
        XCTAssertThrowsError(try WorkloadOutput(parsing: "ops=12 seconds=0")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .nonPositiveSeconds)
        }
    }

    func testErrorsDescribeTheProblem() {
        XCTAssertEqual(WorkloadOutputError.missingField("ops").description, "printed a result line without ops=")
    }

    func testLauncherReportFields() throws {
        let fields = try KeyValueLine.fields(of: "status=768 maxrss_kib=1456 seconds=0.009770")
        XCTAssertEqual(fields, ["status": 768, "maxrss_kib": 1456, "seconds": 0.00977])
        XCTAssertEqual(Termination(waitStatus: Int32(fields["status"]!)), .exited(3))
    }

    func testWaitStatusDecoding() {
        XCTAssertEqual(Termination(waitStatus: 0), .exited(0))
        XCTAssertEqual(Termination(waitStatus: 3 << 8), .exited(3))
        XCTAssertEqual(Termination(waitStatus: 11), .signaled(11))
        XCTAssertEqual(Termination.signaled(11).description, "killed by SIGSEGV")
        XCTAssertEqual(Termination.signaled(15).shellStatus, 143)
        XCTAssertEqual(Termination.exited(3).shellStatus, 3)
        XCTAssertTrue(Termination.exited(0).succeeded)
        XCTAssertFalse(Termination.exited(1).succeeded)
    }

    func testRedisBenchmarkCSV() throws {
        let csv = """
        "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        "SET","100000.00","0.298","0.088","0.287","0.487","0.703","1.959"
        "LPUSH (needed to benchmark LRANGE)","50000.00","0.267","0.072","0.255","0.439","0.607","2.983"
        """
        let output = try RedisBenchmarkOutput(parsingCSV: csv)
        XCTAssertEqual(output.requestsPerSecond.map(\.test), ["SET", "LPUSH (needed to benchmark LRANGE)"])
        XCTAssertEqual(output.requestsPerSecond.map(\.rate), [100_000, 50_000])
        // Equal request counts: total requests over total time is the harmonic mean.
        XCTAssertEqual(output.overallRate, 2 / (1 / 100_000.0 + 1 / 50_000.0), accuracy: 1e-6)
    }

    func testRedisBenchmarkCSVWithoutRowsIsAnError() {
        XCTAssertThrowsError(try RedisBenchmarkOutput(parsingCSV: "\"test\",\"rps\"\n")) { error in
            XCTAssertEqual(error as? WorkloadOutputError, .noResultLine)
        }
    }
}
