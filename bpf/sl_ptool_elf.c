/* sl_ptool_elf.c — USDT notes of a binary (sl_ptool_elf.h). */
#include "sl_ptool_elf.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <unistd.h>

#define SL_PTOOL_ELF_NT_STAPSDT 3

int sl_ptool_elf_has(char names[][SL_PTOOL_ELF_NAME_MAX], int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* sl_ptool_elf_note adds the probe of one stapsdt note (desc: three
   addresses, then "provider\0name\0args\0") when it is of `provider`. */
static void sl_ptool_elf_note(const char *desc, size_t sz, size_t addr_sz, const char *provider,
                              char names[][SL_PTOOL_ELF_NAME_MAX], int max, int *n)
{
	size_t off = 3 * addr_sz;
	if (sz <= off)
		return;
	const char *prov = desc + off;
	size_t plen = strnlen(prov, sz - off);
	if (off + plen + 1 >= sz || strcmp(prov, provider) != 0)
		return;
	const char *name = prov + plen + 1;
	size_t nlen = strnlen(name, sz - off - plen - 1);
	if (nlen == 0 || nlen >= SL_PTOOL_ELF_NAME_MAX || *n >= max ||
	    sl_ptool_elf_has(names, *n, name))
		return;
	memcpy(names[*n], name, nlen + 1);
	(*n)++;
}

static sl_ptool_elf_err_t sl_ptool_elf_scan(Elf *e, const char *provider,
                                            char names[][SL_PTOOL_ELF_NAME_MAX], int max, int *n)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(e, &shstrndx) != 0)
		return SL_PTOOL_ELF_ERR_NOT_ELF;
	size_t addr_sz = gelf_getclass(e) == ELFCLASS32 ? 4 : 8;
	int found = 0;
	for (Elf_Scn *scn = elf_nextscn(e, NULL); scn != NULL; scn = elf_nextscn(e, scn)) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) == NULL || sh.sh_type != SHT_NOTE)
			continue;
		const char *sname = elf_strptr(e, shstrndx, sh.sh_name);
		if (sname == NULL || strcmp(sname, ".note.stapsdt") != 0)
			continue;
		found = 1;
		Elf_Data *d = elf_getdata(scn, NULL);
		if (d == NULL)
			continue;
		GElf_Nhdr nh;
		size_t off = 0, name_off, desc_off;
		while ((off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
			if (nh.n_type != SL_PTOOL_ELF_NT_STAPSDT || nh.n_namesz != 8 ||
			    memcmp((char *)d->d_buf + name_off, "stapsdt", 8) != 0)
				continue;
			sl_ptool_elf_note((const char *)d->d_buf + desc_off, nh.n_descsz, addr_sz,
			                  provider, names, max, n);
		}
	}
	return found ? SL_PTOOL_ELF_OK : SL_PTOOL_ELF_ERR_NO_NOTE;
}

sl_ptool_elf_err_t sl_ptool_elf_probes(const char *path, const char *provider,
                                       char names[][SL_PTOOL_ELF_NAME_MAX], int max, int *n)
{
	*n = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return SL_PTOOL_ELF_ERR_NOT_ELF;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SL_PTOOL_ELF_ERR_OPEN;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	sl_ptool_elf_err_t r = SL_PTOOL_ELF_ERR_NOT_ELF;
	if (e != NULL && elf_kind(e) == ELF_K_ELF)
		r = sl_ptool_elf_scan(e, provider, names, max, n);
	if (e != NULL)
		elf_end(e);
	int saved = errno;
	close(fd);
	errno = saved;
	return r;
}
