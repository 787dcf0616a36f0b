/* sl_api.h — the control API of sluice-ctrl (SPEC.md §9): one JSON object per
   line.  Request {"id":N,"cmd":"...","args":{...}} (operations also
   "tx":N); reply {"id":N,"ok":true,"result":...} or {"id":N,"ok":false,
   "error":{"code":"...","message":"..."}}.  The face of ctrl: dispatch
   comes from the one command table (sl_cmdtab.h, shared with sluicectl),
   one handler per row; handlers call the operations (sl_op.h,
   sl_opkind.h) or query the domain, and render the answer (sl_render.h).
   A command a later issue implements answers UNKNOWN_CMD "not implemented
   in this build".  Owner: the ctrl loop. */
#ifndef SL_API_H
#define SL_API_H

#include "sl_base.h"
#include "sl_op.h"

/* sl_api_line answers one request line (`ctx` is the sl_ctrl_t; `line` has
   no '\n').  Never fails on bad input: malformed JSON, a missing or
   non-integer id, a missing cmd or non-object args answer BAD_REQUEST
   (id null when unknown); an unknown command UNKNOWN_CMD; a command that
   needs the dataplane while none is attached NOT_READY.  Returns a malloc'd
   reply line without '\n'; NULL when an operation answers later (its
   client waits on it, sl_api_op_ended) or when out of memory. */
char *sl_api_line(void *ctx, const char *line, size_t len);

/* sl_api_op_ended is the op table's end hook (`ctx` is the sl_ctrl_t):
   every client waiting on op gets the op's result or error as the reply
   to its request. */
void sl_api_op_ended(void *ctx, const sl_op_t *op);

/* sl_api_poll_reads takes the store read path's completions (c is the
   sl_ctrl_t; call when its eventfd is readable, and after shutting it
   down) and routes each by cookie: a header.get's client is answered, a
   watch subscription is granted (sl_apiwatch.h), an op's goes to its kind
   (sl_opkind_storeread_done). */
struct sl_ctrl;
void sl_api_poll_reads(struct sl_ctrl *c);

#endif /* SL_API_H */
