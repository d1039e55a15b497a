/* false-sharing — small objects allocated by one thread and written heavily by others.
 *
 * After Hoard's cache-scratch: the main thread allocates one small object per thread in a
 * row (an allocator may pack them into one cache line) and hands them out. Each thread
 * writes its object `writes` times and frees it, then `iterations` times allocates an
 * object of the same size, writes it `writes` times and frees it. An allocator that
 * recycles the handed-out objects across threads, or packs different threads' objects
 * into one cache line, makes the cores fight over that line. Reports ops = byte writes.
 */
#include "common.h"

typedef struct {
    unsigned char *handed_object;
    long size;
    long iterations;
    long writes;
} writer;

static void write_repeatedly(volatile unsigned char *object, long size, long writes) {
    for (long pass = 0; pass < writes; pass++) {
        for (long offset = 0; offset < size; offset++) object[offset]++;
    }
}

static void *write_handed_then_own_objects(void *raw) {
    const writer *work = raw;
    write_repeatedly(work->handed_object, work->size, work->writes);
    free(work->handed_object);
    for (long iteration = 0; iteration < work->iterations; iteration++) {
        unsigned char *object = malloc((size_t)work->size);
        if (object == NULL) bench_out_of_memory((size_t)work->size);
        write_repeatedly(object, work->size, work->writes);
        free(object);
    }
    return NULL;
}

int main(int argc, char **argv) {
    bench_name = "false-sharing";
    long threads = 4, size = 8, iterations = 1000, writes = 1000;
    bench_option options[] = {
        {"threads", &threads}, {"size", &size}, {"iterations", &iterations}, {"writes", &writes}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    writer *writers = bench_xcalloc((size_t)threads, sizeof *writers);
    for (long index = 0; index < threads; index++) {
        unsigned char *object = malloc((size_t)size);
        if (object == NULL) bench_out_of_memory((size_t)size);
        memset(object, 0, (size_t)size);
        writers[index] = (writer){object, size, iterations, writes};
    }
    double seconds = bench_run_threads((int)threads, write_handed_then_own_objects, writers, sizeof *writers);
    free(writers);
    unsigned long long operations = (unsigned long long)(threads * (iterations + 1) * writes * size);
    bench_report(operations, seconds, "threads=%ld size=%ld", threads, size);
    return 0;
}
