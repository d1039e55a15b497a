/* aligned — posix_memalign and aligned_alloc with alignments from 16 to 4096.
 *
 * A working set of `slots` blocks; each operation frees a random slot and allocates there
 * with a random power-of-two alignment in [16, 4096] and a size of 16–2048 B, alternating
 * posix_memalign and aligned_alloc (whose size is rounded up to a multiple of the
 * alignment, as C11 asks). Every block's alignment and stamp are checked.
 */
#include "common.h"

static void *allocate_aligned(long operation, size_t alignment, size_t size) {
    if (operation % 2 == 0) {
        void *block = NULL;
        return posix_memalign(&block, alignment, size) == 0 ? block : NULL;
    }
    return aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
}

int main(int argc, char **argv) {
    bench_name = "aligned";
    long operations = 1000000, slots = 1024, min_alignment = 16, max_alignment = 4096, max_size = 2048, seed = 1;
    bench_option options[] = {
        {"ops", &operations}, {"slots", &slots}, {"min_alignment", &min_alignment},
        {"max_alignment", &max_alignment}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    int alignment_choices = 0;
    while ((min_alignment << (alignment_choices + 1)) <= max_alignment) alignment_choices++;
    bench_slots set = bench_slots_make(slots);
    bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)seed);

    double started = bench_now();
    for (long operation = 0; operation < operations; operation++) {
        size_t slot = (size_t)bench_rng_below(&rng, (uint64_t)slots);
        bench_slots_release(&set, slot);
        size_t alignment = (size_t)min_alignment << bench_rng_below(&rng, (uint64_t)alignment_choices + 1);
        size_t size = bench_rng_between(&rng, 16, (size_t)max_size);
        void *block = allocate_aligned(operation, alignment, size);
        if (block == NULL) bench_out_of_memory(size);
        if ((uintptr_t)block % alignment != 0) bench_die(4, "%p is not aligned to %zu", block, alignment);
        bench_slots_keep(&set, slot, block, size);
    }
    double seconds = bench_now() - started;

    bench_slots_free_all(&set);
    bench_report((unsigned long long)operations, seconds, "slots=%ld", slots);
    return 0;
}
