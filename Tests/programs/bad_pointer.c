/* bad_pointer: hands the allocator one invalid pointer and reports if it lived.
 *
 * Usage: bad_pointer MODE
 *   stack        free() of a stack address
 *   static       free() of a static array
 *   interior     p = malloc(200); free(p + 16)
 *   misaligned   p = malloc(64); free(p + 1)
 *   realloc-bad  realloc() of a stack address
 *   double       p = malloc(32); free(p); free(p)
 *
 * A checking allocator aborts during the bad call, so printing `survived` and
 * exiting 0 means the error went unnoticed.
 */
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

int main(int argc, char **argv)
{
    const char *modes = "stack static interior misaligned realloc-bad double";
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
    } else if (strcmp(mode, "double") == 0) {
        char *p = malloc(32);
        char *again = launder(p); /* laundered before the first free: no warning */
        memset(p, 0x33, 32);
        free(p);
        free(again);
    } else {
        fprintf(stderr, "bad_pointer: unknown mode '%s' (MODE: %s)\n", mode, modes);
        return 2;
    }
    printf("survived\n");
    return 0;
}
