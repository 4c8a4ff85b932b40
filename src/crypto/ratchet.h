/*
 * The Double Ratchet with header encryption (Perrin and Marlinspike, "The
 * Double Ratchet Algorithm", revision 4, section 4), written from the
 * specification. Parameters (docs/e2e.md):
 *
 *   DH      X25519
 *   KDF_RK  HKDF-SHA256(salt = RK, ikm = DH output, info = RATCHET_INFO_RK)
 *           -> RK' (32) || CK (32) || NHK (32)
 *   KDF_CK  MK = HMAC-SHA256(CK, 0x01), CK' = HMAC-SHA256(CK, 0x02)
 *   HENCRYPT XChaCha20-Poly1305 under the header key, random 24-byte nonce,
 *           associated data = the caller's AD
 *   ENCRYPT ChaCha20-Poly1305 IETF under MK (used once, so nonce 0),
 *           associated data = AD || encrypted header
 *
 * Skipped message keys are bounded: at most RATCHET_MAX_SKIP per chain in
 * one step, and RATCHET_MAX_SKIPPED in all (the oldest is evicted).
 *
 * Transactions: ratchet_decrypt works on a scratch copy of the state and
 * commits only when the body authenticates, so a forged, tampered, replayed
 * or out-of-bounds message leaves the state exactly as it was.
 *
 * Every secret (the whole state, skipped keys included) lives in locked
 * memory (crypto/secret.h) and is wiped when freed. Nothing here logs.
 */
#ifndef BC_CRYPTO_RATCHET_H
#define BC_CRYPTO_RATCHET_H

#include <stddef.h>
#include <stdint.h>

#define RATCHET_KEY_LEN     32
/* Most message keys skipped in one chain by one received message. */
#define RATCHET_MAX_SKIP    256
/* Most skipped message keys kept in all; the oldest goes first. */
#define RATCHET_MAX_SKIPPED 1024
/* Plain header: DH public key, PN (u32 BE), N (u32 BE). */
#define RATCHET_HEADER_LEN  40
#define RATCHET_HNONCE_LEN  24
#define RATCHET_TAG_LEN     16
/* Encrypted header: nonce || ciphertext || tag. */
#define RATCHET_ENC_HEADER_LEN \
	(RATCHET_HNONCE_LEN + RATCHET_HEADER_LEN + RATCHET_TAG_LEN)
/* Largest associated data accepted (identity keys, labels). */
#define RATCHET_MAX_AD        256
/* Largest plaintext of one message. */
#define RATCHET_MAX_PLAINTEXT (1U << 20)
/* Version byte that starts a serialised state. */
#define RATCHET_STATE_VERSION 1

#define RATCHET_INFO_RK "backchannel ratchet v1 root"

enum ratchet_err {
	RATCHET_OK = 0,
	RATCHET_ERR_ARG,       /* size or argument out of range */
	RATCHET_ERR_NOT_READY, /* no sending chain yet (receiver first) */
	RATCHET_ERR_EXHAUSTED, /* message counter would wrap */
	RATCHET_ERR_HEADER,    /* no header key opens the header */
	RATCHET_ERR_BODY,      /* body fails authentication */
	RATCHET_ERR_SKIP,      /* would skip more than RATCHET_MAX_SKIP keys */
	RATCHET_ERR_OLD,       /* already received, or its key was evicted */
	RATCHET_ERR_DH,        /* unusable public key in a header */
	RATCHET_ERR_STATE,     /* serialised state malformed */
};

/* A short static description of e. */
const char *ratchet_strerror(enum ratchet_err e);

struct ratchet;

/*
 * The sender of the first message ("Alice"): sk is the shared secret,
 * hk_a her first sending header key, nhk_b the first next-header key of
 * the other side, bob_pub the other side's initial ratchet public key.
 * NULL if bob_pub is unusable (X25519 result all zero). Free with
 * RATCHET_FREE.
 */
struct ratchet *ratchet_new_alice(const uint8_t sk[static 32],
				  const uint8_t hk_a[static 32],
				  const uint8_t nhk_b[static 32],
				  const uint8_t bob_pub[static 32]);

/*
 * The receiver of the first message ("Bob"), with his initial ratchet key
 * pair given by its private key (copied). He cannot send before he has
 * received (RATCHET_ERR_NOT_READY). Never NULL.
 */
struct ratchet *ratchet_new_bob(const uint8_t sk[static 32],
				const uint8_t hk_a[static 32],
				const uint8_t nhk_b[static 32],
				const uint8_t bob_priv[static 32]);

/*
 * Encrypt plen bytes (at most RATCHET_MAX_PLAINTEXT) with associated data
 * ad (adlen <= RATCHET_MAX_AD): the encrypted header goes to hdr, the body
 * (plen + RATCHET_TAG_LEN bytes) to body (cap bytes), its length to *blen.
 * pt and body must not overlap.
 */
enum ratchet_err ratchet_encrypt(struct ratchet *r, const uint8_t *ad,
				 size_t adlen, const uint8_t *pt, size_t plen,
				 uint8_t hdr[static RATCHET_ENC_HEADER_LEN],
				 uint8_t *body, size_t cap, size_t *blen)
    __attribute__((warn_unused_result));

/*
 * Decrypt a message (hdr, body of blen bytes) with associated data ad into
 * pt (cap >= blen - RATCHET_TAG_LEN), length in *plen. On any error the
 * state is unchanged and pt holds no plaintext.
 */
enum ratchet_err
ratchet_decrypt(struct ratchet *r, const uint8_t *ad, size_t adlen,
		const uint8_t hdr[static RATCHET_ENC_HEADER_LEN],
		const uint8_t *body, size_t blen, uint8_t *pt, size_t cap,
		size_t *plen) __attribute__((warn_unused_result));

/* Number of skipped message keys held (for tests and metrics). */
size_t ratchet_skipped_count(const struct ratchet *r);

/*
 * Serialised state: its exact size, and the bytes. The output holds every
 * secret of the session: put it in secret memory, encrypt it at rest, wipe
 * it after use. ratchet_serialize returns -1 when cap is too small.
 */
size_t ratchet_serialized_len(const struct ratchet *r);
int ratchet_serialize(const struct ratchet *r, uint8_t *out, size_t cap,
		      size_t *outlen) __attribute__((warn_unused_result));

/*
 * Parse a serialised state strictly (version, flags, zeroed absent keys,
 * counters, exact length). NULL with *err = RATCHET_ERR_STATE on any fault.
 */
struct ratchet *ratchet_deserialize(const uint8_t *in, size_t len,
				    enum ratchet_err *err);

/*
 * KDF_CK, exposed for known-answer tests: mk = HMAC-SHA256(ck, 0x01),
 * next = HMAC-SHA256(ck, 0x02). next may equal ck.
 */
void ratchet_kdf_ck(const uint8_t ck[static 32], uint8_t next[static 32],
		    uint8_t mk[static 32]);

/* Wipe and free; NULL is accepted. */
void ratchet_free(struct ratchet *r);
#define RATCHET_FREE(p)          \
	do {                     \
		ratchet_free(p); \
		(p) = NULL;      \
	} while (0)

#endif /* BC_CRYPTO_RATCHET_H */
