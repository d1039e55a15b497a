// Thin wrappers for libc calls Swift cannot declare directly: mremap and syscall are variadic
// (mremap's fifth argument is read only with MREMAP_FIXED), and a variadic C function must be
// called as one.
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "CHakmem.h"

#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
/* PIDFD_SELF_THREAD_GROUP (Linux 6.15): the calling process, without a file descriptor that a
   program could close or a child of fork inherit. Older kernels answer EBADF. */
#define HAKMEM_PIDFD_SELF_PROCESS (-10001)

void *hakmem_os_remap(void *old_address, size_t old_length, size_t new_length, int flags, void *new_address) {
    return mremap(old_address, old_length, new_length, flags, new_address);
}

long hakmem_os_advise_ranges(const uintptr_t *ranges, size_t count, int advice) {
    /* (start, length) pairs have struct iovec's layout: two machine words. */
    return syscall(SYS_process_madvise, HAKMEM_PIDFD_SELF_PROCESS, (const struct iovec *)ranges, count, advice, 0u);
}
