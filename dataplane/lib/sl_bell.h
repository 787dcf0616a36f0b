/* sl_bell.h — ctrl's doorbell: how the dataplane wakes a sluice-ctrl that
   sleeps between ticks when an event is waiting for it.

   Without it an event posted while ctrl slept in ppoll waited for ctrl's
   next look at the event rings (every SL_CTRL_PEEK_NS, 1 ms, and later
   when the machine is busy): a HELLO's admission, a NEW_BLOCK's relay.
   With it, ctrl arms a
   flag in the region before an idle sleep; the dataplane's main lcore,
   which finds the flag armed and an event waiting on any lcore's event
   ring, clears the flag and signals ctrl (SIGUSR1, through a pidfd, so a
   pid that was recycled is never signalled).  ctrl keeps SIGUSR1 blocked
   except inside ppoll, so the signal ends a sleep and interrupts nothing
   else.

   No lost wake-up: ctrl arms, then looks at the rings, and sleeps only
   when they are empty; the main lcore looks at the flag, then at the
   rings, every cycle, so an event ctrl's look missed is seen by a later
   cycle with the flag armed.  At most one signal per armed sleep (the
   main lcore clears the flag by exchange).  No syscall unless ctrl
   sleeps armed and an event waits (and one pidfd_open per new ctrl).
   The dataplane names the ctrl its bell reaches in the region
   (dp_bell_pid); that ctrl sleeps until its next tick instead of looking
   every SL_CTRL_PEEK_NS, which is left to a ctrl the bell cannot signal.

   Owners: the region's ctrl_bell flag is ctrl's to arm and either side's
   to clear; dp_bell_pid and sl_bell_t are the main lcore's. */
#ifndef SL_BELL_H
#define SL_BELL_H

#include <signal.h>

#include "sl_region.h"

/* The main lcore's side: a pidfd of the ctrl it tracks. */
typedef struct {
	int pidfd;     /* -1: none (not opened, gone, or not ours to signal) */
	uint32_t pid;  /* the ctrl_pid last tracked (tried once each) */
	uint64_t rung; /* signals sent */
} sl_bell_t;

/* sl_bell_ctrl_setup (ctrl, before it starts any thread): SIGUSR1 gets a
   handler that does nothing and is blocked; *wait_mask is the mask to give
   ppoll (today's, SIGUSR1 unblocked).  0, or -1 with errno. */
int sl_bell_ctrl_setup(sigset_t *wait_mask);

/* sl_bell_waiting: an event waits for ctrl on one of the n_lcores event
   rings (a few loads; either process). */
bool sl_bell_waiting(const sl_region_t *r);

/* sl_bell_arm (ctrl, before a sleep): arms the flag, then returns whether
   an event already waits on one of the n_lcores event rings (then ctrl
   should not sleep).  sl_bell_disarm after the sleep. */
bool sl_bell_arm(const sl_region_t *r);
void sl_bell_disarm(const sl_region_t *r);

/* sl_bell_init: no pidfd yet.  sl_bell_fini closes it. */
void sl_bell_init(sl_bell_t *b);
void sl_bell_fini(sl_bell_t *b);

/* sl_bell_check (main lcore, each cycle): when the flag is armed and an
   event waits, clears the flag and signals the ctrl whose pid is in the
   region.  ctrl_live: the caller found ctrl's heartbeat fresh.  A pidfd
   is opened only then, once per ctrl_pid (so a pid left behind by a ctrl
   that died is not signalled), probed with signal 0, and the region's
   dp_bell_pid names the ctrl the bell reaches (0: none).  Returns true
   when it signalled. */
bool sl_bell_check(sl_bell_t *b, const sl_region_t *r, bool ctrl_live);

/* sl_bell_trusted (ctrl): the attached dataplane's bell reaches this
   process, so an idle sleep may last until the next tick. */
bool sl_bell_trusted(const sl_region_t *r);

#endif /* SL_BELL_H */
