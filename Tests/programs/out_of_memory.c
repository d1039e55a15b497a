/* out_of_memory: the allocator under a hard address-space limit (RLIMIT_AS).
 *
 * Usage: out_of_memory single HEADROOM_MIB
 *        out_of_memory threads HEADROOM_MIB THREADS
 *        out_of_memory handover HEADROOM_MIB
 *
 * The program limits its own address space to what it uses now plus
 * HEADROOM_MIB, so every mmap beyond that fails as on a machine out of memory.
 *
 * single: for each tier (tiny, mid, large, huge) it allocates blocks of one
 *   size until malloc returns NULL, then checks that in that state every call
 *   either succeeds with a usable block or fails with NULL and errno ENOMEM
 *   (malloc, calloc, realloc - whose block must stay intact and freeable -,
 *   reallocarray, posix_memalign, aligned_alloc, memalign, valloc), that the
 *   requests that need a fresh mapping do fail, then frees everything.  The
 *   whole round runs twice: the second must get at least half as many blocks as
 *   the first, so freed memory is really available again.
 * threads: THREADS threads allocate mixed sizes until each has seen 200 NULLs
 *   (each with ENOMEM), handing half their blocks to a neighbour to free; after
 *   all have freed everything, each must allocate 1000 blocks again (one large,
 *   one huge, the rest up to 20 KiB).
 * handover: one thread (the owner) allocates 20 KB blocks until malloc returns
 *   NULL and hands them all to another (the freer), then keeps working: it
 *   frees and allocates one large block in a loop.  The freer frees every block
 *   (into the owner's slabs) and must then get 8 MiB, which needs the address
 *   space those blocks held.  Run it with HAKMEM_PURGE_DELAY_MS=60000, so that
 *   the owner's periodic sweep cannot give them back first.
 *
 * Prints `FAIL ...` per problem, one `tier ...` line per tier and round, and
 * last `out_of_memory: mode=M checks=C failures=F`; exits 0 iff F == 0.
 * A deadlock is left to the caller's timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static atomic_long checks, failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        if (atomic_fetch_add(&failures, 1) < 20) {                                                 \
            printf("FAIL " __VA_ARGS__);                                                           \
            printf("\n");                                                                          \
            fflush(stdout);                                                                        \
        }                                                                                          \
    } while (0)

/* Sizes pass through volatile so the compiler cannot reason about the requests. */
static size_t opaque(size_t n)
{
    volatile size_t v = n;
    return v;
}

/* Hides where a pointer came from, so the compiler neither warns about using a
 * block after a realloc that failed (and so did not free it) nor rewrites the call. */
