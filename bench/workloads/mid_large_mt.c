/* mid-large-mt — 8–32 KiB blocks, one private working set per thread.
 *
 * Each thread does its share of `ops` random replace operations (free a random slot of its
 * own, allocate 8–32 KiB there, stamp it). Nothing crosses threads, so this measures how
 * well mid-sized allocations scale when threads don't share data.
 */
#include "common.h"

typedef struct {
    long operations;
    long slots;
    long min_size;
    long max_size;
    uint64_t seed;
} worker_plan;

static void *replace_blocks(void *raw) {
    const worker_plan *plan = raw;
    void **blocks = bench_xcalloc((size_t)plan->slots, sizeof *blocks);
    size_t *sizes = bench_xcalloc((size_t)plan->slots, sizeof *sizes);
    bench_rng rng;
    bench_rng_seed(&rng, plan->seed);
    for (long operation = 0; operation < plan->operations; operation++) {
        size_t slot = (size_t)bench_rng_below(&rng, (uint64_t)plan->slots);
        if (blocks[slot] != NULL) {
            bench_verify(blocks[slot], sizes[slot], (uint8_t)slot);
            free(blocks[slot]);
        }
        size_t size = bench_rng_between(&rng, (size_t)plan->min_size, (size_t)plan->max_size);
        void *block = malloc(size);
        if (block == NULL) bench_out_of_memory(size);
        bench_stamp(block, size, (uint8_t)slot);
        blocks[slot] = block;
        sizes[slot] = size;
    }
    for (long slot = 0; slot < plan->slots; slot++) free(blocks[slot]);
    free(sizes);
    free(blocks);
    return NULL;
}

int main(int argc, char **argv) {
    bench_name = "mid-large-mt";
    long threads = 4, operations = 1000000, slots = 256, min_size = 8192, max_size = 32768, seed = 1;
    bench_option options[] = {
        {"threads", &threads}, {"ops", &operations}, {"slots", &slots},
        {"min", &min_size}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    worker_plan *plans = bench_xcalloc((size_t)threads, sizeof *plans);
    for (long index = 0; index < threads; index++) {
        plans[index] = (worker_plan){operations / threads, slots, min_size, max_size, (uint64_t)(seed + index)};
    }
    double seconds = bench_run_threads((int)threads, replace_blocks, plans, sizeof *plans);
    free(plans);
    bench_report((unsigned long long)(operations / threads * threads), seconds, "threads=%ld", threads);
    return 0;
}
