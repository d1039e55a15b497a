/* stress: multi-threaded allocator stress with full content verification.
 *
 * Usage: stress THREADS OPS_PER_THREAD [GENERATIONS]   (GENERATIONS defaults to 3)
 *
 * Each generation runs THREADS threads doing OPS random malloc/calloc/realloc/
 * aligned/free operations across every size tier.  Blocks travel between threads
 * through shared slots, so many frees happen on a thread other than the
 * allocating one, and each thread's leftovers are adopted by the same-numbered
 * thread of the next generation (freed after their allocating thread exited).
 * Every block carries a tag-derived pattern that is checked in full before it is
 * freed or reallocated.  Prints one summary line and exits 0 iff nothing was
 * wrong.  Must behave identically under plain glibc.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C23 sized frees: called only when the allocator under test provides them
 * (glibc 2.36 does not, so these resolve to NULL there). */
extern void free_sized(void *, size_t) __attribute__((weak));
extern void free_aligned_sized(void *, size_t, size_t) __attribute__((weak));

enum {
    LOCAL_BLOCKS = 512,        /* live blocks a thread keeps for itself */
    SHARED_SLOTS = 1024,       /* hand-off slots shared by all threads */
    MAX_FAULT_LINES = 100,     /* print this many faults, count the rest */
};
static const size_t LIVE_CAP = 64u << 20; /* bytes a thread may hold live */

/* How the block was obtained decides which sized free may release it. */
enum kind { K_MALLOC, K_ALIGNED_ALLOC, K_MEMALIGN };

struct block {
    unsigned char *p;
    size_t size;   /* requested size: what realloc must preserve */
    size_t filled; /* bytes written with the pattern: size, or the whole usable size */
    uint64_t tag;
    size_t align;  /* alignment requested (0 = none) */
    enum kind kind;
};

/* A block handed to another thread travels in a malloc'd box, so the box itself
 * is also freed by a thread other than its allocator. */
static _Atomic(struct block *) shared_slots[SHARED_SLOTS];

/* Live blocks a finished thread leaves for the same-numbered thread of the next
 * generation. */
struct carry {
    struct block *blocks;
    int count;
};
static struct carry *carries;

static atomic_ulong faults;
static atomic_int fault_lines;

/* Counts a fault and describes it: its kind, the block, and one detail
 * (`label`=`value`, e.g. the offset of the first wrong byte). */
static void fault(const char *what, const struct block *b, const char *label, size_t value)
{
    atomic_fetch_add(&faults, 1);
    if (atomic_fetch_add(&fault_lines, 1) < MAX_FAULT_LINES)
        fprintf(stderr, "stress: FAULT %s size=%zu ptr=%p align=%zu %s=%zu\n", what, b->size,
                (void *)b->p, b->align, label, value);
}

/* ---- deterministic PRNG ---- */

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return r->s;
}

/* Uniform in [lo, hi]. */
static size_t range(struct rng *r, size_t lo, size_t hi)
{
    return lo + (size_t)(next(r) % (hi - lo + 1));
}

/* Sizes across all tiers: 89% 1 B-1 KiB, 10% 1 B-64 KiB, 0.95% 64 KiB-1.75 MiB,
 * 0.05% 2-8 MiB.  The 64 KiB tier is log-uniform so every size class is visited
 * while the bytes written and checked (the dominant cost) stay moderate. */
static size_t random_size(struct rng *r)
{
    unsigned t = (unsigned)(next(r) % 10000);
    if (t < 8900)
        return range(r, 1, 1024);
    if (t < 9900) {
        unsigned shift = (unsigned)range(r, 0, 15);
        return range(r, (size_t)1 << shift, (size_t)2 << shift); /* 1 B .. 64 KiB */
    }
    if (t < 9995)
        return range(r, (64u << 10) + 1, (1792u << 10));
    return range(r, 2u << 20, 8u << 20);
}

/* ---- block pattern ----
 * Byte i of a block is byte (i % 8) of word(i / 8): word 0 is the tag, word 1 the
 * requested size (the 16-byte header), later words are derived from the tag.
 * Blocks shorter than 16 bytes hold a truncated header. */

static const uint64_t STEP = 0x9E3779B97F4A7C15ull;

static inline uint64_t word(uint64_t tag, uint64_t size, size_t w)
{
    if (w == 0)
        return tag;
    if (w == 1)
        return size;
    return tag ^ (w * STEP);
}

