/* sl_peermgr.c — see sl_peermgr.h. */
#include "sl_peermgr.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sl_msgq.h"
#include "sl_banfile.h"
#include "sl_log.h"
#include "sl_net.h"
#include "sl_probe.h"
#include "sl_time.h"

#define SL_PEERMGR_SLOW_NS (1000ULL * SL_NS_PER_MS)

static void peermgr_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = getrandom(p, len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (SL_UNLIKELY(r <= 0)) { /* no entropy source: time, still unique enough */
			uint64_t t = sl_now_ns() ^ (uint64_t)(uintptr_t)p;
			size_t k = SL_MIN(len, sizeof t);
			memcpy(p, &t, k);
			r = (ssize_t)k;
		}
		p += r;
		len -= (size_t)r;
	}
}

static uint64_t node_random_u64(void)
{
	uint64_t v = 0;
	while (v == 0)
		peermgr_random(&v, sizeof v);
	return v;
}

static void peermgr_addr_str(char *out, size_t sz, uint32_t ip, uint16_t port)
{
	snprintf(out, sz, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
	         port);
}

/* ---- init / attach ------------------------------------------------------ */

/* ---- bans that act and persist ------------------------------------------------ */

/* peermgr_bans_path: the ban list in the store directory. */
static void peermgr_bans_path(const sl_peermgr_t *n, char *out, size_t sz)
{
	snprintf(out, sz, "%s/bans", n->cfg->store);
}

/* peermgr_save_bans writes the live bans (wall-clock ends) to the store. */
static void peermgr_save_bans(sl_peermgr_t *n, uint64_t now_ns)
{
	sl_admit_ban_t live[SL_ADMIT_BANS_MAX];
	sl_banfile_ban_t out[SL_ADMIT_BANS_MAX];
	uint32_t k = SL_MIN(sl_admit_bans(&n->admit, now_ns, live, SL_ADMIT_BANS_MAX),
	                    (uint32_t)SL_ADMIT_BANS_MAX);
	uint64_t now_unix = (uint64_t)time(NULL);
	for (uint32_t i = 0; i < k; i++)
		out[i] = (sl_banfile_ban_t){
		    .ip = live[i].ip,
		    .until_unix = live[i].until_ns == UINT64_MAX
		                      ? 0
		                      : now_unix + (live[i].until_ns - now_ns + SL_NS_PER_S - 1) /
		                                       SL_NS_PER_S};
	char path[SL_CFG_STR + 8];
	peermgr_bans_path(n, path, sizeof path);
	sl_banfile_save(path, out, k);
}

/* peermgr_load_bans restores the bans a previous run saved. */
static void peermgr_load_bans(sl_peermgr_t *n, uint64_t now_ns)
{
	sl_banfile_ban_t in[SL_ADMIT_BANS_MAX];
	char path[SL_CFG_STR + 8];
	peermgr_bans_path(n, path, sizeof path);
	uint64_t now_unix = (uint64_t)time(NULL);
	int k = sl_banfile_load(path, now_unix, in, SL_ADMIT_BANS_MAX);
	for (int i = 0; i < k; i++) {
		uint64_t left = in[i].until_unix ? in[i].until_unix - now_unix : 0;
		sl_admit_ban(&n->admit, in[i].ip, (uint32_t)SL_MIN(left, (uint64_t)UINT32_MAX - 1),
		             now_ns);
	}
	if (k > 0)
		SL_INFO("%d ban(s) restored from %s", k, path);
}

_Static_assert(offsetof(sl_peermgr_t, book) < offsetof(sl_peermgr_t, admit) &&
                   offsetof(sl_peermgr_t, admit) < offsetof(sl_peermgr_t, score) &&
                   offsetof(sl_peermgr_t, score) < offsetof(sl_peermgr_t, peers) &&
                   offsetof(sl_peermgr_t, peers) + sizeof(sl_peers_t) <=
                       offsetof(sl_peermgr_t, connect_end),
               "sl_peermgr_init zeroes around book, admit, score and peers");

/* peermgr_heard (admission's sl_admit_heard_fn): the dataplane's table
   shows live session `sid` with a frame accepted from its peer (rx_frames):
   the proof its SESSION_PROVEN event is still carrying to us. */
static bool peermgr_heard(void *ctx, uint32_t sid)
{
	const sl_peermgr_t *n = ctx;
	if (n->region == NULL || sl_sid_lcore(sid) >= n->peers.n_lcores)
		return false;
	const struct sl_session_table *t = sl_region_sess(n->region, sl_sid_lcore(sid));
	sl_session_info_t info;
	return t != NULL && sl_session_snapshot(t, sl_sid_slot(sid), &info) == 1 &&
	       info.sid == sid && info.cnt.rx_frames > 0;
}

int sl_peermgr_init(sl_peermgr_t *n, const sl_cfg_t *cfg, const uint8_t genesis[32],
                    const sl_auth_id_t *id)
{
	/* the four tables format themselves below; zeroing them here too would
	   touch every page the peer table reserves for SL_MAX_LCORES lcores */
	memset(n, 0, offsetof(sl_peermgr_t, book));
	memset(&n->connect_end, 0, sizeof *n - offsetof(sl_peermgr_t, connect_end));
	n->cfg = cfg;
	if (id != NULL) {
		n->id = *id;
	} else {
		uint8_t seed[SL_AUTH_SEED_LEN];
		peermgr_random(seed, sizeof seed);
		sl_auth_id_from_seed(&n->id, seed);
		sl_auth_wipe(seed, sizeof seed);
	}
	memcpy(n->node_id, n->id.pk, sizeof n->node_id);
	memcpy(n->chain_id, genesis, 32);
	sl_admit_cfg_t ac;
	sl_admit_cfg_defaults(&ac);
	memcpy(ac.chain_id, n->chain_id, 32);
	memcpy(ac.node_id, n->node_id, 32);
	ac.max_peers = SL_MIN(cfg->max_peers, (uint32_t)SL_ADMIT_PEERS_MAX);
	ac.max_unproven = SL_MIN(cfg->max_unproven, (uint32_t)SL_ADMIT_PEERS_MAX);
	ac.n_lcores = SL_MAX_LCORES; /* the lcore count is the dataplane's; any index fits */
	ac.max_per_lcore = SL_MIN(cfg->per_lcore, (uint32_t)SL_SESSIONS_PER_LCORE);
	ac.max_per_addr = cfg->per_addr;
	ac.auth = cfg->auth;
	ac.hello_rate_per_s = cfg->hello_rate;
	ac.hello_burst = SL_MIN(cfg->hello_burst, SL_RATELIMIT_BURST_MAX);
	ac.hash_seed = node_random_u64();
	if (SL_UNLIKELY(sl_admit_init(&n->admit, &ac) != SL_ADMIT_OK)) {
		SL_ERR("admission settings out of range (max_peers %u per_lcore %u per_addr %u)",
		       ac.max_peers, ac.max_per_lcore, ac.max_per_addr);
		return -1;
	}
	sl_admit_set_heard(&n->admit, peermgr_heard, n);
	for (uint32_t i = 0; i < cfg->n_allow; i++)
		if (SL_UNLIKELY(sl_admit_allow_add(&n->admit, cfg->allow[i]) != SL_ADMIT_OK)) {
			SL_ERR("[admission] allowlist: more than %d node ids", SL_ADMIT_ALLOW_MAX);
			return -1;
		}
	uint32_t seed;
	peermgr_random(&seed, sizeof seed);
	sl_peers_init(&n->peers, 1, seed);
	sl_book_init(&n->book);
	sl_score_init(&n->score);
	peermgr_load_bans(n, sl_now_ns());
	for (uint32_t i = 0; i < cfg->n_bootstrap; i++)
		if (sl_book_add(&n->book, cfg->bootstrap[i].ipv4, cfg->bootstrap[i].port,
		                SL_BOOK_F_BOOTSTRAP, 0, NULL, 0) < 0)
			SL_WARN("[peers] bootstrap entry %u is not a dialable address; ignored",
			        i + 1);
	return 0;
}

