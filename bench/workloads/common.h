/* common.h — what every hakmem benchmark workload shares.
 *
 * Each workload is one small C program whose hot loop calls malloc/free directly. This
 * header gives them a monotonic timer, a fast PRNG, `name=value` argument parsing, readers
 * for the process's resident memory, block stamps that catch a broken allocator, a helper
 * that runs a worker on several threads, and the single result line `hakmem bench` parses:
 *
 *     ops=<count> seconds=<hot-loop time> [name=value ...]
 *
 * Exit status: 0 success, 2 bad arguments, 3 the allocator returned NULL, 4 a block's
 * contents or alignment were wrong.
 */
#ifndef HAKMEM_BENCH_COMMON_H
#define HAKMEM_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The program's name in error messages; each workload sets it first thing in main. */
static const char *bench_name = "workload";

/* ---- failing loudly ---------------------------------------------------------------- */

static inline void bench_die(int status, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    fprintf(stderr, "%s: ", bench_name);
    vfprintf(stderr, format, arguments);
    fputc('\n', stderr);
    va_end(arguments);
    exit(status);
}

static inline void bench_out_of_memory(size_t size) {
    bench_die(3, "allocation of %zu bytes returned NULL", size);
}

/* malloc that treats NULL as fatal, for the workloads' own bookkeeping. */
static inline void *bench_xmalloc(size_t size) {
    void *block = malloc(size);
    if (block == NULL) bench_out_of_memory(size);
    return block;
}

static inline void *bench_xcalloc(size_t count, size_t size) {
    void *block = calloc(count, size);
    if (block == NULL) bench_out_of_memory(count * size);
    return block;
}

/* ---- time --------------------------------------------------------------------------- */

static inline double bench_now(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec * 1e-9;
}

static inline void bench_sleep_seconds(double seconds) {
    if (seconds <= 0) return;
    struct timespec interval = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&interval, &interval) != 0) {}
}

/* ---- pseudo-random numbers (xorshift64*, seeded through splitmix64) ---------------- */

typedef struct { uint64_t state; } bench_rng;

static inline void bench_rng_seed(bench_rng *rng, uint64_t seed) {
    uint64_t z = seed + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    rng->state = (z ^ (z >> 31)) | 1;
}

static inline uint64_t bench_rng_next(bench_rng *rng) {
    uint64_t x = rng->state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng->state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, bound). */
static inline uint64_t bench_rng_below(bench_rng *rng, uint64_t bound) {
    return (uint64_t)(((unsigned __int128)bench_rng_next(rng) * bound) >> 64);
}

/* Uniform in [low, high]. */
static inline size_t bench_rng_between(bench_rng *rng, size_t low, size_t high) {
    return low + (size_t)bench_rng_below(rng, high - low + 1);
}

/* Roughly log-uniform in [low, high]: a random power-of-two band [b, 2b), then uniform
   inside it, so small sizes are as common as large ones the way they are in real programs. */
static inline size_t bench_rng_log_uniform(bench_rng *rng, size_t low, size_t high) {
    uint64_t bands = 0;
    while ((low << (bands + 1)) - 1 <= high) bands++;
    if (bands == 0) return bench_rng_between(rng, low, high);
    size_t band_low = low << bench_rng_below(rng, bands);
    return bench_rng_between(rng, band_low, band_low * 2 - 1);
}

/* ---- arguments: `name=value` pairs --------------------------------------------------- */

typedef struct {
    const char *name;
    long *value;
} bench_option;

static inline void bench_usage(const bench_option *options) {
    fprintf(stderr, "usage: %s", bench_name);
    for (const bench_option *option = options; option->name != NULL; option++) {
        fprintf(stderr, " [%s=%ld]", option->name, *option->value);
    }
    fputc('\n', stderr);
    exit(2);
}

/* Sets each named option from `name=value` arguments; anything else is a usage error, so a
   misspelt parameter never silently runs the default. Values must be positive integers. */
static inline void bench_parse_arguments(int argc, char **argv, const bench_option *options) {
    for (int index = 1; index < argc; index++) {
        const char *equals = strchr(argv[index], '=');
        const bench_option *match = NULL;
        for (const bench_option *option = options; equals && option->name != NULL; option++) {
            size_t length = (size_t)(equals - argv[index]);
            if (strlen(option->name) == length && strncmp(option->name, argv[index], length) == 0) {
                match = option;
            }
        }
        if (match == NULL) {
            fprintf(stderr, "%s: unknown argument '%s'\n", bench_name, argv[index]);
            bench_usage(options);
        }
        char *end = NULL;
        long value = strtol(equals + 1, &end, 10);
        if (end == equals + 1 || *end != '\0' || value <= 0) {
            fprintf(stderr, "%s: '%s' needs a positive integer\n", bench_name, argv[index]);
            bench_usage(options);
        }
        *match->value = value;
    }
}

/* ---- resident memory ---------------------------------------------------------------- */

/* Reads a small /proc file into `buffer` without going through the allocator under test. */
static inline int bench_read_proc(const char *path, char *buffer, size_t capacity) {
    int descriptor = open(path, O_RDONLY | O_CLOEXEC);
    if (descriptor < 0) return 0;
    ssize_t length = read(descriptor, buffer, capacity - 1);
    close(descriptor);
    if (length < 0) return 0;
    buffer[length] = '\0';
    return 1;
}

