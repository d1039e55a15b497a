/* producer-consumer — every block is freed by a thread other than the one that allocated it.
 *
 * The threads form a ring: thread i allocates blocks (16–512 B), stamps them and passes
 * them through a single-producer/single-consumer queue to thread i+1, which checks and
 * frees them. Each thread both produces and consumes, so no thread idles and no block
 * is ever freed where it was allocated. Reports ops = blocks passed.
 *
 * placement=1 or 2 pins the threads (measurement only; the bench leaves them to the scheduler):
 * 1 puts neighbours in the ring on the same CPU in contiguous runs, so few links cross between
 * CPUs; 2 deals the threads out in turn, so every link crosses (each thread pins itself as it
 * starts, inside the timed window: one system call a thread). Where the scheduler puts them
 * moves every allocator's time about twofold (docs/PERFORMANCE.md, twenty-first session).
 */
#include "common.h"
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

enum { queue_capacity = 1024, cache_line = 64 };

typedef struct {
    _Alignas(cache_line) _Atomic size_t head; /* next slot the consumer reads */
    _Alignas(cache_line) _Atomic size_t tail; /* next slot the producer writes */
    _Alignas(cache_line) void *slots[queue_capacity];
} block_queue;

/* Only the queue's one producer calls these two, so room it sees stays there. */
static int queue_has_room(block_queue *queue) {
    size_t tail = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    return tail - atomic_load_explicit(&queue->head, memory_order_acquire) < queue_capacity;
}

static void queue_push(block_queue *queue, void *block) {
    size_t tail = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    queue->slots[tail % queue_capacity] = block;
    atomic_store_explicit(&queue->tail, tail + 1, memory_order_release);
}

static void *queue_pop(block_queue *queue) {
    size_t head = atomic_load_explicit(&queue->head, memory_order_relaxed);
    if (head == atomic_load_explicit(&queue->tail, memory_order_acquire)) return NULL;
    void *block = queue->slots[head % queue_capacity];
    atomic_store_explicit(&queue->head, head + 1, memory_order_release);
    return block;
}

typedef struct {
    block_queue *outgoing;
    block_queue *incoming;
    long blocks;
    long min_size;
    long max_size;
    uint64_t seed;
    long index;
    long threads;
    long placement;
} ring_member;

static void pin(const ring_member *member) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (member->placement == 0 || cpus < 1) return;
    long cpu = member->placement == 1 ? member->index * cpus / member->threads : member->index % cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0) {
        bench_die(2, "cannot pin thread %ld to CPU %ld", member->index, cpu);
    }
}

/* Each block carries its size in its first word so the consumer can verify it. */
static void *produce_and_consume(void *raw) {
    const ring_member *member = raw;
    pin(member);
    bench_rng rng;
    bench_rng_seed(&rng, member->seed);
    long sent = 0, received = 0;
    while (sent < member->blocks || received < member->blocks) {
        int progressed = 0;
        for (int batch = 0; batch < 64 && sent < member->blocks && queue_has_room(member->outgoing); batch++) {
            size_t size = bench_rng_between(&rng, (size_t)member->min_size, (size_t)member->max_size);
            size_t *block = malloc(size);
            if (block == NULL) bench_out_of_memory(size);
            block[0] = size;
            ((unsigned char *)block)[size - 1] = (unsigned char)size;
            queue_push(member->outgoing, block);
            sent++;
            progressed = 1;
        }
        size_t *block;
        while ((block = queue_pop(member->incoming)) != NULL) {
            size_t size = block[0];
            if (size < (size_t)member->min_size || size > (size_t)member->max_size ||
                ((unsigned char *)block)[size - 1] != (unsigned char)size) {
                bench_die(4, "block %p arrived corrupted", (void *)block);
            }
            free(block);
            received++;
            progressed = 1;
        }
        if (!progressed) sched_yield();
    }
    return NULL;
}

int main(int argc, char **argv) {
    bench_name = "producer-consumer";
    long threads = 4, operations = 2000000, min_size = 16, max_size = 512, seed = 1, placement = 0;
    bench_option options[] = {
        {"threads", &threads}, {"ops", &operations}, {"min", &min_size}, {"max", &max_size},
        {"seed", &seed}, {"placement", &placement}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);
    if (threads < 2) threads = 2; /* a ring of one would free its own blocks */
    if (placement < 0 || placement > 2) bench_die(1, "placement must be 0, 1 or 2");

    block_queue *queues = aligned_alloc(cache_line, sizeof(block_queue) * (size_t)threads);
    if (queues == NULL) bench_out_of_memory(sizeof(block_queue) * (size_t)threads);
    memset(queues, 0, sizeof(block_queue) * (size_t)threads);
    ring_member *members = bench_xcalloc((size_t)threads, sizeof *members);
    for (long index = 0; index < threads; index++) {
        members[index] = (ring_member){
            .outgoing = &queues[(index + 1) % threads], .incoming = &queues[index],
            .blocks = operations / threads, .min_size = min_size < 16 ? 16 : min_size,
            .max_size = max_size, .seed = (uint64_t)(seed + index),
            .index = index, .threads = threads, .placement = placement,
        };
    }
    double seconds = bench_run_threads((int)threads, produce_and_consume, members, sizeof *members);
    free(members);
    free(queues);
    bench_report((unsigned long long)(operations / threads * threads), seconds, "threads=%ld", threads);
    return 0;
}