void sl_peermgr_fini(sl_peermgr_t *n)
{
	sl_admit_fini(&n->admit);
}

static bool peermgr_admit_adopt(sl_peermgr_t *n, sl_peers_entry_t *p, uint64_t now_ns);

/* Give p's admission back: its outbound nonce, its committed or adopted
   record (by session id), else the PENDING reservation of its own HELLO
   (same nonce: never the record of another session to the same node). */
static void peermgr_admit_release(sl_peermgr_t *n, sl_peers_entry_t *p)
{
	if (p->outbound)
		sl_admit_nonce_del(&n->admit, p->nonce);
	if (sl_admit_remove_session(&n->admit, p->sid) == SL_ADMIT_OK || p->outbound)
		return;
	const sl_admit_peer_t *a = sl_admit_find(&n->admit, p->node_id);
	if (a != NULL && a->state == SL_ADMIT_PEER_PENDING && a->nonce == p->nonce &&
	    a->ip == p->ip && a->port == p->port)
		sl_admit_remove(&n->admit, p->node_id);
}

/* Sessions the dataplane already has (ctrl restarted under it): UP in the
   peer table and registered with admission (a second one to the same node
   is closed, see peermgr_admit_adopt).  Their direction is not in the region;
   they count as inbound. */
static uint32_t peermgr_adopt(sl_peermgr_t *n, uint64_t now_ns)
{
	uint32_t adopted = 0;
	for (uint32_t l = 0; l < n->peers.n_lcores; l++) {
		const struct sl_session_table *t = sl_region_sess(n->region, l);
		if (t == NULL)
			continue;
		for (uint32_t s = 0; s < SL_SESSIONS_PER_LCORE; s++) {
			sl_session_info_t info;
			if (sl_session_snapshot(t, s, &info) != 1)
				continue;
			sl_peers_entry_t *p =
			    sl_peers_adopt(&n->peers, info.sid, info.peer_ip, info.peer_port,
			                   info.streams, info.node_id, now_ns);
			if (p != NULL && peermgr_admit_adopt(n, p, now_ns))
				adopted++;
		}
	}
	return adopted;
}

static void peermgr_connect_end(sl_peermgr_t *n, sl_peers_entry_t *p, sl_code_t code,
                                const char *msg, const char *reject_reason, uint32_t retry_after_s);

/* Forget every session: admission capacity, nonces, waiters. */
static void peermgr_forget_all(sl_peermgr_t *n, const char *why)
{
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0; i < end; i++) {
		sl_peers_entry_t *p = &n->peers.e[i];
		if (p->state == SL_PEER_FREE)
			continue;
		peermgr_admit_release(n, p);
		if (p->waiter != 0)
			peermgr_connect_end(n, p, SL_CODE_NOT_READY, why, NULL, 0);
	}
}

int sl_peermgr_attach(sl_peermgr_t *n, sl_region_t *r, uint64_t now_ns)
{
	sl_region_hdr_t *h = r->hdr;
	peermgr_forget_all(n, "the dataplane restarted");
	memcpy(h->node_id, n->node_id, 32);
	memcpy(h->chain_id, n->chain_id, 32);
	atomic_thread_fence(memory_order_release);
	n->pbook = sl_pbook_join(sl_region_obj(r, SL_REGION_OBJ_PBOOK, 0));
	if (SL_UNLIKELY(sl_peers_reset(&n->peers, h->n_lcores) != 0 ||
	                sl_region_cmdq_join(r, &n->cmdq) != 0 || n->pbook == NULL)) {
		SL_ERR("region %s: session tables, command blocks or peer book not usable; "
		       "admitting nothing",
		       r->path);
		n->region = NULL;
		n->pbook = NULL;
		return -1;
	}
	n->region = r;
	n->ready = false;
	sl_book_set_self(&n->book, h->dp_ipv4, h->dp_udp_port);
	uint32_t adopted = peermgr_adopt(n, now_ns);
	char id[17];
	for (int i = 0; i < 8; i++)
		snprintf(id + 2 * i, 3, "%02x", n->node_id[i]);
	SL_INFO("node id %s... written to the region; %u live session(s) adopted", id, adopted);
	n->next_slow_ns = now_ns;
	return 0;
}

void sl_peermgr_detach(sl_peermgr_t *n)
{
	if (n->region == NULL)
		return;
	peermgr_forget_all(n, "the dataplane went away");
	sl_peers_reset(&n->peers, n->peers.n_lcores);
	n->region = NULL;
	sl_pbook_leave(n->pbook);
	n->pbook = NULL;
	n->ready = false;
	sl_admit_set_ready(&n->admit, false);
}

void sl_peermgr_set_shutting_down(sl_peermgr_t *n)
{
	n->shutting_down = true;
	n->ready = false;
	sl_admit_set_ready(&n->admit, false);
}

bool sl_peermgr_busy(const sl_peermgr_t *n)
{
	return n->region != NULL && (n->peers.n_resend > 0 || n->peers.n_live > n->peers.n_up);
}

uint32_t sl_peermgr_live(const sl_peermgr_t *n)
{
	return n->peers.n_up;
}

/* ---- commands ----------------------------------------------------------- */

/* Handle an outcome of a per-session send; returns true when queued. */
static bool peermgr_outcome(sl_peermgr_t *n, sl_peers_entry_t *p, sl_cmdq_outcome_t o, uint8_t what)
{
	uint32_t lcore = sl_peers_lcore_of(&n->peers, p), slot = sl_peers_slot_of(&n->peers, p);
	switch (o) {
	case SL_CMDQ_QUEUED:
	case SL_CMDQ_COALESCED:
		sl_peers_clear_resend(&n->peers, p, what);
		return true;
	case SL_CMDQ_RETRY:
		if ((p->resend & what) == 0)
			n->cnt.cmd_retries++;
		sl_peers_set_resend(&n->peers, p, what);
		return false;
	case SL_CMDQ_PARK_REQUIRED:
		SL_PROBE_CMD_PARK(p->sid, SL_WIRE_STREAM_HSYNC);
		n->cnt.cmd_parks++;
		sl_cmdq_park(&n->cmdq, lcore, slot, p->gen);
		if (n->hs_park != NULL)
			n->hs_park(n->hs_park_ctx, p->sid);
		sl_peers_clear_resend(&n->peers, p, what);
		return false;
	default:
		n->cnt.cmd_invalid++;
		SL_WARN("command %u to session %u (lcore %u slot %u gen %u): %s", what, p->sid,
		        lcore, slot, p->gen, sl_cmdq_outcome_str(o));
		sl_peers_clear_resend(&n->peers, p, what);
		return false;
	}
}

static void peermgr_send_install(sl_peermgr_t *n, sl_peers_entry_t *p)
{
	if (n->region == NULL)
		return;
	sl_cmdq_outcome_t o = sl_cmdq_send(
	    &n->cmdq, sl_peers_lcore_of(&n->peers, p), sl_peers_slot_of(&n->peers, p), p->gen,
	    SL_CMDQ_V_SESSION_INSTALL, &p->install, (uint16_t)sizeof p->install);
	if (peermgr_outcome(n, p, o, SL_PEER_RESEND_INSTALL))
		n->cnt.installs++;
}

static void peermgr_send_teardown(sl_peermgr_t *n, sl_peers_entry_t *p)
{
	if (n->region == NULL)
		return;
	sl_cmdq_outcome_t o = sl_cmdq_send(
	    &n->cmdq, sl_peers_lcore_of(&n->peers, p), sl_peers_slot_of(&n->peers, p), p->gen,
	    SL_CMDQ_V_SESSION_TEARDOWN, &p->teardown, (uint16_t)sizeof p->teardown);
	if (peermgr_outcome(n, p, o, SL_PEER_RESEND_TEARDOWN))
		n->cnt.teardowns++;
}

