/* class_lists — the per-thread class lists of the Tiny and Mid tiers (Sources/Hakmem/ClassLists.swift).
 *
 *   class_lists order tiny|mid
 *                         allocates 200 blocks of 1000 B (20 000 B), more than three slabs of
 *                         that class, frees one from the first slab and then one from the third,
 *                         and allocates two: the block freed last must come back first, the
 *                         other next, though they belong to different slabs.
 *                         Prints order=lifo (or order=other with the addresses), slabs_apart=0|1.
 *   class_lists massfree tiny|mid MIB
 *                         allocates MIB MiB of 64 B – 1 KiB (1.1 – 60 KiB) blocks in one thread,
 *                         frees them in random order and, without another malloc, prints
 *                         resident KiB at the peak and after the frees: the slabs the frees
 *                         emptied must have gone back although all their blocks went through
 *                         the thread's lists.
 *
 * Output: one line of key=value pairs. Exit 0 unless something could not be allocated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long resident_kib(void) {
    FILE *file = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (file == NULL || fscanf(file, "%ld %ld", &size, &resident) != 2) return -1;
    fclose(file);
    return resident * 4;
}

static void *checked_malloc(size_t size) {
    void *block = malloc(size);
    if (block == NULL) {
        fprintf(stderr, "class_lists: malloc(%zu) failed\n", size);
        exit(1);
    }
    return block;
}

/* The sizes of a tier's blocks, and the most bytes one of its slabs spans. */
typedef struct {
    size_t smallest, largest, slab_span;
} tier;

static const tier tiny = {64, 1024, 64 << 10}, mid = {1100, 61100, 1 << 20};

static int order(tier t) {
    enum { count = 200 };
    size_t size = t.largest == tiny.largest ? 1000 : 20000;
    void *blocks[count];
    for (int i = 0; i < count; i++) {
        blocks[i] = checked_malloc(size);
        memset(blocks[i], i, size);
    }
    /* Addresses, not pointers: the blocks are compared with what comes back after their free. */
    uintptr_t first = (uintptr_t)blocks[10], second = (uintptr_t)blocks[150];
    intptr_t apart = (intptr_t)(second - first);
    free(blocks[10]);
    free(blocks[150]);
    uintptr_t again = (uintptr_t)checked_malloc(size), then = (uintptr_t)checked_malloc(size);
    int lifo = again == second && then == first;
    intptr_t span = (intptr_t)t.slab_span;
    printf("order=%s slabs_apart=%d", lifo ? "lifo" : "other", apart >= span || apart <= -span);
    if (!lifo) printf(" freed=%#lx,%#lx got=%#lx,%#lx", (unsigned long)first, (unsigned long)second,
                      (unsigned long)again, (unsigned long)then);
    printf("\n");
    return 0;
}

static int massfree(tier t, long mib) {
    long capacity = (long)(((size_t)mib << 20) / ((t.smallest + t.largest) / 2) * 5 / 4) + 16, count = 0;
    void **blocks = checked_malloc((size_t)capacity * sizeof *blocks);
    uint64_t state = 0x9E3779B97F4A7C15u;
    size_t total = 0;
    while (total < (size_t)mib << 20 && count < capacity) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        size_t size = t.smallest + state % (t.largest - t.smallest + 1);
        blocks[count] = checked_malloc(size);
        memset(blocks[count], 1, size);
        total += size;
        count++;
    }
    long peak = resident_kib();
    for (long i = count - 1; i > 0; i--) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        long j = (long)(state % (uint64_t)(i + 1));
        void *swap = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = swap;
    }
    for (long i = 0; i < count; i++) free(blocks[i]);
    long after = resident_kib();
    printf("blocks=%ld peak_kib=%ld after_kib=%ld\n", count, peak, after);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && (strcmp(argv[2], "tiny") == 0 || strcmp(argv[2], "mid") == 0)) {
        tier t = strcmp(argv[2], "tiny") == 0 ? tiny : mid;
        if (strcmp(argv[1], "order") == 0) return order(t);
        if (argc >= 4 && strcmp(argv[1], "massfree") == 0) return massfree(t, atol(argv[3]));
    }
    fprintf(stderr, "usage: class_lists order tiny|mid | massfree tiny|mid MIB\n");
    return 2;
}
