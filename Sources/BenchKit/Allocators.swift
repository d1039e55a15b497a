// Allocators: which malloc implementations the bench compares, and where they are.
//
// glibc is the baseline and needs nothing preloaded. hakmem is this project's library,
// found next to the `hakmem` executable (or at $HAKMEM_LIBRARY). The peers are Debian's
// packaged mimalloc, jemalloc and tcmalloc; one that is not installed is reported with
// the package that provides it, and left out. On request, hakmem's library runs a second time
// under another name (`hakmem-control`), to measure the run's noise; it is not a peer.

import Foundation

/// One allocator taking part in a bench run.
public struct Allocator: Equatable, Hashable, Sendable, Codable {
    public var name: String
    /// The shared library to preload, or nil for glibc's own malloc.
    public var library: String?

    public init(name: String, library: String?) {
        self.name = name
        self.library = library
    }

    /// True for the allocators the report compares hakmem against (not glibc, not hakmem).
    public var isPeer: Bool { AllocatorCatalog.peers.contains { $0.name == name } }
}

/// A packaged allocator: its library's file name and the Debian package that installs it.
public struct PeerLibrary: Sendable {
    public var name: String
    public var fileName: String
    public var debianPackage: String
}

public enum AllocatorCatalog {
    public static let baselineName = "glibc"
    public static let hakmemName = "hakmem"

    public static let peers: [PeerLibrary] = [
        PeerLibrary(name: "mimalloc", fileName: "libmimalloc.so.2", debianPackage: "libmimalloc2.0"),
        PeerLibrary(name: "jemalloc", fileName: "libjemalloc.so.2", debianPackage: "libjemalloc2"),
        PeerLibrary(name: "tcmalloc", fileName: "libtcmalloc_minimal.so.4", debianPackage: "libtcmalloc-minimal4"),
    ]

    /// hakmem's library a second time, measured like another allocator when asked for: an A/A
    /// control, whose ratio to hakmem shows what the noise of the run alone does to a ratio.
    public static let controlName = "hakmem-control"

    /// Every allocator the bench compares by default, in report order.
    public static let names = [baselineName, hakmemName] + peers.map(\.name)

    /// What `--allocators` accepts: the default ones and the control, in report order.
    public static let selectableNames = names + [controlName]

    /// Where Debian and other distributions keep shared libraries.
    public static let libraryDirectories = [
        "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
        "/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/lib",
    ]

    /// The first `directories` entry holding `fileName`, as a full path.
    public static func findLibrary(_ fileName: String, in directories: [String] = libraryDirectories) -> String? {
        directories.map { "\($0)/\(fileName)" }.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Resolves `names` to allocators; the ones that can't be used come back in `missing`
    /// with a sentence saying how to get them.
    public static func resolve(
        _ names: [String], hakmemLibrary: String, libraryDirectories: [String] = libraryDirectories
    ) -> (found: [Allocator], missing: [(name: String, reason: String)]) {
        var found: [Allocator] = []
        var missing: [(name: String, reason: String)] = []
        for name in names {
            if name == baselineName {
                found.append(Allocator(name: name, library: nil))
            } else if name == hakmemName || name == controlName {
                if FileManager.default.fileExists(atPath: hakmemLibrary) {
                    found.append(Allocator(name: name, library: hakmemLibrary))
                } else {
                    missing.append((name, "\(hakmemLibrary) does not exist; build it with `swift build -c release`"))
                }
            } else if let peer = peers.first(where: { $0.name == name }) {
                if let path = findLibrary(peer.fileName, in: libraryDirectories) {
                    found.append(Allocator(name: name, library: path))
                } else {
                    missing.append((name, "\(peer.fileName) not found; install the Debian package \(peer.debianPackage)"))
                }
            }
        }
        return (found, missing)
    }
}
