/* counted — a known number of allocations of one size, all freed, for the statistics to count.
 *
 *   counted THREADS   each of THREADS threads (the main thread among them) makes three rounds:
 *                     allocate 30 000 blocks of 720 B (over 300 slabs), free every other one,
 *                     allocate those again, free all in reverse; the other threads exit after,
 *                     the main thread last. 720 B is a size the C library does not allocate, so
 *                     the statistics at exit must show for its class (768 B) exactly
 *                     THREADS × 135 000 allocations and as many frees.
 *
 * Prints expected=N. Exit 0 unless something could not be allocated.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCKS = 30000, ROUNDS = 3, SIZE = 720 };

static void *work(void *unused) {
    (void)unused;
    void **blocks = calloc(BLOCKS, sizeof(void *));
    if (!blocks) { perror("calloc"); exit(2); }
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < BLOCKS; i++) {
            if (!(blocks[i] = malloc(SIZE))) { perror("malloc"); exit(2); }
            memset(blocks[i], round, 16);
        }
        for (int i = 0; i < BLOCKS; i += 2) free(blocks[i]);
        for (int i = 0; i < BLOCKS; i += 2) {
            if (!(blocks[i] = malloc(SIZE))) { perror("malloc"); exit(2); }
        }
        for (int i = BLOCKS - 1; i >= 0; i--) free(blocks[i]);
    }
    free(blocks);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "usage: counted THREADS (1-64)\n");
        return 2;
    }
    pthread_t others[64];
    for (int t = 1; t < threads; t++) pthread_create(&others[t], NULL, work, NULL);
    work(NULL);
    for (int t = 1; t < threads; t++) pthread_join(others[t], NULL);
    printf("expected=%ld\n", (long)threads * ROUNDS * (BLOCKS + BLOCKS / 2));
    return 0;
}
