/* sl_auth.h — the cryptography of authenticated sessions (SPEC §8),
   over libsodium: the Ed25519 signatures of HELLO and HELLO_ACK, the
   X25519 ephemeral exchange that gives each session its two direction
   keys (crypto_kx, initiator = client), and the ChaCha20-Poly1305 (IETF)
   tag every later frame of the session carries.

   Stateless and thread-safe once sl_auth_init has run (any thread, any
   process: ctrl signs and verifies HELLOs, the dataplane verifies
   HELLO_ACKs and tags frames).  Nothing here allocates; secrets live in
   the caller's memory and sl_auth_wipe clears them.  Per frame only
   sl_auth_seal / sl_auth_open run: one ChaCha20 block for the Poly1305
   key plus Poly1305 over the frame, no syscall, no lock. */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include "sl_base.h"
#include "sl_wire.h"

#define SL_AUTH_PK_LEN   32 /* Ed25519 public key = node_id; X25519 public key */
#define SL_AUTH_SK_LEN   64 /* Ed25519 secret key (seed and public key) */
#define SL_AUTH_XSK_LEN  32 /* X25519 ephemeral secret key */
#define SL_AUTH_SIG_LEN  64
#define SL_AUTH_KEY_LEN  32 /* a direction key */
#define SL_AUTH_TAG_LEN  16
#define SL_AUTH_SEED_LEN 32 /* an identity key file holds this seed */

_Static_assert(SL_AUTH_TAG_LEN == SL_WIRE_TAG_LEN, "the wire's tag is the AEAD's");
_Static_assert(SL_AUTH_PK_LEN == SL_WIRE_PUBKEY_LEN, "the wire's ephemeral key is X25519's");
_Static_assert(SL_AUTH_SIG_LEN == SL_WIRE_SIG_LEN, "the wire's signature is Ed25519's");

/* A node's long-term identity: node_id = pk. */
typedef struct {
	uint8_t pk[SL_AUTH_PK_LEN];
	uint8_t sk[SL_AUTH_SK_LEN];
} sl_auth_id_t;

/* An X25519 ephemeral key pair (one per handshake, wiped once used). */
typedef struct {
	uint8_t pk[SL_AUTH_PK_LEN];
	uint8_t sk[SL_AUTH_XSK_LEN];
} sl_auth_eph_t;

/* The two direction keys of one session, as this side sees them. */
typedef struct {
	uint8_t rx[SL_AUTH_KEY_LEN]; /* opens what the peer sent */
	uint8_t tx[SL_AUTH_KEY_LEN]; /* seals what we send */
} sl_auth_keys_t;

/* sl_auth_init initialises libsodium (idempotent).  Returns 0, or -1 when
   it cannot run (no entropy source); every other call needs it first. */
int sl_auth_init(void);

/* sl_auth_id_from_seed derives the identity whose key file holds seed. */
void sl_auth_id_from_seed(sl_auth_id_t *id, const uint8_t seed[SL_AUTH_SEED_LEN]);

/* sl_auth_random fills buf with len random bytes (libsodium's CSPRNG). */
void sl_auth_random(void *buf, size_t len);

/* sl_auth_eph_new makes a fresh ephemeral key pair. */
void sl_auth_eph_new(sl_auth_eph_t *e);

/* sl_auth_hello_sign signs "sluice-hello-v1" || chain_id || eph_pk || nonce
   (nonce as its 8 big-endian wire bytes) with id; sl_auth_hello_verify
   checks such a signature against node_id (an Ed25519 public key): true
   only when it is valid. */
void sl_auth_hello_sign(const sl_auth_id_t *id, const uint8_t chain_id[32],
                        const uint8_t eph_pk[SL_AUTH_PK_LEN], uint64_t nonce,
                        uint8_t sig[SL_AUTH_SIG_LEN]);
bool sl_auth_hello_verify(const uint8_t node_id[SL_AUTH_PK_LEN], const uint8_t chain_id[32],
                          const uint8_t eph_pk[SL_AUTH_PK_LEN], uint64_t nonce,
                          const uint8_t sig[SL_AUTH_SIG_LEN]);

/* sl_auth_ack_sign signs "sluice-ack-v1" || chain_id || resp_eph ||
   init_eph || nonce; sl_auth_ack_verify checks it against the responder's
   node_id. */
void sl_auth_ack_sign(const sl_auth_id_t *id, const uint8_t chain_id[32],
                      const uint8_t resp_eph[SL_AUTH_PK_LEN],
                      const uint8_t init_eph[SL_AUTH_PK_LEN], uint64_t nonce,
                      uint8_t sig[SL_AUTH_SIG_LEN]);
bool sl_auth_ack_verify(const uint8_t node_id[SL_AUTH_PK_LEN], const uint8_t chain_id[32],
                        const uint8_t resp_eph[SL_AUTH_PK_LEN],
                        const uint8_t init_eph[SL_AUTH_PK_LEN], uint64_t nonce,
                        const uint8_t sig[SL_AUTH_SIG_LEN]);

/* sl_auth_keys_initiator / _responder derive the session's direction keys
   from our ephemeral pair and the peer's ephemeral public key (the
   initiator is crypto_kx's client).  Returns 0, or -1 when the peer's key
   is unusable (a low-order point): the handshake fails. */
int sl_auth_keys_initiator(sl_auth_keys_t *k, const sl_auth_eph_t *ours,
                           const uint8_t peer_pk[SL_AUTH_PK_LEN]);
int sl_auth_keys_responder(sl_auth_keys_t *k, const sl_auth_eph_t *ours,
                           const uint8_t peer_pk[SL_AUTH_PK_LEN]);

/* sl_auth_seal computes the tag of frame f (header and payload, len =
   24 + length bytes, the header already carrying flag AUTH) under `key`
   and writes it at f + len.  The nonce is u8 stream, u8[7] zero, u32 seq
   (big-endian), both read from the header.  Precondition: len >= 24. */
void sl_auth_seal(const uint8_t key[SL_AUTH_KEY_LEN], uint8_t *f, size_t len);

/* sl_auth_open checks the tag at f + len against frame f[0 .. len) under
   `key`: true when it is the sender's.  Precondition: len >= 24 and
   SL_AUTH_TAG_LEN readable bytes at f + len. */
bool sl_auth_open(const uint8_t key[SL_AUTH_KEY_LEN], const uint8_t *f, size_t len);

/* sl_auth_wipe clears a secret (not optimised away). */
void sl_auth_wipe(void *p, size_t len);

#endif /* SL_AUTH_H */
