/* sl_api.h — the control API of sluice-ctrl (SPEC.md §9): one JSON object per
   line.  Request {"id":N,"cmd":"...","args":{...}}; reply {"id":N,"ok":true,
   "result":...} or {"id":N,"ok":false,"error":{"code":"...","message":"..."}}.
   Dispatch comes from the one command table (sl_cmdtab.h, shared with
   sluicectl): a handler per row; a command a later issue implements
   answers UNKNOWN_CMD "not implemented in this build" until its handler is
   filled in.  Owner: the ctrl loop. */
#ifndef SL_API_H
#define SL_API_H

#include "sl_base.h"

/* sl_api_line answers one request line (`ctx` is the sl_ctrl_t; `line` has
   no '\n').  Never fails on bad input: malformed JSON, a missing or
   non-integer id, a missing cmd or non-object args answer BAD_REQUEST
   (id null when unknown); an unknown command UNKNOWN_CMD; a command that
   needs the dataplane while none is attached NOT_READY.  Returns a malloc'd
   reply line without '\n' (NULL only when out of memory). */
char *sl_api_line(void *ctx, const char *line, size_t len);

struct json_t;

/* sl_api_reply_line builds one reply line (no '\n', malloc'd) for request
   `id`: {"id","ok":true,"result"} when result is not NULL, else
   {"id","ok":false,"error":{"code","message", ...extra's fields}}.  Takes
   the references to result and extra (either may be NULL).  Used for
   replies sent later (peer.connect).  NULL only when out of memory. */
char *sl_api_reply_line(int64_t id, struct json_t *result, const char *code, const char *message,
                        struct json_t *extra);

#endif /* SL_API_H */
