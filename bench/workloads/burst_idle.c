/* burst-idle — a burst of allocation, frees from other threads, then a quiet spell.
 *
 * `threads` threads together allocate `megabytes` MiB in blocks of 64 B – 16 KiB, writing
 * every page, and exit. A second set of threads then frees the first three quarters of
 * those blocks, thread i freeing what thread i+1 of the first set allocated, and the main
 * thread frees the last quarter: the whole burst is freed, all of it by threads other than
 * the ones that allocated it, which are gone.
 * After that ("burst end") the main thread does light work — a few small allocations
 * every 10 ms — for `idle_ms`, and samples its resident memory (/proc/self/statm) at burst
 * end and at a quarter, half and all of the quiet spell (0.5, 1 and 2 s by default). An
 * allocator that returns freed memory to the kernel shows falling samples.
 * Reports ops = burst mallocs + frees, seconds = burst time; extras: peak_kib and
 * rss_at_<ms>ms_kib for each sample.
 */
#include "common.h"

typedef struct {
    void **blocks;
    long count;
    long capacity;
    size_t bytes_wanted;
    size_t min_size;
    size_t max_size;
    uint64_t seed;
} burst_share;

typedef struct {
    burst_share *share; /* another thread's blocks */
    long freed;
} freeing_job;

static void *allocate_share(void *raw) {
    burst_share *share = raw;
    bench_rng rng;
    bench_rng_seed(&rng, share->seed);
    size_t allocated = 0;
    while (allocated < share->bytes_wanted && share->count < share->capacity) {
        size_t size = bench_rng_log_uniform(&rng, share->min_size, share->max_size);
        void *block = malloc(size);
        if (block == NULL) bench_out_of_memory(size);
        bench_touch_pages(block, size);
        bench_stamp(block, size, (uint8_t)share->count);
        share->blocks[share->count++] = block;
        allocated += size;
    }
    return NULL;
}

/* Frees the first three quarters of a share's blocks; the main thread frees the rest. */
static void *free_most_of_share(void *raw) {
    freeing_job *job = raw;
    for (long index = 0; index < job->share->count * 3 / 4; index++) {
        free(job->share->blocks[index]);
        job->share->blocks[index] = NULL;
        job->freed++;
    }
    return NULL;
}

/* A trickle of small allocations, as a mostly idle server would make. */
static void light_work(bench_rng *rng) {
    void *blocks[64];
    for (int index = 0; index < 64; index++) {
        size_t size = bench_rng_between(rng, 16, 256);
        blocks[index] = malloc(size);
        if (blocks[index] == NULL) bench_out_of_memory(size);
        memset(blocks[index], index, size);
    }
    for (int index = 0; index < 64; index++) free(blocks[index]);
}

int main(int argc, char **argv) {
    bench_name = "burst-idle";
    long threads = 4, megabytes = 200, min_size = 64, max_size = 16384, idle_ms = 2000, seed = 1;
    bench_option options[] = {
        {"threads", &threads}, {"megabytes", &megabytes}, {"min", &min_size}, {"max", &max_size},
        {"idle_ms", &idle_ms}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    size_t bytes_per_thread = (size_t)megabytes * 1048576 / (size_t)threads;
    long capacity = (long)(bytes_per_thread / (size_t)min_size) + 1;
    burst_share *shares = bench_xcalloc((size_t)threads, sizeof *shares);
    freeing_job *jobs = bench_xcalloc((size_t)threads, sizeof *jobs);
    for (long index = 0; index < threads; index++) {
        shares[index] = (burst_share){
            .blocks = bench_xcalloc((size_t)capacity, sizeof(void *)), .capacity = capacity,
            .bytes_wanted = bytes_per_thread, .min_size = (size_t)min_size, .max_size = (size_t)max_size,
            .seed = (uint64_t)(seed + index),
        };
        jobs[index] = (freeing_job){.share = &shares[(index + 1) % threads]};
    }

    double burst_seconds = bench_run_threads((int)threads, allocate_share, shares, sizeof *shares);
    burst_seconds += bench_run_threads((int)threads, free_most_of_share, jobs, sizeof *jobs);
    double main_frees_start = bench_now();
    unsigned long long operations = 0;
    for (long index = 0; index < threads; index++) {
        for (long block = shares[index].count * 3 / 4; block < shares[index].count; block++) {
            free(shares[index].blocks[block]);
        }
        operations += (unsigned long long)(2 * shares[index].count);
    }
    burst_seconds += bench_now() - main_frees_start;

    enum { sample_count = 4 };
    const long sample_ms[sample_count] = {0, idle_ms / 4, idle_ms / 2, idle_ms};
    long resident_kib[sample_count];
    bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)seed);
    double burst_end = bench_now();
    resident_kib[0] = bench_resident_kib();
    for (int sample = 1; sample < sample_count; sample++) {
        while ((bench_now() - burst_end) * 1000 < (double)sample_ms[sample]) {
            light_work(&rng);
            bench_sleep_seconds(0.01);
        }
        resident_kib[sample] = bench_resident_kib();
    }
    long peak_kib = bench_peak_resident_kib();

    for (long index = 0; index < threads; index++) free(shares[index].blocks);
    free(jobs);
    free(shares);
    bench_report(operations, burst_seconds,
                 "threads=%ld peak_kib=%ld rss_at_%ldms_kib=%ld rss_at_%ldms_kib=%ld rss_at_%ldms_kib=%ld rss_at_%ldms_kib=%ld",
                 threads, peak_kib, sample_ms[0], resident_kib[0], sample_ms[1], resident_kib[1],
                 sample_ms[2], resident_kib[2], sample_ms[3], resident_kib[3]);
    return 0;
}