/* Free a slot whose install never reached the dataplane (no SESSION_DOWN
   will come for it). */
static void peermgr_free_unsent(sl_peermgr_t *n, sl_peers_entry_t *p)
{
	peermgr_admit_release(n, p);
	sl_peers_set_state(&n->peers, p, SL_PEER_FREE);
}

/* End a session: GOODBYE(goodbye), exit kind `exit`.  Returns 1 when a
   teardown was started or the entry freed, 0 when already closing. */
static int peermgr_close(sl_peermgr_t *n, sl_peers_entry_t *p, uint16_t goodbye, uint16_t exit)
{
	if (p->state == SL_PEER_CLOSING)
		return 0;
	if ((p->resend & SL_PEER_RESEND_INSTALL) != 0) {
		peermgr_free_unsent(n, p);
		return 1;
	}
	p->teardown = (sl_cmd_teardown_t){.goodbye = goodbye, .exit = exit};
	sl_peers_set_state(&n->peers, p, SL_PEER_CLOSING);
	peermgr_send_teardown(n, p);
	return 1;
}

static void peermgr_resend(sl_peermgr_t *n)
{
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0; i < end && n->peers.n_resend > 0; i++) {
		sl_peers_entry_t *p = &n->peers.e[i];
		if ((p->resend & SL_PEER_RESEND_INSTALL) != 0)
			peermgr_send_install(n, p);
		if ((p->resend & SL_PEER_RESEND_TEARDOWN) != 0)
			peermgr_send_teardown(n, p);
	}
}

/* ---- HELLO -------------------------------------------------------------- */

static void peermgr_send_reject(sl_peermgr_t *n, const sl_msg_t *m, const sl_evt_hello_t *ev,
                                uint32_t reply_session, uint16_t reason, uint16_t retry_after)
{
	sl_msg_t c;
	memset(&c, 0, sizeof c);
	sl_cmd_reject_t r = {
	    .peer_ip = ev->src_ip,
	    .peer_port = ev->src_port,
	    .vlan_tci = ev->vlan_tci,
	    .reason = reason,
	    .reply_session = reply_session,
	    .retry_after_s = retry_after,
	    .corr = m->corr,
	};
	memcpy(r.peer_mac, ev->src_mac, 6);
	c.type = SL_CMD_REJECT;
	c.len = sizeof r;
	c.lcore = m->lcore;
	c.corr = m->corr;
	memcpy(c.payload, &r, sizeof r);
	n->cnt.rejects++;
	if (SL_UNLIKELY(sl_msgq_send(sl_region_cmd_ring(n->region, m->lcore), &c) != 0))
		n->cnt.reject_drops++;
	char a[24];
	peermgr_addr_str(a, sizeof a, ev->src_ip, ev->src_port);
	SL_DEBUG("HELLO from %s rejected: %s (retry after %u s)", a, sl_admit_reason_str(reason),
	         retry_after);
}

/* peermgr_accept_auth completes the responder's side of SPEC §8 for an
   admitted HELLO (its signature already checked): a fresh ephemeral pair,
   the session's keys and the HELLO_ACK's signature, into the install.
   Returns 0, or -1 when the initiator's ephemeral key is unusable. */
static int peermgr_accept_auth(sl_peermgr_t *n, sl_cmd_install_t *in, const sl_wire_hello_t *h)
{
	sl_auth_eph_t e;
	sl_auth_eph_new(&e);
	int rc = sl_auth_keys_responder(&in->keys, &e, h->eph_pubkey);
	if (rc == 0) {
		sl_auth_ack_sign(&n->id, n->chain_id, e.pk, h->eph_pubkey, h->nonce, in->sig);
		memcpy(in->eph_pk, e.pk, sizeof in->eph_pk);
		in->auth = 1;
	}
	sl_auth_wipe(&e, sizeof e);
	return rc;
}

static void peermgr_accept(sl_peermgr_t *n, const sl_msg_t *m, const sl_evt_hello_t *ev,
                           const sl_wire_hello_t *h, const sl_admit_decision_t *d, uint64_t now_ns)
{
	sl_peers_entry_t *p = sl_peers_alloc(&n->peers, d->lcore, SL_PEER_INSTALLING, ev->src_ip,
	                                     ev->src_port, now_ns);
	if (SL_UNLIKELY(p == NULL)) { /* every slot busy (some still closing) */
		sl_admit_remove(&n->admit, h->node_id);
		peermgr_send_reject(n, m, ev, h->reply_session, SL_WIRE_REJECT_FULL,
		                    SL_ADMIT_RETRY_FULL);
		return;
	}
	p->nonce = h->nonce;
	p->streams = d->streams;
	memcpy(p->node_id, h->node_id, 32);
	p->install = (sl_cmd_install_t){
	    .mode = SL_INSTALL_ACCEPT,
	    .peer_port = ev->src_port,
	    .peer_ip = ev->src_ip,
	    .vlan_tci = ev->vlan_tci,
	    .remote_sid = h->reply_session,
	    .streams = d->streams,
	    .nonce = h->nonce,
	    .corr = m->corr,
	};
	memcpy(p->install.peer_mac, ev->src_mac, 6);
	memcpy(p->install.node_id, h->node_id, 32);
	if (h->has_auth && SL_UNLIKELY(peermgr_accept_auth(n, &p->install, h) != 0)) {
		peermgr_free_unsent(n, p);
		n->cnt.auth_rejects++;
		peermgr_send_reject(n, m, ev, h->reply_session, SL_WIRE_REJECT_AUTH,
		                    SL_ADMIT_RETRY_PERMANENT);
		return;
	}
	n->cnt.accepts++;
	peermgr_send_install(n, p);
}

/* peermgr_restarted: a HELLO with a new nonce from the address and node of
   one of our live inbound sessions means the peer lost that session (a
   restarted dataplane says HELLO again; a live session never does).  The
   old session is closed at once, without GOODBYE (nobody listens), and
   its admission given back, so the new HELLO is judged on its own rather
   than refused DUPLICATE until liveness notices the old one is dead.
   Sessions we dialled are left alone (a cross-dial, see
   sl_admit_keep_ours). */
static void peermgr_restarted(sl_peermgr_t *n, const sl_wire_hello_t *h, uint32_t ip, uint16_t port)
{
	const sl_admit_peer_t *a = sl_admit_find(&n->admit, h->node_id);
	if (a == NULL || a->state != SL_ADMIT_PEER_UP || a->outbound || a->ip != ip ||
	    a->port != port || a->nonce == h->nonce)
		return;
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, a->session);
	if (p == NULL || p->state != SL_PEER_UP || p->outbound)
		return;
	SL_INFO("session %u: its peer %u.%u.%u.%u:%u says HELLO again (new nonce): it restarted; "
	        "closing the old session",
	        p->sid, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, port);
	n->cnt.peer_restarts++;
	peermgr_admit_release(n, p);
	peermgr_close(n, p, 0, SL_EXIT_CANCEL);
}

/* peermgr_evict closes an unproven inbound session admission displaced
   (already forgotten there), without GOODBYE: its address may be forged,
   and nobody is owed an answer. */
static void peermgr_evict(sl_peermgr_t *n, uint32_t sid)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL || p->state != SL_PEER_UP)
		return;
	n->cnt.unproven_evicted++;
	peermgr_close(n, p, 0, SL_EXIT_CANCEL);
}

/* peermgr_follow_life opens admission when the dataplane's life is READY
   (and we are not shutting down) and closes it otherwise. */
