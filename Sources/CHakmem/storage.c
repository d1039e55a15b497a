// Definitions for CHakmem.h. The allocator's start-up runs from a constructor as well as from the
// first malloc, so that the chunk map and options are ready before the program's main().
#include "CHakmem.h"

__attribute__((visibility("hidden"))) __thread HakmemThreadRoot hakmem_thread_root
    __attribute__((tls_model("initial-exec"))) = {{0}};

__attribute__((visibility("hidden"))) struct HakmemMidClassTable hakmem_mid_class;
__attribute__((visibility("hidden"))) struct HakmemAlignedClassTable hakmem_aligned_class;



// Start the allocator before main() when loaded with LD_PRELOAD (malloc may still come first).
extern void hakmem_library_constructor(void);
__attribute__((constructor)) static void hakmem_constructor(void) { hakmem_library_constructor(); }

// Statistics at exit (HAKMEM_STATS), after main() returns or exit() is called.
extern void hakmem_library_destructor(void);
__attribute__((destructor)) static void hakmem_destructor(void) { hakmem_library_destructor(); }
