/* slot_table_range: blocks of SuperSlabs that lie outside the slot table's range.
 *
 * hakmem's free finds a block's slab through a table that covers 64 GiB of address space on each
 * side of it (Sources/Hakmem/SlotTable.swift); blocks of SuperSlabs the kernel places beyond that range
 * are freed through the chunk map instead. The program takes its first block, then fills the
 * address space below it with a 96 GiB PROT_NONE reservation (it costs no memory), so that the
 * SuperSlabs mapped afterwards lie beyond the range, and works with blocks there.
 *
 * Usage: slot_table_range blocks | misaligned | double
 *   blocks:     20 000 blocks of 16 B - 8 KiB, most beyond the reservation: patterns written and
 *               checked, usable sizes, half freed by this thread and a quarter by another, a
 *               realloc of each survivor, all freed. Then 7 more rounds of the same requests,
 *               freed alternately by this thread and another: the peak resident memory must stay
 *               within 1.5 times the first round's (plus 16 MiB), which it would not if those
 *               frees lost the blocks. Prints `slot_table_range: blocks=N beyond=B
 *               peak_kib=P1/P8 failures=F` last; exits 0 iff F == 0.
 *   misaligned: frees a block beyond the reservation at +8 (must abort: invalid pointer).
 *   double:     frees a block beyond the reservation twice (must abort: double free).
 * Prints `skip: ...` and exits 0 if the kernel did not place the reservation below the first block.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { block_count = 20000 };
static void *blocks[block_count];
static size_t sizes[block_count];
static long failures;

static void fail(const char *what, long index) {
    if (failures++ < 20) printf("FAIL %s (block %ld at %p, %zu B)\n", what, index, blocks[index], sizes[index]);
}

static size_t size_of(long index) {
    return 16 + ((size_t)index * 2654435761u) % (8 << 10);
}

static unsigned char pattern(long index) { return (unsigned char)(index * 31 + 7); }

static int intact(long index) {
    const unsigned char *bytes = blocks[index];
    size_t size = sizes[index];
    return bytes[0] == pattern(index) && bytes[size / 2] == pattern(index) && bytes[size - 1] == pattern(index);
}

/* Frees every `step`th block from `first` on. */
typedef struct { long first, step; } free_job;

static void *free_blocks(void *raw) {
    const free_job *job = raw;
    for (long index = job->first; index < block_count; index += job->step) {
        free(blocks[index]);
        blocks[index] = NULL;
    }
    return NULL;
}

static void free_in_other_thread(long first, long step) {
    pthread_t thread;
    free_job job = {first, step};
    pthread_create(&thread, NULL, free_blocks, &job);
    pthread_join(thread, NULL);
}

static long peak_resident_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    if (f != NULL) fclose(f);
    return kib;
}

static uintptr_t reservation;

static void reserve_below(void *first) {
    void *r = mmap(NULL, (size_t)96 << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED || (uintptr_t)r > (uintptr_t)first) {
        printf("skip: the reservation is not below the first block (%p, first %p)\n", r, first);
        exit(0);
    }
    reservation = (uintptr_t)r;
}

/* A block beyond the reservation: the blocks before it (kept) fill the SuperSlab mapped before
 * the reservation. */
static char *block_beyond(void) {
    for (int attempt = 0; attempt < 200000; attempt++) {
        char *p = malloc(100);
        if ((uintptr_t)p < reservation) return p;
    }
    printf("FAIL no block beyond the reservation\n");
    exit(1);
}

/* Keeps the compiler from seeing the bad frees below as such. */
static volatile size_t eight = 8;

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "blocks";
    void *first = malloc(64);
    reserve_below(first);
    if (strcmp(mode, "misaligned") == 0) {
        char *p = block_beyond();
        free(p + eight);
        printf("survived\n");
        return 1;
    }
    if (strcmp(mode, "double") == 0) {
        char *p = block_beyond();
        char *volatile same = p;
        free(p);
        free(same);
        printf("survived\n");
        return 1;
    }

    long beyond = 0;
    for (long index = 0; index < block_count; index++) {
        sizes[index] = size_of(index);
        blocks[index] = malloc(sizes[index]);
        if (blocks[index] == NULL) { printf("FAIL malloc(%zu) returned NULL\n", sizes[index]); return 1; }
        memset(blocks[index], pattern(index), sizes[index]);
        if ((uintptr_t)blocks[index] < reservation) beyond++;
        if (malloc_usable_size(blocks[index]) < sizes[index]) fail("usable size below the request", index);
    }
    if (beyond < block_count / 2) printf("FAIL only %ld of %d blocks beyond the reservation\n", beyond, block_count), failures++;
    for (long index = 0; index < block_count; index += 2) {
        if (!intact(index)) fail("pattern changed before its free", index);
        free(blocks[index]);
        blocks[index] = NULL;
    }
    free_in_other_thread(1, 4);
    for (long index = 3; index < block_count; index += 4) {
        if (!intact(index)) fail("pattern changed while others were freed", index);
        size_t grown = sizes[index] + 100;
        void *moved = realloc(blocks[index], grown);
        if (moved == NULL) { fail("realloc returned NULL", index); continue; }
        blocks[index] = moved;
        if (!intact(index)) fail("pattern lost by realloc", index);
        sizes[index] = grown;
        memset(blocks[index], pattern(index), grown);
    }
    for (long index = 3; index < block_count; index += 4) {
        if (!intact(index)) fail("pattern changed before the last free", index);
        free(blocks[index]);
        blocks[index] = NULL;
    }
    long first_peak = peak_resident_kib();

    for (int round = 2; round <= 8; round++) {
        for (long index = 0; index < block_count; index++) {
            blocks[index] = malloc(sizes[index]);
            if (blocks[index] == NULL) { printf("FAIL malloc(%zu) returned NULL in round %d\n", sizes[index], round); return 1; }
            memset(blocks[index], pattern(index), sizes[index]);
        }
        if (round % 2 == 0) {
            free_in_other_thread(0, 1);
        } else {
            for (long index = 0; index < block_count; index++) free(blocks[index]);
        }
    }
    long last_peak = peak_resident_kib();
    if (last_peak > first_peak * 3 / 2 + 16384) {
        printf("FAIL peak resident memory grew from %ld to %ld KiB over 8 rounds of the same requests\n", first_peak, last_peak);
        failures++;
    }
    free(first);
    printf("slot_table_range: blocks=%d beyond=%ld peak_kib=%ld/%ld failures=%ld\n",
           block_count, beyond, first_peak, last_peak, failures);
    return failures == 0 ? 0 : 1;
}
