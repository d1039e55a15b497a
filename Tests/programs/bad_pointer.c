/* bad_pointer: hands the allocator one invalid pointer and reports if it lived.
 *
 * Usage: bad_pointer MODE
 *   stack        free() of a stack address
 *   static       free() of a static array
 *   interior     p = malloc(200); free(p + 16)
 *   misaligned   p = malloc(64); free(p + 1)
 *   realloc-bad  realloc() of a stack address
 *   usable-size-interior  p = malloc(200); malloc_usable_size(p + 16)
 *   double       p = malloc(32); free(p); free(p)
 *   double-later free(p); free(q); free(p)
 *   double-remote p freed by another thread, then again by this one
 *   double-huge  an 8 MiB block freed twice
 *   forged-link  a use-after-free write puts a stack address in a free block's link
 *   huge-overflow a write one page-rounded byte past a huge block (guard page)
 *
 * A checking allocator aborts during the bad call (huge-overflow: SIGSEGV on the
 * guard page), so printing `survived` and exiting 0 means the error went unnoticed.
 * hakmem catches stack, static, misaligned, realloc-bad, usable-size-interior, double
 * and double-huge in every mode, the rest with HAKMEM_CHECK=1.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char static_array[256];

/* Hides where a pointer came from, so the compiler neither warns about nor
 * rewrites the deliberately invalid call. */
static void *launder(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

static void *free_on_thread(void *block)
{
    free(block);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *modes = "stack static interior misaligned realloc-bad usable-size-interior double double-later double-remote "
                        "double-huge forged-link huge-overflow";
    if (argc != 2) {
        fprintf(stderr, "usage: bad_pointer MODE   (MODE: %s)\n", modes);
        return 2;
    }
    const char *mode = argv[1];
    char stack_array[256];
    memset(stack_array, 0, sizeof stack_array);
    /* Stderr is unbuffered; flush stdout so nothing of ours is lost on abort. */
    setvbuf(stdout, NULL, _IONBF, 0);

    if (strcmp(mode, "stack") == 0) {
        free(launder(stack_array + 64));
    } else if (strcmp(mode, "static") == 0) {
        free(launder(static_array + 64));
    } else if (strcmp(mode, "interior") == 0) {
        char *p = malloc(200);
        memset(p, 0x11, 200);
        free(launder(p + 16));
    } else if (strcmp(mode, "misaligned") == 0) {
        char *p = malloc(64);
        memset(p, 0x22, 64);
        free(launder(p + 1));
    } else if (strcmp(mode, "realloc-bad") == 0) {
        char *q = realloc(launder(stack_array + 64), 100);
        printf("realloc returned %p\n", (void *)q);
    } else if (strcmp(mode, "usable-size-interior") == 0) {
        char *p = malloc(200);
        memset(p, 0x44, 200);
        printf("malloc_usable_size returned %zu\n", malloc_usable_size(launder(p + 16)));
    } else if (strcmp(mode, "double") == 0) {
        char *p = malloc(32);
        char *again = launder(p); /* laundered before the first free: no warning */
        memset(p, 0x33, 32);
        free(p);
        free(again);
    } else if (strcmp(mode, "double-later") == 0) {
        /* Not the block freed just before: only checked mode's marks catch it. */
        char *p = malloc(48), *q = malloc(48);
        char *again = launder(p);
        free(p);
        free(q);
        free(again);
    } else if (strcmp(mode, "double-remote") == 0) {
        char *p = malloc(96);
        pthread_t thread;
        pthread_create(&thread, NULL, free_on_thread, p);
        pthread_join(thread, NULL);
        free(launder(p));
    } else if (strcmp(mode, "double-huge") == 0) {
        char *p = malloc(8 << 20);
        char *again = launder(p);
        p[0] = 1;
        free(p);
        free(again);
    } else if (strcmp(mode, "forged-link") == 0) {
        /* A use-after-free write plants an address in a free block's link word. */
        char *p = malloc(64);
        char *q = malloc(64);
        free(q);
        free(p);
        *(void **)launder(p) = stack_array;
        for (int i = 0; i < 4; i++) {
            char *r = malloc(64);
            if (r >= stack_array && r < stack_array + sizeof stack_array) {
                printf("malloc returned the forged address %p\n", (void *)r);
                break;
            }
        }
    } else if (strcmp(mode, "huge-overflow") == 0) {
        /* One byte past a huge block's requested size, rounded to a page. */
        size_t size = (4 << 20) + 100;
        char *p = malloc(size);
        size_t end = (size + 4095) & ~(size_t)4095;
        ((volatile char *)launder(p))[end] = 1;
        free(p);
    } else {
        fprintf(stderr, "bad_pointer: unknown mode '%s' (MODE: %s)\n", mode, modes);
        return 2;
    }
    printf("survived\n");
    return 0;
}