static void peermgr_follow_life(sl_peermgr_t *n, uint32_t life, uint64_t now_ns)
{
	bool ready = life == SL_LIFE_READY && !n->shutting_down;
	if (ready == n->ready)
		return;
	n->ready = ready;
	if (ready)
		n->next_slow_ns = now_ns; /* dial now, not at the next slow tick */
	sl_admit_set_ready(&n->admit, ready);
	SL_INFO("admission %s", ready ? "open" : "closed");
}

static void peermgr_on_hello(sl_peermgr_t *n, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_hello_t *ev = (const sl_evt_hello_t *)m->payload;
	sl_wire_hello_t h;
	n->cnt.hello_rx++;
	if (SL_UNLIKELY(m->len < offsetof(sl_evt_hello_t, hello) ||
	                ev->hello_len > sizeof ev->hello ||
	                sl_wire_decode_hello(ev->hello, ev->hello_len, &h) != SL_WIRE_OK ||
	                m->lcore >= n->peers.n_lcores)) {
		n->cnt.hello_bad++;
		return;
	}
	peermgr_restarted(n, &h, ev->src_ip, ev->src_port);
	/* A HELLO drained in the tick that attached (or saw the dataplane
	   become READY) comes before that tick's sl_peermgr_tick: judge it on
	   the life the region shows now, not NOT_READY for 5 s. */
	if (SL_UNLIKELY(!n->ready) && n->region != NULL)
		peermgr_follow_life(n, sl_region_life(n->region), now_ns);
	sl_admit_decision_t d;
	sl_admit_decide(&n->admit, &h, ev->src_ip, ev->src_port, (uint16_t)m->lcore, now_ns, &d);
	if (d.evict != 0)
		peermgr_evict(n, d.evict);
	if (d.verdict == SL_ADMIT_REJECT) {
		n->cnt.auth_rejects += d.reason == SL_WIRE_REJECT_AUTH;
		peermgr_send_reject(n, m, ev, h.reply_session, d.reason, d.retry_after_s);
		return;
	}
	if (!d.repeat) {
		peermgr_accept(n, m, ev, &h, &d, now_ns);
		return;
	}
	/* The same (node_id, nonce) again: the same install, so the lcore
	   answers the same HELLO_ACK (SPEC §4). */
	n->cnt.accept_repeats++;
	sl_peers_entry_t *p = sl_peers_find_nonce(&n->peers, d.lcore, h.node_id, h.nonce);
	if (p != NULL && (p->state == SL_PEER_INSTALLING || p->state == SL_PEER_UP) &&
	    (p->resend & SL_PEER_RESEND_INSTALL) == 0)
		peermgr_send_install(n, p);
}

/* ---- session events ----------------------------------------------------- */

/* The entry an event names: its slot, non-FREE, and the same generation
   (the dataplane's sid is the truth once UP). */
static sl_peers_entry_t *peermgr_entry(sl_peermgr_t *n, uint32_t sid)
{
	sl_peers_entry_t *p = sl_peers_get(&n->peers, sl_sid_lcore(sid), sl_sid_slot(sid));
	if (p == NULL || p->state == SL_PEER_FREE || p->sid != sid) {
		n->cnt.events_stale++;
		return NULL;
	}
	return p;
}

static sl_code_t peermgr_reject_code(uint16_t reason)
{
	switch (reason) {
	case 0:
		return SL_CODE_TIMEOUT;
	case SL_WIRE_REJECT_FULL:
	case SL_WIRE_REJECT_RATE_LIMITED:
	case SL_WIRE_REJECT_DUPLICATE:
	case SL_WIRE_REJECT_NOT_READY:
		return SL_CODE_BUSY;
	default:
		return SL_CODE_NOT_FOUND;
	}
}

static void peermgr_view(sl_peermgr_t *n, const sl_peers_entry_t *p, uint64_t now_ns,
                         sl_peermgr_view_t *v);

/* End the connect awaited on p (its waiter's token): the connect_end hook
   gets the peer (code OK) or the error, once. */
static void peermgr_connect_end(sl_peermgr_t *n, sl_peers_entry_t *p, sl_code_t code,
                                const char *msg, const char *reject_reason, uint32_t retry_after_s)
{
	uint64_t token = p->waiter;
	if (token == 0)
		return;
	p->waiter = 0;
	sl_peermgr_connect_end_t e = {.sid = p->sid};
	e.err.code = code;
	snprintf(e.err.message, sizeof e.err.message, "%s", msg ? msg : "");
	e.err.reject_reason = reject_reason;
	e.err.retry_after_s = retry_after_s;
	if (code == SL_CODE_OK)
		peermgr_view(n, p, sl_now_ns(), &e.peer);
	if (n->connect_end != NULL)
		n->connect_end(n->connect_end_ctx, token, &e);
}

/* The peer-table entry behind an admission record: the session it
   committed or adopted, or the install of the HELLO it reserved. */
static sl_peers_entry_t *peermgr_peer_of(sl_peermgr_t *n, const sl_admit_peer_t *a)
{
	if (a->state == SL_ADMIT_PEER_UP)
		return sl_peers_by_sid(&n->peers, a->session);
	return sl_peers_find_nonce(&n->peers, a->lcore, a->node_id, a->nonce);
}

/* Register p (UP: one we dialled, or one found live) with admission.  A
   second session to the same node is settled so that both ends converge
   on one: with one session in each direction (a cross-dial) both keep the
   one dialled by the node with the lower node id (sl_admit_keep_ours);
   with two in the same direction the older one stays.  The other gets
   GOODBYE(ADMIN), exit CANCEL (SPEC has no GOODBYE "duplicate"; ADMIN is
   "closed by local policy").  Returns false when p is the one closed. */
static bool peermgr_admit_adopt(sl_peermgr_t *n, sl_peers_entry_t *p, uint64_t now_ns)
{
	uint16_t lcore = (uint16_t)sl_peers_lcore_of(&n->peers, p);
	sl_admit_err_t e = sl_admit_adopt(&n->admit, p->node_id, p->sid, p->ip, p->port, lcore,
	                                  p->streams, p->outbound, now_ns);
	if (SL_LIKELY(e == SL_ADMIT_OK))
		return true;
	if (e != SL_ADMIT_ERR_STATE) {
		SL_WARN("session %u: not registered with admission (%s)", p->sid,
		        sl_admit_err_str(e));
		return true;
	}
	const sl_admit_peer_t *a = sl_admit_find(&n->admit, p->node_id);
	sl_peers_entry_t *other = peermgr_peer_of(n, a);
	if (other == NULL || other == p || other->state == SL_PEER_CLOSING) {
		/* a record without a (lasting) session: replace it */
		sl_admit_remove(&n->admit, p->node_id);
		return peermgr_admit_adopt(n, p, now_ns);
	}
	bool keep_p = p->outbound != other->outbound &&
	              (p->outbound != 0) == sl_admit_keep_ours(&n->admit, p->node_id);
	sl_peers_entry_t *loser = keep_p ? other : p;
	if (keep_p) {
		sl_admit_remove(&n->admit, p->node_id);
		sl_admit_adopt(&n->admit, p->node_id, p->sid, p->ip, p->port, lcore, p->streams,
		               p->outbound, now_ns);
	}
	n->cnt.duplicates_closed++;
	SL_INFO("sessions %u (%s) and %u (%s) reach the same node: keeping %u, closing %u", p->sid,
	        p->outbound ? "dialled" : "inbound", other->sid,
	        other->outbound ? "dialled" : "inbound", keep_p ? p->sid : other->sid, loser->sid);
	peermgr_close(n, loser, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL);
	return keep_p;
}

