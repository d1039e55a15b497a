/* granularity-shim.c — how much peak memory a program's requests need under two size-class
 * granularities: hakmem's (16-byte steps to 128 B, as malloc's 16-byte alignment requires) and
 * one with 8-byte steps to 64 B (mimalloc's, which returns 24-, 40- and 56-byte blocks 8-byte
 * aligned). Both then use 4 classes per doubling. It sits on top of glibc and only counts.
 *
 *   gcc -O2 -fno-builtin -shared -fPIC scripts/granularity-shim.c -o /tmp/granularity-shim.so -ldl
 *   LD_PRELOAD=/tmp/granularity-shim.so PYTHONMALLOC=malloc python3 bench/programs/alloc_heavy.py 200
 *
 * At exit it prints the peak of the live bytes requested and of the live bytes after rounding to
 * each granularity. (-fno-builtin: gcc would otherwise turn calloc's malloc + memset into a call
 * to calloc, i.e. to itself.)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { header = 16 }; /* each block carries its requested size in front, keeping 16-byte alignment */

static void *(*real_malloc)(size_t);
static void (*real_free)(void *);
static void *(*real_realloc)(void *, size_t);
static int resolving;
static char bootstrap[1 << 16]; /* dlsym's own allocations, before the real functions are known */
static size_t bootstrap_used;
static long live_requested, live_16, live_8, peak_requested, peak_16, peak_8;

static size_t four_per_doubling(size_t n) {
    size_t power = 128;
    while (power * 2 < n) power *= 2;
    size_t step = power / 4;
    return (n + step - 1) / step * step;
}
static size_t class_16(size_t n) { return n <= 128 ? (n + 15) & ~(size_t)15 : four_per_doubling(n); }
static size_t class_8(size_t n) { return n <= 64 ? (n < 8 ? 8 : (n + 7) & ~(size_t)7) : class_16(n); }

static void count(size_t n, long sign) {
    live_requested += sign * (long)n;
    live_16 += sign * (long)class_16(n);
    live_8 += sign * (long)class_8(n);
    if (live_requested > peak_requested) peak_requested = live_requested;
    if (live_16 > peak_16) peak_16 = live_16;
    if (live_8 > peak_8) peak_8 = live_8;
}

static int is_bootstrap(void *p) { return (char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap; }

static void resolve(void) {
    resolving = 1;
    real_malloc = dlsym(RTLD_NEXT, "malloc");
    real_free = dlsym(RTLD_NEXT, "free");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
}

void *malloc(size_t n) {
    if (!real_malloc) {
        if (!resolving) resolve();
        if (!real_malloc) {
            char *p = bootstrap + bootstrap_used + header;
            bootstrap_used += (n + header + 15) & ~(size_t)15;
            return p;
        }
    }
    char *p = real_malloc(n + header);
    if (!p) return NULL;
    *(size_t *)p = n;
    count(n, 1);
    return p + header;
}

void free(void *q) {
    if (!q || is_bootstrap(q)) return;
    char *p = (char *)q - header;
    count(*(size_t *)p, -1);
    real_free(p);
}

void *calloc(size_t a, size_t b) {
    if (b && a > SIZE_MAX / b) return NULL;
    void *p = malloc(a * b);
    if (p) memset(p, 0, a * b);
    return p;
}

void *realloc(void *q, size_t n) {
    if (!q) return malloc(n);
    if (is_bootstrap(q)) {
        void *p = malloc(n);
        if (p) memcpy(p, q, n); /* the bootstrap area is large enough to read past a small block */
        return p;
    }
    char *p = (char *)q - header;
    size_t old = *(size_t *)p;
    char *moved = real_realloc(p, n + header);
    if (!moved) return NULL;
    count(old, -1);
    *(size_t *)moved = n;
    count(n, 1);
    return moved + header;
}

/* Programs that ask for aligned memory are not measured: refuse loudly rather than miscount. */
int posix_memalign(void **result, size_t alignment, size_t n) {
    (void)result, (void)alignment, (void)n;
    fprintf(stderr, "granularity-shim: posix_memalign is not supported\n");
    return 12; /* ENOMEM */
}

__attribute__((destructor)) static void report(void) {
    fprintf(stderr, "peak live bytes: requested %.1f MiB, 16-byte classes %.1f MiB, 8-byte classes %.1f MiB\n",
            peak_requested / 1048576.0, peak_16 / 1048576.0, peak_8 / 1048576.0);
}
