// SwiftPackageBuilder: building the bench's Swift workloads (packages under bench/:
// bench/swift-service, and bench/swift-nio-service, which needs SwiftNIO) on demand.
//
// Each is built with `swift build -c release --package-path <bench>/<package>` into
// <cache>/<package> (by default .build/bench/swift-package-name) when its executable is
// missing or older than a file of the package (Package.swift, Sources/). A first build
// takes tens of seconds; later runs start at once. A failure is returned as text, so the
// suite can skip the workload with the reason instead of stopping.

import Foundation

public struct SwiftPackageBuilder: Sendable {
    public var benchDirectory: String
    public var cacheDirectory: String
    /// The `swift` driver.
    public var swift: String
    /// How long a build may take before it is killed (a cold build of swift-nio-service takes
    /// about 2 minutes on 2 cores).
    public var timeLimitSeconds: Double

    public init(benchDirectory: String, cacheDirectory: String, swift: String, timeLimitSeconds: Double = 900) {
        self.benchDirectory = benchDirectory
        self.cacheDirectory = cacheDirectory
        self.swift = swift
        self.timeLimitSeconds = timeLimitSeconds
    }

    /// Where the executable `product` of bench/<package> is built.
    public func executablePath(package: String, product: String) -> String {
        "\(cacheDirectory)/\(package)/release/\(product)"
    }

    /// The executable, built first if missing or stale; or why it could not be built.
    public func executable(package: String, product: String) -> Result<String, RunFailure> {
        let packagePath = "\(benchDirectory)/\(package)"
        let binary = executablePath(package: package, product: product)
        guard FileManager.default.fileExists(atPath: "\(packagePath)/Package.swift") else {
            return .failure(RunFailure("\(packagePath)/Package.swift is missing"))
        }
        if isUpToDate(binary, packagePath: packagePath) { return .success(binary) }

        let log = "\(cacheDirectory)/\(package)-build.log"
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true)
        } catch {
            return .failure(RunFailure("cannot create \(cacheDirectory): \(error.localizedDescription)"))
        }
        let arguments = ["build", "-c", "release", "--package-path", packagePath,
                         "--scratch-path", "\(cacheDirectory)/\(package)", "--product", product]
        // The build itself must not run under a preloaded allocator.
        let environment = Preload.environment(ProcessInfo.processInfo.environment, preloading: nil, keepingExisting: false)
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(swift, arguments: arguments, environment: environment, standardInput: .discard,
                                           standardOutput: .file(log), standardError: .standardOutput)
        } catch {
            return .failure(RunFailure("cannot run \(swift): \(error.description)"))
        }
        let (usage, timedOut) = child.wait(killingAfter: timeLimitSeconds)
        if timedOut {
            return .failure(RunFailure("swift build of bench/\(package) timed out after \(Format.duration(timeLimitSeconds))"))
        }
        guard usage.termination.succeeded, FileManager.default.isExecutableFile(atPath: binary) else {
            return .failure(RunFailure("swift build of bench/\(package) failed (\(describeFailure(usage.termination, errors: readText(log))); log in \(log))"))
        }
        return .success(binary)
    }

    /// The first line of `swift --version`, for the report.
    public func toolchainVersion() -> String? {
        guard let result = ChildProcess.output(of: swift, arguments: ["--version"]), result.termination.succeeded else { return nil }
        return result.text.split(whereSeparator: \.isNewline).first.map(String.init)
    }

    /// Whether `binary` exists and is newer than every file of the package's manifest and
    /// sources, following linked folders (bench/swift-nio-service links swift-service's core).
    public func isUpToDate(_ binary: String, packagePath: String) -> Bool {
        guard let built = modificationDate(binary) else { return false }
        let inputs = ["\(packagePath)/Package.swift"] + files(under: "\(packagePath)/Sources")
        return inputs.allSatisfy { (modificationDate($0) ?? .distantFuture) <= built }
    }

    /// Every file below `directory`, through symbolic links.
    private func files(under directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.flatMap { name -> [String] in
            let path = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [path] }
            return isDirectory.boolValue ? files(under: path) : [path]
        }
    }

    /// The modification time of the file `path` leads to (links followed).
    private func modificationDate(_ path: String) -> Date? {
        let target = (path as NSString).resolvingSymlinksInPath
        return (try? FileManager.default.attributesOfItem(atPath: target))?[.modificationDate] as? Date
    }
}