static void peermgr_note(sl_peermgr_t *n, sl_peermgr_note_kind_t kind, const sl_peers_entry_t *p,
                         uint32_t sid, const char *reason, uint16_t misb)
{
	if (n->note == NULL)
		return;
	sl_peermgr_note_t e = {
	    .kind = kind, .sid = sid, .ip = p->ip, .port = p->port, .reason = reason, .misb = misb};
	n->note(n->note_ctx, &e);
}

/* peermgr_not_allowed closes a session we dialled whose node (proven by
   its HELLO_ACK's signature) is not on [admission] allowlist. */
static void peermgr_not_allowed(sl_peermgr_t *n, sl_peers_entry_t *p)
{
	char a[24], msg[160];
	peermgr_addr_str(a, sizeof a, p->ip, p->port);
	snprintf(msg, sizeof msg, "%s is a node not on [admission] allowlist; session %u closed", a,
	         p->sid);
	SL_WARN("%s", msg);
	n->cnt.auth_closed++;
	peermgr_close(n, p, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL);
	peermgr_connect_end(n, p, SL_CODE_NOT_FOUND, msg, "auth", 0);
}

static void peermgr_on_up(sl_peermgr_t *n, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_session_up_t *u = (const sl_evt_session_up_t *)m->payload;
	sl_peers_entry_t *p =
	    sl_peers_get(&n->peers, sl_sid_lcore(m->session), sl_sid_slot(m->session));
	if (p == NULL) {
		n->cnt.events_stale++;
		return;
	}
	n->cnt.sessions_up++;
	if (p->state == SL_PEER_FREE) { /* not ours (installed before we attached) */
		p = sl_peers_adopt(&n->peers, m->session, u->peer_ip, u->peer_port, u->streams,
		                   u->node_id, now_ns);
		if (p != NULL) {
			p->outbound = u->outbound;
			peermgr_admit_adopt(n, p, now_ns);
		}
		return;
	}
	if (p->outbound) {
		sl_admit_nonce_del(&n->admit, p->nonce);
		/* Refresh the book entry we dialled; never add an address here. */
		uint32_t now_unix = (uint32_t)time(NULL);
		if (sl_book_find(&n->book, p->ip, p->port) != NULL) {
			sl_book_add(&n->book, p->ip, p->port, 0, 0, u->node_id, now_unix);
			sl_book_connected(&n->book, p->ip, p->port, now_unix);
		}
	}
	sl_auth_wipe(&p->install.keys, sizeof p->install.keys); /* the lcore holds them now */
	if (p->state == SL_PEER_CLOSING) {                      /* teardown already on its way */
		p->sid = m->session;
		return;
	}
	if (p->outbound && SL_UNLIKELY(!sl_admit_allowed(&n->admit, u->node_id))) {
		peermgr_not_allowed(n, p);
		return;
	}
	sl_peers_up(&n->peers, p, m->session, u->streams, u->node_id, now_ns);
	char a[24];
	peermgr_addr_str(a, sizeof a, p->ip, p->port);
	SL_INFO("session %u up: session=%u dir=%s addr=%s streams=0x%x", p->sid, p->sid,
	        p->outbound ? "out" : "in", a, p->streams);
	peermgr_note(n, SL_PEERMGR_NOTE_UP, p, m->session, NULL, 0);
	if (!p->outbound && sl_admit_commit(&n->admit, p->node_id, m->session) != SL_ADMIT_OK)
		SL_DEBUG("session %u: admission commit refused", m->session);
	if (p->outbound && !peermgr_admit_adopt(n, p, now_ns)) {
		char msg[160];
		snprintf(msg, sizeof msg,
		         "%s is a node this node already has a session with; session %u closed", a,
		         p->sid);
		peermgr_connect_end(n, p, SL_CODE_BUSY, msg, "duplicate", SL_ADMIT_RETRY_DUPLICATE);
		return;
	}
	peermgr_connect_end(n, p, SL_CODE_OK, NULL, NULL, 0);
}

/* An inbound peer sent its first valid frame: admission counts it as
   proven, or closes it when max_peers proven peers leave no room. */
static void peermgr_on_proven(sl_peermgr_t *n, const sl_msg_t *m)
{
	sl_peers_entry_t *p = peermgr_entry(n, m->session);
	if (p == NULL || p->state != SL_PEER_UP)
		return;
	sl_admit_err_t e = sl_admit_prove(&n->admit, m->session);
	if (SL_LIKELY(e == SL_ADMIT_OK)) {
		n->cnt.proven++;
		return;
	}
	if (e == SL_ADMIT_ERR_FULL) {
		n->cnt.unproven_full++;
		SL_INFO("session %u: proven, but max_peers proven peers are up; closed", p->sid);
		peermgr_close(n, p, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL);
	}
}

/* Count one SESSION_DOWN by exit kind; false if this session id was
   already reported down (counted in down_repeated, nothing else to do). */
static bool peermgr_count_down(sl_peermgr_t *n, uint32_t sid, uint16_t exit_kind)
{
	uint32_t have = SL_MIN(n->down_recent_n, (uint32_t)SL_PEERMGR_DOWN_RECENT);
	for (uint32_t i = 0; i < have; i++) {
		if (SL_UNLIKELY(n->down_recent[i] == sid)) {
			n->down_repeated++;
			SL_WARN("session %u reported down again (exit %s)", sid,
			        sl_exit_str(exit_kind));
			return false;
		}
	}
	n->down_recent[n->down_recent_n++ % SL_PEERMGR_DOWN_RECENT] = sid;
	n->down_by_exit[exit_kind < SL_EXIT_CNT ? exit_kind : SL_EXIT_FAULT]++;
	return true;
}

static void peermgr_on_down(sl_peermgr_t *n, const sl_msg_t *m)
{
	const sl_evt_session_down_t *d = (const sl_evt_session_down_t *)m->payload;
	if (!peermgr_count_down(n, m->session, d->exit))
		return;
	sl_peers_entry_t *p = peermgr_entry(n, m->session);
	if (p == NULL)
		return;
	n->cnt.sessions_down++;
	uint64_t now_ns = sl_now_ns();
	peermgr_admit_release(n, p);
	/* Any end of a dialled session (discovery close included) backs the
	   address off before it is dialled again. */
	if (p->outbound)
		sl_book_backoff(&n->book, p->ip, p->port,
		                now_ns + (uint64_t)n->cfg->redial_s * SL_NS_PER_S,
		                d->exit != SL_EXIT_STREAM_CLOSE && p->state != SL_PEER_UP);
	if (p->waiter != 0) {
		char msg[160];
		snprintf(msg, sizeof msg, "session %u ended before it came up (%s)", m->session,
		         sl_exit_str(d->exit));
		peermgr_connect_end(n, p,
		                    d->exit == SL_EXIT_LOCAL ? SL_CODE_TIMEOUT : SL_CODE_NOT_FOUND,
		                    msg, NULL, 0);
	}
	char a[24];
	peermgr_addr_str(a, sizeof a, p->ip, p->port);
	SL_INFO("session %u down: session=%u addr=%s exit=%s goodbye_sent=%u goodbye_rx=%u",
	        m->session, m->session, a, sl_exit_str(d->exit), d->goodbye_sent, d->goodbye_rx);
	peermgr_note(n, SL_PEERMGR_NOTE_DOWN, p, m->session, sl_exit_str(d->exit), 0);
	sl_peers_set_state(&n->peers, p, SL_PEER_FREE);
}

