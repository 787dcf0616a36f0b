/* sl_thp.h — zeroed anonymous memory laid out for transparent huge pages.
   A length of SL_THP_PAGE or more is mapped SL_THP_PAGE-aligned, rounded
   up to whole huge pages and advised MADV_HUGEPAGE, so that the kernel
   backs it with 2 MiB pages (THP "madvise", Debian's default, or
   "always") and a first write faults once per 2 MiB instead of once per
   4 KiB: ~10 us a fault on the VM this was measured on, plus a TLB entry
   per 4 KiB afterwards.  Shorter lengths are plain 4 KiB mappings.
   Advice only: with THP off the memory works the same on small pages.
   Thread-safe (mmap / munmap). */
#ifndef SL_THP_H
#define SL_THP_H

#include <stddef.h>

#define SL_THP_PAGE (2u << 20) /* a transparent huge page on x86-64 */

/* sl_thp_alloc: len (> 0) zeroed bytes, SL_THP_PAGE-aligned when len is at
   least SL_THP_PAGE; NULL with errno set when the kernel refuses. */
void *sl_thp_alloc(size_t len);

/* sl_thp_free gives back p from sl_thp_alloc(len), len the same; p NULL
   does nothing. */
void sl_thp_free(void *p, size_t len);

#endif /* SL_THP_H */
