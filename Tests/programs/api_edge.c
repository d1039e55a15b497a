/* api_edge: the malloc API's edge cases, checked one by one against glibc's
 * documented behaviour.
 *
 * Prints `ok NAME` or `FAIL NAME: detail` per check (`skip NAME: why` for an
 * optional entry point that is absent) and exits 1 if any check failed.  The
 * first line, `info malloc from PATH`, names the object that supplies malloc,
 * so a caller can tell whether its LD_PRELOAD took effect.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* C23 sized frees: checked only when the allocator under test provides them. */
extern void free_sized(void *, size_t) __attribute__((weak));
extern void free_aligned_sized(void *, size_t, size_t) __attribute__((weak));

static int failures;

/* A check counts as one failure however many problems it finds; it prints the
 * first few of them. */
struct check {
    const char *name;
    int failed;
};

static void fail(struct check *c, const char *fmt, ...)
{
    if (c->failed++ == 0)
        failures++;
    if (c->failed > 3)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", c->name);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void done(struct check *c)
{
    if (!c->failed)
        printf("ok %s\n", c->name);
    fflush(stdout); /* keep the report in order if a later check crashes */
}

/* Sizes and pointers pass through volatile so the compiler can neither fold
 * nor warn about the deliberately absurd requests. */
static size_t opaque(size_t n)
{
    volatile size_t v = n;
    return v;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31 + seed);
}

/* Returns the first offset in [0, n) not matching fill(seed), or -1. */
static long mismatch(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed))
            return (long)i;
    return -1;
}

/* Fills a block about to be freed. The compiler may drop stores to memory that is freed
 * next, so the barrier tells it the bytes are read. */
static void dirty(unsigned char *p, size_t n)
{
    memset(p, 0xAB, n);
    __asm__ volatile("" : : "r"(p) : "memory");
}

static long first_nonzero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return (long)i;
    return -1;
}

static void check_malloc_zero(void)
{
    struct check c = {.name = "malloc-zero"};
    void *a = malloc(opaque(0)), *b = malloc(opaque(0));
    if (a == NULL || b == NULL)
        fail(&c, "malloc(0) returned NULL (%p, %p)", a, b);
    else if (a == b)
        fail(&c, "two malloc(0) calls returned the same pointer %p", a);
    free(a);
    free(b);
    done(&c);
}

static void check_alignment(void)
{
    struct check c = {.name = "malloc-alignment"};
    enum { N = 4096 };
    static void *blocks[N + 1];
    /* All live at once, so each size lands at a distinct address. */
    for (size_t n = 1; n <= N; n++) {
        blocks[n] = malloc(n);
        uintptr_t need = n > 8 ? 16 : 8;
        if (blocks[n] == NULL)
            fail(&c, "malloc(%zu) returned NULL", n);
        else if ((uintptr_t)blocks[n] % need)
            fail(&c, "malloc(%zu) = %p is not %zu-aligned", n, blocks[n], (size_t)need);
        else
            memset(blocks[n], 0x5A, n);
    }
    for (size_t n = 1; n <= N; n++)
        free(blocks[n]);
    static const size_t larger[] = {4097, 5000, 12345, 65535, 65536, 65537, 100000, 262144,
                                    1000000, (1 << 20) + 1, 3u << 20, (8u << 20) + 3};
    for (size_t i = 0; i < sizeof larger / sizeof *larger; i++) {
        void *p = malloc(larger[i]);
        if (p == NULL)
            fail(&c, "malloc(%zu) returned NULL", larger[i]);
        else if ((uintptr_t)p % 16)
            fail(&c, "malloc(%zu) = %p is not 16-aligned", larger[i], p);
        free(p);
    }
    done(&c);
}

static void check_malloc_huge(void)
{
    struct check c = {.name = "malloc-huge"};
    const size_t sizes[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, SIZE_MAX - 4095};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        errno = 0;
        void *p = malloc(opaque(sizes[i]));
        if (p != NULL) {
            fail(&c, "malloc(%zu) returned %p, expected NULL", sizes[i], p);
            free(p);
        } else if (errno != ENOMEM) {
            fail(&c, "malloc(%zu): errno %d (%s), expected ENOMEM", sizes[i], errno,
                 strerror(errno));
        }
    }
    done(&c);
}