static void peermgr_on_connect_failed(sl_peermgr_t *n, const sl_msg_t *m, uint64_t now_ns)
{
	const sl_evt_connect_failed_t *f = (const sl_evt_connect_failed_t *)m->payload;
	sl_peers_entry_t *p = peermgr_entry(n, m->session);
	if (p == NULL)
		return;
	n->cnt.connect_failed++;
	p->connect_reason = f->reason;
	uint64_t wait_s = SL_MAX((uint64_t)n->cfg->redial_s, (uint64_t)f->retry_after_s);
	sl_book_backoff(&n->book, p->ip, p->port, now_ns + wait_s * SL_NS_PER_S, true);
	sl_admit_nonce_del(&n->admit, p->nonce);
	char a[24], msg[160];
	peermgr_addr_str(a, sizeof a, p->ip, p->port);
	const char *why = f->reason ? sl_admit_reason_str(f->reason) : "timeout";
	if (f->reason == 0)
		snprintf(msg, sizeof msg, "no answer from %s within %u ms", a,
		         n->cfg->connect_timeout_ms);
	else
		snprintf(msg, sizeof msg, "%s rejected the connect: %s (retry after %u s)", a, why,
		         f->retry_after_s);
	SL_INFO("connect to %s failed: %s", a, why);
	peermgr_connect_end(n, p, peermgr_reject_code(f->reason), msg, why, f->retry_after_s);
	if (p->state == SL_PEER_CONNECTING)
		sl_peers_set_state(&n->peers, p, SL_PEER_CLOSING); /* SESSION_DOWN follows */
}

static void peermgr_on_liveness(sl_peermgr_t *n, const sl_msg_t *m)
{
	const sl_evt_liveness_t *l = (const sl_evt_liveness_t *)m->payload;
	sl_peers_entry_t *p = peermgr_entry(n, m->session);
	if (p == NULL)
		return;
	p->suspect = l->state == 1;
	p->phi_milli = l->phi_milli;
	if (l->rtt_us != 0)
		p->rtt_us = l->rtt_us;
}

static void peermgr_on_peers(sl_peermgr_t *n, const sl_msg_t *m)
{
	const sl_evt_peers_t *e = (const sl_evt_peers_t *)m->payload;
	uint32_t k = SL_MIN((uint32_t)e->n, (uint32_t)SL_EVT_PEERS_MAX);
	for (uint32_t i = 0; i < k; i++) {
		const sl_wire_peer_t *w = &e->peer[i];
		n->cnt.peers_rx++;
		if (memcmp(w->node_id, n->node_id, 32) == 0)
			continue; /* ourselves, under whatever address the peer knows */
		sl_book_add(&n->book, w->ipv4, w->port, 0, w->flags, w->node_id, w->last_seen_unix);
	}
}

/* peermgr_score adds a record of kind to ip's score; past [admission]
   ban_score the address is banned for ban_seconds (its sessions closed,
   never dialled or gossiped, the ban saved with the store). */
static void peermgr_score(sl_peermgr_t *n, uint32_t ip, uint16_t kind, uint64_t now_ns)
{
	uint32_t w = sl_score_weight((sl_misb_t)kind);
	if (w == 0 || n->cfg->ban_score == 0)
		return;
	double s = sl_score_add(&n->score, ip, w, now_ns);
	if (s < (double)n->cfg->ban_score)
		return;
	sl_peermgr_err_t err = {0};
	sl_score_forget(&n->score, ip);
	if (sl_peermgr_ban(n, ip, n->cfg->ban_seconds, now_ns, &err) < 0)
		return;
	n->cnt.auto_bans++;
	SL_WARN("banned %u.%u.%u.%u for its misbehaviour: ip=%u.%u.%u.%u score=%.0f ban_score=%u "
	        "seconds=%u last=%s",
	        ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, ip >> 24, (ip >> 16) & 255,
	        (ip >> 8) & 255, ip & 255, s, n->cfg->ban_score, n->cfg->ban_seconds,
	        sl_misb_str(kind));
}

static void peermgr_on_misbehavior(sl_peermgr_t *n, const sl_msg_t *m)
{
	const sl_evt_misbehavior_t *b = (const sl_evt_misbehavior_t *)m->payload;
	sl_peers_entry_t *p = peermgr_entry(n, m->session);
	if (p == NULL)
		return;
	sl_peers_misbehavior(p, b->kind);
	peermgr_note(n, SL_PEERMGR_NOTE_MISBEHAVIOR, p, m->session, NULL, b->kind);
	SL_DEBUG("session %u misbehaved: %s on stream %u type %u%s", m->session,
	         sl_misb_str(b->kind), b->stream, b->type, b->disconnect ? " (disconnected)" : "");
	peermgr_score(n, p->ip, b->kind, sl_now_ns());
}

void sl_peermgr_set_note_hook(sl_peermgr_t *n, sl_peermgr_note_fn fn, void *ctx)
{
	n->note = fn;
	n->note_ctx = ctx;
}

void sl_peermgr_misbehavior(sl_peermgr_t *n, uint32_t sid, uint16_t kind)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL)
		return;
	sl_peers_misbehavior(p, kind);
	peermgr_note(n, SL_PEERMGR_NOTE_MISBEHAVIOR, p, sid, NULL, kind);
	peermgr_score(n, p->ip, kind, sl_now_ns());
}

void sl_peermgr_event(sl_peermgr_t *n, const sl_msg_t *m, uint64_t now_ns)
{
	if (n->region == NULL)
		return;
	switch (m->type) {
	case SL_EVT_HELLO:
		peermgr_on_hello(n, m, now_ns);
		break;
	case SL_EVT_SESSION_UP:
		peermgr_on_up(n, m, now_ns);
		break;
	case SL_EVT_SESSION_DOWN:
		peermgr_on_down(n, m);
		break;
	case SL_EVT_SESSION_PROVEN:
		peermgr_on_proven(n, m);
		break;
	case SL_EVT_CONNECT_FAILED:
		peermgr_on_connect_failed(n, m, now_ns);
		break;
	case SL_EVT_LIVENESS:
		peermgr_on_liveness(n, m);
		break;
	case SL_EVT_PEERS:
		peermgr_on_peers(n, m);
		break;
	case SL_EVT_MISBEHAVIOR:
		peermgr_on_misbehavior(n, m);
		break;
	default:
		SL_DEBUG("event %s from lcore %u ignored", sl_evt_type_str(m->type), m->lcore);
		break;
	}
}

/* ---- connect / dialer --------------------------------------------------- */

static int peermgr_fail(sl_peermgr_err_t *err, sl_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int peermgr_fail(sl_peermgr_err_t *err, sl_code_t code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	va_end(ap);
	err->code = code;
	return -1;
}

/* peermgr_dialled: one of our sessions to ip:port is one we dialled and is
   connecting or up. */
static bool peermgr_dialled(const sl_peermgr_t *n, uint32_t ip, uint16_t port)
{
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0; i < end; i++) {
		const sl_peers_entry_t *e = &n->peers.e[i];
		if (e->outbound && e->ip == ip && e->port == port &&
		    (e->state == SL_PEER_CONNECTING || e->state == SL_PEER_UP))
			return true;
	}
	return false;
}