static inline unsigned char pattern_byte(uint64_t tag, uint64_t size, size_t i)
{
    return (unsigned char)(word(tag, size, i / 8) >> (8 * (i % 8)));
}

static void fill(unsigned char *p, uint64_t tag, uint64_t size, size_t from, size_t to)
{
    size_t i = from;
    for (; i < to && (i % 8 != 0 || i < 16); i++)
        p[i] = pattern_byte(tag, size, i);
    /* Body words past the header, branch-free: this loop dominates the run time. */
    uint64_t m = (i / 8) * STEP;
    for (; i + 8 <= to; i += 8, m += STEP) {
        uint64_t v = tag ^ m;
        memcpy(p + i, &v, 8);
    }
    for (; i < to; i++)
        p[i] = pattern_byte(tag, size, i);
}

/* Returns the offset of the first wrong byte in [0, len), or (size_t)-1. */
static size_t check(const unsigned char *p, uint64_t tag, uint64_t size, size_t len)
{
    enum { CHUNK = 4096 };
    size_t i = 0;
    for (; i < len && i < 16; i++)
        if (p[i] != pattern_byte(tag, size, i))
            return i;
    /* Compare whole chunks without early exit (fast), then locate the bad byte. */
    while (i + 8 <= len) {
        size_t end = len - (len - i) % 8;
        if (end - i > CHUNK)
            end = i + CHUNK;
        uint64_t diff = 0, m = (i / 8) * STEP;
        for (size_t j = i; j < end; j += 8, m += STEP) {
            uint64_t v;
            memcpy(&v, p + j, 8);
            diff |= v ^ tag ^ m;
        }
        if (diff != 0)
            break;
        i = end;
    }
    for (; i < len; i++)
        if (p[i] != pattern_byte(tag, size, i))
            return i;
    return (size_t)-1;
}

/* ---- per-thread state ---- */

struct worker {
    int index;
    long ops;
    struct rng rng;
    uint64_t next_tag;
    struct block live[LOCAL_BLOCKS];
    int count;
    size_t live_bytes;
};

static uint64_t new_tag(struct worker *w)
{
    return splitmix64(w->next_tag++) | 1; /* never 0: a zeroed block must not pass */
}

/* Checks a fresh block's alignment and usable size, then writes its pattern
 * (over the whole usable size for one block in eight). */
static int adopt_new(struct worker *w, struct block *b)
{
    if (b->p == NULL) {
        fault("null-return", b, "errno", (size_t)errno);
        return 0;
    }
    uintptr_t need = b->align ? b->align : (b->size > 8 ? 16 : 8);
    if ((uintptr_t)b->p % need != 0)
        fault("misaligned", b, "misalignment", (uintptr_t)b->p % need);
    size_t usable = malloc_usable_size(b->p);
    if (usable < b->size)
        fault("usable-size-too-small", b, "usable", usable);
    b->filled = (next(&w->rng) % 8 == 0 && usable >= b->size) ? usable : b->size;
    fill(b->p, b->tag, b->size, 0, b->filled);
    return 1;
}

static void verify(const struct block *b, const char *when)
{
    size_t bad = check(b->p, b->tag, b->size, b->filled);
    if (bad != (size_t)-1) {
        char what[64];
        snprintf(what, sizeof what, "corrupt-before-%s", when);
        fault(what, b, "offset", bad);
    }
}

/* Verifies a block and releases it, through a sized free when it is allowed. */
static void release(struct rng *r, const struct block *b)
{
    verify(b, "free");
    int sized = next(r) % 2;
    if (sized && b->kind == K_MALLOC && free_sized)
        free_sized(b->p, b->size);
    else if (sized && b->kind == K_ALIGNED_ALLOC && free_aligned_sized)
        free_aligned_sized(b->p, b->align, b->size);
    else
        free(b->p);
}

static void drop_local(struct worker *w, int i)
{
    release(&w->rng, &w->live[i]);
    w->live_bytes -= w->live[i].size;
    w->live[i] = w->live[--w->count];
}

/* Makes room for a new block of `size` bytes within the table and the byte cap. */
static void make_room(struct worker *w, size_t size)
{
    while (w->count > 0 && (w->count == LOCAL_BLOCKS || w->live_bytes + size > LIVE_CAP))
        drop_local(w, (int)(next(&w->rng) % (unsigned)w->count));
}

static void keep(struct worker *w, const struct block *b)
{
    w->live[w->count++] = *b;
    w->live_bytes += b->size;
}

