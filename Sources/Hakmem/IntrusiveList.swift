// Doubly-linked lists threaded through the nodes themselves (slab descriptors, SuperSlab
// headers), so keeping a list never allocates. A node is in at most one list at a time; the
// list's owner (a thread's heap, or the shared pool under its lock) is the only one to touch it.

protocol ListNode: ~Copyable {
    var next: UnsafeMutablePointer<Self>? { get set }
    var previous: UnsafeMutablePointer<Self>? { get set }
}

extension SlabMeta: ListNode {}
extension SuperSlabHeader: ListNode {}

/// The two ends of a list, stored wherever the list's owner keeps its state.
struct ListEnds<Node: ListNode & ~Copyable> {
    var first: UnsafeMutablePointer<Node>?
    var last: UnsafeMutablePointer<Node>?
}

struct IntrusiveList<Node: ListNode & ~Copyable> {
    let ends: UnsafeMutablePointer<ListEnds<Node>>

    var first: UnsafeMutablePointer<Node>? { ends.pointee.first }
    var last: UnsafeMutablePointer<Node>? { ends.pointee.last }
    var isEmpty: Bool { ends.pointee.first == nil }

    func pushFront(_ node: UnsafeMutablePointer<Node>) {
        node.pointee.previous = nil
        node.pointee.next = ends.pointee.first
        if let old = ends.pointee.first { old.pointee.previous = node } else { ends.pointee.last = node }
        ends.pointee.first = node
    }

    func pushBack(_ node: UnsafeMutablePointer<Node>) {
        node.pointee.next = nil
        node.pointee.previous = ends.pointee.last
        if let old = ends.pointee.last { old.pointee.next = node } else { ends.pointee.first = node }
        ends.pointee.last = node
    }

    func remove(_ node: UnsafeMutablePointer<Node>) {
        if let p = node.pointee.previous { p.pointee.next = node.pointee.next } else { ends.pointee.first = node.pointee.next }
        if let n = node.pointee.next { n.pointee.previous = node.pointee.previous } else { ends.pointee.last = node.pointee.previous }
        node.pointee.next = nil
        node.pointee.previous = nil
    }

    func popFront() -> UnsafeMutablePointer<Node>? {
        guard let node = ends.pointee.first else { return nil }
        remove(node)
        return node
    }
}
