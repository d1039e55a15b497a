/* thread-churn — short-lived threads allocate and exit; survivors free what they left.
 *
 * Each of `rounds` rounds starts `threads` new threads. A thread first frees the blocks
 * its predecessor of the previous round left behind (that thread has exited), then
 * allocates `blocks` blocks of 16–2048 B, frees every other one itself and exits with the
 * rest still allocated. The main thread frees the last round's leftovers. This exercises
 * thread-cache setup and teardown and memory orphaned by exited threads.
 * Reports ops = mallocs + frees; thread creation is part of the time.
 */
#include "common.h"

typedef struct {
    void **leftovers;    /* blocks the previous occupant of this lane left allocated */
    long leftover_count;
    long blocks;
    long min_size;
    long max_size;
    bench_rng rng;
} lane;

static void *free_predecessor_then_allocate(void *raw) {
    lane *work = raw;
    for (long index = 0; index < work->leftover_count; index++) {
        bench_verify(work->leftovers[index], 16, (uint8_t)index);
        free(work->leftovers[index]);
    }
    work->leftover_count = 0;
    for (long index = 0; index < work->blocks; index++) {
        size_t size = bench_rng_between(&work->rng, (size_t)work->min_size, (size_t)work->max_size);
        void *block = malloc(size);
        if (block == NULL) bench_out_of_memory(size);
        if (index % 2 == 0) {
            free(block);
        } else {
            bench_stamp(block, 16, (uint8_t)work->leftover_count);
            work->leftovers[work->leftover_count++] = block;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    bench_name = "thread-churn";
    long threads = 4, rounds = 200, blocks = 2000, min_size = 16, max_size = 2048, seed = 1;
    bench_option options[] = {
        {"threads", &threads}, {"rounds", &rounds}, {"blocks", &blocks},
        {"min", &min_size}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);
    if (min_size < 16) min_size = 16; /* stamps cover the first 16 bytes */

    lane *lanes = bench_xcalloc((size_t)threads, sizeof *lanes);
    for (long index = 0; index < threads; index++) {
        lanes[index] = (lane){
            .leftovers = bench_xcalloc((size_t)blocks, sizeof(void *)),
            .blocks = blocks, .min_size = min_size, .max_size = max_size,
        };
        bench_rng_seed(&lanes[index].rng, (uint64_t)(seed + index));
    }

    double started = bench_now();
    unsigned long long operations = 0;
    for (long round = 0; round < rounds; round++) {
        for (long index = 0; index < threads; index++) operations += (unsigned long long)lanes[index].leftover_count;
        bench_run_threads((int)threads, free_predecessor_then_allocate, lanes, sizeof *lanes);
        operations += (unsigned long long)(threads * (blocks + blocks / 2));
    }
    for (long index = 0; index < threads; index++) {
        for (long block = 0; block < lanes[index].leftover_count; block++) free(lanes[index].leftovers[block]);
        operations += (unsigned long long)lanes[index].leftover_count;
    }
    double seconds = bench_now() - started;

    for (long index = 0; index < threads; index++) free(lanes[index].leftovers);
    free(lanes);
    bench_report(operations, seconds, "threads=%ld rounds=%ld", threads, rounds);
    return 0;
}