static void *launder(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

/* Every block we hold starts with this header; the rest of its first and last
 * 64 bytes carry a pattern derived from its size (pages in between are not
 * touched, so a huge block costs address space, not resident memory). */
struct block {
    struct block *next;
    size_t size;
};

static unsigned char pattern(size_t size, size_t i) { return (unsigned char)(size * 7 + i * 13 + 1); }

static void fill(struct block *b, size_t size)
{
    b->size = size;
    unsigned char *p = (unsigned char *)b;
    size_t head = size < 80 ? size : 80;
    for (size_t i = sizeof *b; i < head; i++)
        p[i] = pattern(size, i);
    for (size_t i = size > 144 ? size - 64 : head; i < size; i++)
        p[i] = pattern(size, i);
}

static int intact(const struct block *b)
{
    size_t size = b->size;
    const unsigned char *p = (const unsigned char *)b;
    size_t head = size < 80 ? size : 80;
    for (size_t i = sizeof *b; i < head; i++)
        if (p[i] != pattern(size, i))
            return 0;
    for (size_t i = size > 144 ? size - 64 : head; i < size; i++)
        if (p[i] != pattern(size, i))
            return 0;
    return 1;
}

/* Checks the result of one allocation call: a block must be usable, a NULL
 * must come with ENOMEM.  Frees the block.  Returns 1 if it was NULL. */
static int expect_block_or_enomem(const char *what, size_t size, void *p, int err)
{
    atomic_fetch_add(&checks, 1);
    if (p == NULL) {
        if (err != ENOMEM)
            FAIL("%s(%zu) returned NULL with errno %d (%s), expected ENOMEM", what, size, err, strerror(err));
        return 1;
    }
    if (malloc_usable_size(p) < size)
        FAIL("%s(%zu) gave a block of usable size %zu", what, size, malloc_usable_size(p));
    if (size > 0) {
        ((volatile char *)p)[0] = 1;
        ((volatile char *)p)[size - 1] = 1;
    }
    free(p);
    return 0;
}

static void expect_enomem(const char *what, size_t size, void *p, int err)
{
    atomic_fetch_add(&checks, 1);
    if (p != NULL) {
        FAIL("%s(%zu) succeeded although no mapping of that size can fit", what, size);
        free(p);
    } else if (err != ENOMEM) {
        FAIL("%s(%zu) returned NULL with errno %d (%s), expected ENOMEM", what, size, err, strerror(err));
    }
}

/* The address space in use now, in bytes (first field of /proc/self/statm). */
static size_t address_space_in_use(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f == NULL || fscanf(f, "%lu", &pages) != 1) {
        fprintf(stderr, "out_of_memory: cannot read /proc/self/statm\n");
        exit(2);
    }
    fclose(f);
    return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static void limit_address_space(size_t headroom_mib)
{
    size_t limit = address_space_in_use() + (headroom_mib << 20);
    struct rlimit r = {limit, limit};
    if (setrlimit(RLIMIT_AS, &r) != 0) {
        perror("out_of_memory: setrlimit");
        exit(2);
    }
}

/* Calls that cannot be served whatever the state of the heap: each needs a
 * mapping larger than the limit itself.  The block p must survive them. */
static void check_unservable(struct block *p, size_t beyond)
{
    void *q;
    errno = 0;
    q = malloc(opaque(beyond));
    expect_enomem("malloc", beyond, q, errno);
    errno = 0;
    q = calloc(1, opaque(beyond));
    expect_enomem("calloc", beyond, q, errno);
    errno = 0;
    q = calloc(opaque(beyond / 16), 16);
    expect_enomem("calloc(n,16)", beyond, q, errno);
    errno = 0;
    q = aligned_alloc(1 << 20, opaque(beyond));
    expect_enomem("aligned_alloc(1MiB)", beyond, q, errno);
    errno = 0;
    q = memalign(4096, opaque(beyond));
    expect_enomem("memalign(4096)", beyond, q, errno);
    errno = 0;
    q = valloc(opaque(beyond));
    expect_enomem("valloc", beyond, q, errno);

    void *out = (void *)0x1;
    int rc = posix_memalign(&out, 64, opaque(beyond));
    atomic_fetch_add(&checks, 1);
    if (rc != ENOMEM || out != (void *)0x1)
        FAIL("posix_memalign(64, %zu) returned %d and set the pointer to %p, expected ENOMEM and no change",
             beyond, rc, out);

    if (p == NULL)
        return;
    size_t old = p->size;
    errno = 0;
    q = realloc(launder(p), opaque(beyond));
    expect_enomem("realloc", beyond, q, errno);
    errno = 0;
    q = reallocarray(launder(p), opaque(beyond / 8), 8);
    expect_enomem("reallocarray(n,8)", beyond, q, errno);
    atomic_fetch_add(&checks, 1);
    if (p->size != old || !intact(p))
        FAIL("a failed realloc changed the original block of %zu bytes", old);
}

/* Frees a list, checking each block; returns how many were freed. */
static long free_list(struct block *b, const char *who)
{
    long n = 0;
    while (b != NULL) {
        struct block *next = b->next;
        if (!intact(b)) {
            FAIL("%s: block %p of %zu bytes was corrupted while memory ran out", who, (void *)b, b->size);
            next = NULL; /* the link may be garbage too */
        }
        free(b);
        b = next;
        n++;
    }
    return n;
}

struct tier {
    const char *name;
    size_t size;
};

static const struct tier tiers[] = {
    {"tiny", 48}, {"mid", 20000}, {"large", 700000}, {"huge", 5u << 20},
};
enum { TIERS = sizeof tiers / sizeof tiers[0] };

/* Sizes tried once memory has run out: each must succeed or fail with ENOMEM. */
static const size_t probe_sizes[] = {0,      1,      16,     100,    1024,    4000,    20000,
                                     65536,  100000, 700000, 1835008, 2 << 20, 5 << 20, 64 << 20};

static long run_tier(const struct tier *t, int round, size_t beyond)
{
    struct block *list = NULL;
    long count = 0;
    int err = 0;
    /* Bounded: with a few hundred MiB of headroom no tier needs more blocks. */
    for (long i = 0; i < 50000000; i++) {
        errno = 0;
        struct block *b = malloc(opaque(t->size));
        if (b == NULL) {
            err = errno;
            break;
        }
        fill(b, t->size);
        b->next = list;
        list = b;
        count++;
    }
    atomic_fetch_add(&checks, 1);
    if (err != ENOMEM)
        FAIL("%s round %d: malloc(%zu) returned NULL with errno %d (%s), expected ENOMEM", t->name, round,
             t->size, err, strerror(err));

    /* The exhausted size must keep failing, through every entry point. */
    errno = 0;
    void *again = malloc(opaque(t->size));
    expect_enomem("malloc of the exhausted size", t->size, again, errno);
    errno = 0;
    again = calloc(1, opaque(t->size));
    expect_enomem("calloc of the exhausted size", t->size, again, errno);

    /* Anything else either works or fails cleanly. */
    for (size_t i = 0; i < sizeof probe_sizes / sizeof probe_sizes[0]; i++) {
        size_t n = probe_sizes[i];
        void *p;
        errno = 0;
        p = malloc(opaque(n));
        expect_block_or_enomem("malloc", n, p, errno);
        errno = 0;
        p = calloc(opaque(n), 1);
        if (p != NULL && n > 0 && (((unsigned char *)p)[0] != 0 || ((unsigned char *)p)[n - 1] != 0))
            FAIL("calloc(%zu, 1) under memory pressure returned non-zero memory", n);
        expect_block_or_enomem("calloc", n, p, errno);
        p = NULL;
        int rc = posix_memalign(&p, 256, opaque(n));
        expect_block_or_enomem("posix_memalign(256)", n, rc == 0 ? p : NULL, rc);
        errno = 0;
        p = aligned_alloc(1 << 17, opaque(n));
        expect_block_or_enomem("aligned_alloc(128KiB)", n, p, errno);
    }
    /* Growing a held block into a new mapping must fail and keep the block. */
    check_unservable(list, beyond);
    check_unservable(list, 8u << 20); /* needs a fresh mapping, and a 4 MiB one cannot fit */

    long freed = free_list(list, t->name);
    atomic_fetch_add(&checks, 1);
    if (freed != count)
        FAIL("%s round %d: freed %ld of %ld blocks", t->name, round, freed, count);
    printf("tier %s round %d size=%zu blocks=%ld\n", t->name, round, t->size, count);
    fflush(stdout);
    return count;
}

static void run_single(size_t headroom_mib)
{
    size_t beyond = (headroom_mib + 64) << 20;
    limit_address_space(headroom_mib);
    check_unservable(NULL, beyond);

    long first[TIERS];
    for (int round = 1; round <= 2; round++)
        for (int t = 0; t < TIERS; t++) {
            long count = run_tier(&tiers[t], round, beyond);
            atomic_fetch_add(&checks, 1);
            if (round == 1) {
                first[t] = count;
                if (count == 0)
                    FAIL("%s round 1: not a single block of %zu bytes before memory ran out", tiers[t].name,
                         tiers[t].size);
            } else if (count < first[t] / 2) {
                FAIL("%s round 2: only %ld blocks of %zu bytes after everything was freed, %ld in round 1",
                     tiers[t].name, count, tiers[t].size, first[t]);
            }
        }

    /* Finally, with every block freed, each tier serves again. */
    for (int t = 0; t < TIERS; t++) {
        void *p = malloc(opaque(tiers[t].size));
        atomic_fetch_add(&checks, 1);
        if (p == NULL)
            FAIL("malloc(%zu) fails after everything was freed", tiers[t].size);
        free(p);
    }
}

/* ---- threads ---- */

enum { NULLS_PER_THREAD = 200, BLOCKS_AFTER = 1000 };

static int thread_count;
static pthread_barrier_t barrier;
static _Atomic(struct block *) handed[64]; /* handed[i]: blocks thread i must free */
static atomic_long null_results;

static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly tiny, some mid and large, a few huge. */
static size_t mixed_size(uint64_t *s)
{
    unsigned t = (unsigned)(next_random(s) % 100);
    if (t < 70)
        return 16 + next_random(s) % 1009;
    if (t < 92)
        return 1024 + next_random(s) % (63u << 10);
    if (t < 99)
        return (64u << 10) + next_random(s) % (1700u << 10);
    return (2u << 20) + next_random(s) % (6u << 20);
}

static void push_handed(int to, struct block *b)
{
    b->next = atomic_load(&handed[to]);
    while (!atomic_compare_exchange_weak(&handed[to], &b->next, b)) {
    }
}

static void *storm_thread(void *arg)
{
    int me = (int)(intptr_t)arg;
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(me + 1) | 1;
    struct block *mine = NULL;
    pthread_barrier_wait(&barrier); /* the limit is set now */

    long nulls = 0;
    for (long op = 0; nulls < NULLS_PER_THREAD && op < 20000000; op++) {
        size_t n = mixed_size(&s);
        errno = 0;
        struct block *b = (next_random(&s) & 7) == 0 ? calloc(1, n) : malloc(n);
        if (b == NULL) {
            int err = errno;
            atomic_fetch_add(&checks, 1);
            if (err != ENOMEM)
                FAIL("thread %d: allocation of %zu returned NULL with errno %d (%s)", me, n, err, strerror(err));
            nulls++;
            continue;
        }
        fill(b, n);
        if (next_random(&s) & 1) {
            b->next = mine;
            mine = b;
        } else {
            push_handed((me + 1) % thread_count, b);
        }
    }
    atomic_fetch_add(&null_results, nulls);
    pthread_barrier_wait(&barrier); /* everyone has run out */
    free_list(mine, "thread own");
    free_list(atomic_exchange(&handed[me], NULL), "thread handed"); /* allocated by the neighbour */
    pthread_barrier_wait(&barrier); /* everything is freed */

    /* Mostly tiny and mid (about 10 MiB a thread, far below the headroom), one
     * large and one huge block. */
    struct block *again = NULL;
    for (int i = 0; i < BLOCKS_AFTER; i++) {
        size_t n = i == 0 ? (1500u << 10) : i == 1 ? (3u << 20) : 16 + next_random(&s) % (20u << 10);
        struct block *b = malloc(n);
        atomic_fetch_add(&checks, 1);
        if (b == NULL) {
            FAIL("thread %d: malloc(%zu) failed after all memory was freed (block %d of %d)", me, n, i,
                 BLOCKS_AFTER);
            break;
        }
        fill(b, n);
        b->next = again;
        again = b;
    }
    free_list(again, "thread after");
    return NULL;
}

static void run_threads(size_t headroom_mib, int threads)
{
    thread_count = threads;
    pthread_barrier_init(&barrier, NULL, (unsigned)threads + 1);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 << 10);
    pthread_t ids[64];
    for (int t = 0; t < threads; t++)
        if (pthread_create(&ids[t], &attr, storm_thread, (void *)(intptr_t)t) != 0) {
            fprintf(stderr, "out_of_memory: pthread_create failed\n");
            exit(2);
        }
    limit_address_space(headroom_mib);
    pthread_barrier_wait(&barrier); /* start */
    pthread_barrier_wait(&barrier); /* all ran out */
    pthread_barrier_wait(&barrier); /* all freed */
    for (int t = 0; t < threads; t++)
        pthread_join(ids[t], NULL);
    atomic_fetch_add(&checks, 1);
    if (atomic_load(&null_results) < (long)threads * NULLS_PER_THREAD)
        FAIL("threads stopped after %ld NULL results, expected %d each: memory never ran out",
             atomic_load(&null_results), NULLS_PER_THREAD);
    printf("threads=%d nulls=%ld\n", threads, atomic_load(&null_results));
}

