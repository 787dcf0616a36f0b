/* sl_ident.c — the identity key file (see sl_ident.h). */
#include "sl_ident.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDENT_FILE_LEN 65 /* 64 hex digits and a newline */

void sl_ident_hex(const uint8_t node_id[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", node_id[i]);
}

static sl_ident_err_t ident_fail(sl_ident_err_t e, char *err, size_t err_sz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sl_ident_err_t ident_fail(sl_ident_err_t e, char *err, size_t err_sz, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, err_sz, fmt, ap);
	va_end(ap);
	return e;
}

/* ident_create writes a fresh seed to path.tmp (0600), then renames it
   into place: a crash leaves either no key or a whole one. */
static sl_ident_err_t ident_create(const char *path, uint8_t seed[SL_AUTH_SEED_LEN], char *err,
                                   size_t err_sz)
{
	char tmp[4096], line[IDENT_FILE_LEN + 1];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return ident_fail(SL_IDENT_ERR_IO, err, err_sz, "%s: path too long", path);
	sl_auth_random(seed, SL_AUTH_SEED_LEN);
	sl_ident_hex(seed, line);
	line[64] = '\n';
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && fchmod(fd, 0600) == 0 &&
	          write(fd, line, IDENT_FILE_LEN) == IDENT_FILE_LEN && fsync(fd) == 0;
	int e = errno;
	sl_auth_wipe(line, sizeof line);
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) != 0) {
		e = ok ? errno : e;
		unlink(tmp);
		return ident_fail(SL_IDENT_ERR_IO, err, err_sz,
		                  "cannot create the identity key %s: %s (fix: make its directory "
		                  "writable by this user, or set [instance] key)",
		                  path, strerror(e));
	}
	return SL_IDENT_ERR_OK;
}

/* ident_read reads and checks an existing key file. */
static sl_ident_err_t ident_read(const char *path, int fd, uint8_t seed[SL_AUTH_SEED_LEN],
                                 char *err, size_t err_sz)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return ident_fail(SL_IDENT_ERR_IO, err, err_sz, "%s: %s", path, strerror(errno));
	if ((st.st_mode & 077) != 0)
		return ident_fail(SL_IDENT_ERR_MODE, err, err_sz,
		                  "the identity key %s is open to group or others (mode %03o); "
		                  "fix: chmod 600 %s",
		                  path, (unsigned)(st.st_mode & 0777), path);
	char buf[IDENT_FILE_LEN + 2];
	ssize_t n = read(fd, buf, sizeof buf);
	bool ok = n == IDENT_FILE_LEN - 1 || (n == IDENT_FILE_LEN && buf[64] == '\n');
	for (int i = 0; ok && i < 32; i++) {
		unsigned v;
		ok = sscanf(buf + 2 * i, "%2x", &v) == 1 && buf[2 * i] != ' ' &&
		     buf[2 * i + 1] != ' ';
		seed[i] = (uint8_t)v;
	}
	sl_auth_wipe(buf, sizeof buf);
	if (!ok)
		return ident_fail(SL_IDENT_ERR_FORMAT, err, err_sz,
		                  "the identity key %s is not 64 hex digits (fix: restore it, or "
		                  "move it away and a new identity is made at start)",
		                  path);
	return SL_IDENT_ERR_OK;
}

sl_ident_err_t sl_ident_load(const char *path, sl_auth_id_t *id, bool *created, char *err,
                             size_t err_sz)
{
	uint8_t seed[SL_AUTH_SEED_LEN];
	sl_ident_err_t e;
	*created = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		e = ident_create(path, seed, err, err_sz);
		*created = e == SL_IDENT_ERR_OK;
	} else if (fd < 0) {
		e = ident_fail(SL_IDENT_ERR_IO, err, err_sz, "cannot read the identity key %s: %s",
		               path, strerror(errno));
	} else {
		e = ident_read(path, fd, seed, err, err_sz);
		close(fd);
	}
	if (e == SL_IDENT_ERR_OK)
		sl_auth_id_from_seed(id, seed);
	sl_auth_wipe(seed, sizeof seed);
	return e;
}
