/* memory_return — does freed memory go back to the kernel?
 *
 *   memory_return burst MIB   threads allocate MIB MiB of 64 B – 16 KiB blocks and exit; other
 *                             threads free three quarters of them, the main thread the rest;
 *                             then the main thread does light work (small malloc/free every
 *                             millisecond) for 2 s. Prints resident KiB at the peak and after
 *                             0.5, 1 and 2 s.
 *   memory_return idle MIB    16 threads each allocate MIB/16 MiB of 64 B – 16 KiB blocks, free
 *                             them themselves and then stay alive but idle (blocked) for 2 s,
 *                             as a server's workers do after a burst; the main thread only
 *                             sleeps. Prints resident KiB at the peak and after 2 s.
 *   memory_return trim MIB    one thread allocates MIB MiB (small, mid and huge blocks), frees
 *                             them, calls malloc_trim(0) and prints resident KiB before and after.
 *   memory_return reuse MIB   one thread allocates, fills and frees one block of each size from
 *                             80 KiB to 1.75 MiB (about 11 MiB in all, as a program growing
 *                             arrays does), then allocates and fills MIB MiB of 64 B – 1 KiB
 *                             blocks. Prints resident KiB before, after the big blocks and after
 *                             the small ones: memory one size left should serve the others.
 *   memory_return regrow-tiny MIB, regrow-mid MIB
 *                             three times: the main thread allocates and fills MIB MiB of
 *                             blocks of one size (64 B; 2 KiB), then another thread frees them
 *                             all. Prints resident KiB before and at the peak: the blocks the
 *                             other thread freed should serve the next round.
 *
 *   memory_return calloc MIB  one thread callocs MIB MiB of 1 MiB blocks and writes one byte in
 *                             each (a table filled sparsely), checks that a few bytes spread over
 *                             each block read zero, and prints resident KiB before and after:
 *                             memory fresh from the kernel is zero already, and clearing it
 *                             would make every page resident.
 *   memory_return calloc-mid MIB
 *                             the same with blocks of 32 KiB, eight pages each.
 *   memory_return phases MIB  one thread works in four phases, each with one block size (48 B,
 *                             640 B, 6 KiB, 40 KiB): it allocates and fills MIB MiB of blocks,
 *                             then frees them all. Prints the page faults of each phase and
 *                             the pages a phase fills: once a program has shown that it wants
 *                             freed memory back, a phase should find the last one's pages
 *                             resident instead of faulting fresh ones in.
 *   memory_return array MIB   one thread allocates and fills an array of MIB MiB and frees it,
 *                             then makes no other call: prints resident KiB before and after the
 *                             free. A program that frees a big array and goes idle should get
 *                             it back at once, as with glibc.
 *   memory_return grow MIB    one thread grows one buffer by realloc, 1 MiB at a time, up to MIB
 *                             MiB, writing each new MiB and checking the old ones (a byte per
 *                             page), with a 3 MiB malloc between steps that may take the address
 *                             space right after the buffer; then shrinks it to a third and checks
 *                             again. Prints the peak resident KiB and the bytes found wrong.
 *
 * Output: one line of key=value pairs. Exit 0 unless something could not be allocated.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum { ALLOCATORS = 4 };

typedef struct {
    void **blocks;
    long count;
    size_t bytes;
    uint64_t seed;
} share;

static long resident_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The process's peak resident set (VmHWM), in KiB. */
static long peak_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) kib = atol(line + 6);
    }
    if (f) fclose(f);
    return kib;
}

static uint64_t next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *allocate_share(void *raw) {
    share *sh = raw;
    size_t done = 0;
    long capacity = 1024;
    sh->blocks = malloc(capacity * sizeof(void *));
    while (done < sh->bytes) {
        size_t size = 64u << (next(&sh->seed) % 9); /* 64 B .. 16 KiB */
        char *p = malloc(size);
        if (!p) { perror("malloc"); exit(2); }
        memset(p, 1, size);
        if (sh->count == capacity) {
            capacity *= 2;
            sh->blocks = realloc(sh->blocks, capacity * sizeof(void *));
        }
        sh->blocks[sh->count++] = p;
        done += size;
    }
    return NULL;
}

