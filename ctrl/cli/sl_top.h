/* sl_top.h — `sluicectl top`: a live view of one node, refreshed every
   second: node and sync state (height, target, headers/s, time left, the
   range table), per-lcore packets/s, drops/s and sessions, the busiest
   peers (header frames/s each way), the operations running.  On a
   terminal it draws on the alternate screen with ANSI sequences and quits
   on `q` (or Ctrl-C), restoring the terminal; otherwise it samples twice,
   one second apart, prints one screen as plain text and exits.  Every
   figure comes from the control API (status, stats, sync.status, peers,
   peer.show, ops) over one connection (sl_client.h).
   Owner: the CLI's one thread. */
#ifndef SL_TOP_H
#define SL_TOP_H

#include <stdbool.h>

#define SL_TOP_PEERS_MAX  16u /* sessions looked at (peer.show) per refresh */
#define SL_TOP_ROWS_PEERS 8u  /* busiest peers shown */

/* sl_top_run shows the node behind socket until q (tty) or after one
   screen (not a tty); returns the CLI exit status (SPEC §10). */
int sl_top_run(const char *socket, double timeout_s, bool tty);

#endif /* SL_TOP_H */
