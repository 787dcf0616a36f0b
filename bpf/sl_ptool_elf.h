/* sl_ptool_elf.h — which USDT probes a binary carries: the entries of its
   .note.stapsdt section (SystemTap SDT v3 notes, what <sys/sdt.h> emits and
   libbpf attaches to).  sluice-probe uses it to tell a binary built with
   CONFIG_SL_USDT=n from one that lacks a single probe, and to attach each
   program only where its probe exists.  Reads the file; keeps nothing. */
#ifndef SL_PTOOL_ELF_H
#define SL_PTOOL_ELF_H

#define SL_PTOOL_ELF_NAME_MAX 64

typedef enum {
	SL_PTOOL_ELF_OK = 0,
	SL_PTOOL_ELF_ERR_OPEN,    /* cannot open or read the file (errno kept) */
	SL_PTOOL_ELF_ERR_NOT_ELF, /* not an ELF file libelf can read */
	SL_PTOOL_ELF_ERR_NO_NOTE, /* no .note.stapsdt: built without USDT probes */
} sl_ptool_elf_err_t;

/* sl_ptool_elf_probes fills names[0..*n) with the probe names of
   `provider` in the ELF file at `path` (each once, up to `max`).  Returns
   SL_PTOOL_ELF_OK (possibly *n == 0: notes, but none of `provider`) or the
   reason it could not. */
sl_ptool_elf_err_t sl_ptool_elf_probes(const char *path, const char *provider,
                                       char names[][SL_PTOOL_ELF_NAME_MAX], int max, int *n);

/* sl_ptool_elf_has reports whether `name` is among names[0..n). */
int sl_ptool_elf_has(char names[][SL_PTOOL_ELF_NAME_MAX], int n, const char *name);

#endif /* SL_PTOOL_ELF_H */