static void *free_most(void *raw) {
    share *sh = raw;
    long keep = sh->count / 4;
    for (long i = keep; i < sh->count; i++) free(sh->blocks[i]);
    sh->count = keep;
    return NULL;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int burst(long mib) {
    share shares[ALLOCATORS] = {0};
    pthread_t threads[ALLOCATORS];
    for (int i = 0; i < ALLOCATORS; i++) {
        shares[i].bytes = (size_t)mib * 1024 * 1024 / ALLOCATORS;
        shares[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
        pthread_create(&threads[i], NULL, allocate_share, &shares[i]);
    }
    for (int i = 0; i < ALLOCATORS; i++) pthread_join(threads[i], NULL);
    long peak = resident_kib();
    for (int i = 0; i < ALLOCATORS; i++) pthread_create(&threads[i], NULL, free_most, &shares[(i + 1) % ALLOCATORS]);
    for (int i = 0; i < ALLOCATORS; i++) pthread_join(threads[i], NULL);
    for (int i = 0; i < ALLOCATORS; i++) {
        for (long j = 0; j < shares[i].count; j++) free(shares[i].blocks[j]);
        free(shares[i].blocks);
    }
    long samples[3];
    long at[3] = {500, 1000, 2000};
    long elapsed = 0;
    uint64_t seed = 42;
    for (int s = 0; s < 3; s++) {
        while (elapsed < at[s]) {
            void *p = malloc(16 + next(&seed) % 512);
            memset(p, 2, 16);
            free(p);
            sleep_ms(1);
            elapsed += 1;
        }
        samples[s] = resident_kib();
    }
    printf("peak_kib=%ld rss_500ms_kib=%ld rss_1000ms_kib=%ld rss_2000ms_kib=%ld\n", peak, samples[0], samples[1], samples[2]);
    return 0;
}

enum { IDLE_THREADS = 16 };
static pthread_barrier_t freed_all, stop_idling;

static void *allocate_free_and_idle(void *raw) {
    share *sh = raw;
    allocate_share(sh);
    pthread_barrier_wait(&freed_all); /* the peak: every thread holds its burst */
    pthread_barrier_wait(&freed_all); /* the main thread has measured it */
    for (long j = 0; j < sh->count; j++) free(sh->blocks[j]);
    free(sh->blocks);
    pthread_barrier_wait(&freed_all);
    pthread_barrier_wait(&stop_idling);
    return NULL;
}

static int idle(long mib) {
    share shares[IDLE_THREADS] = {0};
    pthread_t threads[IDLE_THREADS];
    pthread_barrier_init(&freed_all, NULL, IDLE_THREADS + 1);
    pthread_barrier_init(&stop_idling, NULL, IDLE_THREADS + 1);
    for (int i = 0; i < IDLE_THREADS; i++) {
        shares[i].bytes = (size_t)mib * 1024 * 1024 / IDLE_THREADS;
        shares[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
        pthread_create(&threads[i], NULL, allocate_free_and_idle, &shares[i]);
    }
    pthread_barrier_wait(&freed_all);
    long peak = resident_kib();
    pthread_barrier_wait(&freed_all);
    pthread_barrier_wait(&freed_all);
    sleep_ms(2000);
    long after = resident_kib();
    pthread_barrier_wait(&stop_idling);
    for (int i = 0; i < IDLE_THREADS; i++) pthread_join(threads[i], NULL);
    printf("peak_kib=%ld rss_2000ms_kib=%ld\n", peak, after);
    return 0;
}

static int trim(long mib) {
    share sh = {0};
    sh.bytes = (size_t)mib * 1024 * 1024;
    sh.seed = 7;
    allocate_share(&sh);
    void *huge = malloc(8u << 20);
    memset(huge, 3, 8u << 20);
    long before = resident_kib();
    for (long j = 0; j < sh.count; j++) free(sh.blocks[j]);
    free(sh.blocks);
    free(huge);
    long freed = resident_kib();
    int released = malloc_trim(0);
    long after = resident_kib();
    printf("before_kib=%ld freed_kib=%ld trimmed_kib=%ld released=%d\n", before, freed, after, released);
    return 0;
}

static void *volatile sink;

static int reuse(long mib) {
    long before = resident_kib();
    size_t big_bytes = 0;
    for (size_t size = 80u << 10; size <= (1792u << 10); size += size / 4) {
        char *p = malloc(size);
        if (!p) { perror("malloc"); exit(2); }
        memset(p, 2, size);
        sink = p;   /* keeps the compiler from dropping the malloc, memset and free */
        free((void *)sink);
        big_bytes += size;
    }
    long after_big = resident_kib();
    size_t wanted = (size_t)mib << 20, done = 0;
    long capacity = (long)(wanted / 64), count = 0;
    void **blocks = malloc((size_t)capacity * sizeof(void *));
    uint64_t seed = 11;
    while (done < wanted && count < capacity) {
        size_t size = 64u << (next(&seed) % 5); /* 64 B .. 1 KiB */
        char *p = malloc(size);
        if (!p) { perror("malloc"); exit(2); }
        memset(p, 3, size);
        blocks[count++] = p;
        done += size;
    }
    long after_small = resident_kib();
    for (long i = 0; i < count; i++) free(blocks[i]);
    free(blocks);
    printf("before_kib=%ld big_kib=%zu after_big_kib=%ld small_kib=%zu after_small_kib=%ld\n",
           before, big_bytes >> 10, after_big, done >> 10, after_small);
    return 0;
}

static void **regrow_blocks;
static long regrow_count;

static void *free_all(void *unused) {
    (void)unused;
    for (long i = 0; i < regrow_count; i++) free(regrow_blocks[i]);
    return NULL;
}

static int regrow(long mib, size_t size) {
    regrow_count = (long)(((size_t)mib << 20) / size);
    regrow_blocks = malloc((size_t)regrow_count * sizeof(void *));
    if (!regrow_blocks) { perror("malloc"); exit(2); }
    long before = resident_kib();
    for (int round = 0; round < 3; round++) {
        for (long i = 0; i < regrow_count; i++) {
            regrow_blocks[i] = malloc(size);
            if (!regrow_blocks[i]) { perror("malloc"); exit(2); }
            memset(regrow_blocks[i], round, size);
        }
        pthread_t thread;
        pthread_create(&thread, NULL, free_all, NULL);
        pthread_join(thread, NULL);
    }
    free(regrow_blocks);
    printf("before_kib=%ld peak_kib=%ld\n", before, peak_kib());
    return 0;
}

static int sparse_tables(long mib, size_t size) {
    long count = (long)(((size_t)mib << 20) / size), nonzero = 0;
    char **tables = malloc((size_t)count * sizeof(char *));
    if (!tables) { perror("malloc"); exit(2); }
    long before = resident_kib();
    for (long i = 0; i < count; i++) {
        tables[i] = calloc(1, size);
        if (!tables[i]) { perror("calloc"); exit(2); }
        for (size_t at = 0; at < size; at += size / 8 + 8) nonzero += tables[i][at] != 0;
        nonzero += tables[i][size - 1] != 0;
        tables[i][i * 4096 % size] = 1;
    }
    long after = resident_kib();
    for (long i = 0; i < count; i++) free(tables[i]);
    free(tables);
    printf("before_kib=%ld after_kib=%ld calloc_kib=%ld nonzero_bytes=%ld\n", before, after, mib << 10, nonzero);
    return nonzero ? 1 : 0;
}

static long minor_faults(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

static int phases(long mib) {
    const size_t sizes[] = {48, 640, 6u << 10, 40u << 10};
    enum { PHASES = sizeof sizes / sizeof sizes[0] };
    long faults[PHASES];
    void **blocks = malloc(((size_t)mib << 20) / sizes[0] * sizeof(void *));
    if (!blocks) { perror("malloc"); exit(2); }
    for (int phase = 0; phase < PHASES; phase++) {
        long count = (long)(((size_t)mib << 20) / sizes[phase]), before = minor_faults();
        for (long i = 0; i < count; i++) {
            blocks[i] = malloc(sizes[phase]);
            if (!blocks[i]) { perror("malloc"); exit(2); }
            memset(blocks[i], phase + 1, sizes[phase]);
        }
        for (long i = 0; i < count; i++) free(blocks[i]);
        faults[phase] = minor_faults() - before;
    }
    free(blocks);
    printf("pages=%ld", (long)(((size_t)mib << 20) / 4096));
    for (int phase = 0; phase < PHASES; phase++) printf(" phase%d_faults=%ld", phase + 1, faults[phase]);
    printf("\n");
    return 0;
}

static int array(long mib) {
    size_t size = (size_t)mib << 20;
    char *block = malloc(size);
    if (!block) { perror("malloc"); exit(2); }
    memset(block, 4, size);
    sink = block;   /* keeps the compiler from dropping the malloc, memset and free */
    long before = resident_kib();
    free((void *)sink);
    long after = resident_kib();
    printf("before_kib=%ld after_kib=%ld array_kib=%ld\n", before, after, mib << 10);
    return 0;
}

static int grow(long mib) {
    size_t limit = (size_t)mib << 20, step = 1u << 20, size = 0;
    unsigned char *buffer = NULL;
    long wrong = 0, count = 0;
    void **others = malloc((size_t)mib * sizeof(void *));
    if (!others) { perror("malloc"); exit(2); }
    while (size < limit) {
        size_t next = size + step;
        buffer = realloc(buffer, next);
        if (!buffer) { perror("realloc"); exit(2); }
        for (size_t at = 0; at < size; at += 4096) wrong += buffer[at] != (unsigned char)(at >> 12);
        for (size_t at = size; at < next; at += 4096) buffer[at] = (unsigned char)(at >> 12);
        size = next;
        others[count] = malloc(3u << 20);
        if (!others[count++]) { perror("malloc"); exit(2); }
    }
    buffer = realloc(buffer, size / 3);
    if (!buffer) { perror("realloc"); exit(2); }
    for (size_t at = 0; at < size / 3; at += 4096) wrong += buffer[at] != (unsigned char)(at >> 12);
    printf("final_kib=%zu peak_kib=%ld wrong_bytes=%ld\n", size >> 10, peak_kib(), wrong);
    for (long i = 0; i < count; i++) free(others[i]);
    free(others);
    free(buffer);
    return wrong ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: memory_return burst|idle|trim|reuse|regrow-tiny|regrow-mid|calloc|calloc-mid|phases|array|grow MIB\n");
        return 2;
    }
    long mib = atol(argv[2]);
    if (strcmp(argv[1], "burst") == 0) return burst(mib);
    if (strcmp(argv[1], "idle") == 0) return idle(mib);
    if (strcmp(argv[1], "trim") == 0) return trim(mib);
    if (strcmp(argv[1], "reuse") == 0) return reuse(mib);
    if (strcmp(argv[1], "regrow-tiny") == 0) return regrow(mib, 64);
    if (strcmp(argv[1], "regrow-mid") == 0) return regrow(mib, 2048);
    if (strcmp(argv[1], "calloc") == 0) return sparse_tables(mib, 1u << 20);
    if (strcmp(argv[1], "calloc-mid") == 0) return sparse_tables(mib, 32u << 10);
    if (strcmp(argv[1], "phases") == 0) return phases(mib);
    if (strcmp(argv[1], "array") == 0) return array(mib);
    if (strcmp(argv[1], "grow") == 0) return grow(mib);
    fprintf(stderr, "memory_return: unknown mode %s\n", argv[1]);
    return 2;
}