static void op_malloc(struct worker *w)
{
    struct block b = {.size = random_size(&w->rng), .kind = K_MALLOC};
    make_room(w, b.size);
    b.tag = new_tag(w);
    b.p = malloc(b.size);
    if (adopt_new(w, &b))
        keep(w, &b);
}

static void op_calloc(struct worker *w)
{
    struct block b = {.size = random_size(&w->rng), .kind = K_MALLOC};
    make_room(w, b.size);
    b.tag = new_tag(w);
    size_t n = b.size, m = 1;
    switch (next(&w->rng) % 3) { /* vary the element split; the product is b.size */
    case 0: n = 1, m = b.size; break;
    case 1: if (b.size % 8 == 0) n = b.size / 8, m = 8; break;
    default: break;
    }
    b.p = calloc(n, m);
    if (b.p != NULL) {
        size_t i = 0;
        while (i < b.size && b.p[i] == 0)
            i++;
        if (i < b.size)
            fault("calloc-not-zeroed", &b, "offset", i);
    }
    if (adopt_new(w, &b))
        keep(w, &b);
}

static void op_aligned(struct worker *w)
{
    struct block b = {.size = random_size(&w->rng)};
    b.align = next(&w->rng) % 256 == 0 ? (size_t)1 << 20 : (size_t)16 << range(&w->rng, 0, 12);
    unsigned api = (unsigned)(next(&w->rng) % 3);
    /* ISO C11 wants aligned_alloc sizes to be multiples of the alignment (and
     * sanitizers enforce it); glibc's laxer rule is covered by api_edge. */
    if (api == 1)
        b.size = (b.size + b.align - 1) / b.align * b.align;
    make_room(w, b.size);
    b.tag = new_tag(w);
    switch (api) {
    case 0: {
        void *p = NULL;
        int rc = posix_memalign(&p, b.align, b.size);
        b.p = p;
        if (rc != 0)
            fault("posix_memalign-error", &b, "error", (size_t)rc);
        b.kind = K_MEMALIGN;
        break;
    }
    case 1:
        b.p = aligned_alloc(b.align, b.size);
        b.kind = K_ALIGNED_ALLOC;
        break;
    default:
        b.p = memalign(b.align, b.size);
        b.kind = K_MEMALIGN;
        break;
    }
    if (adopt_new(w, &b))
        keep(w, &b);
}

/* Grows or shrinks a live block; the common prefix must survive, then the block
 * is re-patterned for its new size.  The result is a plain malloc'd block. */
static void op_realloc(struct worker *w)
{
    if (w->count == 0) {
        struct block b = {.size = random_size(&w->rng), .kind = K_MALLOC};
        b.tag = new_tag(w);
        b.p = realloc(NULL, b.size);
        if (adopt_new(w, &b))
            keep(w, &b);
        return;
    }
    int i = (int)(next(&w->rng) % (unsigned)w->count);
    struct block *b = &w->live[i];
    size_t new_size = next(&w->rng) % 2 ? random_size(&w->rng) : b->size + range(&w->rng, 1, 4096);
    if (w->live_bytes - b->size + new_size > LIVE_CAP)
        new_size = range(&w->rng, 1, 1024);
    verify(b, "realloc");
    unsigned char *q = realloc(b->p, new_size);
    if (q == NULL) {
        fault("realloc-null", b, "new_size", new_size); /* the old block is still valid */
        drop_local(w, i);
        return;
    }
    size_t keep_len = b->size < new_size ? b->size : new_size;
    struct block old = *b;
    old.p = q;
    size_t bad = check(q, old.tag, old.size, keep_len);
    if (bad != (size_t)-1)
        fault("realloc-lost-contents", &old, "offset", bad);
    w->live_bytes = w->live_bytes - b->size + new_size;
    b->p = q;
    b->size = new_size;
    b->align = 0;
    b->kind = K_MALLOC;
    if (new_size > 8 && (uintptr_t)q % 16 != 0)
        fault("realloc-misaligned", b, "misalignment", (uintptr_t)q % 16);
    size_t usable = malloc_usable_size(q);
    if (usable < new_size)
        fault("usable-size-too-small", b, "usable", usable);
    b->filled = (next(&w->rng) % 8 == 0 && usable >= new_size) ? usable : new_size;
    /* The header's size word changed, so rewrite it along with the new tail. */
    fill(q, b->tag, b->size, 0, keep_len < 16 ? keep_len : 16);
    fill(q, b->tag, b->size, keep_len, b->filled);
}