int sl_peermgr_connect(sl_peermgr_t *n, uint32_t ip, uint16_t port, uint64_t token, uint64_t now_ns,
                       uint32_t *sid, sl_peermgr_err_t *err)
{
	char a[24];
	peermgr_addr_str(a, sizeof a, ip, port);
	if (n->region == NULL || !n->ready)
		return peermgr_fail(err, SL_CODE_NOT_READY,
		                    "node is not ready (no dataplane, or not ready)");
	if (!sl_net_ipv4_dialable(ip, port))
		return peermgr_fail(err, SL_CODE_BAD_REQUEST, "%s is not a unicast address", a);
	if (ip == n->book.self_ip && port == n->book.self_port)
		return peermgr_fail(err, SL_CODE_BAD_REQUEST, "%s is this node's own dataplane", a);
	if (sl_admit_banned(&n->admit, ip, now_ns, NULL))
		return peermgr_fail(err, SL_CODE_BAD_REQUEST, "%s is banned (peer.unban first)", a);
	/* A second HELLO of ours to a node whose session we dialled reads, at
	   its end, as a restart (peermgr_restarted: it closes the live session
	   and admits the new one) while this end keeps the older session and
	   closes the new one: both would be gone.  Refuse it here. */
	if (SL_UNLIKELY(peermgr_dialled(n, ip, port)))
		return peermgr_fail(
		    err, SL_CODE_BUSY,
		    "%s: this node has dialled it already (a session up or connecting)", a);
	/* The lcore the flow's frames reach when the port hashes them with a
	   key the dataplane published (RSS); else spread (sl_peers_roomiest). */
	const sl_region_hdr_t *h = n->region->hdr;
	int w = sl_rss_worker(&h->rss, ip, port, h->dp_ipv4, h->dp_udp_port);
	uint32_t lcore =
	    w >= 0 && (uint32_t)w < n->peers.n_lcores ? (uint32_t)w : sl_peers_roomiest(&n->peers);
	sl_peers_entry_t *p =
	    sl_peers_alloc(&n->peers, lcore, SL_PEER_CONNECTING, ip, port, now_ns);
	if (p == NULL)
		return peermgr_fail(err, SL_CODE_BUSY, "no free session slot on lcore %u", lcore);
	uint64_t deadline = now_ns + (uint64_t)n->cfg->connect_timeout_ms * SL_NS_PER_MS;
	p->nonce = node_random_u64();
	p->deadline_ns = deadline + SL_PEERMGR_CONNECT_GRACE_NS;
	p->streams = n->admit.cfg.streams;
	p->waiter = token;
	*sid = p->sid;
	if (sl_admit_nonce_add(&n->admit, p->nonce, p->deadline_ns, now_ns) != SL_ADMIT_OK)
		SL_DEBUG("outbound nonce table full: self-connection detection degraded");
	p->install = (sl_cmd_install_t){
	    .mode = SL_INSTALL_CONNECT,
	    .peer_port = port,
	    .peer_ip = ip,
	    .streams = p->streams,
	    .nonce = p->nonce,
	    .deadline_ms = n->cfg->connect_timeout_ms,
	};
	if (n->cfg->auth != SL_CFG_AUTH_OFF) { /* SPEC §8: our HELLO offers auth_mode 1 */
		sl_auth_eph_new(&p->install.eph);
		sl_auth_hello_sign(&n->id, n->chain_id, p->install.eph.pk, p->nonce,
		                   p->install.sig);
		p->install.auth = 1;
	}
	n->cnt.connects++;
	SL_INFO("connecting to %s as session %u%s", a, p->sid, token ? " (peer.connect)" : "");
	peermgr_send_install(n, p);
	return 0;
}

void sl_peermgr_connect_abandon(sl_peermgr_t *n, uint32_t sid, uint64_t token)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL || token == 0 || p->waiter != token)
		return;
	p->waiter = 0;
	if (p->state == SL_PEER_CONNECTING &&
	    peermgr_close(n, p, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL))
		SL_INFO("session %u: connect abandoned by its caller", sid);
}

void sl_peermgr_set_connect_hook(sl_peermgr_t *n, sl_peermgr_connect_end_fn fn, void *ctx)
{
	n->connect_end = fn;
	n->connect_end_ctx = ctx;
}

/* The dialer never dials an address it has a session with (either
   direction, any state), a banned one, or a node it knows to be itself or
   to be connected already under another address. */
static bool peermgr_dial_skip(void *ctx, uint32_t ip, uint16_t port)
{
	sl_peermgr_t *n = ctx;
	if (sl_peers_has_addr(&n->peers, ip, port) ||
	    sl_admit_banned(&n->admit, ip, sl_now_ns(), NULL))
		return true;
	const sl_book_entry_t *e = sl_book_find(&n->book, ip, port);
	static const uint8_t zero[32];
	if (e == NULL || memcmp(e->node_id, zero, 32) == 0)
		return false;
	return memcmp(e->node_id, n->node_id, 32) == 0 ||
	       sl_admit_find(&n->admit, e->node_id) != NULL;
}

static void peermgr_dial(sl_peermgr_t *n, uint64_t now_ns)
{
	uint32_t have = sl_peers_count_outbound(&n->peers);
	for (uint32_t k = 0; k < SL_PEERMGR_DIALS_PER_TICK && have < n->cfg->outbound; k++) {
		const sl_book_entry_t *e = sl_book_pick(&n->book, now_ns, peermgr_dial_skip, n);
		if (e == NULL)
			return;
		sl_peermgr_err_t err = {0};
		uint32_t ip = e->ip;
		uint16_t port = e->port;
		/* Not again before redial_s even if this attempt never reports. */
		sl_book_backoff(&n->book, ip, port,
		                now_ns + (uint64_t)n->cfg->redial_s * SL_NS_PER_S, false);
		uint32_t sid;
		if (sl_peermgr_connect(n, ip, port, 0, now_ns, &sid, &err) != 0)
			return;
		have++;
	}
}

/* The GET_PEERS snapshot: connected peers first, then the book. */
static void peermgr_publish_book(sl_peermgr_t *n, uint64_t now_ns)
{
	sl_pbook_peer_t first[SL_PBOOK_MAX], out[SL_PBOOK_MAX];
	uint32_t nf = 0, end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	uint32_t now_unix = (uint32_t)time(NULL);
	for (uint32_t i = 0; i < end && nf < SL_PBOOK_MAX; i++) {
		const sl_peers_entry_t *p = &n->peers.e[i];
		if (p->state != SL_PEER_UP || !sl_net_ipv4_dialable(p->ip, p->port))
			continue;
		first[nf] =
		    (sl_pbook_peer_t){.ipv4 = p->ip, .port = p->port, .last_seen_unix = now_unix};
		memcpy(first[nf].node_id, p->node_id, 32);
		nf++;
	}
	uint32_t k = sl_book_snapshot(&n->book, first, nf, out, SL_PBOOK_MAX), kept = 0;
	for (uint32_t i = 0; i < k; i++) /* a banned address is never gossiped */
		if (!sl_admit_banned(&n->admit, out[i].ipv4, now_ns, NULL))
			out[kept++] = out[i];
	sl_pbook_publish(n->pbook, out, kept);
	n->cnt.book_publishes++;
}

/* A waiting peer.connect whose dataplane never reported: answer TIMEOUT. */
static void peermgr_guard_waiters(sl_peermgr_t *n, uint64_t now_ns)
{
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0; i < end; i++) {
		sl_peers_entry_t *p = &n->peers.e[i];
		if (p->waiter != 0 && p->state == SL_PEER_CONNECTING && now_ns > p->deadline_ns)
			peermgr_connect_end(n, p, SL_CODE_TIMEOUT,
			                    "the dataplane did not report the connect", NULL, 0);
	}
}

void sl_peermgr_tick(sl_peermgr_t *n, uint32_t life, uint64_t now_ns)
{
	if (n->region == NULL)
		return;
	peermgr_follow_life(n, life, now_ns);
	if (n->peers.n_resend > 0)
		peermgr_resend(n);
	if (now_ns < n->next_slow_ns)
		return;
	n->next_slow_ns = now_ns + SL_PEERMGR_SLOW_NS;
	uint32_t swept = sl_admit_sweep(&n->admit, now_ns, SL_PEERMGR_PENDING_NS);
	if (swept > 0)
		SL_WARN("%u admitted HELLO(s) never installed; capacity released", swept);
	peermgr_guard_waiters(n, now_ns);
	if (n->ready)
		peermgr_dial(n, now_ns);
	peermgr_publish_book(n, now_ns);
}

/* ---- views ------------------------------------------------------------------ */

static const char *peermgr_state_word(const sl_peers_entry_t *p)
{
	switch (p->state) {
	case SL_PEER_UP:
		return p->suspect ? "suspect" : "up";
	case SL_PEER_INSTALLING:
	case SL_PEER_CONNECTING:
		return "connecting";
	case SL_PEER_CLOSING:
		return "closing";
	default:
		return "free";
	}
}

