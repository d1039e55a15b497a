/* fork_threads: fork while other threads are busy in the allocator.
 *
 * Usage: fork_threads ROUNDS THREADS
 *
 * THREADS workers malloc/free/realloc random sizes and hand blocks to each other
 * until told to stop, while the main thread forks ROUNDS times.  Each child
 * (where only the forking thread exists) allocates and frees a few thousand
 * blocks from tiny to huge, frees blocks inherited from the parent, runs one
 * thread of its own that frees blocks the child's main thread allocated and
 * hands back blocks for main to free, and _exits 0.  A child that deadlocks on an allocator
 * lock held by a parent thread at fork time is killed by its alarm and counts
 * as a failure, as does any other non-zero status.
 * Prints `fork_threads: rounds=R failures=F` and exits 0 iff F == 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
    SHARED_SLOTS = 256,
    WORKER_BLOCKS = 64,
    CHILD_OPS = 3000,
    CHILD_TIMEOUT_SECONDS = 10,
    MAX_TIMEOUTS = 3, /* stop early rather than wait 10 s for every hung child */
};

static atomic_int stop;
static atomic_long worker_faults;

/* Blocks handed between workers.  Every block is at least 16 bytes and starts
 * with its size and a checksum of it, so whoever frees it can check it. */
static _Atomic(uint64_t *) shared_slots[SHARED_SLOTS];

static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mostly small, sometimes page-sized and larger, rarely huge. */
static size_t random_size(uint64_t *s)
{
    unsigned t = (unsigned)(next(s) % 1000);
    if (t < 850)
        return 16 + next(s) % 1024;
    if (t < 990)
        return 16 + next(s) % (128u << 10);
    return (1u << 20) + next(s) % (4u << 20);
}

static void init_block(uint64_t *p, size_t size)
{
    p[0] = size;
    p[1] = ~size;
    memset((char *)p + 16, (int)(size & 0xFF), size - 16 > 256 ? 256 : size - 16);
}

static uint64_t *new_block(size_t size)
{
    uint64_t *p = malloc(size);
    if (p != NULL)
        init_block(p, size);
    return p;
}

static int block_ok(const uint64_t *p)
{
    if (p[0] != ~p[1])
        return 0;
    size_t n = p[0] - 16 > 256 ? 256 : p[0] - 16;
    const unsigned char *b = (const unsigned char *)p + 16;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(p[0] & 0xFF))
            return 0;
    return 1;
}

static void free_checked(uint64_t *p, atomic_long *faults)
{
    if (p != NULL && !block_ok(p))
        atomic_fetch_add(faults, 1);
    free(p);
}

static void *worker_main(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull | 1;
    uint64_t *mine[WORKER_BLOCKS] = {0};
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        size_t i = (size_t)(next(&s) % WORKER_BLOCKS);
        switch (next(&s) % 4) {
        case 0: /* replace */
            free_checked(mine[i], &worker_faults);
            mine[i] = new_block(random_size(&s));
            break;
        case 1: /* resize: the header and the start of the fill must survive */
            if (mine[i] != NULL) {
                size_t n = random_size(&s), old = mine[i][0];
                if (!block_ok(mine[i]))
                    atomic_fetch_add(&worker_faults, 1);
                uint64_t *q = realloc(mine[i], n);
                if (q == NULL) {
                    atomic_fetch_add(&worker_faults, 1);
                    continue;
                }
                if (q[0] != old || (n > 16 && old > 16 && ((unsigned char *)q)[16] != (unsigned char)(old & 0xFF)))
                    atomic_fetch_add(&worker_faults, 1);
                init_block(q, n);
                mine[i] = q;
            }
            break;
        case 2: /* hand off to another thread */
            mine[i] = atomic_exchange(&shared_slots[next(&s) % SHARED_SLOTS], mine[i]);
            break;
        default:
            free_checked(mine[i], &worker_faults);
            mine[i] = NULL;
            break;
        }
    }
    for (size_t i = 0; i < WORKER_BLOCKS; i++)
        free_checked(mine[i], &worker_faults);
    return NULL;
}

/* Blocks crossing threads inside the child: the child's main thread allocates
 * `from_main` and its thread frees them; the thread allocates `from_thread`
 * and the main thread frees them after the join. */
enum { CROSSING_BLOCKS = 32 };
struct crossing {
    uint64_t *from_main[CROSSING_BLOCKS];
    uint64_t *from_thread[CROSSING_BLOCKS];
    long faults;
};

static void *child_thread_main(void *arg)
{
    struct crossing *x = arg;
    uint64_t s = 0xC0FFEE;
    for (int i = 0; i < CROSSING_BLOCKS; i++) {
        if (x->from_main[i] == NULL || !block_ok(x->from_main[i]))
            x->faults++;
        free(x->from_main[i]);
        x->from_main[i] = NULL;
    }
    for (int i = 0; i < CROSSING_BLOCKS; i++)
        x->from_thread[i] = new_block(random_size(&s));
    for (int i = 0; i < CROSSING_BLOCKS; i++)
        if (x->from_thread[i] == NULL || !block_ok(x->from_thread[i]))
            x->faults++;
    return NULL;
}

