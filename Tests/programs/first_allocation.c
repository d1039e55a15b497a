/* first_allocation: the process's first allocation made before main, from a constructor, so
 * that it reaches the allocator before its start-up (Tests/IntegrationTests/FirstAllocationTests).
 *
 * Usage: first_allocation malloc|calloc SIZE. glibc passes argc and argv to constructors. The
 * block must come back usable: at least SIZE bytes, 16-byte aligned, zeroed for calloc, and
 * its bytes must keep what is written into them while the program allocates more of the same
 * size. Prints `ok` and exits 0, or `FAIL what` and exits 1.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *first;
static size_t first_size;
static int use_calloc;

__attribute__((constructor(101))) static void allocate_first(int argc, char **argv) {
    if (argc < 3) return;
    use_calloc = strcmp(argv[1], "calloc") == 0;
    first_size = (size_t)strtoul(argv[2], NULL, 10);
    first = use_calloc ? calloc(1, first_size) : malloc(first_size);
}

static int fail(const char *what) {
    printf("FAIL %s (size %zu, %s)\n", what, first_size, use_calloc ? "calloc" : "malloc");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: first_allocation malloc|calloc SIZE\n"); return 2; }
    if (first == NULL) return fail("the first allocation returned NULL");
    if ((uintptr_t)first % 16 != 0) return fail("the first block is not 16-byte aligned");
    if (malloc_usable_size(first) < first_size) return fail("the first block is smaller than asked");
    if (use_calloc) {
        for (size_t i = 0; i < first_size; i++)
            if (first[i] != 0) return fail("the first calloc block is not zeroed");
    }
    memset(first, 0xA5, first_size);
    unsigned char *more[64];
    for (int i = 0; i < 64; i++) {
        more[i] = malloc(first_size);
        if (more[i] == NULL) return fail("a later allocation returned NULL");
        if (more[i] < first + first_size && first < more[i] + first_size)
            return fail("a later block overlaps the first");
        memset(more[i], i, first_size);
    }
    for (size_t i = 0; i < first_size; i++)
        if (first[i] != 0xA5) return fail("the first block's bytes changed");
    for (int i = 0; i < 64; i++) free(more[i]);
    free(first);
    puts("ok");
    return 0;
}
