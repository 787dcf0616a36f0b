/* sl_banfile.c — the persisted ban list (see sl_banfile.h). */
#include "sl_banfile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_log.h"

int sl_banfile_save(const char *path, const sl_banfile_ban_t *bans, uint32_t n)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		int e = errno;
		SL_WARN("bans not saved: cannot write %s: %s", tmp, strerror(e));
		return -e;
	}
	fprintf(f,
	        "# sluice bans: a.b.c.d until_unix (0: until unbanned); written by sluice-ctrl\n");
	for (uint32_t i = 0; i < n; i++) {
		struct in_addr a = {.s_addr = htonl(bans[i].ip)};
		char ip[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, ip, sizeof ip);
		fprintf(f, "%s %llu\n", ip, (unsigned long long)bans[i].until_unix);
	}
	int rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc != 0) {
		SL_WARN("bans not saved to %s: %s", path, strerror(-rc));
		unlink(tmp);
	}
	return rc;
}

int sl_banfile_load(const char *path, uint64_t now_unix, sl_banfile_ban_t *out, uint32_t max)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		int e = errno;
		SL_WARN("bans not loaded: cannot read %s: %s", path, strerror(e));
		return -e;
	}
	char line[256], ip[64];
	unsigned long long until;
	int n = 0, lineno = 0;
	while (fgets(line, sizeof line, f) != NULL && (uint32_t)n < max) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		struct in_addr a;
		char extra;
		if (sscanf(line, "%63s %llu %c", ip, &until, &extra) != 2 ||
		    inet_pton(AF_INET, ip, &a) != 1 || a.s_addr == 0) {
			SL_WARN("%s:%d: not 'a.b.c.d until_unix'; line skipped", path, lineno);
			continue;
		}
		if (until != 0 && until <= now_unix)
			continue; /* ended while we were down */
		out[n++] = (sl_banfile_ban_t){.ip = ntohl(a.s_addr), .until_unix = until};
	}
	fclose(f);
	return n;
}
