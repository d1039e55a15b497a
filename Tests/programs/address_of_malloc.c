/* address_of_malloc: a program that keeps the addresses of malloc, calloc,
 * realloc and free in a table and allocates through it, as CPython does for its
 * raw allocator.  Compiled without PIE (as Debian builds /usr/bin/python3.11),
 * the executable then holds the canonical address of each function, and the
 * dynamic loader must bind the preloaded allocator's definitions to it.  With
 * STV_PROTECTED definitions glibc's loader prints, at every start,
 *   warning: direct reference to protected function `malloc' in `libhakmem.so' ...
 * on stderr - output the program never wrote.
 *
 * Prints `address_of_malloc: ok` and exits 0 when the calls through the table
 * work and each pointer equals the function's address as seen through dlsym.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct allocator {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void (*free)(void *);
};

static struct allocator raw = {malloc, calloc, realloc, free};

int main(void)
{
    int failures = 0;
    char *p = raw.malloc(100);
    char *z = raw.calloc(10, 10);
    if (p == NULL || z == NULL || z[99] != 0) {
        printf("address_of_malloc: allocation through the table failed\n");
        failures++;
    }
    memset(p, 'x', 100);
    p = raw.realloc(p, 5000);
    if (p == NULL || p[99] != 'x') {
        printf("address_of_malloc: realloc through the table failed\n");
        failures++;
    }
    raw.free(p);
    raw.free(z);
    /* Pointer equality: the address the executable uses is the one the loader resolves. */
    if (dlsym(RTLD_DEFAULT, "malloc") != (void *)raw.malloc || dlsym(RTLD_DEFAULT, "free") != (void *)raw.free) {
        printf("address_of_malloc: &malloc differs from dlsym(\"malloc\")\n");
        failures++;
    }
    if (failures == 0)
        printf("address_of_malloc: ok\n");
    return failures == 0 ? 0 : 1;
}
