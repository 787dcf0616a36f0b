/* sl_loop.h — the poll loop of a worker lcore (DESIGN.md "The lcore poll
   cycle"), in the manner of Firedancer's stem: it knows no routine.  One
   cycle runs the phases in order —
     0 events        the backlog of never-lost events to ctrl (sl_evq.h)
     1 rx            gather bursts (the ingress depth), then serve frames
                     while the budget lasts (sl_ingress.c demux)
     6 backpressure  judged on the depth phase 1 gathered, before serving
                     it, so the BACKOFF decision applies to those frames
     2 commands      this lcore's command ring (sl_cmd.c)
     3 deadlines     connect retries, then every live session's
                     descriptors' tick (once per tick period)
     4 liveness      every live session's descriptors' liveness
     5 pull          every descriptor's per-lcore pull
     - housekeeping  main lcore only: the header store's open retry, the
                     heartbeat and the stop decision (signal, ctrl)
     7 tx            flush, cycle counter
     - idle          optional sleep after an empty cycle
   Routines are reached only through sl_routine.h and sl_stream.h. */
#ifndef SL_LOOP_H
#define SL_LOOP_H

#include "sl_lcore.h"

/* sl_loop_main is the poll loop (an lcore_function_t; arg: sl_lcore_t,
   prepared by sl_lcore_init and sl_routine_create).  Runs cycles until
   dp->stop, then says GOODBYE(SHUTDOWN) to every live session
   (SESSION_DOWN events), flushes TX and frees what it holds.  Returns 0. */
int sl_loop_main(void *arg);

#endif /* SL_LOOP_H */
