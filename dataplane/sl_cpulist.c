/* sl_cpulist.c — see sl_cpulist.h. */
#include "sl_cpulist.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* cpulist_num reads a decimal id below SL_CPULIST_MAX at *s, advancing it. */
static int cpulist_num(const char **s, unsigned long *out)
{
	if (!isdigit((unsigned char)**s))
		return -EINVAL;
	char *end;
	errno = 0;
	*out = strtoul(*s, &end, 10);
	if (errno != 0 || *out >= SL_CPULIST_MAX)
		return -EINVAL;
	*s = end;
	return 0;
}

int sl_cpulist_parse(sl_cpulist_t *t, const char *s)
{
	memset(t, 0, sizeof *t);
	while (*s != '\0' && *s != '\n') {
		unsigned long lo, hi;
		if (cpulist_num(&s, &lo) != 0)
			return -EINVAL;
		hi = lo;
		if (*s == '-') {
			s++;
			if (cpulist_num(&s, &hi) != 0 || hi < lo)
				return -EINVAL;
		}
		for (unsigned long c = lo; c <= hi; c++)
			t->bits[c / 64] |= 1ull << (c % 64);
		if (*s == ',' && s[1] != '\0' && s[1] != '\n')
			s++;
		else if (*s != '\0' && *s != '\n')
			return -EINVAL;
	}
	return 0;
}

int sl_cpulist_load(sl_cpulist_t *t, const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t len = read(fd, buf, sizeof buf - 1);
	int err = len < 0 ? -errno : 0;
	close(fd);
	if (err != 0)
		return err;
	buf[len] = '\0';
	return sl_cpulist_parse(t, buf);
}

bool sl_cpulist_has(const sl_cpulist_t *t, unsigned cpu)
{
	return cpu < SL_CPULIST_MAX && (t->bits[cpu / 64] >> (cpu % 64) & 1) != 0;
}