/* Requests no allocator can serve, passed as size_t values above PTRDIFF_MAX (negative when
 * seen as signed): each must fail with glibc's errno, and realloc must leave the block as it was. */
static void check_absurd_requests(void)
{
    struct check c = {.name = "absurd-requests"};
    const size_t sizes[] = {SIZE_MAX, (size_t)PTRDIFF_MAX + 1, SIZE_MAX - 100};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t size = opaque(sizes[i]);
        unsigned char *small = malloc(opaque(10));
        if (small == NULL) {
            fail(&c, "malloc(10) failed");
            continue;
        }
        memset(small, 0x5a, 10);
        errno = 0;
        void *p = realloc(small, size);
        if (p != NULL || errno != ENOMEM)
            fail(&c, "realloc(small, %zu) = %p errno %d, expected NULL ENOMEM", size, p, errno);
        if (p == NULL) {
            for (int k = 0; k < 10; k++)
                if (small[k] != 0x5a) {
                    fail(&c, "realloc(small, %zu) failed but changed the block", size);
                    break;
                }
            free(small);
        }
        struct { const char *name; void *result; } calls[4];
        errno = 0; calls[0].name = "valloc"; calls[0].result = valloc(size);
        int e0 = errno; errno = 0; calls[1].name = "pvalloc"; calls[1].result = pvalloc(size);
        int e1 = errno; errno = 0; calls[2].name = "memalign(64)"; calls[2].result = memalign(64, size);
        int e2 = errno; errno = 0; calls[3].name = "aligned_alloc(64)"; calls[3].result = aligned_alloc(64, size);
        int e3 = errno;
        int errnos[4] = {e0, e1, e2, e3};
        for (int k = 0; k < 4; k++)
            if (calls[k].result != NULL || errnos[k] != ENOMEM)
                fail(&c, "%s(%zu) = %p errno %d, expected NULL ENOMEM", calls[k].name, size, calls[k].result, errnos[k]);
        void *q = NULL;
        int r = posix_memalign(&q, 64, size);
        if (r != ENOMEM)
            fail(&c, "posix_memalign(64, %zu) = %d, expected ENOMEM", size, r);
    }
    /* Alignments of 2^63: a power of two no mapping can honour (ENOMEM); above it, invalid. */
    size_t top = opaque((size_t)1 << 63);
    errno = 0;
    void *p = memalign(top, 10);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "memalign(2^63, 10) = %p errno %d, expected NULL ENOMEM", p, errno);
    errno = 0;
    p = aligned_alloc(top, 10);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "aligned_alloc(2^63, 10) = %p errno %d, expected NULL ENOMEM", p, errno);
    errno = 0;
    p = memalign(top + 1, 10);
    if (p != NULL || errno != EINVAL)
        fail(&c, "memalign(2^63 + 1, 10) = %p errno %d, expected NULL EINVAL", p, errno);
    void *q = NULL;
    int r = posix_memalign(&q, top, 10);
    if (r != ENOMEM)
        fail(&c, "posix_memalign(2^63, 10) = %d, expected ENOMEM", r);
    done(&c);
}

/* A request the machine could never back (more than its memory and swap), under the kernel's
 * default overcommit heuristic (vm.overcommit_memory = 0): glibc's mmap is refused at once, so
 * malloc, calloc and realloc return NULL with ENOMEM. Skipped under other overcommit settings. */
static void check_beyond_the_machine(void)
{
    struct check c = {.name = "beyond-the-machine"};
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1) mode = -1;
        fclose(f);
    }
    unsigned long long total_kib = 0, kib;
    char line[256];
    f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "MemTotal: %llu kB", &kib) == 1 || sscanf(line, "SwapTotal: %llu kB", &kib) == 1)
            total_kib += kib;
    }
    if (f) fclose(f);
    size_t size = opaque((size_t)1 << 40);
    if (mode != 0 || total_kib == 0 || total_kib >= (size >> 10) / 2) {
        printf("skip %s: overcommit mode %d, %llu KiB of memory and swap\n", c.name, mode, total_kib);
        return;
    }
    errno = 0;
    void *p = malloc(size);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "malloc(1 TiB) = %p errno %d, expected NULL ENOMEM", p, errno);
    errno = 0;
    p = calloc(1, size);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "calloc(1, 1 TiB) = %p errno %d, expected NULL ENOMEM", p, errno);
    void *small = malloc(opaque(100));
    errno = 0;
    p = realloc(small, size);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "realloc(p, 1 TiB) = %p errno %d, expected NULL ENOMEM", p, errno);
    free(p ? p : small);
    done(&c);
}

