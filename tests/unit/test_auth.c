/* test_auth.c — suite "auth": SPEC §8's cryptography (sl_auth.h) and the
   identity key file (sl_ident.h). */
#include <check.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_auth.h"
#include "sl_ident.h"
#include "sl_wire.h"

static const uint8_t chain[32] = {0xc1, 0xc2, 0xc3};

static void id_of(uint8_t who, sl_auth_id_t *id)
{
	uint8_t seed[SL_AUTH_SEED_LEN];
	memset(seed, who, sizeof seed);
	sl_auth_id_from_seed(id, seed);
}

static void setup(void)
{
	ck_assert_int_eq(sl_auth_init(), 0);
}

/* A HELLO signature holds for exactly its node, chain, key and nonce. */
START_TEST(test_hello_sig)
{
	sl_auth_id_t a, b;
	id_of(1, &a);
	id_of(2, &b);
	sl_auth_eph_t e;
	sl_auth_eph_new(&e);
	uint8_t sig[SL_AUTH_SIG_LEN];
	sl_auth_hello_sign(&a, chain, e.pk, 42, sig);
	ck_assert(sl_auth_hello_verify(a.pk, chain, e.pk, 42, sig));
	ck_assert(!sl_auth_hello_verify(b.pk, chain, e.pk, 42, sig));
	ck_assert(!sl_auth_hello_verify(a.pk, chain, e.pk, 43, sig));
	uint8_t other[32] = {9};
	ck_assert(!sl_auth_hello_verify(a.pk, other, e.pk, 42, sig));
	ck_assert(!sl_auth_hello_verify(a.pk, chain, other, 42, sig));
	sig[63] ^= 1;
	ck_assert(!sl_auth_hello_verify(a.pk, chain, e.pk, 42, sig));
}
END_TEST

/* The signed message is the one SPEC §8 spells out, byte for byte:
   checked with libsodium directly, not through sl_auth. */
START_TEST(test_sig_messages_per_spec)
{
	sl_auth_id_t a;
	id_of(3, &a);
	uint8_t k1[32], k2[32], sig[64], m[160];
	memset(k1, 0x11, 32);
	memset(k2, 0x22, 32);
	const uint8_t nonce_be[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
	size_t n = 0;
	memcpy(m, "sluice-hello-v1", 15), n = 15;
	memcpy(m + n, chain, 32), n += 32;
	memcpy(m + n, k1, 32), n += 32;
	memcpy(m + n, nonce_be, 8), n += 8;
	sl_auth_hello_sign(&a, chain, k1, 0x0102030405060708ull, sig);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, n, a.pk), 0);
	n = 0;
	memcpy(m, "sluice-ack-v1", 13), n = 13;
	memcpy(m + n, chain, 32), n += 32;
	memcpy(m + n, k1, 32), n += 32; /* responder's ephemeral first */
	memcpy(m + n, k2, 32), n += 32;
	memcpy(m + n, nonce_be, 8), n += 8;
	sl_auth_ack_sign(&a, chain, k1, k2, 0x0102030405060708ull, sig);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, m, n, a.pk), 0);
	ck_assert(sl_auth_ack_verify(a.pk, chain, k1, k2, 0x0102030405060708ull, sig));
	ck_assert(!sl_auth_ack_verify(a.pk, chain, k2, k1, 0x0102030405060708ull, sig));
}
END_TEST

/* Initiator and responder derive crossed keys: one's tx is the other's rx. */
START_TEST(test_keys_cross)
{
	sl_auth_eph_t i, r;
	sl_auth_eph_new(&i);
	sl_auth_eph_new(&r);
	sl_auth_keys_t ki, kr;
	ck_assert_int_eq(sl_auth_keys_initiator(&ki, &i, r.pk), 0);
	ck_assert_int_eq(sl_auth_keys_responder(&kr, &r, i.pk), 0);
	ck_assert_mem_eq(ki.tx, kr.rx, 32);
	ck_assert_mem_eq(ki.rx, kr.tx, 32);
	ck_assert(memcmp(ki.tx, ki.rx, 32) != 0);
	uint8_t zero[32] = {0}; /* a low-order point is refused */
	ck_assert_int_eq(sl_auth_keys_initiator(&ki, &i, zero), -1);
}
END_TEST

