// The chunk map's storage (see CHakmem.h): 64 MiB of .bss, so untouched pages cost nothing.
// This file does not include the header, which declares the symbol by its first byte only.
// One byte beyond the last chunk stays 0: free's range check may index it (ChunkMap.swift).
#define HAKMEM_CHUNK_COUNT (1ull << (47 - 21))

__attribute__((visibility("hidden"), aligned(4096)))
unsigned char hakmem_chunk_map[HAKMEM_CHUNK_COUNT + 1];
