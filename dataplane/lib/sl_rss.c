/* sl_rss.c — Toeplitz flow placement (see sl_rss.h). */
#include "sl_rss.h"

/* sl_rss_key32: the 32 key bits starting at bit `off` (off + 32 within the key). */
static uint32_t sl_rss_key32(const uint8_t *key, unsigned off)
{
	unsigned b = off / 8, s = off % 8;
	uint64_t v = (uint64_t)key[b] << 32 | (uint64_t)key[b + 1] << 24 |
	             (uint64_t)key[b + 2] << 16 | (uint64_t)key[b + 3] << 8 | key[b + 4];
	return (uint32_t)(v >> (8 - s));
}

uint32_t sl_rss_toeplitz(const uint32_t *words, unsigned n, const uint8_t key[SL_RSS_KEY_LEN])
{
	uint32_t h = 0;
	for (unsigned j = 0; j < n; j++)
		for (unsigned i = 0; i < 32; i++)
			if (words[j] & (0x80000000u >> i))
				h ^= sl_rss_key32(key, j * 32 + i);
	return h;
}

int sl_rss_worker(const sl_rss_t *r, uint32_t src_ip, uint16_t src_port, uint32_t dst_ip,
                  uint16_t dst_port)
{
	if (r->reta_n == 0 || r->reta_n > SL_RSS_RETA_MAX)
		return -1;
	uint32_t w[3] = {src_ip, dst_ip, (uint32_t)src_port << 16 | dst_port};
	uint32_t h = sl_rss_toeplitz(w, r->l4 ? 3 : 2, r->key);
	return r->reta[h % r->reta_n];
}
