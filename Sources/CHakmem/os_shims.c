// Thin wrappers for libc calls Swift cannot declare directly: mremap is variadic (its fifth
// argument is read only with MREMAP_FIXED), and a variadic C function must be called as one.
#define _GNU_SOURCE
#include <sys/mman.h>
#include "CHakmem.h"

void *hakmem_os_remap(void *old_address, size_t old_length, size_t new_length, int flags, void *new_address) {
    return mremap(old_address, old_length, new_length, flags, new_address);
}
