/*
 * Invitations (docs/e2e.md, "Invitation"): what one person gives another,
 * out of band, to become contacts. One pasteable line:
 *
 *   "bc1" || base32(body || checksum)
 *   body = u8 version || gateway (e2e_gateway_put) || 32 queue id ||
 *          32 one-time X25519 public key || 16 secret || u64 expiry ||
 *          u8 name length || name
 *   checksum = SHA-256(body)[0..4]
 *
 * The checksum catches typos before any cryptography runs; the decoder
 * folds upper case to lower case (the bytes are covered by the checksum)
 * and is otherwise strict. The secret is the psk of first contact: the
 * line must be handled like a password (struct invite: wipe after use).
 */
#ifndef BC_WIRE_INVITE_H
#define BC_WIRE_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "wire/e2e_msg.h"

#define INVITE_PREFIX       "bc1"
#define INVITE_PREFIX_LEN   3
#define INVITE_VERSION      1
#define INVITE_SECRET_LEN   16
#define INVITE_CHECKSUM_LEN 4
/* Longest body + checksum, and the longest line (with its NUL). */
#define INVITE_BIN_MAX                                               \
	(1 + E2E_KEY_LEN + 1 + E2E_HOST_MAX + 2 + E2E_QUEUE_ID_LEN + \
	 E2E_KEY_LEN + INVITE_SECRET_LEN + 8 + 1 + E2E_NAME_MAX +    \
	 INVITE_CHECKSUM_LEN)
#define INVITE_TEXT_MAX (INVITE_PREFIX_LEN + (INVITE_BIN_MAX * 8 + 4) / 5 + 1)

struct invite {
	struct e2e_gateway gw;              /* the inviter's gateway */
	uint8_t queue_id[E2E_QUEUE_ID_LEN]; /* fresh queue for the answer */
	uint8_t otk_pub[E2E_KEY_LEN];       /* one-time key (Noise rs) */
	uint8_t secret[INVITE_SECRET_LEN];  /* first-contact psk seed */
	uint64_t expiry;                    /* unix seconds */
	char name[E2E_NAME_MAX + 1];        /* the inviter's own name */
};

enum invite_err {
	INVITE_OK = 0,
	INVITE_ERR_PREFIX,   /* does not start with "bc1" */
	INVITE_ERR_ENCODING, /* not base32, or a length base32 cannot have */
	INVITE_ERR_CHECKSUM, /* typo: checksum does not match */
	INVITE_ERR_VERSION,  /* made by a newer version */
	INVITE_ERR_FORMAT,   /* truncated or trailing bytes */
	INVITE_ERR_GATEWAY,  /* gateway host or port invalid */
	INVITE_ERR_NAME,     /* name not 1-64 bytes of UTF-8 */
	INVITE_ERR_KEY,      /* one-time key all zero */
};

/* A one-line description meant for the user. */
const char *invite_strerror(enum invite_err e);

/*
 * Write the line (NUL-terminated) to out (cap >= INVITE_TEXT_MAX always
 * suffices). -1 if a field is invalid or cap too small.
 */
int invite_encode(const struct invite *inv, char *out, size_t cap);

/* Parse len bytes of text. On error *out is zeroed. */
enum invite_err invite_decode(const char *text, size_t len, struct invite *out);

/* Zero *inv (it holds the secret). */
void invite_wipe(struct invite *inv);

#endif /* BC_WIRE_INVITE_H */
