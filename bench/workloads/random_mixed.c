/* random-mixed — one thread, sizes 16–1040 B, a working set of 4096 slots.
 *
 * Modelled on HAKMEM's bench_random_mixed: each operation picks a random slot, frees the
 * block there (checking its stamp) and allocates a new block of a random size in its place.
 * Reports ops = operations done.
 */
#include "common.h"

int main(int argc, char **argv) {
    bench_name = "random-mixed";
    long operations = 2000000, slots = 4096, min_size = 16, max_size = 1040, seed = 1;
    bench_option options[] = {
        {"ops", &operations}, {"slots", &slots}, {"min", &min_size}, {"max", &max_size},
        {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    bench_slots set = bench_slots_make(slots);
    bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)seed);

    double started = bench_now();
    for (long operation = 0; operation < operations; operation++) {
        size_t slot = (size_t)bench_rng_below(&rng, (uint64_t)slots);
        bench_slots_release(&set, slot);
        size_t size = bench_rng_between(&rng, (size_t)min_size, (size_t)max_size);
        bench_slots_keep(&set, slot, malloc(size), size);
    }
    double seconds = bench_now() - started;

    bench_slots_free_all(&set);
    bench_report((unsigned long long)operations, seconds, "slots=%ld", slots);
    return 0;
}
