// BenchDirectory: finding the bench/ directory (C workloads and real-program scripts).
//
// The tool is usually run from the checkout or as .build/release/hakmem inside it, so
// bench/ is found by walking up from the executable's directory and from the current
// directory. Compiled workloads are cached in .build/bench beside it.

import Foundation

public enum BenchDirectory {
    /// A file every bench directory has, to recognise one.
    static let marker = "workloads/common.h"

    /// The first `bench/` directory found walking up from each of `starts` in turn.
    public static func locate(from starts: [String]) -> String? {
        for start in starts {
            var directory = (start as NSString).standardizingPath
            while true {
                let candidate = directory + "/bench"
                if FileManager.default.fileExists(atPath: candidate + "/" + marker) { return candidate }
                let parent = (directory as NSString).deletingLastPathComponent
                if parent == directory || parent.isEmpty { break }
                directory = parent
            }
        }
        return nil
    }

    /// Whether `directory` looks like a bench directory.
    public static func isValid(_ directory: String) -> Bool {
        FileManager.default.fileExists(atPath: directory + "/" + marker)
    }

    /// Where compiled workloads are kept: .build/bench in the checkout holding `benchDirectory`.
    public static func cacheDirectory(for benchDirectory: String) -> String {
        ((benchDirectory as NSString).deletingLastPathComponent as NSString).appendingPathComponent(".build/bench")
    }
}