static void check_calloc_overflow(void)
{
    struct check c = {.name = "calloc-overflow"};
    const size_t pairs[][2] = {{SIZE_MAX / 2, 3}, {3, SIZE_MAX / 2}, {(size_t)1 << 32, (size_t)1 << 32}};
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        errno = 0;
        void *p = calloc(opaque(pairs[i][0]), opaque(pairs[i][1]));
        if (p != NULL) {
            fail(&c, "calloc(%zu, %zu) returned %p, expected NULL", pairs[i][0], pairs[i][1], p);
            free(p);
        } else if (errno != ENOMEM) {
            fail(&c, "calloc(%zu, %zu): errno %d, expected ENOMEM", pairs[i][0], pairs[i][1], errno);
        }
    }
    done(&c);
}

/* calloc must zero even when it gets back memory a previous block dirtied, however much of it
 * the block's owner wrote. The first two rounds leave the first 16 bytes alone: an allocator
 * that keeps a "never handed out" mark in a free block's first words (hakmem does, to skip
 * clearing Mid blocks fresh from the kernel) must erase it when malloc hands the block out, or a
 * program that never writes those words gets its old bytes back from calloc. The Mid sizes come
 * first in a slab fresh from the kernel when this check runs early in a process. */
static void check_calloc_zeroes(void)
{
    struct check c = {.name = "calloc-zeroes"};
    const size_t sizes[] = {1, 24, 1000, 1100, 3000, 4096, 5000, 9000, 20000, 40000, 50000, 65536,
                            300000, 5u << 20};
    const char *writes[] = {"every byte past the 16th", "one byte a page past the 16th", "every byte"};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        for (int round = 0; round < 3; round++) {
            unsigned char *d = malloc(n);
            if (d == NULL) {
                fail(&c, "malloc(%zu) returned NULL", n);
                continue;
            }
            if (round == 0 && n > 16) dirty(d + 16, n - 16);
            if (round == 1) {
                for (size_t at = 16; at < n; at += 4096) d[at] = 0xCD;
                __asm__ volatile("" : : "r"(d) : "memory");
            }
            if (round == 2) dirty(d, n);
            free(d);
            /* Vary how the byte count is split between the two factors. */
            unsigned char *z = round == 0 ? calloc(1, n)
                             : round == 1 || n % 8 ? calloc(n, 1) : calloc(n / 8, 8);
            if (z == NULL) {
                fail(&c, "calloc for %zu bytes returned NULL", n);
                continue;
            }
            long bad = first_nonzero(z, n);
            if (bad >= 0)
                fail(&c, "calloc of %zu bytes (after freeing a block of the same size written at %s)%s: "
                         "byte %ld is 0x%02x", n, writes[round], z == d ? " (the same one)" : "", bad, z[bad]);
            free(z);
        }
    }
    done(&c);
}

/* calloc must zero memory the kernel would not purge. Pages a program locked (mlock) keep
 * their bytes through madvise(MADV_DONTNEED), which fails on them: an allocator that reuses
 * such memory as "purged, so zero" hands out old bytes. Each block is locked, dirtied and
 * freed while locked; then calloc asks for the same size, at once and after the memory could
 * have been purged (past the purge delay; after malloc_trim). Mid (50 000 B), Large
 * (300 000 B) and huge (2.5 MiB) blocks. Skipped if the process may not lock that much (RLIMIT_MEMLOCK). */
static void check_calloc_zeroes_locked_memory(void)
{
    struct check c = {.name = "calloc-zeroes-locked-memory"};
    const size_t sizes[] = {50000, 300000, 5u << 19};
    const char *moments[] = {"at once", "after 250 ms", "after malloc_trim"};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        for (int moment = 0; moment < 3; moment++) {
            malloc_trim(0); /* no cached memory from earlier checks to serve calloc instead */
            unsigned char *d = malloc(n);
            if (d == NULL) {
                fail(&c, "malloc(%zu) returned NULL", n);
                continue;
            }
            if (mlock(d, n) != 0) {
                free(d);
                printf("skip %s: mlock of %zu bytes: %s\n", c.name, n, strerror(errno));
                return;
            }
            dirty(d, n);
            free(d);
            if (moment == 1) usleep(250000);
            if (moment == 2) malloc_trim(0);
            unsigned char *z = calloc(1, n);
            if (z == NULL) {
                fail(&c, "calloc(1, %zu) returned NULL", n);
                continue;
            }
            long bad = first_nonzero(z, n);
            if (bad >= 0)
                fail(&c, "calloc(1, %zu) %s after freeing a locked dirty block%s: byte %ld is 0x%02x",
                     n, moments[moment], z == d ? " (the same one)" : "", bad, z[bad]);
            free(z);
        }
    }
    done(&c);
}

