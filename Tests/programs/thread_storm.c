/* thread_storm: many short-lived threads whose blocks are freed by other threads.
 *
 * Usage: thread_storm THREADS CONCURRENT
 *
 * THREADS threads are started over the run, at most CONCURRENT alive at once.
 * Each allocates 64 blocks (mostly tiny, some mid, a few large), then takes up
 * to 48 blocks that earlier - by now mostly exited - threads left in a shared
 * exchange, checks and frees them, leaves half of its own blocks in the
 * exchange, frees the rest itself, and exits.  So most blocks are freed by a
 * thread other than the one that allocated them, usually after it has exited.
 *
 * Every block carries a header (size, usable size seen at allocation, a
 * checksum) and a fill pattern, checked when freed: malloc_usable_size must be
 * at least the size asked for and must not change while the block lives.
 * Blocks are counted as allocated and freed: none may be lost.
 *
 * Resident memory (VmRSS) is sampled after 20% of the threads and at the end,
 * first as found (A, B), then with the exchange drained and after
 * malloc_trim(0) (D, E): with no block live and nothing kept for reuse, what
 * is left is what the allocator holds for itself, free of the exchange's
 * random mix of sizes and of the timing of its purges; a leak shows there.
 *   thread_storm: threads=T rss_at_N_kib=A rss_at_T_kib=B held_at_N_kib=D
 *                 held_at_T_kib=E allocated=X freed=Y faults=F
 * and the program exits 0 iff F == 0 and X == Y.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    BLOCKS_PER_THREAD = 64,
    TAKEN_PER_THREAD = 48,
    EXCHANGE_SLOTS = 4096,
    MAX_CONCURRENT = 64,
};

struct header {
    uint64_t size;
    uint64_t usable;
    uint64_t seed;
    uint64_t check; /* size ^ usable ^ seed ^ constant */
};
static const uint64_t CHECK_KEY = 0x5EED5EED12345678ull;

static _Atomic(struct header *) exchange[EXCHANGE_SLOTS];
static atomic_long allocated, freed, faults;

static void fault(const char *what, const struct header *h)
{
    if (atomic_fetch_add(&faults, 1) < 10)
        fprintf(stderr, "thread_storm: %s (block %p)\n", what, (const void *)h);
}

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly tiny, some mid, a few large. */
static size_t storm_size(uint64_t *s)
{
    unsigned t = (unsigned)(next(s) % 1000);
    if (t < 800)
        return sizeof(struct header) + next(s) % 1000;
    if (t < 990)
        return 1024 + next(s) % (63u << 10);
    return (64u << 10) + next(s) % (1u << 20);
}

static unsigned char fill_byte(uint64_t seed, size_t i) { return (unsigned char)(seed + i * 29); }

/* Bytes after the header that are written and checked: all of a small block,
 * the first and last 512 bytes of a larger one. */
static void each_checked_byte(size_t size, void (*visit)(unsigned char *, size_t, uint64_t, int *),
                              unsigned char *p, uint64_t seed, int *bad)
{
    size_t start = sizeof(struct header);
    if (size <= 4096) {
        for (size_t i = start; i < size; i++)
            visit(p, i, seed, bad);
        return;
    }
    for (size_t i = start; i < start + 512; i++)
        visit(p, i, seed, bad);
    for (size_t i = size - 512; i < size; i++)
        visit(p, i, seed, bad);
}

static void write_byte(unsigned char *p, size_t i, uint64_t seed, int *bad)
{
    (void)bad;
    p[i] = fill_byte(seed, i);
}

static void check_byte(unsigned char *p, size_t i, uint64_t seed, int *bad)
{
    if (p[i] != fill_byte(seed, i))
        *bad = 1;
}

