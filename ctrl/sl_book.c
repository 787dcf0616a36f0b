/* sl_book.c — see sl_book.h.  Linear scans over at most SL_BOOK_MAX
   entries: the book is touched on PEERS events and once per dial tick,
   never per frame. */
#include "sl_book.h"

#include <string.h>

#include "sl_net.h"

void sl_book_init(sl_book_t *b)
{
	memset(b, 0, sizeof *b);
}

static void book_del(sl_book_t *b, uint32_t i)
{
	b->e[i] = b->e[b->n - 1];
	memset(&b->e[b->n - 1], 0, sizeof b->e[0]);
	b->n--;
	if (b->cursor >= b->n)
		b->cursor = 0;
	b->version++;
}

void sl_book_set_self(sl_book_t *b, uint32_t ip, uint16_t port)
{
	b->self_ip = ip;
	b->self_port = port;
	for (uint32_t i = 0; i < b->n; i++)
		if (b->e[i].ip == ip && b->e[i].port == port) {
			book_del(b, i);
			return;
		}
}

sl_book_entry_t *sl_book_find(sl_book_t *b, uint32_t ip, uint16_t port)
{
	for (uint32_t i = 0; i < b->n; i++)
		if (b->e[i].ip == ip && b->e[i].port == port)
			return &b->e[i];
	return NULL;
}

/* The entry to give up for a new one: the least recently seen that did
   not come from bootstrap; NULL when all did. */
static sl_book_entry_t *book_victim(sl_book_t *b)
{
	sl_book_entry_t *v = NULL;
	for (uint32_t i = 0; i < b->n; i++) {
		sl_book_entry_t *e = &b->e[i];
		if ((e->flags & SL_BOOK_F_BOOTSTRAP) == 0 &&
		    (v == NULL || e->last_seen_unix < v->last_seen_unix))
			v = e;
	}
	return v;
}

static bool book_nonzero(const uint8_t *id)
{
	for (int i = 0; i < 32; i++)
		if (id[i] != 0)
			return true;
	return false;
}

int sl_book_add(sl_book_t *b, uint32_t ip, uint16_t port, uint16_t flags, uint16_t wire_flags,
                const uint8_t *node_id, uint32_t last_seen_unix)
{
	if (SL_UNLIKELY(!sl_net_ipv4_dialable(ip, port) ||
	                (ip == b->self_ip && port == b->self_port))) {
		b->rejected++;
		return -1;
	}
	sl_book_entry_t *e = sl_book_find(b, ip, port);
	if (e != NULL) {
		e->flags |= flags;
		e->wire_flags = wire_flags;
		if (last_seen_unix > e->last_seen_unix)
			e->last_seen_unix = last_seen_unix;
		if (node_id != NULL && book_nonzero(node_id))
			memcpy(e->node_id, node_id, 32);
		b->version++;
		return 0;
	}
	if (b->n < SL_BOOK_MAX)
		e = &b->e[b->n++];
	else if ((e = book_victim(b)) == NULL) {
		b->rejected++;
		return -1;
	}
	memset(e, 0, sizeof *e);
	e->ip = ip;
	e->port = port;
	e->flags = flags;
	e->wire_flags = wire_flags;
	e->last_seen_unix = last_seen_unix;
	if (node_id != NULL)
		memcpy(e->node_id, node_id, 32);
	b->version++;
	return 1;
}

void sl_book_backoff(sl_book_t *b, uint32_t ip, uint16_t port, uint64_t until_ns, bool fail)
{
	sl_book_entry_t *e = sl_book_find(b, ip, port);
	if (e == NULL)
		return;
	if (until_ns > e->redial_ns)
		e->redial_ns = until_ns;
	if (fail && e->fails < UINT16_MAX)
		e->fails++;
}

void sl_book_connected(sl_book_t *b, uint32_t ip, uint16_t port, uint32_t now_unix)
{
	sl_book_entry_t *e = sl_book_find(b, ip, port);
	if (e == NULL)
		return;
	e->fails = 0;
	if (now_unix > e->last_seen_unix)
		e->last_seen_unix = now_unix;
	b->version++;
}

const sl_book_entry_t *sl_book_pick(sl_book_t *b, uint64_t now_ns, sl_book_skip_fn skip, void *ctx)
{
	for (uint32_t k = 0; k < b->n; k++) {
		uint32_t i = (b->cursor + k) % b->n;
		const sl_book_entry_t *e = &b->e[i];
		if (e->redial_ns > now_ns || (e->ip == b->self_ip && e->port == b->self_port))
			continue;
		if (skip != NULL && skip(ctx, e->ip, e->port))
			continue;
		b->cursor = (i + 1) % b->n;
		return e;
	}
	return NULL;
}

static bool snap_has(const sl_pbook_peer_t *out, uint32_t n, uint32_t ip, uint16_t port)
{
	for (uint32_t i = 0; i < n; i++)
		if (out[i].ipv4 == ip && out[i].port == port)
			return true;
	return false;
}

uint32_t sl_book_snapshot(const sl_book_t *b, const sl_pbook_peer_t *first, uint32_t n_first,
                          sl_pbook_peer_t *out, uint32_t max)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < n_first && n < max; i++)
		if (!snap_has(out, n, first[i].ipv4, first[i].port))
			out[n++] = first[i];
	/* Then newest first: repeated selection, fine for SL_PBOOK_MAX. */
	uint32_t bound = UINT32_MAX;
	bool more = true;
	while (n < max && more) {
		uint32_t best = 0;
		more = false;
		for (uint32_t i = 0; i < b->n; i++) {
			uint32_t ls = b->e[i].last_seen_unix;
			if (ls <= bound && ls >= best &&
			    !snap_has(out, n, b->e[i].ip, b->e[i].port)) {
				best = ls;
				more = true;
			}
		}
		if (!more)
			break;
		for (uint32_t i = 0; i < b->n && n < max; i++) {
			const sl_book_entry_t *e = &b->e[i];
			if (e->last_seen_unix != best || snap_has(out, n, e->ip, e->port))
				continue;
			out[n++] = (sl_pbook_peer_t){.ipv4 = e->ip,
			                             .port = e->port,
			                             .flags = e->wire_flags,
			                             .last_seen_unix = e->last_seen_unix};
			memcpy(out[n - 1].node_id, e->node_id, 32);
		}
		bound = best;
	}
	return n;
}