/* frame: a HEADERS-sized frame with flag AUTH, stream 5, seq 0x01020304. */
static size_t frame(uint8_t *f, size_t payload)
{
	memset(f, 0, SL_WIRE_HDR_LEN + payload + SL_AUTH_TAG_LEN);
	f[0] = 0x53, f[1] = 0x4c, f[2] = 1, f[3] = 3, f[4] = 5, f[5] = SL_WIRE_F_AUTH;
	f[6] = (uint8_t)(payload >> 8), f[7] = (uint8_t)payload;
	f[8] = 0xab, f[12] = 1, f[13] = 2, f[14] = 3, f[15] = 4;
	for (size_t i = 0; i < payload; i++)
		f[SL_WIRE_HDR_LEN + i] = (uint8_t)(i * 7);
	return SL_WIRE_HDR_LEN + payload;
}

/* The tag is ChaCha20-Poly1305 (IETF) over header + payload as additional
   data, nonce = stream, 7 zero bytes, seq big-endian; any flipped bit of
   header, payload or tag is refused. */
START_TEST(test_seal_open)
{
	uint8_t key[32], f[1500], tag[16], nonce[12] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
	memset(key, 0x5c, sizeof key);
	size_t n = frame(f, 1380);
	sl_auth_seal(key, f, n);
	unsigned long long tl;
	uint8_t none[1] = {0};
	ck_assert_int_eq(crypto_aead_chacha20poly1305_ietf_encrypt_detached(none, tag, &tl, none, 0,
	                                                                    f, n, NULL, nonce, key),
	                 0);
	ck_assert_mem_eq(f + n, tag, 16);
	ck_assert(sl_auth_open(key, f, n));
	for (size_t bit = 0; bit < (n + 16) * 8; bit += 37) {
		f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!sl_auth_open(key, f, n), "bit %zu flipped, still opens", bit);
		f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert(sl_auth_open(key, f, n));
	key[0] ^= 1;
	ck_assert(!sl_auth_open(key, f, n));
}
END_TEST

/* The identity key file: created 0600 on first load, the same identity
   on the next, refused when open to others or not 64 hex digits. */
START_TEST(test_ident_file)
{
	char dir[] = "/tmp/sl_ident_XXXXXX", path[64], err[256];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/node.key", dir);
	sl_auth_id_t a, b;
	bool created;
	ck_assert_int_eq(sl_ident_load(path, &a, &created, err, sizeof err), SL_IDENT_ERR_OK);
	ck_assert(created);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(st.st_size, 65);
	ck_assert_int_eq(sl_ident_load(path, &b, &created, err, sizeof err), SL_IDENT_ERR_OK);
	ck_assert(!created);
	ck_assert_mem_eq(a.pk, b.pk, 32);
	chmod(path, 0640);
	ck_assert_int_eq(sl_ident_load(path, &b, &created, err, sizeof err), SL_IDENT_ERR_MODE);
	ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
	chmod(path, 0600);
	int fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "zz\n", 3), 3);
	close(fd);
	ck_assert_int_eq(sl_ident_load(path, &b, &created, err, sizeof err), SL_IDENT_ERR_FORMAT);
	ck_assert_ptr_nonnull(strstr(err, path));
	unlink(path);
	rmdir(dir);
	ck_assert_int_eq(
	    sl_ident_load("/nonexistent-dir/x/node.key", &b, &created, err, sizeof err),
	    SL_IDENT_ERR_IO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("auth");
	TCase *t = tcase_create("core");
	tcase_add_checked_fixture(t, setup, NULL);
	tcase_add_test(t, test_hello_sig);
	tcase_add_test(t, test_sig_messages_per_spec);
	tcase_add_test(t, test_keys_cross);
	tcase_add_test(t, test_seal_open);
	tcase_add_test(t, test_ident_file);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed == 0 ? 0 : 1;
}
