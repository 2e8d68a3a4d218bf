/*
 * Linked into the NativeAOT pk binary (see Polykey.Cli.csproj). Before main, the runtime
 * writes ~2.4 MB of type data into the binary's zero-filled .hydrated section, page by page:
 * ~600 page faults, a fifth of the start of every pk command on a virtual machine where a
 * fault costs ~10 us. One madvise(MADV_POPULATE_WRITE) over the zero-filled part of the
 * writable segment maps the same pages in one call first (measured: `pk --version` 863 -> 253
 * page faults, ~26 -> ~20 ms of CPU). Kernels before 5.14 refuse the advice, and nothing changes.
 */
#define _GNU_SOURCE
#include <link.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static int populate_zero_filled_segments(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *segment = &info->dlpi_phdr[i];
        if (segment->p_type != PT_LOAD || !(segment->p_flags & PF_W) || segment->p_memsz <= segment->p_filesz)
            continue;
        /* Only whole pages past the file's bytes: the page they end in is mapped from the file. */
        uintptr_t start = (info->dlpi_addr + segment->p_vaddr + segment->p_filesz + page - 1) & ~(page - 1);
        uintptr_t end = (info->dlpi_addr + segment->p_vaddr + segment->p_memsz + page - 1) & ~(page - 1);
        if (end > start)
            madvise((void *)start, end - start, MADV_POPULATE_WRITE);
    }
    return 1; /* the first object listed is the program itself: stop there */
}

__attribute__((constructor)) static void pk_populate_runtime_data(void)
{
    dl_iterate_phdr(populate_zero_filled_segments, NULL);
}
