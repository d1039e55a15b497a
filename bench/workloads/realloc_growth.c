/* realloc-growth — strings and arrays that grow by small steps and by doubling.
 *
 * `buffers` buffers grow side by side, one step each in turn, so their reallocations
 * interleave. Even-numbered buffers are strings that grow by 1–64 bytes per realloc;
 * odd-numbered ones are arrays whose capacity doubles from 16 bytes. Every step fills the
 * new bytes; when a buffer reaches its random target size (up to `max` bytes) its
 * contents are checked, it is freed, and a new one starts. Reports ops = reallocs.
 */
#include "common.h"

typedef struct {
    unsigned char *bytes;
    size_t length;   /* bytes filled */
    size_t capacity; /* bytes allocated */
    size_t target;   /* length at which the buffer is retired */
    unsigned char fill;
} growing_buffer;

static void start_buffer(growing_buffer *buffer, bench_rng *rng, size_t max_size) {
    *buffer = (growing_buffer){
        .target = bench_rng_between(rng, max_size / 4, max_size),
        .fill = (unsigned char)bench_rng_next(rng),
    };
}

static void retire_buffer(growing_buffer *buffer) {
    if (buffer->bytes == NULL) return;
    size_t last = buffer->length - 1;
    if (buffer->bytes[0] != buffer->fill || buffer->bytes[last / 2] != buffer->fill || buffer->bytes[last] != buffer->fill) {
        bench_die(4, "realloc lost the contents of a %zu-byte buffer", buffer->length);
    }
    free(buffer->bytes);
    buffer->bytes = NULL;
}

/* Grows a buffer once: a string appends a few bytes, an array doubles its capacity. */
static void grow(growing_buffer *buffer, int doubles, bench_rng *rng) {
    size_t new_capacity = doubles ? (buffer->capacity ? buffer->capacity * 2 : 16)
                                  : buffer->length + bench_rng_between(rng, 1, 64);
    unsigned char *bytes = realloc(buffer->bytes, new_capacity);
    if (bytes == NULL) bench_out_of_memory(new_capacity);
    memset(bytes + buffer->length, buffer->fill, new_capacity - buffer->length);
    buffer->bytes = bytes;
    buffer->capacity = new_capacity;
    buffer->length = new_capacity;
}

int main(int argc, char **argv) {
    bench_name = "realloc-growth";
    long operations = 1000000, buffer_count = 16, max_size = 65536, seed = 1;
    bench_option options[] = {
        {"ops", &operations}, {"buffers", &buffer_count}, {"max", &max_size}, {"seed", &seed}, {NULL, NULL},
    };
    bench_parse_arguments(argc, argv, options);

    bench_rng rng;
    bench_rng_seed(&rng, (uint64_t)seed);
    growing_buffer *buffers = bench_xcalloc((size_t)buffer_count, sizeof *buffers);
    for (long index = 0; index < buffer_count; index++) start_buffer(&buffers[index], &rng, (size_t)max_size);

    double started = bench_now();
    for (long operation = 0; operation < operations; operation++) {
        long index = operation % buffer_count;
        growing_buffer *buffer = &buffers[index];
        grow(buffer, index % 2 == 1, &rng);
        if (buffer->length >= buffer->target) {
            retire_buffer(buffer);
            start_buffer(buffer, &rng, (size_t)max_size);
        }
    }
    double seconds = bench_now() - started;

    for (long index = 0; index < buffer_count; index++) retire_buffer(&buffers[index]);
    free(buffers);
    bench_report((unsigned long long)operations, seconds, "buffers=%ld", buffer_count);
    return 0;
}
