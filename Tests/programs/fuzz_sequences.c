/* fuzz_sequences: seeded random sequences of allocator calls checked against a
 * reference model (fuzz_model.h: contents, alignment, calloc zeroing, usable
 * size, no overlap between live blocks).
 *
 * Usage: fuzz_sequences SEED OPS [THREADS]
 *
 * One thread runs OPS operations drawn from a generator seeded with SEED; the
 * same SEED and OPS always give the same sequence, so a failure is reproduced
 * by running the printed command again (under LD_PRELOAD=libhakmem.so).
 * With THREADS > 1 each thread runs OPS operations from its own seed and one
 * operation in 16 swaps a live block with a shared mailbox, so blocks are
 * checked, reallocated and freed by threads other than their allocator; the
 * mailbox's last blocks are freed by the main thread.  The interleaving, and so
 * the exact sequence, then depends on scheduling.
 *
 * With FUZZ_TRACE set in the environment, each operation is printed to stderr
 * before it runs, so the last line before a crash names the call.
 *
 * Prints `FAIL seed=S thread=T op ...` for the first problem of each thread,
 * then `fuzz_sequences: seed=S threads=T ops=N failures=F` and the count of
 * each operation; exits 0 iff F == 0.
 */
#define _GNU_SOURCE
#include "fuzz_model.h"
#include <pthread.h>
#include <stdatomic.h>

static uint32_t xorshift_next(void *context)
{
    uint64_t *s = context;
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (uint32_t)(*s >> 16);
}

enum { MAILBOX_SLOTS = 64, MAX_THREADS = 32 };

static struct fuzz_block mailbox[MAILBOX_SLOTS];
static pthread_mutex_t mailbox_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t base_seed;
static long ops_per_thread;
static int thread_count;
static atomic_long failures;
static struct fuzz_model models[MAX_THREADS]; /* static: a model is ~10 KiB */
static uint64_t states[MAX_THREADS];

static void report(struct fuzz_model *m, int thread)
{
    atomic_fetch_add(&failures, 1);
    printf("FAIL seed=%llu thread=%d %s\n", (unsigned long long)base_seed, thread, m->failure);
    if (thread_count == 1)
        printf("reproduce: LD_PRELOAD=/abs/path/libhakmem.so fuzz_sequences %llu %ld\n",
               (unsigned long long)base_seed, m->op);
    fflush(stdout);
}

/* Swaps slot s with a mailbox entry: the block given away and the one received
 * both carry their model records, so the receiver can check them. */
static void swap_with_mailbox(struct fuzz_model *m, int s, int box)
{
    pthread_mutex_lock(&mailbox_lock);
    struct fuzz_block taken = mailbox[box];
    mailbox[box] = m->slots[s];
    pthread_mutex_unlock(&mailbox_lock);
    m->slots[s] = taken;
    if (taken.p != NULL) {
        fuzz_verify(m, s, "block received from another thread");
        fuzz_check_overlap(m, s, "block received from another thread");
    }
}

static void *run(void *arg)
{
    int t = (int)(intptr_t)arg;
    struct fuzz_model *m = &models[t];
    states[t] = (base_seed + 1) * 0x9E3779B97F4A7C15ull + (uint64_t)t * 0xD1B54A32D192ED03ull;
    if (states[t] == 0)
        states[t] = 1;
    m->source = (struct fuzz_source){xorshift_next, &states[t]};
    m->trace = getenv("FUZZ_TRACE") != NULL;
    for (m->op = 0; m->op < ops_per_thread && m->failure[0] == '\0'; m->op++) {
        if (thread_count > 1 && xorshift_next(&states[t]) % 16 == 0) {
            uint32_t r = xorshift_next(&states[t]);
            swap_with_mailbox(m, (int)(r % FUZZ_SLOTS), (int)((r >> 16) % MAILBOX_SLOTS));
            continue;
        }
        fuzz_step(m);
    }
    if (m->failure[0] == '\0')
        fuzz_release_all(m);
    if (m->failure[0] != '\0')
        report(m, t);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: fuzz_sequences SEED OPS [THREADS]\n");
        return 2;
    }
    base_seed = strtoull(argv[1], NULL, 0);
    ops_per_thread = atol(argv[2]);
    thread_count = argc == 4 ? atoi(argv[3]) : 1;
    if (ops_per_thread < 1 || thread_count < 1 || thread_count > MAX_THREADS) {
        fprintf(stderr, "fuzz_sequences: OPS must be >= 1 and THREADS 1..%d\n", MAX_THREADS);
        return 2;
    }

    if (thread_count == 1) {
        run((void *)0);
    } else {
        pthread_t ids[MAX_THREADS];
        for (int t = 0; t < thread_count; t++)
            if (pthread_create(&ids[t], NULL, run, (void *)(intptr_t)t) != 0) {
                fprintf(stderr, "fuzz_sequences: pthread_create failed\n");
                return 2;
            }
        for (int t = 0; t < thread_count; t++)
            pthread_join(ids[t], NULL);
        /* The mailbox's blocks, allocated by threads that have exited. */
        static struct fuzz_model last;
        uint64_t state = base_seed | 1;
        last.source = (struct fuzz_source){xorshift_next, &state};
        for (int box = 0; box < MAILBOX_SLOTS && last.failure[0] == '\0'; box++) {
            last.slots[0] = mailbox[box];
            if (last.slots[0].p != NULL)
                fuzz_release(&last, 0, box % 2);
        }
        if (last.failure[0] != '\0')
            report(&last, -1);
    }

    long ops = 0, by_kind[FUZZ_OP_KINDS] = {0};
    for (int t = 0; t < thread_count; t++)
        for (int k = 0; k < FUZZ_OP_KINDS; k++) {
            by_kind[k] += models[t].ops_by_kind[k];
            ops += models[t].ops_by_kind[k];
        }
    printf("fuzz_sequences: seed=%llu threads=%d ops=%ld failures=%ld\n", (unsigned long long)base_seed,
           thread_count, ops, atomic_load(&failures));
    for (int k = 0; k < FUZZ_OP_KINDS; k++)
        printf("  %s %ld\n", fuzz_op_names[k], by_kind[k]);
    return atomic_load(&failures) == 0 ? 0 : 1;
}
