/*
 * The Noise Protocol Framework, revision 34 (noiseprotocol.org/noise.html):
 * handshake state machine and transport ciphers.
 *
 * Supported: DH 25519, cipher ChaChaPoly, hashes SHA256, SHA512 and BLAKE2b;
 * the one-way (N, K, X), fundamental interactive (NN ... IX) and deferred
 * (NK1 ... I1X1) patterns, each with any psk modifiers ("IKpsk2",
 * "XXpsk0+psk3"). Protocol names are the spec's, e.g.
 * "Noise_XK_25519_ChaChaPoly_BLAKE2b".
 *
 * Usage (initiator of XK):
 *	hs = noise_hs_new("Noise_XK_25519_ChaChaPoly_BLAKE2b", true, pro, plen);
 *	noise_hs_set_s(hs, my_priv); noise_hs_set_rs(hs, server_pub);
 *	noise_hs_write(hs, NULL, 0, buf, sizeof(buf), &n);	-> send buf
 *	noise_hs_read(hs, msg, mlen, pl, sizeof(pl), &pn);	<- received
 *	noise_hs_write(...);					-> send
 *	noise_hs_split(hs, &tx, &rx); NOISE_HS_FREE(hs);
 *	noise_cipher_encrypt(tx, ...); noise_cipher_decrypt(rx, ...);
 *
 * Errors: every function that can fail returns -1 (0 on success). A failed
 * handshake or transport operation (bad tag, short or oversized message,
 * missing key, out-of-turn call, small buffer) leaves the object DEAD: its
 * secrets are wiped and every later call fails. Nothing here logs.
 *
 * Secrets (keys, chaining key, ephemeral and static private keys, psks) live
 * in locked memory (sodium_malloc) and are wiped when freed or dead.
 * Objects are not thread-safe; use one per connection.
 */
#ifndef BC_CRYPTO_NOISE_H
#define BC_CRYPTO_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* DHLEN (25519), cipher key and psk size. */
#define NOISE_KEY_LEN         32
/* ChaChaPoly authentication tag. */
#define NOISE_TAG_LEN         16
/* Every Noise message, handshake or transport, is at most this long. */
#define NOISE_MAX_MSG_LEN     65535
/* Largest transport payload: a full message minus its tag. */
#define NOISE_MAX_PAYLOAD_LEN (NOISE_MAX_MSG_LEN - NOISE_TAG_LEN)
/* Largest handshake hash (HASHLEN of SHA512 and BLAKE2b). */
#define NOISE_MAX_HASH_LEN    64
/* Largest number of psk tokens in one pattern. */
#define NOISE_MAX_PSKS        8

struct noise_hs;
struct noise_cipher;

/* ---- Keys ---- */

/* A fresh X25519 key pair from the system CSPRNG. */
void noise_keypair_generate(uint8_t pub[static NOISE_KEY_LEN],
			    uint8_t priv[static NOISE_KEY_LEN]);

/* pub = X25519(priv, 9). */
void noise_pubkey_from_private(uint8_t pub[static NOISE_KEY_LEN],
			       const uint8_t priv[static NOISE_KEY_LEN]);

/* ---- Handshake ---- */

/*
 * A handshake for protocol_name in the given role, with the prologue mixed
 * in at once (it may be NULL when plen is 0). Returns NULL only when the
 * name is not a supported protocol (or libsodium cannot start). Free with
 * NOISE_HS_FREE.
 */
struct noise_hs *noise_hs_new(const char *protocol_name, bool initiator,
			      const uint8_t *prologue, size_t plen);

/*
 * Key setters, all before the first noise_hs_write/read. The keys are
 * copied. noise_hs_set_s sets the local static key pair from its private
 * key; it fails unless the pattern uses a local static key. noise_hs_set_rs
 * sets the remote static public key; it fails unless the pattern has it as
 * a pre-message (a static key sent in the handshake is learnt from it).
 */
int noise_hs_set_s(struct noise_hs *hs,
		   const uint8_t priv[static NOISE_KEY_LEN]);
int noise_hs_set_rs(struct noise_hs *hs,
		    const uint8_t pub[static NOISE_KEY_LEN]);

/*
 * Add the next pre-shared key, in the order the pattern's psk tokens are
 * processed ("psk0+psk2": the psk0 key first). Fails past the pattern's
 * number of psk tokens.
 */
int noise_hs_add_psk(struct noise_hs *hs,
		     const uint8_t psk[static NOISE_KEY_LEN]);

/*
 * Use this ephemeral private key instead of a random one: for known-answer
 * vectors, and for first contact (wire/firstcontact.c), which re-runs its
 * first message with the same fresh random ephemeral so a retransmission
 * has the same bytes. Never reuse an ephemeral across different handshakes:
 * that destroys forward secrecy. Accepted, and then unused, by a one-way
 * responder.
 */
int noise_hs_set_e(struct noise_hs *hs,
		   const uint8_t priv[static NOISE_KEY_LEN]);

