/* sl_bell.c — ctrl's doorbell (see sl_bell.h). */
#include "sl_bell.h"

#include <errno.h>
#include <string.h>
#include <sys/pidfd.h>
#include <unistd.h>

#include "sl_log.h"

static void sl_bell_on_signal(int sig)
{
	(void)sig; /* ends ppoll with EINTR; nothing else to do */
}

int sl_bell_ctrl_setup(sigset_t *wait_mask)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sl_bell_on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		return -1;
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &usr1, wait_mask) != 0)
		return -1;
	sigdelset(wait_mask, SIGUSR1);
	return 0;
}

bool sl_bell_waiting(const sl_region_t *r)
{
	for (uint32_t i = 0; i < r->hdr->n_lcores; i++)
		if (sl_msgq_pending(sl_region_event_ring(r, i)) > 0)
			return true;
	return false;
}

bool sl_bell_arm(const sl_region_t *r)
{
	atomic_store_explicit(&r->hdr->ctrl_bell, 1, memory_order_seq_cst);
	return sl_bell_waiting(r);
}

void sl_bell_disarm(const sl_region_t *r)
{
	atomic_store_explicit(&r->hdr->ctrl_bell, 0, memory_order_relaxed);
}

bool sl_bell_trusted(const sl_region_t *r)
{
	return atomic_load_explicit(&r->hdr->dp_bell_pid, memory_order_acquire) ==
	       (uint32_t)getpid();
}

void sl_bell_init(sl_bell_t *b)
{
	*b = (sl_bell_t){.pidfd = -1};
}

void sl_bell_fini(sl_bell_t *b)
{
	if (b->pidfd >= 0)
		close(b->pidfd);
	sl_bell_init(b);
}

/* sl_bell_track: b's pidfd refers to ctrl `pid` (opened now for a new
   one; -1 when the process is gone or may not be signalled: probed with
   signal 0), and the region says which ctrl the bell reaches
   (dp_bell_pid: ctrl then sleeps until its next tick instead of looking
   at the rings every SL_CTRL_PEEK_NS). */
static void sl_bell_track(sl_bell_t *b, sl_region_hdr_t *h, uint32_t pid)
{
	if (b->pidfd >= 0)
		close(b->pidfd);
	b->pid = pid;
	b->pidfd = pidfd_open((pid_t)pid, 0);
	if (b->pidfd >= 0 && pidfd_send_signal(b->pidfd, 0, NULL, 0) != 0) {
		close(b->pidfd);
		b->pidfd = -1;
	}
	if (SL_UNLIKELY(b->pidfd < 0 && errno != ESRCH)) /* EPERM: another user */
		SL_WARN("bell: cannot signal sluice-ctrl %u: %s (ctrl falls back to its "
		        "periodic look)",
		        pid, strerror(errno));
	atomic_store_explicit(&h->dp_bell_pid, b->pidfd >= 0 ? pid : 0, memory_order_release);
}

bool sl_bell_check(sl_bell_t *b, const sl_region_t *r, bool ctrl_live)
{
	sl_region_hdr_t *h = r->hdr;
	uint32_t pid = atomic_load_explicit(&h->ctrl_pid, memory_order_relaxed);
	if (SL_UNLIKELY(pid != b->pid) && pid != 0 && ctrl_live)
		sl_bell_track(b, h, pid); /* once per ctrl */
	if (SL_LIKELY(atomic_load_explicit(&h->ctrl_bell, memory_order_relaxed) == 0))
		return false;
	atomic_thread_fence(memory_order_seq_cst); /* the flag, then the rings */
	if (!sl_bell_waiting(r) || !ctrl_live || pid != b->pid || b->pidfd < 0)
		return false;
	if (atomic_exchange_explicit(&h->ctrl_bell, 0, memory_order_acq_rel) == 0)
		return false;
	if (SL_UNLIKELY(pidfd_send_signal(b->pidfd, SIGUSR1, NULL, 0) != 0))
		return false; /* gone since: a new ctrl_pid comes with the next one */
	b->rung++;
	return true;
}
