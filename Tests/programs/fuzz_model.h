/* fuzz_model.h: the operation interpreter and reference model shared by the seeded
 * random-sequence tester (fuzz_sequences.c) and the libFuzzer harness
 * (Tests/fuzz/libfuzzer_ops.c).
 *
 * A model holds up to FUZZ_SLOTS live blocks, each with the size asked for, the
 * alignment promised, whether it must read as zero (calloc), and a fill seed.
 * Every operation draws its choices from a byte source (a seeded generator or
 * the fuzzer's input) and is checked against the model:
 *   - a block is aligned as promised (16 bytes at least) and its usable size is
 *     at least the size asked for;
 *   - calloc's memory reads as zero; a realloc keeps the common prefix;
 *   - a block's contents do not change while it is live (a fill pattern, all of
 *     it up to 4 KiB, the first and last KiB and one byte a page beyond);
 *   - usable size does not change while a block is live;
 *   - the usable ranges of live blocks never overlap;
 *   - a NULL result comes only where the request is meant to fail (none here:
 *     sizes stay far below the machine's memory), with ENOMEM.
 * Sizes cover every tier, biased to small: 0, tiny (<= 1 KiB), mid (<= 64 KiB),
 * large (<= 1.75 MiB), huge (up to 8 MiB) and the boundaries between them.
 * The model allocates nothing itself, so it never disturbs the allocator.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C23 sized frees: used only when the allocator under test provides them. */
extern void free_sized(void *, size_t) __attribute__((weak));
extern void free_aligned_sized(void *, size_t, size_t) __attribute__((weak));

enum { FUZZ_SLOTS = 192 };

struct fuzz_block {
    unsigned char *p;
    size_t size;   /* asked for */
    size_t usable; /* malloc_usable_size when allocated */
    size_t align;  /* promised alignment (16 for plain allocations) */
    unsigned char seed;
    int aligned_call; /* came from an aligned entry point: free_aligned_sized applies */
};

/* Where the operation's choices come from; returns 0 once exhausted. */
struct fuzz_source {
    uint32_t (*next)(void *context);
    void *context;
};

struct fuzz_model {
    struct fuzz_block slots[FUZZ_SLOTS];
    struct fuzz_source source;
    long op;                    /* index of the operation running now */
    char failure[256];          /* the first problem found, or "" */
    long ops_by_kind[16];
    int trace; /* print each operation to stderr before running it */
};

static uint32_t fuzz_draw(struct fuzz_model *m) { return m->source.next(m->source.context); }