static void op_free(struct worker *w)
{
    if (w->count > 0)
        drop_local(w, (int)(next(&w->rng) % (unsigned)w->count));
}

/* Swaps a live block into a random shared slot and frees whatever was there,
 * most likely allocated by another thread. */
static void op_handoff(struct worker *w)
{
    struct block *box = NULL;
    if (w->count > 0) {
        box = malloc(sizeof *box);
        if (box == NULL) {
            struct block none = {0};
            fault("null-return", &none, "box_size", sizeof *box);
            return;
        }
        int i = (int)(next(&w->rng) % (unsigned)w->count);
        *box = w->live[i];
        w->live_bytes -= w->live[i].size;
        w->live[i] = w->live[--w->count];
    }
    size_t slot = (size_t)(next(&w->rng) % SHARED_SLOTS);
    struct block *got = atomic_exchange_explicit(&shared_slots[slot], box, memory_order_acq_rel);
    if (got != NULL) {
        release(&w->rng, got);
        free(got);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct carry *c = &carries[w->index];
    /* Adopt the previous generation's leftovers: their allocating thread is gone. */
    for (int i = 0; i < c->count; i++)
        keep(w, &c->blocks[i]);
    free(c->blocks);
    c->blocks = NULL;
    c->count = 0;

    for (long n = 0; n < w->ops; n++) {
        unsigned r = (unsigned)(next(&w->rng) % 100);
        if (r < 30)
            op_malloc(w);
        else if (r < 38)
            op_calloc(w);
        else if (r < 46)
            op_aligned(w);
        else if (r < 58)
            op_realloc(w);
        else if (r < 82)
            op_free(w);
        else
            op_handoff(w);
    }

    /* Leave the live set for the next generation. */
    c->blocks = malloc(sizeof(struct block) * (w->count ? (size_t)w->count : 1));
    if (c->blocks == NULL) {
        struct block none = {0};
        fault("null-return", &none, "carry_blocks", (size_t)w->count);
        while (w->count > 0)
            drop_local(w, w->count - 1);
        return NULL;
    }
    memcpy(c->blocks, w->live, sizeof(struct block) * (size_t)w->count);
    c->count = w->count;
    return NULL;
}

static long parse(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1) {
        fprintf(stderr, "stress: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: stress THREADS OPS_PER_THREAD [GENERATIONS]\n");
        return 2;
    }
    int threads = (int)parse(argv[1], "THREADS");
    long ops = parse(argv[2], "OPS_PER_THREAD");
    int generations = argc == 4 ? (int)parse(argv[3], "GENERATIONS") : 3;

    carries = calloc((size_t)threads, sizeof *carries);
    struct worker *workers = calloc((size_t)threads, sizeof *workers);
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    if (!carries || !workers || !ids) {
        fprintf(stderr, "stress: out of memory for bookkeeping\n");
        return 2;
    }

    for (int g = 0; g < generations; g++) {
        for (int t = 0; t < threads; t++) {
            struct worker *w = &workers[t];
            memset(w, 0, sizeof *w);
            w->index = t;
            w->ops = ops;
            uint64_t seed = ((uint64_t)g << 32) | (uint64_t)t;
            w->rng.s = splitmix64(seed) | 1;
            w->next_tag = splitmix64(~seed) & ~0xFFFFFFFFull;
            int rc = pthread_create(&ids[t], NULL, worker_main, w);
            if (rc != 0) {
                fprintf(stderr, "stress: pthread_create failed: %s\n", strerror(rc));
                return 2;
            }
        }
        for (int t = 0; t < threads; t++)
            pthread_join(ids[t], NULL);
    }

    /* Free everything still live, so nothing leaks at the end. */
    struct rng r = {.s = 0x5EED};
    for (int t = 0; t < threads; t++) {
        for (int i = 0; i < carries[t].count; i++)
            release(&r, &carries[t].blocks[i]);
        free(carries[t].blocks);
    }
    for (size_t s = 0; s < SHARED_SLOTS; s++) {
        struct block *got = atomic_exchange(&shared_slots[s], NULL);
        if (got != NULL) {
            release(&r, got);
            free(got);
        }
    }
    free(carries);
    free(workers);
    free(ids);

    unsigned long f = atomic_load(&faults);
    printf("stress: threads=%d ops=%ld faults=%lu\n", threads, ops * threads * generations, f);
    return f == 0 ? 0 : 1;
}
