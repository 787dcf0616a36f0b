/* sl_auth.c — SPEC §8 over libsodium (see sl_auth.h). */
#include "sl_auth.h"

#include <sodium.h>
#include <string.h>

#define HELLO_CTX "sluice-hello-v1"
#define ACK_CTX   "sluice-ack-v1"
#define CTX_MAX   16
#define MSG_MAX   (CTX_MAX + 32 + 2 * SL_AUTH_PK_LEN + 8)

_Static_assert(SL_AUTH_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(SL_AUTH_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key");
_Static_assert(SL_AUTH_SIG_LEN == crypto_sign_BYTES, "Ed25519 signature");
_Static_assert(SL_AUTH_SEED_LEN == crypto_sign_SEEDBYTES, "Ed25519 seed");
_Static_assert(SL_AUTH_PK_LEN == crypto_kx_PUBLICKEYBYTES, "X25519 public key");
_Static_assert(SL_AUTH_XSK_LEN == crypto_kx_SECRETKEYBYTES, "X25519 secret key");
_Static_assert(SL_AUTH_KEY_LEN == crypto_kx_SESSIONKEYBYTES, "kx session key");
_Static_assert(SL_AUTH_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "AEAD key");
_Static_assert(SL_AUTH_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "AEAD tag");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "IETF nonce");

int sl_auth_init(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void sl_auth_id_from_seed(sl_auth_id_t *id, const uint8_t seed[SL_AUTH_SEED_LEN])
{
	crypto_sign_seed_keypair(id->pk, id->sk, seed);
}

void sl_auth_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void sl_auth_eph_new(sl_auth_eph_t *e)
{
	crypto_kx_keypair(e->pk, e->sk);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* msg_build lays out ctx || chain_id || k1 [|| k2] || nonce into m and
   returns its length (k2 NULL for HELLO). */
static size_t msg_build(uint8_t m[MSG_MAX], const char *ctx, const uint8_t chain_id[32],
                        const uint8_t *k1, const uint8_t *k2, uint64_t nonce)
{
	size_t n = strlen(ctx);
	memcpy(m, ctx, n);
	memcpy(m + n, chain_id, 32);
	n += 32;
	memcpy(m + n, k1, SL_AUTH_PK_LEN);
	n += SL_AUTH_PK_LEN;
	if (k2 != NULL) {
		memcpy(m + n, k2, SL_AUTH_PK_LEN);
		n += SL_AUTH_PK_LEN;
	}
	put_be64(m + n, nonce);
	return n + 8;
}

void sl_auth_hello_sign(const sl_auth_id_t *id, const uint8_t chain_id[32],
                        const uint8_t eph_pk[SL_AUTH_PK_LEN], uint64_t nonce,
                        uint8_t sig[SL_AUTH_SIG_LEN])
{
	uint8_t m[MSG_MAX];
	size_t n = msg_build(m, HELLO_CTX, chain_id, eph_pk, NULL, nonce);
	crypto_sign_detached(sig, NULL, m, n, id->sk);
}

bool sl_auth_hello_verify(const uint8_t node_id[SL_AUTH_PK_LEN], const uint8_t chain_id[32],
                          const uint8_t eph_pk[SL_AUTH_PK_LEN], uint64_t nonce,
                          const uint8_t sig[SL_AUTH_SIG_LEN])
{
	uint8_t m[MSG_MAX];
	size_t n = msg_build(m, HELLO_CTX, chain_id, eph_pk, NULL, nonce);
	return crypto_sign_verify_detached(sig, m, n, node_id) == 0;
}

void sl_auth_ack_sign(const sl_auth_id_t *id, const uint8_t chain_id[32],
                      const uint8_t resp_eph[SL_AUTH_PK_LEN],
                      const uint8_t init_eph[SL_AUTH_PK_LEN], uint64_t nonce,
                      uint8_t sig[SL_AUTH_SIG_LEN])
{
	uint8_t m[MSG_MAX];
	size_t n = msg_build(m, ACK_CTX, chain_id, resp_eph, init_eph, nonce);
	crypto_sign_detached(sig, NULL, m, n, id->sk);
}

bool sl_auth_ack_verify(const uint8_t node_id[SL_AUTH_PK_LEN], const uint8_t chain_id[32],
                        const uint8_t resp_eph[SL_AUTH_PK_LEN],
                        const uint8_t init_eph[SL_AUTH_PK_LEN], uint64_t nonce,
                        const uint8_t sig[SL_AUTH_SIG_LEN])
{
	uint8_t m[MSG_MAX];
	size_t n = msg_build(m, ACK_CTX, chain_id, resp_eph, init_eph, nonce);
	return crypto_sign_verify_detached(sig, m, n, node_id) == 0;
}

int sl_auth_keys_initiator(sl_auth_keys_t *k, const sl_auth_eph_t *ours,
                           const uint8_t peer_pk[SL_AUTH_PK_LEN])
{
	return crypto_kx_client_session_keys(k->rx, k->tx, ours->pk, ours->sk, peer_pk) == 0 ? 0
	                                                                                     : -1;
}

int sl_auth_keys_responder(sl_auth_keys_t *k, const sl_auth_eph_t *ours,
                           const uint8_t peer_pk[SL_AUTH_PK_LEN])
{
	return crypto_kx_server_session_keys(k->rx, k->tx, ours->pk, ours->sk, peer_pk) == 0 ? 0
	                                                                                     : -1;
}

/* frame_nonce: u8 stream, u8[7] zero, u32 seq as on the wire (header
   bytes 4 and 12..15). */
static void frame_nonce(uint8_t n[12], const uint8_t *f)
{
	memset(n, 0, 12);
	n[0] = f[4];
	memcpy(n + 8, f + 12, 4);
}

void sl_auth_seal(const uint8_t key[SL_AUTH_KEY_LEN], uint8_t *f, size_t len)
{
	uint8_t n[12], none[1] = {0}; /* no ciphertext: all of f is additional data */
	frame_nonce(n, f);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(none, f + len, NULL, none, 0, f, len,
	                                                   NULL, n, key);
}

bool sl_auth_open(const uint8_t key[SL_AUTH_KEY_LEN], const uint8_t *f, size_t len)
{
	uint8_t n[12], none[1] = {0};
	frame_nonce(n, f);
	return crypto_aead_chacha20poly1305_ietf_decrypt_detached(none, NULL, none, 0, f + len, f,
	                                                          len, n, key) == 0;
}

void sl_auth_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