/* ---- handover ---- */

enum { HANDOVER_BLOCK = 20000, HANDOVER_LARGE = 100000, HANDOVER_HUGE = 8 << 20 };
static atomic_int handover_stage; /* 1: the limit is set, 2: blocks handed over, 3: freer done */
static struct block *handover_blocks;
static long handover_count;

static void wait_for_stage(int stage)
{
    while (atomic_load(&handover_stage) < stage)
        sched_yield();
}

static void *handover_owner(void *arg)
{
    (void)arg;
    wait_for_stage(1);
    struct block *large = malloc(opaque(HANDOVER_LARGE));
    if (large == NULL) {
        FAIL("handover: the owner's first malloc(%d) failed", HANDOVER_LARGE);
        atomic_store(&handover_stage, 2);
        return NULL;
    }
    struct block *list = NULL;
    for (;;) {
        struct block *b = malloc(opaque(HANDOVER_BLOCK));
        if (b == NULL)
            break;
        fill(b, HANDOVER_BLOCK);
        b->next = list;
        list = b;
        handover_count++;
    }
    handover_blocks = list;
    atomic_store(&handover_stage, 2);
    /* Keeps working while the freer needs memory: each round gives the large block's slots
     * back and takes them again (a refill), and never needs memory of its own. */
    while (atomic_load(&handover_stage) < 3) {
        free(large);
        large = malloc(opaque(HANDOVER_LARGE));
        if (large == NULL) {
            FAIL("handover: the owner's malloc(%d) failed on the slots its own free gave back", HANDOVER_LARGE);
            break;
        }
    }
    free(large);
    return NULL;
}

