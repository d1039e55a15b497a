/* larson — a server-style workload after Larson & Krishnan's benchmark.
 *
 * `threads` lanes each own `blocks` live blocks of 8–1000 B. A generation of threads (one
 * per lane) replaces random blocks of its lane, then exits; the next generation's new
 * threads inherit those lanes and so free blocks that threads now gone allocated.
 * Thread creation is part of the measured time, as in the original.
 */
#include "common.h"

typedef struct {
    void **blocks;
    size_t *sizes;
    long block_count;
    long operations;
    long min_size;
    long max_size;
    bench_rng rng;
} lane;

static void *replace_lane_blocks(void *raw) {
    lane *work = raw;
    for (long operation = 0; operation < work->operations; operation++) {
        size_t slot = (size_t)bench_rng_below(&work->rng, (uint64_t)work->block_count);
        if (work->blocks[slot] != NULL) {
            bench_verify(work->blocks[slot], work->sizes[slot], (uint8_t)slot);
            free(work->blocks[slot]);
        }
        size_t size = bench_rng_between(&work->rng, (size_t)work->min_size, (size_t)work->max_size);
        void *block = malloc(size);
        if (block == NULL) bench_out_of_memory(size);
        bench_stamp(block, size, (uint8_t)slot);
        work->blocks[slot] = block;
        work->sizes[slot] = size;
    }
    return NULL;
}

int main(int argc, char **argv) {
    bench_name = "larson";
    long threads = 4, generations = 20, operations = 2000000, blocks = 1000, min_size = 8, max_size = 1000, seed = 1;
    bench_option options[] = {
        {"threads", &threads}, {"generations", &generations}, {"ops", &operations}, {"blocks", &blocks},
        {"min", &min_size}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    long per_thread_generation = operations / (threads * generations);
    lane *lanes = bench_xcalloc((size_t)threads, sizeof *lanes);
    for (long index = 0; index < threads; index++) {
        lanes[index] = (lane){
            .blocks = bench_xcalloc((size_t)blocks, sizeof(void *)),
            .sizes = bench_xcalloc((size_t)blocks, sizeof(size_t)),
            .block_count = blocks, .operations = per_thread_generation,
            .min_size = min_size, .max_size = max_size,
        };
        bench_rng_seed(&lanes[index].rng, (uint64_t)(seed + index));
    }

    double started = bench_now();
    for (long generation = 0; generation < generations; generation++) {
        bench_run_threads((int)threads, replace_lane_blocks, lanes, sizeof *lanes);
    }
    double seconds = bench_now() - started;

    for (long index = 0; index < threads; index++) {
        for (long slot = 0; slot < blocks; slot++) free(lanes[index].blocks[slot]);
        free(lanes[index].blocks);
        free(lanes[index].sizes);
    }
    free(lanes);
    bench_report((unsigned long long)(per_thread_generation * threads * generations), seconds,
                 "threads=%ld generations=%ld", threads, generations);
    return 0;
}