/* Child exit statuses other than 0. */
enum { CHILD_NO_THREAD = 3, CHILD_CROSSING_BAD_BLOCK = 4, CHILD_BAD_BLOCK = 5 };

static const char *child_status_meaning(int status)
{
    switch (status) {
    case CHILD_NO_THREAD: return "could not start a thread";
    case CHILD_CROSSING_BAD_BLOCK: return "a block passed between its threads was NULL or corrupt";
    case CHILD_BAD_BLOCK: return "malloc returned NULL or a block was corrupt";
    default: return "unexpected status";
    }
}

/* Runs in the child; returns its exit status. */
static int child_work(uint64_t seed, uint64_t **inherited, int n_inherited)
{
    alarm(CHILD_TIMEOUT_SECONDS);
    atomic_long faults = 0;
    uint64_t *held[128] = {0};
    /* Blocks the parent's main thread allocated, and blocks parked by workers
     * that do not exist in this process. */
    for (int i = 0; i < n_inherited; i++)
        free_checked(inherited[i], &faults);
    for (int i = 0; i < 16; i++)
        free_checked(atomic_exchange(&shared_slots[next(&seed) % SHARED_SLOTS], NULL), &faults);

    for (int op = 0; op < CHILD_OPS; op++) {
        size_t i = (size_t)(next(&seed) % 128);
        free_checked(held[i], &faults);
        held[i] = NULL;
        switch (next(&seed) % 3) {
        case 0: { /* tiny: too small for a checked header */
            unsigned char *t = malloc(1 + next(&seed) % 15);
            if (t == NULL)
                faults++;
            else
                t[0] = 1;
            free(t);
            break;
        }
        case 1:
            held[i] = new_block(random_size(&seed));
            if (held[i] == NULL)
                faults++;
            break;
        default:
            break;
        }
    }
    for (size_t i = 0; i < 128; i++)
        free_checked(held[i], &faults);

    /* A thread of the child's own, with frees crossing between it and main. */
    struct crossing x = {.faults = 0};
    for (int i = 0; i < CROSSING_BLOCKS; i++)
        x.from_main[i] = new_block(random_size(&seed));
    pthread_t t;
    if (pthread_create(&t, NULL, child_thread_main, &x) != 0 || pthread_join(t, NULL) != 0)
        return CHILD_NO_THREAD;
    for (int i = 0; i < CROSSING_BLOCKS; i++)
        free_checked(x.from_thread[i], &faults);
    if (x.faults != 0)
        return CHILD_CROSSING_BAD_BLOCK;
    return faults == 0 ? 0 : CHILD_BAD_BLOCK;
}

static long parse(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1) {
        fprintf(stderr, "fork_threads: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fork_threads ROUNDS THREADS\n");
        return 2;
    }
    long rounds = parse(argv[1], "ROUNDS");
    int threads = (int)parse(argv[2], "THREADS");

    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    for (int t = 0; t < threads; t++)
        if (pthread_create(&ids[t], NULL, worker_main, (void *)(uintptr_t)(t + 1)) != 0) {
            fprintf(stderr, "fork_threads: pthread_create failed\n");
            return 2;
        }

    long failures = 0, timeouts = 0, done = 0;
    uint64_t seed = 0x12345678;
    for (; done < rounds && timeouts < MAX_TIMEOUTS; done++) {
        /* Some live blocks for the child to free. */
        uint64_t *inherited[8];
        for (int i = 0; i < 8; i++)
            inherited[i] = new_block(random_size(&seed));

        pid_t pid = fork();
        if (pid < 0) {
            perror("fork_threads: fork");
            failures++;
            continue;
        }
        if (pid == 0)
            _exit(child_work(seed ^ (uint64_t)done, inherited, 8));

        for (int i = 0; i < 8; i++)
            free(inherited[i]);
        int status;
        if (waitpid(pid, &status, 0) != pid) {
            perror("fork_threads: waitpid");
            failures++;
        } else if (WIFSIGNALED(status)) {
            int sig = WTERMSIG(status);
            fprintf(stderr, "fork_threads: round %ld: child killed by signal %d (%s)%s\n", done,
                    sig, strsignal(sig), sig == SIGALRM ? " - hung after fork" : "");
            failures++;
            timeouts += sig == SIGALRM;
        } else if (WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fork_threads: round %ld: child exited with status %d: %s\n", done,
                    WEXITSTATUS(status), child_status_meaning(WEXITSTATUS(status)));
            failures++;
        }
    }
    if (timeouts >= MAX_TIMEOUTS)
        fprintf(stderr, "fork_threads: stopped after %ld hung children\n", timeouts);

    atomic_store(&stop, 1);
    for (int t = 0; t < threads; t++)
        pthread_join(ids[t], NULL);
    for (size_t i = 0; i < SHARED_SLOTS; i++)
        free_checked(atomic_exchange(&shared_slots[i], NULL), &worker_faults);
    free(ids);
    if (worker_faults) {
        fprintf(stderr, "fork_threads: %ld corrupted blocks in the parent\n",
                (long)worker_faults);
        failures++;
    }
    printf("fork_threads: rounds=%ld failures=%ld\n", done, failures);
    return failures == 0 ? 0 : 1;
}