/* What the pattern needs from the caller before the first message. */
bool noise_hs_needs_s(const struct noise_hs *hs);
bool noise_hs_needs_rs(const struct noise_hs *hs);
size_t noise_hs_psks_needed(const struct noise_hs *hs);

/*
 * Write the next handshake message, carrying payload (may be NULL when plen
 * is 0), into out (outcap bytes; NOISE_MAX_MSG_LEN always suffices) and set
 * *outlen. Fails if it is not our turn, a needed key is missing, or the
 * message would not fit. payload and out must not overlap.
 */
int noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
		   uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Read the next handshake message msg (mlen bytes): its payload goes to
 * payload_out (cap bytes; mlen always suffices; may be NULL if cap is 0)
 * and *plen. Fails on a message that is short, too long, fails
 * authentication, carries an unusable public key, or comes out of turn.
 * msg and payload_out must not overlap.
 */
int noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
		  uint8_t *payload_out, size_t cap, size_t *plen)
    __attribute__((warn_unused_result));

/* True when it is our turn to write (false when done or dead). */
bool noise_hs_is_my_turn(const struct noise_hs *hs);

/* True once every handshake message has been written or read. */
bool noise_hs_done(const struct noise_hs *hs);

/* True after any failure. */
bool noise_hs_dead(const struct noise_hs *hs);

/*
 * After the last message: the transport ciphers. *send encrypts what we
 * send, *recv decrypts what we receive (for one-way patterns only the
 * initiator's send and the responder's recv carry traffic). The caller owns
 * both (NOISE_CIPHER_FREE). The handshake's chaining key and private keys
 * are wiped; the handshake hash and remote static key stay readable. Only
 * once per handshake.
 */
int noise_hs_split(struct noise_hs *hs, struct noise_cipher **send,
		   struct noise_cipher **recv)
    __attribute__((warn_unused_result));

/*
 * The handshake hash h (for channel binding), valid once done: copies
 * HASHLEN (32 or 64) bytes to out (cap >= NOISE_MAX_HASH_LEN suffices) and
 * sets *len.
 */
int noise_hs_get_handshake_hash(const struct noise_hs *hs, uint8_t *out,
				size_t cap, size_t *len);

/*
 * The remote party's static public key, once known (pre-message or
 * received and authenticated by the message that carried it). Fails when it
 * is not known.
 */
int noise_hs_get_remote_static(const struct noise_hs *hs,
			       uint8_t out[static NOISE_KEY_LEN]);

/* Wipe and free; NULL is accepted. */
void noise_hs_free(struct noise_hs *hs);
#define NOISE_HS_FREE(p)          \
	do {                      \
		noise_hs_free(p); \
		(p) = NULL;       \
	} while (0)

/* ---- Transport ---- */

/*
 * A transport cipher with key k and nonce 0 (what noise_hs_split returns;
 * exposed for tests and for protocols that derive their own keys). Never
 * NULL; free with NOISE_CIPHER_FREE.
 */
struct noise_cipher *noise_cipher_new(const uint8_t k[static NOISE_KEY_LEN]);

/*
 * Encrypt plen bytes (at most NOISE_MAX_PAYLOAD_LEN) with associated data ad
 * (NULL, 0 for plain Noise transport messages) under the next nonce, into
 * out (outcap >= plen + NOISE_TAG_LEN; out may equal in exactly, not
 * otherwise overlap). Fails when the nonce space is exhausted (nonce
 * 2^64-1 is reserved): rekeying does not reset the nonce, so a new
 * handshake is needed then.
 */
int noise_cipher_encrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t adlen, const uint8_t *in, size_t plen,
			 uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * Decrypt and authenticate mlen bytes (NOISE_TAG_LEN to NOISE_MAX_MSG_LEN)
 * under the next nonce into out (outcap >= mlen - NOISE_TAG_LEN; out may
 * equal in exactly). A failure kills the cipher: a stream transport cannot
 * recover from a forged or lost message.
 */
int noise_cipher_decrypt(struct noise_cipher *c, const uint8_t *ad,
			 size_t adlen, const uint8_t *in, size_t mlen,
			 uint8_t *out, size_t outcap, size_t *outlen)
    __attribute__((warn_unused_result));

/*
 * The spec's Rekey(): k = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros).
 * Both sides must rekey at the same point of the stream; the nonce counter
 * is not reset.
 */
int noise_cipher_rekey(struct noise_cipher *c);

/* The nonce the next encrypt/decrypt will use. */
uint64_t noise_cipher_get_nonce(const struct noise_cipher *c);

/*
 * Set the next nonce (the spec's SetNonce), for protocols that carry it
 * explicitly, and for tests of exhaustion. Reusing a nonce for encryption
 * is catastrophic: never move an encrypting cipher backwards.
 */
int noise_cipher_set_nonce(struct noise_cipher *c, uint64_t n);

/* Wipe and free; NULL is accepted. */
void noise_cipher_free(struct noise_cipher *c);
#define NOISE_CIPHER_FREE(p)          \
	do {                          \
		noise_cipher_free(p); \
		(p) = NULL;           \
	} while (0)

#endif /* BC_CRYPTO_NOISE_H */
