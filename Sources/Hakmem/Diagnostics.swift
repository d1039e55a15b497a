// Misuse reports: one line on stderr naming the error and the pointer, then abort, as glibc does.
// Formatting uses a stack buffer and write(2): no allocation, safe inside a broken heap.

enum Diagnostics {
    /// Prints `hakmem: <function>(): <problem> 0x<pointer>` and aborts.
    static func fail(_ function: StaticString, _ problem: StaticString, _ pointer: UInt) -> Never {
        withLineWriter { line in
            line.append("hakmem: ")
            line.append(function)
            line.append("(): ")
            line.append(problem)
            line.append(" ")
            line.appendHex(pointer)
            line.append("\n")
            line.write(to: 2)
        }
        OS.abortProcess()
    }

    /// `free(): invalid pointer`, out of line so that its callers' common paths need no frame.
    @inline(never)
    static func invalidPointer(_ pointer: UInt) -> Never { fail("free", "invalid pointer", pointer) }

    /// `free(): double free`, out of line for the same reason.
    @inline(never)
    static func doubleFree(_ pointer: UInt) -> Never { fail("free", "double free", pointer) }
}
