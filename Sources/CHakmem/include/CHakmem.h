// Storage the Swift allocator cannot declare itself (a thread-local root and a process-wide
// chunk map) and a shim for a variadic libc call. No logic lives here; the allocator is in Sources/Hakmem.
#ifndef CHAKMEM_H
#define CHAKMEM_H

#include <stddef.h>
#include <stdint.h>

#define HAKMEM_CLASS_SLOTS 64

/// One per thread, initial-exec TLS (read with a single %fs-relative access).
/// `heads[c]` is the allocation list of class c: the free blocks of all the thread's slabs of
/// the class (320 B – 64 KiB, see ClassLists.swift), or of the slab the thread is currently
/// carving the class from (up to 256 B; every class in checked mode);
/// only the owning thread reads or writes it. `heap` points at the thread's ThreadHeap, or is 0.
/// `owner_tag` is what free compares a slab's owner with to take its hit path: `heap`, or 0 in
/// checked mode, so that every free takes the checking slow path.
/// `small_class[(size + 15) / 16]` is the class of a request of at most 1 KiB; all zero (class 0,
/// whose list is empty until the heap exists) until the thread's heap is created.
/// `list_pops[c]` counts the blocks of Mid class c taken from `heads[c]` since the thread's
/// statistics were last settled (ClassLists.swift); Tiny pops are not counted.
/// `purged_past_budget_at[i]` is when a free of this thread last made cache i (0: the shared
/// pool's EMPTY slabs, 1: the huge cache) purge past its resident budget (milliseconds,
/// ResidentBudget.swift).
typedef struct HakmemThreadRoot {
    void *heads[HAKMEM_CLASS_SLOTS];
    uintptr_t heap;
    uintptr_t owner_tag;
    uint8_t small_class[72];
    uint64_t list_pops[HAKMEM_CLASS_SLOTS];
    uint64_t purged_past_budget_at[2];
} HakmemThreadRoot;

extern __thread HakmemThreadRoot hakmem_thread_root
    __attribute__((tls_model("initial-exec"), swift_attr("nonisolated(unsafe)")));

/// Chunk map: one byte for every 2 MiB of the 47-bit address space, saying what hakmem placed
/// there (0: nothing, 1: SuperSlab, 2: huge block). Lives in .bss: untouched pages cost no memory.
/// Bytes are written only under the shared pool's lock; readers may read without it.
#define HAKMEM_CHUNK_SHIFT 21
#define HAKMEM_CHUNK_COUNT (1ull << (47 - HAKMEM_CHUNK_SHIFT))
/// Declared by its first byte only: Swift cannot import a 64 MiB array (it would be a tuple) nor an
/// incomplete one; it takes the address and indexes from there. Defined in chunk_map.c, with one
/// byte more than HAKMEM_CHUNK_COUNT that stays 0 (free's range check, ChunkMap.swift).
struct HakmemChunkMapStart { unsigned char first; };
extern struct HakmemChunkMapStart hakmem_chunk_map __attribute__((swift_attr("nonisolated(unsafe)")));

/// Class of a request of 1 KiB to 64 KiB: `classes[(size + 255) / 256]` (every class size in that
/// range is a multiple of 256). Filled once at start-up, read-only afterwards.
struct HakmemMidClassTable { unsigned char classes[257]; };
extern struct HakmemMidClassTable hakmem_mid_class __attribute__((swift_attr("nonisolated(unsafe)")));

/// Class of an aligned request: `classes[log2(alignment)][c]` is the smallest class at or after
/// class c whose block size is a multiple of the alignment (32 B to 64 KiB), 0 if none (class 0,
/// 16 bytes, never serves an aligned request).
/// Filled once at start-up (0 until then, a class no aligned request maps to). Rows above 16
/// (alignments above 64 KiB) stay 0, so any power-of-two alignment indexes inside the table.
struct HakmemAlignedClassTable { unsigned char classes[64][64]; };
extern struct HakmemAlignedClassTable hakmem_aligned_class __attribute__((swift_attr("nonisolated(unsafe)")));

/// mremap(2), called as the variadic function it is (os_shims.c). MAP_FAILED on failure.
void *hakmem_os_remap(void *old_address, size_t old_length, size_t new_length, int flags, void *new_address);

/// process_madvise(2) on the calling process: `count` (start, length) pairs in `ranges`, one
/// advice for all. Returns the bytes advised (fewer if a range failed after others), or -1 and errno.
long hakmem_os_advise_ranges(const uintptr_t *ranges, size_t count, int advice);

#endif