/* peermgr_hs_parked: the session's header-sync service is parked (its
   generation's park flag in the command block). */
static bool peermgr_hs_parked(const sl_peermgr_t *n, const sl_peers_entry_t *p)
{
	return n->region != NULL && p->gen != 0 &&
	       sl_cmdq_parked(&n->cmdq, sl_peers_lcore_of(&n->peers, p),
	                      sl_peers_slot_of(&n->peers, p), p->gen);
}

/* peermgr_live_info: the dataplane's entry for p, when it has p live. */
static bool peermgr_live_info(sl_peermgr_t *n, const sl_peers_entry_t *p, sl_session_info_t *info)
{
	uint32_t lcore = sl_peers_lcore_of(&n->peers, p), slot = sl_peers_slot_of(&n->peers, p);
	const struct sl_session_table *t = n->region ? sl_region_sess(n->region, lcore) : NULL;
	return t != NULL && sl_session_snapshot(t, slot, info) == 1 && info->sid == p->sid;
}

static void peermgr_view(sl_peermgr_t *n, const sl_peers_entry_t *p, uint64_t now_ns,
                         sl_peermgr_view_t *v)
{
	sl_session_info_t info;
	bool live = peermgr_live_info(n, p, &info);
	*v = (sl_peermgr_view_t){
	    .sid = p->sid,
	    .ip = p->ip,
	    .port = p->port,
	    .outbound = p->outbound != 0,
	    .hs_parked = peermgr_hs_parked(n, p),
	    .state = peermgr_state_word(p),
	    .streams = p->streams,
	    .rtt_us = live && info.rtt_us != 0 ? info.rtt_us : p->rtt_us,
	    .since_s = (now_ns - p->since_ns) / SL_NS_PER_S,
	    .misbehavior = p->misb_total,
	};
	memcpy(v->node_id, p->node_id, 32);
}

uint32_t sl_peermgr_next(sl_peermgr_t *n, uint32_t cursor, uint64_t now_ns, sl_peermgr_view_t *out)
{
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = cursor; i < end; i++) {
		if (n->peers.e[i].state == SL_PEER_FREE)
			continue;
		peermgr_view(n, &n->peers.e[i], now_ns, out);
		return i + 1;
	}
	return 0;
}

int sl_peermgr_show(sl_peermgr_t *n, uint32_t sid, uint64_t now_ns, sl_peermgr_detail_t *out,
                    sl_peermgr_err_t *err)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL)
		return peermgr_fail(err, SL_CODE_NOT_FOUND, "no session %u", sid);
	memset(out, 0, sizeof *out);
	peermgr_view(n, p, now_ns, &out->v);
	out->lcore = sl_peers_lcore_of(&n->peers, p);
	out->slot = sl_peers_slot_of(&n->peers, p);
	out->generation = sl_sid_gen(p->sid);
	out->live = peermgr_live_info(n, p, &out->info);
	out->remote_session = out->live ? out->info.remote_sid : 0;
	out->suspect = p->suspect != 0;
	out->phi = p->phi_milli / 1000.0;
	out->misb_last = p->misb_last;
	memcpy(out->misb_kind, p->misb_kind, sizeof out->misb_kind);
	return 0;
}

int sl_peermgr_disconnect(sl_peermgr_t *n, uint32_t sid, sl_peermgr_err_t *err)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL)
		return peermgr_fail(err, SL_CODE_NOT_FOUND, "no session %u", sid);
	if (peermgr_close(n, p, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL))
		SL_INFO("session %u: disconnect requested", sid);
	return 0;
}

int sl_peermgr_park(sl_peermgr_t *n, uint32_t sid, sl_peermgr_err_t *err)
{
	sl_peers_entry_t *p = sl_peers_by_sid(&n->peers, sid);
	if (p == NULL || p->state != SL_PEER_UP || n->region == NULL)
		return peermgr_fail(err, SL_CODE_NOT_FOUND, "no live session %u", sid);
	if ((p->streams & (1u << SL_WIRE_STREAM_HSYNC)) == 0)
		return peermgr_fail(err, SL_CODE_BAD_REQUEST,
		                    "session %u did not negotiate header-sync (5)", sid);
	uint32_t lcore = sl_peers_lcore_of(&n->peers, p), slot = sl_peers_slot_of(&n->peers, p);
	if (sl_cmdq_parked(&n->cmdq, lcore, slot, p->gen))
		return 0; /* already parked: idempotent */
	if (sl_cmdq_park(&n->cmdq, lcore, slot, p->gen) != 0)
		return peermgr_fail(err, SL_CODE_NOT_FOUND, "session %u is gone from the dataplane",
		                    sid);
	SL_PROBE_CMD_PARK(p->sid, SL_WIRE_STREAM_HSYNC);
	n->cnt.cmd_parks++;
	if (n->hs_park != NULL)
		n->hs_park(n->hs_park_ctx, sid);
	SL_INFO("session %u: header-sync service parked by the operator", sid);
	return 0;
}

int sl_peermgr_ban(sl_peermgr_t *n, uint32_t ip, uint32_t seconds, uint64_t now_ns,
                   sl_peermgr_err_t *err)
{
	sl_admit_err_t e = sl_admit_ban(&n->admit, ip, seconds, now_ns);
	if (e == SL_ADMIT_ERR_ARG)
		return peermgr_fail(err, SL_CODE_BAD_REQUEST, "address 0.0.0.0 cannot be banned");
	if (e != SL_ADMIT_OK)
		return peermgr_fail(err, SL_CODE_BUSY, "ban table full (%u bans)",
		                    SL_ADMIT_BANS_MAX);
	int closed = 0;
	uint32_t end = n->peers.n_lcores * SL_SESSIONS_PER_LCORE;
	for (uint32_t i = 0; i < end; i++) {
		sl_peers_entry_t *p = &n->peers.e[i];
		if (p->state != SL_PEER_FREE && p->ip == ip)
			closed += peermgr_close(n, p, SL_WIRE_GOODBYE_ADMIN, SL_EXIT_CANCEL);
	}
	SL_INFO("banned %u.%u.%u.%u for %s%u s; %d session(s) closed", ip >> 24, (ip >> 16) & 255,
	        (ip >> 8) & 255, ip & 255, seconds ? "" : "ever (0 = until unban) ", seconds,
	        closed);
	peermgr_save_bans(n, now_ns);
	if (n->pbook != NULL)
		peermgr_publish_book(n, now_ns); /* never gossip it again */
	return closed;
}

int sl_peermgr_unban(sl_peermgr_t *n, uint32_t ip, sl_peermgr_err_t *err)
{
	if (sl_admit_unban(&n->admit, ip) != SL_ADMIT_OK)
		return peermgr_fail(err, SL_CODE_NOT_FOUND, "%u.%u.%u.%u is not banned", ip >> 24,
		                    (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	peermgr_save_bans(n, sl_now_ns());
	return 0;
}

void sl_peermgr_stats(const sl_peermgr_t *n, sl_peermgr_stats_t *out)
{
	memset(out, 0, sizeof *out);
	out->cnt = n->cnt;
	out->sessions_live = n->peers.n_up;
	out->slots_used = n->peers.n_live;
	out->admitted = sl_admit_count(&n->admit);
	out->unproven = sl_admit_count_unproven(&n->admit);
	out->book_entries = n->book.n;
	out->book_rejected = n->book.rejected;
	for (unsigned e = 0; e < SL_EXIT_CNT; e++) {
		out->down_by_exit[e] = n->down_by_exit[e];
		out->down_total += n->down_by_exit[e];
	}
	out->down_repeated = n->down_repeated;
}
