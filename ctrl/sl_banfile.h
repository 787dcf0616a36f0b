/* sl_banfile.h — bans that survive a restart (issue 12 item 3): the file
   `bans` in the store directory, one ban per line
       a.b.c.d UNTIL
   UNTIL the wall-clock second the ban ends (0: until unbanned); '#' starts
   a comment.  Written whole on every change (a temp file renamed over the
   old one: a crash leaves the old list or the new one, never half).  A line
   that does not parse is skipped with a warning naming file:line.
   Owner: the ctrl loop. */
#ifndef SL_BANFILE_H
#define SL_BANFILE_H

#include "sl_base.h"

typedef struct {
	uint32_t ip;
	uint64_t until_unix; /* 0: until unbanned */
} sl_banfile_ban_t;

/* sl_banfile_save writes n bans to path; 0, or -errno with a log line. */
int sl_banfile_save(const char *path, const sl_banfile_ban_t *bans, uint32_t n);

/* sl_banfile_load reads up to max bans of path into out (expired ones,
   ending before now_unix, left out); returns how many, 0 when there is no
   file, -errno with a log line when it cannot be read. */
int sl_banfile_load(const char *path, uint64_t now_unix, sl_banfile_ban_t *out, uint32_t max);

#endif /* SL_BANFILE_H */
