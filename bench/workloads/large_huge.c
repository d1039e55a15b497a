/* large-huge — blocks of 64 KiB to 32 MiB, touched, freed and reused.
 *
 * A small working set of `slots` blocks; each operation frees a random slot and allocates
 * a log-uniformly distributed size in [64 KiB, 32 MiB) there, writing every page so the
 * memory is really resident. An allocator that caches and reuses large regions saves the
 * kernel's page faults and zeroing; one that maps and unmaps every time pays them.
 */
#include "common.h"

int main(int argc, char **argv) {
    bench_name = "large-huge";
    long operations = 2000, slots = 8, min_size = 65536, max_size = 33554432, seed = 1;
    bench_option options[] = {
        {"ops", &operations}, {"slots", &slots}, {"min", &min_size}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    bench_slots set = bench_slots_make(slots);
    bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)seed);

    double started = bench_now();
    for (long operation = 0; operation < operations; operation++) {
        size_t slot = (size_t)bench_rng_below(&rng, (uint64_t)slots);
        bench_slots_release(&set, slot);
        size_t size = bench_rng_log_uniform(&rng, (size_t)min_size, (size_t)max_size);
        void *block = malloc(size);
        if (block != NULL) bench_touch_pages(block, size);
        bench_slots_keep(&set, slot, block, size);
    }
    double seconds = bench_now() - started;

    bench_slots_free_all(&set);
    bench_report((unsigned long long)operations, seconds, "slots=%ld", slots);
    return 0;
}