static void check_reallocarray_overflow(void)
{
    struct check c = {.name = "reallocarray-overflow"};
    errno = 0;
    void *p = reallocarray(NULL, opaque(SIZE_MAX / 2), 3);
    if (p != NULL || errno != ENOMEM)
        fail(&c, "reallocarray(NULL, SIZE_MAX/2, 3) = %p errno %d, expected NULL ENOMEM", p, errno);
    free(p);
    unsigned char *q = malloc(64);
    fill(q, 64, 7);
    errno = 0;
    void *r = reallocarray(q, opaque(SIZE_MAX / 2), 3);
    if (r != NULL || errno != ENOMEM) {
        fail(&c, "reallocarray(p, SIZE_MAX/2, 3) = %p errno %d, expected NULL ENOMEM", r, errno);
        free(r);
    } else if (mismatch(q, 64, 7) >= 0) {
        fail(&c, "failed reallocarray changed the original block");
    }
    if (r == NULL)
        free(q);
    unsigned char *s = reallocarray(NULL, 100, 8);
    if (s == NULL)
        fail(&c, "reallocarray(NULL, 100, 8) returned NULL");
    else
        memset(s, 1, 800);
    free(s);
    done(&c);
}

static void check_realloc_null(void)
{
    struct check c = {.name = "realloc-null-is-malloc"};
    const size_t sizes[] = {0, 1, 100, 5000, 70000, 3u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        unsigned char *p = realloc(NULL, sizes[i]);
        if (p == NULL) {
            fail(&c, "realloc(NULL, %zu) returned NULL", sizes[i]);
            continue;
        }
        if (malloc_usable_size(p) < sizes[i])
            fail(&c, "realloc(NULL, %zu): usable size %zu", sizes[i], malloc_usable_size(p));
        fill(p, sizes[i], 3);
        free(p);
    }
    done(&c);
}

static void check_realloc_zero(void)
{
    struct check c = {.name = "realloc-zero-frees"};
    const size_t sizes[] = {16, 5000, 300000, 3u << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        void *p = malloc(sizes[i]);
        void *r = realloc(p, opaque(0));
        if (r != NULL) {
            fail(&c, "realloc(p of %zu bytes, 0) returned %p, expected NULL (glibc frees)",
                 sizes[i], r);
            free(r);
        }
    }
    done(&c);
}

/* Walks one block through every tier and back; the common prefix must survive. */
static void check_realloc_tiers(void)
{
    struct check c = {.name = "realloc-across-tiers"};
    /* Large sizes that grow three times in a row: an allocator may grow them in place. */
    const size_t steps[] = {16, 2000, 100000, 200000, 700000, 1500000, 3u << 20, 100, 8};
    unsigned char *p = malloc(steps[0]);
    if (p == NULL) {
        fail(&c, "malloc(16) returned NULL");
        done(&c);
        return;
    }
    fill(p, steps[0], 11);
    for (size_t i = 1; i < sizeof steps / sizeof *steps; i++) {
        size_t old = steps[i - 1], now = steps[i];
        unsigned char *q = realloc(p, now);
        if (q == NULL) {
            fail(&c, "realloc %zu -> %zu returned NULL", old, now);
            break;
        }
        p = q;
        if (malloc_usable_size(p) < now)
            fail(&c, "realloc %zu -> %zu: malloc_usable_size is %zu", old, now, malloc_usable_size(p));
        long bad = mismatch(p, old < now ? old : now, 11);
        if (bad >= 0)
            fail(&c, "realloc %zu -> %zu lost byte %ld", old, now, bad);
        fill(p, now, 11);
    }
    free(p);
    /* A block aligned to 1 MiB (hakmem maps it apart, as a huge block, though it holds less than
     * its largest slab blocks) grown to a size those slab blocks serve. */
    void *aligned = NULL;
    if (posix_memalign(&aligned, 1u << 20, 70000) != 0) {
        fail(&c, "posix_memalign(1 MiB, 70000) failed");
    } else {
        fill(aligned, 70000, 13);
        unsigned char *grown = realloc(aligned, 1200000);
        if (grown == NULL) {
            fail(&c, "realloc of a 1 MiB-aligned block 70000 -> 1200000 returned NULL");
        } else {
            long bad = mismatch(grown, 70000, 13);
            if (bad >= 0) fail(&c, "realloc of a 1 MiB-aligned block 70000 -> 1200000 lost byte %ld", bad);
            free(grown);
        }
    }
    done(&c);
}