static struct header *new_block(uint64_t *s)
{
    size_t size = storm_size(s);
    struct header *h = malloc(size);
    if (h == NULL) {
        fault("malloc returned NULL", NULL);
        return NULL;
    }
    atomic_fetch_add_explicit(&allocated, 1, memory_order_relaxed);
    h->size = size;
    h->usable = malloc_usable_size(h);
    h->seed = next(s);
    h->check = h->size ^ h->usable ^ h->seed ^ CHECK_KEY;
    if (h->usable < size)
        fault("malloc_usable_size is smaller than the size asked for", h);
    each_checked_byte(size, write_byte, (unsigned char *)h, h->seed, NULL);
    return h;
}

static void check_and_free(struct header *h)
{
    if (h == NULL)
        return;
    if (h->check != (h->size ^ h->usable ^ h->seed ^ CHECK_KEY)) {
        fault("header overwritten", h);
    } else {
        int bad = 0;
        each_checked_byte(h->size, check_byte, (unsigned char *)h, h->seed, &bad);
        if (bad)
            fault("contents changed while the block was live", h);
        if (malloc_usable_size(h) != h->usable)
            fault("malloc_usable_size changed while the block was live", h);
    }
    free(h);
    atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

static void *storm_thread(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull | 1;
    struct header *mine[BLOCKS_PER_THREAD];
    for (int i = 0; i < BLOCKS_PER_THREAD; i++)
        mine[i] = new_block(&s);
    /* Blocks of other threads, most of which have exited. */
    for (int i = 0; i < TAKEN_PER_THREAD; i++)
        check_and_free(atomic_exchange(&exchange[next(&s) % EXCHANGE_SLOTS], NULL));
    for (int i = 0; i < BLOCKS_PER_THREAD; i++) {
        if (i % 2 == 0)
            check_and_free(atomic_exchange(&exchange[next(&s) % EXCHANGE_SLOTS], mine[i]));
        else
            check_and_free(mine[i]);
    }
    return NULL;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

/* Resident memory with the exchange drained and the allocator trimmed. */
static long held_kib(void)
{
    for (size_t i = 0; i < EXCHANGE_SLOTS; i++)
        check_and_free(atomic_exchange(&exchange[i], NULL));
    malloc_trim(0);
    return rss_kib();
}

static long parse(const char *s, const char *what, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
        fprintf(stderr, "thread_storm: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: thread_storm THREADS CONCURRENT\n");
        return 2;
    }
    long total = parse(argv[1], "THREADS", 10000000);
    int concurrent = (int)parse(argv[2], "CONCURRENT", MAX_CONCURRENT);
    long sample_at = total / 5;

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 << 10);
    pthread_t ids[MAX_CONCURRENT];
    long started = 0, rss_sample = -1, held_sample = -1;
    /* Waves of CONCURRENT threads; the sample is taken between waves. */
    while (started < total) {
        int wave = 0;
        for (; wave < concurrent && started < total; wave++, started++)
            if (pthread_create(&ids[wave], &attr, storm_thread, (void *)(uintptr_t)(started + 1)) != 0) {
                fprintf(stderr, "thread_storm: pthread_create failed after %ld threads\n", started);
                return 2;
            }
        for (int i = 0; i < wave; i++)
            pthread_join(ids[i], NULL);
        if (rss_sample < 0 && started >= sample_at) {
            rss_sample = rss_kib();
            held_sample = held_kib();
        }
    }
    long rss_end = rss_kib();
    long held_end = held_kib();

    long a = atomic_load(&allocated), f = atomic_load(&freed), bad = atomic_load(&faults);
    if (a != f)
        fprintf(stderr, "thread_storm: %ld blocks allocated but %ld freed\n", a, f);
    printf("thread_storm: threads=%ld rss_at_%ld_kib=%ld rss_at_%ld_kib=%ld held_at_%ld_kib=%ld "
           "held_at_%ld_kib=%ld allocated=%ld freed=%ld faults=%ld\n",
           total, sample_at, rss_sample, total, rss_end, sample_at, held_sample, total, held_end, a, f, bad);
    return bad == 0 && a == f ? 0 : 1;
}
