/* mid_tier — the Mid tier's per-thread lists (Sources/Hakmem/MidTier.swift).
 *
 *   mid_tier order        allocates 200 blocks of 20 000 B (more than three slabs of that
 *                         class), frees one from the first slab and then one from the third,
 *                         and allocates two: the block freed last must come back first, the
 *                         other next, though they belong to different slabs.
 *                         Prints order=lifo (or order=other with the addresses), slabs_apart=0|1.
 *   mid_tier massfree MIB allocates MIB MiB of 1.1 – 60 KiB blocks in one thread, frees them in
 *                         random order and, without another malloc, prints resident KiB at the
 *                         peak and after the frees: the slabs the frees emptied must have gone
 *                         back although all their blocks went through the thread's lists.
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
        fprintf(stderr, "mid_tier: malloc(%zu) failed\n", size);
        exit(1);
    }
    return block;
}

static int order(void) {
    enum { count = 200, size = 20000 };
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
    printf("order=%s slabs_apart=%d", lifo ? "lifo" : "other", apart >= (1 << 20) || apart <= -(1 << 20));
    if (!lifo) printf(" freed=%#lx,%#lx got=%#lx,%#lx", (unsigned long)first, (unsigned long)second,
                      (unsigned long)again, (unsigned long)then);
    printf("\n");
    return 0;
}

static int massfree(long mib) {
    long capacity = mib * 1024 / 2 + 16, count = 0;
    void **blocks = checked_malloc((size_t)capacity * sizeof *blocks);
    uint64_t state = 0x9E3779B97F4A7C15u;
    size_t total = 0;
    while (total < (size_t)mib << 20 && count < capacity) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        size_t size = 1100 + state % 60000;
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
    if (argc >= 2 && strcmp(argv[1], "order") == 0) return order();
    if (argc >= 3 && strcmp(argv[1], "massfree") == 0) return massfree(atol(argv[2]));
    fprintf(stderr, "usage: mid_tier order | massfree MIB\n");
    return 2;
}