static void check_posix_memalign_invalid(void)
{
    struct check c = {.name = "posix_memalign-einval"};
    const size_t bad[] = {0, 3, 24, sizeof(void *) / 2, 48, 4097};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *sentinel = (void *)(uintptr_t)0x1234, *p = sentinel;
        int rc = posix_memalign(&p, opaque(bad[i]), 64);
        if (rc != EINVAL)
            fail(&c, "posix_memalign(alignment %zu) returned %d, expected EINVAL", bad[i], rc);
        if (p != sentinel) {
            fail(&c, "posix_memalign(alignment %zu) changed *memptr to %p", bad[i], p);
            if (rc == 0)
                free(p);
        }
    }
    done(&c);
}

static void check_posix_memalign(void)
{
    struct check c = {.name = "posix_memalign-alignments"};
    /* Size 0 with a 2 MiB alignment once put the pointer one past its mapping. */
    const size_t sizes[] = {0, 1, 100, 5000, 70000, 3u << 20};
    for (size_t align = 8; align <= (16u << 20); align *= 2) {
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            void *p = NULL;
            int rc = posix_memalign(&p, align, sizes[i]);
            if (rc != 0 || p == NULL) {
                fail(&c, "posix_memalign(%zu, %zu) returned %d, %p", align, sizes[i], rc, p);
                continue;
            }
            if ((uintptr_t)p % align)
                fail(&c, "posix_memalign(%zu, %zu) = %p is misaligned", align, sizes[i], p);
            if (malloc_usable_size(p) < sizes[i])
                fail(&c, "posix_memalign(%zu, %zu): usable size %zu", align, sizes[i],
                     malloc_usable_size(p));
            memset(p, 0xCD, sizes[i]);
            free(p);
        }
    }
    done(&c);
}

static void check_aligned_variants(void)
{
    struct check c = {.name = "aligned_alloc-memalign-valloc-pvalloc"};
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    struct {
        const char *call;
        void *p;
        size_t align, size;
    } got[] = {
        {"aligned_alloc(64, 100)", aligned_alloc(64, 100), 64, 100},
        {"aligned_alloc(4096, 8192)", aligned_alloc(4096, 8192), 4096, 8192},
        {"memalign(4096, 10)", memalign(4096, 10), 4096, 10},
        {"memalign(32, 1000000)", memalign(32, 1000000), 32, 1000000},
        {"valloc(1)", valloc(1), page, 1},
        {"valloc(5000)", valloc(5000), page, 5000},
        {"pvalloc(1)", pvalloc(1), page, page},
        {"pvalloc(page+1)", pvalloc(page + 1), page, 2 * page},
    };
    for (size_t i = 0; i < sizeof got / sizeof *got; i++) {
        if (got[i].p == NULL) {
            fail(&c, "%s returned NULL", got[i].call);
            continue;
        }
        if ((uintptr_t)got[i].p % got[i].align)
            fail(&c, "%s = %p is not %zu-aligned", got[i].call, got[i].p, got[i].align);
        /* pvalloc rounds the size up to whole pages: the usable size must show it. */
        size_t usable = malloc_usable_size(got[i].p);
        if (usable < got[i].size)
            fail(&c, "%s: usable size %zu < %zu", got[i].call, usable, got[i].size);
        else
            memset(got[i].p, 0xEE, usable);
        free(got[i].p);
    }
    done(&c);
}