static void *handover_freer(void *arg)
{
    (void)arg;
    wait_for_stage(2);
    struct block *b = handover_blocks;
    while (b != NULL) {
        struct block *next = b->next;
        atomic_fetch_add(&checks, 1);
        if (!intact(b))
            FAIL("handover: a block of %d bytes was changed while the freer held it", HANDOVER_BLOCK);
        free(b);
        b = next;
    }
    errno = 0;
    struct block *big = malloc(opaque(HANDOVER_HUGE));
    int err = errno;
    atomic_fetch_add(&checks, 1);
    if (big == NULL) {
        FAIL("handover: malloc(%d) failed (errno %d) after the freer freed the %ld blocks of %d bytes the "
             "owner allocated until memory ran out: memory freed into a live thread's slabs was not given back",
             HANDOVER_HUGE, err, handover_count, HANDOVER_BLOCK);
    } else {
        fill(big, HANDOVER_HUGE);
        if (!intact(big))
            FAIL("handover: the %d-byte block does not hold what was written", HANDOVER_HUGE);
        free(big);
    }
    atomic_store(&handover_stage, 3);
    return NULL;
}

static void run_handover(size_t headroom_mib)
{
    pthread_t owner, freer;
    if (pthread_create(&owner, NULL, handover_owner, NULL) != 0 ||
        pthread_create(&freer, NULL, handover_freer, NULL) != 0) {
        fprintf(stderr, "out_of_memory: pthread_create failed\n");
        exit(2);
    }
    limit_address_space(headroom_mib);
    atomic_store(&handover_stage, 1);
    pthread_join(owner, NULL);
    pthread_join(freer, NULL);
    if (handover_count == 0)
        FAIL("handover: the owner got no block of %d bytes", HANDOVER_BLOCK);
    printf("handover blocks=%ld\n", handover_count);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* stdio's own buffer is allocated before the limit */
    printf("out_of_memory: starting\n");
    if (argc >= 3 && strcmp(argv[1], "single") == 0) {
        run_single((size_t)atol(argv[2]));
    } else if (argc >= 4 && strcmp(argv[1], "threads") == 0) {
        int threads = atoi(argv[3]);
        if (threads < 1 || threads > 64) {
            fprintf(stderr, "out_of_memory: THREADS must be 1..64\n");
            return 2;
        }
        run_threads((size_t)atol(argv[2]), threads);
    } else if (argc >= 3 && strcmp(argv[1], "handover") == 0) {
        run_handover((size_t)atol(argv[2]));
    } else {
        fprintf(stderr, "usage: out_of_memory single HEADROOM_MIB | threads HEADROOM_MIB THREADS | handover HEADROOM_MIB\n");
        return 2;
    }
    printf("out_of_memory: mode=%s checks=%ld failures=%ld\n", argv[1], atomic_load(&checks),
           atomic_load(&failures));
    return atomic_load(&failures) == 0 ? 0 : 1;
}
