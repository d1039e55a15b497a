// Real programs under hakmem: each runs once with the system allocator and once
// with hakmem preloaded, and must print byte-identical output and end the same
// way.  A test is skipped only when its program is not installed.

import Foundation
import XCTest

final class RealProgramTests: XCTestCase {
    func testPython() throws {
        let python = try Harness.requireTool("python3")
        try assertSameBehaviour("python3", python, ["-c", Self.pythonScript],
                                environment: ["PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"])
    }

    func testSQLite() throws {
        let sqlite = try Harness.requireTool("sqlite3")
        try assertSameBehaviour("sqlite3", sqlite, [":memory:"], stdin: Self.sqlScript)
    }

    func testSort() throws {
        let sort = try Harness.requireTool("sort")
        let input = Harness.scratch.appendingPathComponent("sort-input.txt")
        try Self.sortInput(lines: 200_000).write(to: input, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: input) }
        try assertSameBehaviour("sort", sort, [input.path])
        // A small buffer forces temporary files and merge passes; two threads sort.
        try assertSameBehaviour("sort -S 1M", sort,
                                ["-S", "1M", "--parallel=2", "-T", Harness.scratch.path, "-k2,2n", "-k1,1r", input.path])
    }

    func testLs() throws {
        let ls = try Harness.requireTool("ls")
        try assertSameBehaviour("ls", ls, ["-la", "--time-style=full-iso", "/usr/bin"])
    }

    /// git builds a repository, commits twice with fixed identities and dates, and
    /// repacks; the log and the commit hash must not depend on the allocator.
    func testGit() throws {
        let git = try Harness.requireTool("git")
        let without = try gitSession(git, preload: false)
        let with = try gitSession(git, preload: true)
        let failedSteps = without.split(separator: "\n").filter { $0.hasPrefix("[") && $0 != "[exit 0]" }
        XCTAssertTrue(failedSteps.isEmpty, "git session fails even without hakmem:\n\(without)")
        if let difference = Run.firstDifference(without, with) {
            XCTFail("git under hakmem behaved differently; \(difference)\n--- with hakmem ---\n\(Run.tail(with))")
        }
    }

    /// git clones this project's own repository, repacks it aggressively, checks it and walks
    /// its whole history with patches, blame and an archive; the transcripts must match.
    func testGitCloneAndRepackOfThisRepository() throws {
        let git = try Harness.requireTool("git")
        guard FileManager.default.fileExists(atPath: Harness.packageRoot.appendingPathComponent(".git").path) else {
            throw XCTSkip("\(Harness.packageRoot.path) is not a git repository")
        }
        let without = try cloneSession(git, preload: false)
        let with = try cloneSession(git, preload: true)
        let failedSteps = without.split(separator: "\n").filter { $0.hasPrefix("[") && $0 != "[exit 0]" }
        XCTAssertTrue(failedSteps.isEmpty, "git clone session fails even without hakmem:\n\(Run.tail(without))")
        if let difference = Run.firstDifference(without, with) {
            XCTFail("git clone session under hakmem behaved differently; \(difference)")
        }
    }

    // MARK: - Helpers

    private func cloneSession(_ git: String, preload: Bool) throws -> String {
        let dir = Harness.scratch.appendingPathComponent("clone-\(preload ? "hakmem" : "system")-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let env = Deterministic.environment.merging(["HOME": Harness.scratch.path, "GIT_CONFIG_NOSYSTEM": "1",
                                                     "GIT_CONFIG_GLOBAL": "/dev/null"]) { _, new in new }
        var transcript = ""
        func step(_ arguments: String...) throws {
            let r = try Run.command(git, arguments, preload: preload, environment: env, timeout: 300)
            // The two sessions work in different directories: name them alike in the transcript.
            let shown = arguments.joined(separator: " ").replacingOccurrences(of: dir.path, with: "CLONE")
            transcript += "$ git \(shown)\n\(r.stdout)\(r.stderr)[\(r.ending)]\n"
        }
        let archive = dir.path + ".tar"
        defer { try? FileManager.default.removeItem(atPath: archive) }
        try step("clone", "-q", "--no-local", Harness.packageRoot.path, dir.path)
        try step("-C", dir.path, "gc", "-q", "--aggressive")
        try step("-C", dir.path, "fsck", "--full", "--no-progress")
        try step("-C", dir.path, "log", "-p", "--stat", "--format=%H %an %ad%n%B")
        try step("-C", dir.path, "blame", "--", "Package.swift")
        try step("-C", dir.path, "archive", "-o", archive, "HEAD")
        try step("hash-object", archive)
        try step("-C", dir.path, "count-objects")
        return transcript
    }


    /// One complete git session in a fresh directory; returns a transcript of every
    /// step's output and exit status.
    private func gitSession(_ git: String, preload: Bool) throws -> String {
        let dir = Harness.scratch.appendingPathComponent("git-\(preload ? "hakmem" : "system")-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("src"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let date = "2024-01-02T03:04:05 +0000"
        let env = Deterministic.environment.merging([
            "HOME": dir.path, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": "Hakmem Test", "GIT_AUTHOR_EMAIL": "test@hakmem.invalid", "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": "Hakmem Test", "GIT_COMMITTER_EMAIL": "test@hakmem.invalid",
            "GIT_COMMITTER_DATE": date,
        ]) { _, new in new }

        func write(_ path: String, _ text: String) throws {
            try text.write(to: dir.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        var transcript = ""
        func step(_ arguments: String...) throws {
            let r = try Run.command(git, arguments, preload: preload, environment: env, directory: dir.path)
            transcript += "$ git \(arguments.joined(separator: " "))\n\(r.stdout)\(r.stderr)[\(r.ending)]\n"
        }

        try step("init", "-q", "-b", "main")
        try write("README", "hakmem integration test repository\n")
        try write("src/main.c", (1...400).map { "int f\($0)(int x) { return x * \($0) + \($0 % 7); }\n" }.joined())
        try write("data.txt", Self.sortInput(lines: 5_000))
        try step("add", "-A")
        try step("commit", "-q", "-m", "First commit")
        try write("README", "hakmem integration test repository\nsecond line\n")
        try write("src/util.h", "#define UTIL 1\n")
        try write("data.txt", Self.sortInput(lines: 4_000))
        try step("add", "-A")
        try step("commit", "-q", "-m", "Second commit\n\nWith a body.")
        try step("gc", "-q")
        try step("fsck", "--no-progress")
        try step("log", "--stat")
        try step("rev-parse", "HEAD")
        return transcript
    }

    /// Deterministic pseudo-random lines "word number", so sort has real work.
    private static func sortInput(lines: Int) -> String {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out = ""
        out.reserveCapacity(lines * 24)
        for _ in 0..<lines {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let word = String(state >> 40, radix: 36)
            out += "\(word) \(state % 1_000_000)\n"
        }
        return out
    }

    /// Builds dicts, lists and strings heavily and uses json, sqlite3, hashlib and
    /// re; prints a digest per stage and one overall.
    private static let pythonScript = #"""
        import hashlib, json, re, sqlite3
        digest = hashlib.sha256()
        def note(label, value):
            text = repr(value)
            digest.update(label.encode() + b"=" + text.encode())
            print(label, hashlib.sha256(text.encode()).hexdigest()[:16])
        d = {}
        for i in range(150000):
            k = "key-%06d" % ((i * 7919) % 150001)
            d.setdefault(k, []).append((i, str(i) * (i % 9), {"n": i, "s": k.upper()}))
        note("dict", sorted((k, len(v)) for k, v in d.items())[:2000])
        words = [("w%x" % (i * 2654435761 % 1000003)) * (1 + i % 5) for i in range(100000)]
        text = " ".join(words)
        note("join", (len(text), text[:500], text[-500:]))
        note("split", sorted(set(text.split()))[:1000])
        note("regex", re.findall(r"w([0-9a-f]{3})\1", text)[:5000])
        note("sub", re.sub(r"[aeiou0-4]+", lambda m: m.group(0)[::-1].upper(), text[:200000])[-2000:])
        blob = json.dumps({"words": words[:20000], "d": {k: v[0][1] for k, v in list(d.items())[:20000]}}, sort_keys=True)
        back = json.loads(blob)
        note("json", (len(blob), len(back["words"]), sorted(back["d"].items())[:100]))
        db = sqlite3.connect(":memory:")
        db.execute("create table t (k text primary key, n integer, s text)")
        db.executemany("insert into t values (?, ?, ?)", ((k, v[0][0], v[0][1]) for k, v in d.items()))
        note("sqlite", db.execute("select count(*), sum(n), max(length(s)), min(k) from t").fetchall())
        note("sqlite-group", db.execute("select substr(k, 5, 2), count(*) from t group by 1 order by 1").fetchall())
        big = [bytes(range(i % 256)) * (i % 40) for i in range(20000)]
        note("bytes", hashlib.sha256(b"".join(big)).hexdigest())
        strings = [str(x) for x in range(200000)]
        strings.sort(key=lambda s: (s[::-1], len(s)))
        note("sort", strings[:1000])
        del d, words, big
        print("digest", digest.hexdigest())
        """#

    /// 50k rows from a recursive CTE, two indexes, aggregates, a self-join, updates.
    private static let sqlScript = """
        CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL, pad BLOB);
        WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
        INSERT INTO t SELECT x, x % 97, printf('name-%08d-%x', (x * 7919) % 50021, x * 2654435761 % 1000003),
                             (x * 37 % 1000) / 7.0, zeroblob(x % 300) FROM c;
        CREATE INDEX t_grp_name ON t(grp, name);
        CREATE INDEX t_val ON t(val);
        SELECT count(*), sum(val), min(name), max(name), sum(length(pad)) FROM t;
        SELECT grp, count(*), round(avg(val), 6), min(name), max(id) FROM t GROUP BY grp ORDER BY grp;
        SELECT name, val FROM t WHERE grp = 42 ORDER BY name DESC LIMIT 5;
        SELECT count(DISTINCT name), total(length(name)), length(group_concat(name, '')) FROM t;
        SELECT upper(name) FROM t ORDER BY val DESC, name LIMIT 5;
        SELECT a.grp, count(*) FROM t AS a JOIN t AS b ON a.id = b.id + 1 AND a.grp = b.grp + 1
            GROUP BY a.grp ORDER BY 2 DESC, 1 LIMIT 5;
        UPDATE t SET name = name || '-' || grp WHERE id % 3 = 0;
        DELETE FROM t WHERE val > 100;
        SELECT count(*), sum(length(name)), max(name) FROM t;
        """
}