/* Current resident set size in KiB, from /proc/self/statm. */
static inline long bench_resident_kib(void) {
    char text[256];
    long size_pages = 0, resident_pages = 0;
    if (!bench_read_proc("/proc/self/statm", text, sizeof text)) return -1;
    if (sscanf(text, "%ld %ld", &size_pages, &resident_pages) != 2) return -1;
    return resident_pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Peak resident set size in KiB so far (VmHWM in /proc/self/status). */
static inline long bench_peak_resident_kib(void) {
    char text[4096];
    if (!bench_read_proc("/proc/self/status", text, sizeof text)) return -1;
    const char *line = strstr(text, "VmHWM:");
    return line ? strtol(line + 6, NULL, 10) : -1;
}

/* ---- block stamps: cheap checks that the allocator kept our bytes ------------------- */

static inline void bench_stamp(void *block, size_t size, uint8_t tag) {
    unsigned char *bytes = block;
    bytes[0] = tag;
    bytes[size / 2] = (uint8_t)(tag + 1);
    bytes[size - 1] = (uint8_t)(tag ^ 0x5A);
}

static inline void bench_verify(const void *block, size_t size, uint8_t tag) {
    const unsigned char *bytes = block;
    if (bytes[0] != tag || bytes[size / 2] != (uint8_t)(tag + 1) || bytes[size - 1] != (uint8_t)(tag ^ 0x5A)) {
        bench_die(4, "block %p of %zu bytes was overwritten while allocated", block, size);
    }
}

/* Writes one byte in every page so the memory is really resident. */
static inline void bench_touch_pages(void *block, size_t size) {
    unsigned char *bytes = block;
    for (size_t offset = 0; offset < size; offset += 4096) bytes[offset] = (unsigned char)offset;
    bytes[size - 1] = 1;
}

/* ---- a working set of slots ---------------------------------------------------------- */

/* The random-replacement loop of random-mixed, aligned and large-huge: each operation frees
   whatever a random slot holds (after checking its stamp) and puts a new block there. */
typedef struct {
    void **blocks;
    size_t *sizes;
    long count;
} bench_slots;

static inline bench_slots bench_slots_make(long count) {
    return (bench_slots){bench_xcalloc((size_t)count, sizeof(void *)), bench_xcalloc((size_t)count, sizeof(size_t)), count};
}

/* Frees the block in `slot`, if any, after verifying its stamp. */
static inline void bench_slots_release(bench_slots *slots, size_t slot) {
    if (slots->blocks[slot] != NULL) {
        bench_verify(slots->blocks[slot], slots->sizes[slot], (uint8_t)slot);
        free(slots->blocks[slot]);
    }
}

/* Stamps a new block (NULL is fatal) and keeps it in `slot`. */
static inline void bench_slots_keep(bench_slots *slots, size_t slot, void *block, size_t size) {
    if (block == NULL) bench_out_of_memory(size);
    bench_stamp(block, size, (uint8_t)slot);
    slots->blocks[slot] = block;
    slots->sizes[slot] = size;
}

static inline void bench_slots_free_all(bench_slots *slots) {
    for (long slot = 0; slot < slots->count; slot++) free(slots->blocks[slot]);
    free(slots->sizes);
    free(slots->blocks);
}

/* ---- threads ------------------------------------------------------------------------ */

typedef struct {
    pthread_barrier_t *start;
    void *(*worker)(void *);
    void *argument;
} bench_thread_start;

static inline void *bench_thread_trampoline(void *raw) {
    bench_thread_start *start = raw;
    pthread_barrier_wait(start->start);
    return start->worker(start->argument);
}

/* Runs `worker` on `count` new threads, thread i getting `arguments + i * argument_size`,
   and returns the wall time from the moment all are ready until the last one finishes. */
static inline double bench_run_threads(int count, void *(*worker)(void *), void *arguments, size_t argument_size) {
    pthread_t *threads = bench_xcalloc((size_t)count, sizeof *threads);
    bench_thread_start *starts = bench_xcalloc((size_t)count, sizeof *starts);
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)count + 1);
    for (int index = 0; index < count; index++) {
        starts[index] = (bench_thread_start){&barrier, worker, (char *)arguments + (size_t)index * argument_size};
        if (pthread_create(&threads[index], NULL, bench_thread_trampoline, &starts[index]) != 0) {
            bench_die(2, "cannot create thread %d", index);
        }
    }
    pthread_barrier_wait(&barrier);
    double started = bench_now();
    for (int index = 0; index < count; index++) pthread_join(threads[index], NULL);
    double elapsed = bench_now() - started;
    pthread_barrier_destroy(&barrier);
    free(starts);
    free(threads);
    return elapsed;
}

/* ---- the result line ---------------------------------------------------------------- */

/* Prints `ops=... seconds=...` followed by the workload's own `name=value` extras. */
static inline void bench_report(unsigned long long operations, double seconds, const char *extras_format, ...) {
    printf("ops=%llu seconds=%.6f", operations, seconds);
    if (extras_format != NULL && extras_format[0] != '\0') {
        va_list arguments;
        va_start(arguments, extras_format);
        putchar(' ');
        vprintf(extras_format, arguments);
        va_end(arguments);
    }
    putchar('\n');
    fflush(stdout);
}

#endif