static void check_usable_size(void)
{
    struct check c = {.name = "malloc_usable_size"};
    if (malloc_usable_size(NULL) != 0)
        fail(&c, "malloc_usable_size(NULL) = %zu", malloc_usable_size(NULL));
    for (size_t n = 0; n < (3u << 20); n = n < 2048 ? n + 1 : n * 5 / 4) {
        unsigned char *p = malloc(n);
        if (p == NULL) {
            fail(&c, "malloc(%zu) returned NULL", n);
            continue;
        }
        size_t usable = malloc_usable_size(p);
        if (usable < n) {
            fail(&c, "malloc(%zu): usable size %zu", n, usable);
        } else {
            /* The whole usable size belongs to the caller. */
            fill(p, usable, (unsigned)n);
            long bad = mismatch(p, usable, (unsigned)n);
            if (bad >= 0)
                fail(&c, "malloc(%zu): usable byte %ld did not hold its value", n, bad);
        }
        free(p);
    }
    done(&c);
}

static void check_free_null(void)
{
    struct check c = {.name = "free-null"};
    free(NULL);
    errno = 1234;
    free(NULL);
    if (errno != 1234)
        fail(&c, "free(NULL) changed errno to %d", errno);
    done(&c);
}

static void check_sized_frees(void)
{
    struct check c = {.name = "free_sized"};
    if (!free_sized) {
        printf("skip free_sized: not provided by this allocator\n");
    } else {
        const size_t sizes[] = {1, 24, 1000, 50000, 300000, 3u << 20};
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            void *p = malloc(sizes[i]);
            memset(p, 1, sizes[i]);
            free_sized(p, sizes[i]);
            void *q = calloc(1, sizes[i]);
            free_sized(q, sizes[i]);
        }
        free_sized(NULL, 0);
        done(&c);
    }
    struct check ca = {.name = "free_aligned_sized"};
    if (!free_aligned_sized) {
        printf("skip free_aligned_sized: not provided by this allocator\n");
        return;
    }
    const size_t aligns[] = {16, 64, 4096, 65536};
    const size_t sizes[] = {64, 4096, 65536, 1u << 20};
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < 4; j++) {
            void *p = aligned_alloc(aligns[i], sizes[j]);
            if (p == NULL) {
                fail(&ca, "aligned_alloc(%zu, %zu) returned NULL", aligns[i], sizes[j]);
                continue;
            }
            memset(p, 2, sizes[j]);
            free_aligned_sized(p, aligns[i], sizes[j]);
        }
    }
    free_aligned_sized(NULL, 64, 0);
    done(&ca);
}

static void check_many_small(void)
{
    struct check c = {.name = "million-small-blocks"};
    enum { N = 1000000 };
    void **v = malloc(N * sizeof *v);
    if (v == NULL) {
        fail(&c, "malloc of the pointer array returned NULL");
        done(&c);
        return;
    }
    size_t got = 0;
    for (; got < N; got++) {
        v[got] = malloc(16);
        if (v[got] == NULL) {
            fail(&c, "malloc(16) number %zu returned NULL", got);
            break;
        }
        memcpy(v[got], &got, sizeof got);
    }
    for (size_t i = 0; i < got; i++) {
        size_t stored;
        memcpy(&stored, v[i], sizeof stored);
        if (stored != i)
            fail(&c, "block %zu at %p holds %zu", i, v[i], stored);
        free(v[i]);
    }
    free(v);
    done(&c);
}

static void report_provider(void)
{
    void *(*volatile m)(size_t) = malloc; /* the address the program really calls */
    Dl_info info;
    if (dladdr((void *)m, &info) && info.dli_fname)
        printf("info malloc from %s\n", info.dli_fname);
    else
        printf("info malloc from unknown\n");
}

int main(void)
{
    report_provider();
    check_malloc_zero();
    check_alignment();
    check_malloc_huge();
    check_absurd_requests();
    check_beyond_the_machine();
    check_calloc_overflow();
    check_calloc_zeroes();
    check_calloc_zeroes_locked_memory();
    check_reallocarray_overflow();
    check_realloc_null();
    check_realloc_zero();
    check_realloc_tiers();
    check_posix_memalign_invalid();
    check_posix_memalign();
    check_aligned_variants();
    check_usable_size();
    check_free_null();
    check_sized_frees();
    check_many_small();
    printf("api_edge: %d failed\n", failures);
    return failures ? 1 : 0;
}
