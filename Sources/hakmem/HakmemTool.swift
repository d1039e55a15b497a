// HakmemTool: the `hakmem` command line — `hakmem run` and `hakmem bench`.

import ArgumentParser

@main
struct HakmemTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hakmem",
        abstract: "Run programs on the hakmem allocator, and benchmark it against glibc and its peers.",
        subcommands: [RunCommand.self, BenchCommand.self]
    )
}
