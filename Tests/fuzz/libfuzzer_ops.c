/* libfuzzer_ops: a libFuzzer harness that reads its input as a sequence of
 * allocator calls, interpreted and checked by the same model as the seeded
 * tester (Tests/programs/fuzz_model.h).  Every 4 input bytes are one choice
 * (operation, slot, size, alignment, ...); the sequence ends with the input, and
 * all live blocks are then verified and freed, so each input starts afresh.
 * A model failure prints its message and aborts, which libFuzzer records as a
 * crash with the input that caused it.
 *
 * Built and run by scripts/fuzz.sh libfuzzer (clang -fsanitize=fuzzer, run
 * with LD_PRELOAD=libhakmem.so); the starting corpus is Tests/fuzz/corpus.
 */
#define _GNU_SOURCE
#include "../programs/fuzz_model.h"
#include <dlfcn.h>

/* Names the object malloc comes from, so a run that did not preload hakmem
 * (and so fuzzed glibc) is plain to see. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    Dl_info info;
    if (dladdr((void *)malloc, &info) != 0 && info.dli_fname != NULL)
        fprintf(stderr, "libfuzzer_ops: malloc from %s\n", info.dli_fname);
    return 0;
}

struct input {
    const uint8_t *data;
    size_t size, at;
};

static uint32_t input_next(void *context)
{
    struct input *in = context;
    uint32_t v = 0;
    for (int i = 0; i < 4 && in->at < in->size; i++)
        v |= (uint32_t)in->data[in->at++] << (8 * i);
    return v;
}

static struct fuzz_model model;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size, 0};
    memset(&model, 0, sizeof model);
    model.source = (struct fuzz_source){input_next, &in};
    for (model.op = 0; in.at < in.size && model.failure[0] == '\0'; model.op++)
        fuzz_step(&model);
    if (model.failure[0] == '\0')
        fuzz_release_all(&model);
    if (model.failure[0] != '\0') {
        fprintf(stderr, "libfuzzer_ops: %s\n", model.failure);
        abort();
    }
    return 0;
}
