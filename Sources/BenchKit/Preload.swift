// Preload: finding libhakmem.so and building a child's environment with LD_PRELOAD.
//
// libhakmem.so is built into the same directory as the `hakmem` executable, so the tool
// looks for it there; HAKMEM_LIBRARY names another one. Children get the parent's whole
// environment (HAKMEM_* settings included) with LD_PRELOAD set to the allocator.

import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum Preload {
    public static let libraryFileName = "libhakmem.so"
    public static let libraryOverrideVariable = "HAKMEM_LIBRARY"

    /// The running executable's directory, with symbolic links resolved.
    public static func executableDirectory() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                              : CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    /// $HAKMEM_LIBRARY if set (made absolute), else libhakmem.so beside the executable.
    public static func hakmemLibraryPath(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        executableDirectory: String = executableDirectory()
    ) -> String {
        if let override = environment[libraryOverrideVariable], !override.isEmpty {
            return override.hasPrefix("/") ? override : FileManager.default.currentDirectoryPath + "/" + override
        }
        return executableDirectory + "/" + libraryFileName
    }

    /// `environment` with LD_PRELOAD naming `library` first. An LD_PRELOAD already set is
    /// kept after it when `keepingExisting`, and dropped otherwise (so bench runs compare
    /// allocators alone). With no library, only the dropping applies.
    public static func environment(
        _ environment: [String: String], preloading library: String?, keepingExisting: Bool
    ) -> [String: String] {
        var result = environment
        let existing = keepingExisting ? environment["LD_PRELOAD"].flatMap { $0.isEmpty ? nil : $0 } : nil
        let entries = [library, existing].compactMap { $0 }
        if entries.isEmpty {
            result.removeValue(forKey: "LD_PRELOAD")
        } else {
            result["LD_PRELOAD"] = entries.joined(separator: ":")
        }
        return result
    }
}
