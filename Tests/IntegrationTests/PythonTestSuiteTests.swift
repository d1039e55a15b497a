// CPython's own standard-library tests under hakmem: a dozen quick modules (json, re, dict, list,
// sort, heapq, collections, string, unicode, bisect, set, deque; about 1,600 tests) run once with
// the system allocator and once with hakmem, and every test must end the same way. The python3 on
// PATH serves if it ships its `test` package; else Debian's /usr/bin/python3 with
// libpython3.11-testsuite (scripts/install-deps.sh installs it).

import Foundation
import XCTest

final class PythonTestSuiteTests: XCTestCase {
    static let modules = ["test_json", "test_re", "test_dict", "test_list", "test_sort", "test_heapq",
                          "test_collections", "test_string", "test_unicode", "test_bisect", "test_set", "test_deque"]

    func testStandardLibraryTestsEndAlikeUnderHakmem() throws {
        let python = try Self.pythonWithTestSuite()
        let directory = Harness.scratch.appendingPathComponent("python-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let started = Date()
        let with = try assertSameBehaviour(
            "python3 -m unittest (\(Self.modules.count) stdlib modules)", python,
            ["-c", Self.runner] + Self.modules.map { "test.\($0)" },
            environment: ["PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"],
            directory: directory.path, timeout: 300)
        let summary = with.stdout.split(separator: "\n").last { $0.hasPrefix("total=") }.map(String.init)
        print("python3 stdlib tests (\(python)): \(summary ?? "no summary") - both runs in "
              + "\(Int(Date().timeIntervalSince(started))) s")
        let total = summary.flatMap { ThreadStormTests.values($0)["total"] } ?? 0
        XCTAssertGreaterThan(total, 500, "the stdlib modules ran too few tests to mean anything: \(with.transcript)")
    }

    /// A python3 whose `test` package includes the modules: the one on PATH (as the real
    /// executable, not a version manager's shim), else Debian's /usr/bin/python3.
    static func pythonWithTestSuite() throws -> String {
        var candidates: [String] = []
        if let onPath = Harness.which("python3") {
            let r = try Run.command(onPath, ["-c", "import sys; print(sys.executable)"], timeout: 60)
            let executable = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if r.exitedZero, !executable.isEmpty { candidates.append(executable) }
        }
        candidates.append("/usr/bin/python3")
        for python in candidates where FileManager.default.isExecutableFile(atPath: python) {
            let probe = try Run.command(python, ["-c", "import test.support, test.test_json, test.test_deque"], timeout: 60)
            if probe.exitedZero { return python }
        }
        throw XCTSkip("no python3 with its standard-library test suite (\(candidates.joined(separator: ", "))); "
                      + "scripts/install-deps.sh installs Debian's libpython3.11-testsuite")
    }

    /// Runs the named test modules with their output captured and prints each test's outcome,
    /// sorted, and a tally: nothing timing- or order-dependent.
    static let runner = #"""
        import sys, unittest
        outcomes = {}
        class Recorder(unittest.TestResult):
            def __init__(self):
                super().__init__()
                self.buffer = True
            def addSuccess(self, test): outcomes[test.id()] = "ok"
            def addFailure(self, test, err):
                super().addFailure(test, err); outcomes[test.id()] = "FAIL"
            def addError(self, test, err):
                super().addError(test, err); outcomes[test.id()] = "ERROR"
            def addSkip(self, test, reason): outcomes[test.id()] = "skipped: " + reason
            def addExpectedFailure(self, test, err): outcomes[test.id()] = "expected failure"
            def addUnexpectedSuccess(self, test): outcomes[test.id()] = "unexpected success"
            def addSubTest(self, test, subtest, err):
                if err is not None:
                    outcomes[subtest.id()] = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
        suite = unittest.defaultTestLoader.loadTestsFromNames(sys.argv[1:])
        suite.run(Recorder())
        for name in sorted(outcomes):
            print(name, outcomes[name])
        tally = {}
        for outcome in outcomes.values():
            key = outcome.split(":")[0].replace(" ", "_")
            tally[key] = tally.get(key, 0) + 1
        print("total=%d" % len(outcomes), " ".join("%s=%d" % kv for kv in sorted(tally.items())))
        """#
}