static void fuzz_fail(struct fuzz_model *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fuzz_fail(struct fuzz_model *m, const char *fmt, ...)
{
    if (m->failure[0] != '\0')
        return;
    int n = snprintf(m->failure, sizeof m->failure, "op %ld: ", m->op);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->failure + n, sizeof m->failure - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- sizes and alignments ---- */

static const size_t fuzz_boundaries[] = {
    0, 1, 15, 16, 17, 128, 129, 1023, 1024, 1025, 4096, 65535, 65536, 65537,
    1835008 - 16, 1835008, 1835009, 2u << 20, (2u << 20) + 1, 4u << 20,
};

static size_t fuzz_size(struct fuzz_model *m)
{
    uint32_t kind = fuzz_draw(m) % 100, r = fuzz_draw(m);
    if (kind < 40)
        return r % 257;                        /* tiny, mostly very small */
    if (kind < 60)
        return r % 1025;                       /* tiny */
    if (kind < 80)
        return 1025 + r % (64u << 10);         /* mid */
    if (kind < 92)
        return (64u << 10) + r % (1728u << 10); /* large, up to 1.75 MiB */
    if (kind < 96)
        return 1835009 + r % (6u << 20);       /* huge */
    return fuzz_boundaries[r % (sizeof fuzz_boundaries / sizeof fuzz_boundaries[0])];
}

/* A power of two from 16 to 2 MiB, mostly small. */
static size_t fuzz_alignment(struct fuzz_model *m)
{
    uint32_t r = fuzz_draw(m) % 100;
    if (r < 70)
        return (size_t)16 << (r % 4);          /* 16 .. 128 */
    if (r < 95)
        return (size_t)256 << (r % 9);         /* 256 .. 64 KiB */
    return (size_t)128 << 10 << (r % 5);       /* 128 KiB .. 2 MiB */
}

/* ---- contents ---- */

static unsigned char fuzz_byte(unsigned char seed, size_t i) { return (unsigned char)(seed + i * 31 + (i >> 8)); }

/* Calls visit(i) for each byte offset below `size` that the model writes and checks:
 * all of a block up to 4 KiB; beyond, the first and last KiB and one byte a page. */
#define FUZZ_FOR_EACH_CHECKED(size, i, body)                                                   \
    do {                                                                                       \
        size_t fuzz_n_ = (size);                                                               \
        if (fuzz_n_ <= 4096) {                                                                 \
            for (size_t i = 0; i < fuzz_n_; i++) { body; }                                     \
        } else {                                                                               \
            for (size_t i = 0; i < 1024; i++) { body; }                                        \
            for (size_t i = 1024 + 1237; i < fuzz_n_ - 1024; i += 4096) { body; }              \
            for (size_t i = fuzz_n_ - 1024; i < fuzz_n_; i++) { body; }                        \
        }                                                                                      \
    } while (0)

static void fuzz_fill(struct fuzz_block *b)
{
    FUZZ_FOR_EACH_CHECKED(b->size, i, b->p[i] = fuzz_byte(b->seed, i));
}

/* First offset below `limit` whose byte does not match the fill, or -1. */
static long fuzz_mismatch(const struct fuzz_block *b, size_t limit)
{
    long bad = -1;
    FUZZ_FOR_EACH_CHECKED(b->size, i, if (bad < 0 && i < limit && b->p[i] != fuzz_byte(b->seed, i)) bad = (long)i);
    return bad;
}

static long fuzz_first_nonzero(const unsigned char *p, size_t size)
{
    if (size <= (64u << 10)) {
        for (size_t i = 0; i < size; i++)
            if (p[i] != 0)
                return (long)i;
        return -1;
    }
    long bad = -1;
    FUZZ_FOR_EACH_CHECKED(size, i, if (bad < 0 && p[i] != 0) bad = (long)i);
    return bad;
}

/* ---- checks on a fresh block ---- */

/* The usable range of slot s must not overlap that of any other live block. */
static void fuzz_check_overlap(struct fuzz_model *m, int s, const char *what)
{
    const struct fuzz_block *b = &m->slots[s];
    uintptr_t start = (uintptr_t)b->p, end = start + (b->usable ? b->usable : 1);
    for (int o = 0; o < FUZZ_SLOTS; o++) {
        const struct fuzz_block *other = &m->slots[o];
        if (o == s || other->p == NULL)
            continue;
        uintptr_t os = (uintptr_t)other->p, oe = os + (other->usable ? other->usable : 1);
        if (start < oe && os < end) {
            fuzz_fail(m, "%s: block %p (size %zu, usable %zu) overlaps live block %p (size %zu, usable %zu)",
                      what, (void *)b->p, b->size, b->usable, (void *)other->p, other->size, other->usable);
            return;
        }
    }
}

/* Checks a block just returned for `size` bytes aligned to `align` and puts it
 * in slot `s`; `what` names the call for failure messages. */
static void fuzz_adopt(struct fuzz_model *m, int s, void *p, size_t size, size_t align, int zeroed,
                       int aligned_call, const char *what)
{
    struct fuzz_block *b = &m->slots[s];
    b->p = p;
    b->size = size;
    b->align = align;
    b->aligned_call = aligned_call;
    b->usable = malloc_usable_size(p);
    b->seed = (unsigned char)(fuzz_draw(m) | 1);
    if ((uintptr_t)p % align != 0)
        fuzz_fail(m, "%s(%zu) returned %p, not aligned to %zu", what, size, p, align);
    if (b->usable < size)
        fuzz_fail(m, "%s(%zu): malloc_usable_size %zu is smaller than the size asked for", what, size, b->usable);
    fuzz_check_overlap(m, s, what);
    if (zeroed) {
        long nz = fuzz_first_nonzero(b->p, size);
        if (nz >= 0)
            fuzz_fail(m, "%s(%zu) returned memory with byte %ld not zero", what, size, nz);
    }
    fuzz_fill(b);
}

/* Checks that a live block still holds its fill and usable size. */
static void fuzz_verify(struct fuzz_model *m, int s, const char *when)
{
    const struct fuzz_block *b = &m->slots[s];
    long bad = fuzz_mismatch(b, b->size);
    if (bad >= 0)
        fuzz_fail(m, "%s: block %p (size %zu) changed at byte %ld while live", when, (void *)b->p, b->size, bad);
    size_t usable = malloc_usable_size(b->p);
    if (usable != b->usable)
        fuzz_fail(m, "%s: malloc_usable_size of %p changed from %zu to %zu while live", when, (void *)b->p,
                  b->usable, usable);
}

static void fuzz_expect_block(struct fuzz_model *m, void *p, int err, size_t size, const char *what)
{
    if (p == NULL)
        fuzz_fail(m, "%s(%zu) returned NULL (errno %d %s)", what, size, err, strerror(err));
}

/* ---- operations ---- */

enum fuzz_op_kind {
    FUZZ_MALLOC, FUZZ_CALLOC, FUZZ_REALLOC, FUZZ_REALLOCARRAY, FUZZ_ALIGNED_ALLOC, FUZZ_POSIX_MEMALIGN,
    FUZZ_MEMALIGN, FUZZ_FREE, FUZZ_FREE_SIZED, FUZZ_USABLE_SIZE, FUZZ_REALLOC_NULL, FUZZ_REALLOC_ZERO,
    FUZZ_OP_KINDS
};

static const char *const fuzz_op_names[FUZZ_OP_KINDS] = {
    "malloc", "calloc", "realloc", "reallocarray", "aligned_alloc", "posix_memalign",
    "memalign", "free", "free_sized", "malloc_usable_size", "realloc(NULL)", "realloc(p,0)",
};

/* Releases slot s with free, free_sized or free_aligned_sized (as the block allows). */
static void fuzz_release(struct fuzz_model *m, int s, int sized)
{
    struct fuzz_block *b = &m->slots[s];
    fuzz_verify(m, s, "before free");
    if (sized && b->aligned_call && free_aligned_sized != NULL)
        free_aligned_sized(b->p, b->align, b->size);
    else if (sized && free_sized != NULL)
        free_sized(b->p, b->size);
    else
        free(b->p);
    b->p = NULL;
}

/* Runs one operation drawn from the source. */
static void fuzz_step(struct fuzz_model *m)
{
    int kind_draw = (int)(fuzz_draw(m) % 100);
    int s = (int)(fuzz_draw(m) % FUZZ_SLOTS);
    struct fuzz_block *b = &m->slots[s];
    /* Weights: allocations and frees dominate, the rarer entry points still appear often. */
    enum fuzz_op_kind kind =
        kind_draw < 26 ? FUZZ_MALLOC : kind_draw < 34 ? FUZZ_CALLOC : kind_draw < 46 ? FUZZ_REALLOC
        : kind_draw < 49 ? FUZZ_REALLOCARRAY : kind_draw < 53 ? FUZZ_ALIGNED_ALLOC
        : kind_draw < 57 ? FUZZ_POSIX_MEMALIGN : kind_draw < 60 ? FUZZ_MEMALIGN : kind_draw < 82 ? FUZZ_FREE
        : kind_draw < 90 ? FUZZ_FREE_SIZED : kind_draw < 96 ? FUZZ_USABLE_SIZE : kind_draw < 98 ? FUZZ_REALLOC_NULL
        : FUZZ_REALLOC_ZERO;
    /* An allocation into an occupied slot frees the old block first; an operation
     * on a block with an empty slot allocates instead. */
    if (b->p == NULL && (kind == FUZZ_FREE || kind == FUZZ_FREE_SIZED || kind == FUZZ_USABLE_SIZE
                         || kind == FUZZ_REALLOC || kind == FUZZ_REALLOCARRAY || kind == FUZZ_REALLOC_ZERO))
        kind = FUZZ_MALLOC;
    if (b->p != NULL && (kind == FUZZ_MALLOC || kind == FUZZ_CALLOC || kind == FUZZ_ALIGNED_ALLOC
                         || kind == FUZZ_POSIX_MEMALIGN || kind == FUZZ_MEMALIGN || kind == FUZZ_REALLOC_NULL))
        fuzz_release(m, s, 0);
    m->ops_by_kind[kind]++;

    size_t size = 0, align = 16;
    void *p = NULL;
    if (m->trace)
        fprintf(stderr, "op %ld: %s slot %d (holding %p, size %zu)\n", m->op, fuzz_op_names[kind], s,
                (void *)b->p, b->size);
    errno = 0;
    switch (kind) {
    case FUZZ_MALLOC:
        size = fuzz_size(m);
        p = malloc(size);
        fuzz_expect_block(m, p, errno, size, "malloc");
        if (p != NULL)
            fuzz_adopt(m, s, p, size, 16, 0, 0, "malloc");
        break;
    case FUZZ_CALLOC: {
        size_t total = fuzz_size(m), unit = (size_t)1 << (fuzz_draw(m) % 5);
        size_t count = total / unit;
        p = calloc(count, unit);
        fuzz_expect_block(m, p, errno, count * unit, "calloc");
        if (p != NULL)
            fuzz_adopt(m, s, p, count * unit, 16, 1, 0, "calloc");
        break;
    }
    case FUZZ_REALLOC:
    case FUZZ_REALLOCARRAY: {
        fuzz_verify(m, s, "before realloc");
        size_t count = fuzz_size(m), unit = kind == FUZZ_REALLOCARRAY ? (size_t)1 + fuzz_draw(m) % 3 : 1;
        size = count * unit;
        if (size == 0)
            size = 1; /* realloc(p, 0) is its own operation */
        count = size / unit;
        size = count * unit;
        if (size == 0) {
            count = 1;
            size = unit;
        }
        struct fuzz_block old = *b;
        p = kind == FUZZ_REALLOC ? realloc(b->p, size) : reallocarray(b->p, count, unit);
        const char *what = fuzz_op_names[kind];
        fuzz_expect_block(m, p, errno, size, what);
        if (p == NULL)
            break; /* the old block stays in its slot */
        b->p = NULL;
        /* The new block must start with the old contents. */
        struct fuzz_block moved = old;
        moved.p = p;
        long bad = fuzz_mismatch(&moved, size < old.size ? size : old.size);
        if (bad >= 0)
            fuzz_fail(m, "%s(%p, %zu -> %zu) = %p lost the old contents at byte %ld", what, (void *)old.p,
                      old.size, size, p, bad);
        fuzz_adopt(m, s, p, size, 16, 0, 0, what);
        break;
    }
    case FUZZ_ALIGNED_ALLOC:
        align = fuzz_alignment(m);
        size = fuzz_size(m) / align * align; /* C11 wants a multiple of the alignment */
        p = aligned_alloc(align, size);
        fuzz_expect_block(m, p, errno, size, "aligned_alloc");
        if (p != NULL)
            fuzz_adopt(m, s, p, size, align, 0, 1, "aligned_alloc");
        break;
    case FUZZ_POSIX_MEMALIGN: {
        align = fuzz_alignment(m);
        size = fuzz_size(m);
        p = NULL;
        int rc = posix_memalign(&p, align, size);
        fuzz_expect_block(m, rc == 0 ? p : NULL, rc, size, "posix_memalign");
        if (rc == 0 && p != NULL)
            fuzz_adopt(m, s, p, size, align, 0, 1, "posix_memalign");
        break;
    }
    case FUZZ_MEMALIGN:
        align = fuzz_alignment(m);
        size = fuzz_size(m);
        p = memalign(align, size);
        fuzz_expect_block(m, p, errno, size, "memalign");
        if (p != NULL)
            fuzz_adopt(m, s, p, size, align, 0, 1, "memalign");
        break;
    case FUZZ_FREE:
        fuzz_release(m, s, 0);
        break;
    case FUZZ_FREE_SIZED:
        fuzz_release(m, s, 1);
        break;
    case FUZZ_USABLE_SIZE:
        fuzz_verify(m, s, "malloc_usable_size check");
        break;
    case FUZZ_REALLOC_NULL:
        size = fuzz_size(m);
        p = realloc(NULL, size);
        fuzz_expect_block(m, p, errno, size, "realloc(NULL)");
        if (p != NULL)
            fuzz_adopt(m, s, p, size, 16, 0, 0, "realloc(NULL)");
        break;
    case FUZZ_REALLOC_ZERO:
        /* glibc's realloc(p, 0) frees p and returns NULL. */
        fuzz_verify(m, s, "before realloc(p, 0)");
        p = realloc(b->p, 0);
        b->p = NULL;
        if (p != NULL) /* allowed by C, so keep it as a block of size 0 */
            fuzz_adopt(m, s, p, 0, 16, 0, 0, "realloc(p, 0)");
        break;
    default:
        break;
    }
    if (m->trace)
        fprintf(stderr, "    size %zu align %zu -> %p\n", size, align, p);
}

/* Verifies and frees every live block. */
static void fuzz_release_all(struct fuzz_model *m)
{
    for (int s = 0; s < FUZZ_SLOTS; s++)
        if (m->slots[s].p != NULL)
            fuzz_release(m, s, 0);
}

#endif
