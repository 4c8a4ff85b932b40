/*
 * End-to-end message codecs (docs/e2e.md): the gateway address shared with
 * invitations, the two first-contact payloads that travel inside the Noise
 * IKpsk2 handshake messages, the outer frames a recipient's queue receives,
 * and the padded plaintext inside a ratchet message.
 *
 * Every decoder is strict: one encoding per value, exact lengths, no
 * trailing bytes, zero padding, valid UTF-8 names. Decoders never read past
 * their input and return a distinct enum e2e_err with a message
 * (e2e_strerror). Nothing here allocates except into a caller's struct buf.
 */
#ifndef BC_WIRE_E2E_MSG_H
#define BC_WIRE_E2E_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

#define E2E_KEY_LEN      32
#define E2E_QUEUE_ID_LEN 32
#define E2E_MSG_ID_LEN   16
#define E2E_SEED_LEN     32
/* DNS name or IP literal; the port travels separately. */
#define E2E_HOST_MAX     253
/* A display name: bytes of UTF-8, not characters. */
#define E2E_NAME_MAX     64
#define E2E_VERSION      1

/* Size classes of the padded plaintext (docs/e2e.md, "Padding"). */
#define E2E_PAD_CLASSES 5
extern const size_t e2e_pad_classes[E2E_PAD_CLASSES];
#define E2E_PAD_MAX       65536
/* Plaintext header: kind (1), message id (16), content length (4). */
#define E2E_PLAIN_HDR_LEN (1 + E2E_MSG_ID_LEN + 4)
#define E2E_CONTENT_MAX   (E2E_PAD_MAX - E2E_PLAIN_HDR_LEN)

/* Ratchet framing sizes (equal to crypto/ratchet.h's; e2e_msg.c checks). */
#define E2E_RATCHET_HDR_LEN 80
#define E2E_TAG_LEN         16

enum e2e_err {
	E2E_OK = 0,
	E2E_ERR_TRUNCATED, /* input ends inside a field */
	E2E_ERR_TRAILING,  /* bytes after the last field */
	E2E_ERR_VERSION,   /* unknown version byte */
	E2E_ERR_TYPE,      /* unknown frame type */
	E2E_ERR_HOST,      /* gateway host empty, too long or bad characters */
	E2E_ERR_PORT,      /* gateway port 0 */
	E2E_ERR_NAME,      /* name empty, too long, not UTF-8 or control */
	E2E_ERR_SIZE,      /* length not allowed (size class, frame) */
	E2E_ERR_PADDING,   /* padding bytes not all zero */
	E2E_ERR_KIND,      /* unknown plaintext kind */
};

const char *e2e_strerror(enum e2e_err e);

/* ---- Gateway address ---- */

struct e2e_gateway {
	uint8_t key[E2E_KEY_LEN]; /* the gateway's identity public key */
	char host[E2E_HOST_MAX + 1];
	uint16_t port;
};

/* Host: 1..253 of [A-Za-z0-9.:-]; port nonzero. */
enum e2e_err e2e_gateway_check(const struct e2e_gateway *g);
/* key (32) || u8 host length || host || u16 port; g must be valid. */
void e2e_gateway_put(struct buf *b, const struct e2e_gateway *g);
/* Read and validate one gateway from r. */
enum e2e_err e2e_gateway_get(struct rd *r, struct e2e_gateway *g);

/* Names: 1..E2E_NAME_MAX bytes of UTF-8 without control characters. */
bool e2e_name_valid(const char *s, size_t len);
/* Read u8 length || name into out (E2E_NAME_MAX + 1 bytes, NUL-ended). */
enum e2e_err e2e_name_get(struct rd *r, char out[E2E_NAME_MAX + 1]);
void e2e_name_put(struct buf *b, const char *name);

/* ---- First contact: the payload of the acceptor's IKpsk2 message ---- */

struct e2e_hello {
	uint8_t identity_pub[E2E_KEY_LEN]; /* == the Noise static key */
	struct e2e_gateway gw;             /* the acceptor's gateway */
	uint8_t reply_queue[E2E_QUEUE_ID_LEN];
	char name[E2E_NAME_MAX + 1]; /* the acceptor's name for itself */
	uint8_t msg_id[E2E_MSG_ID_LEN];
};

/* Appends the encoding; -1 (nothing appended) if a field is invalid. */
int e2e_hello_encode(const struct e2e_hello *h, struct buf *out);
enum e2e_err e2e_hello_decode(const uint8_t *in, size_t len,
			      struct e2e_hello *out);

/* ---- First contact: the payload of the inviter's answer ---- */

/*
 * seed is secret (the ratchet's shared secret is derived from it): Noise
 * encrypts it; callers wipe the struct and the encoding after use.
 */
struct e2e_welcome {
	uint8_t identity_pub[E2E_KEY_LEN]; /* the inviter's identity */
	uint8_t ratchet_pub[E2E_KEY_LEN];  /* the inviter's first ratchet key */
	uint8_t seed[E2E_SEED_LEN];
	uint8_t msg_id[E2E_MSG_ID_LEN]; /* the hello's id, echoed */
};

#define E2E_WELCOME_LEN (1 + 2 * E2E_KEY_LEN + E2E_SEED_LEN + E2E_MSG_ID_LEN)

void e2e_welcome_encode(const struct e2e_welcome *w,
			uint8_t out[E2E_WELCOME_LEN]);
enum e2e_err e2e_welcome_decode(const uint8_t *in, size_t len,
				struct e2e_welcome *out);

/* ---- Outer frames: what a queue receives ---- */

enum e2e_frame_type {
	E2E_FRAME_HELLO = 1,   /* Noise IKpsk2 message 1 */
	E2E_FRAME_WELCOME = 2, /* Noise IKpsk2 message 2 */
	E2E_FRAME_RATCHET = 3, /* encrypted header || encrypted body */
};

/* Bounds of the Noise messages inside HELLO and WELCOME frames. */
#define E2E_HELLO_NOISE_MIN   (32 + 48 + 16)
#define E2E_HELLO_NOISE_MAX   1024
#define E2E_WELCOME_NOISE_LEN (32 + E2E_WELCOME_LEN + 16)

struct e2e_frame {
	enum e2e_frame_type type;
	const uint8_t *noise; /* HELLO, WELCOME: the Noise message */
	size_t noise_len;
	const uint8_t *hdr;  /* RATCHET: E2E_RATCHET_HDR_LEN bytes */
	const uint8_t *body; /* RATCHET: a size class + E2E_TAG_LEN bytes */
	size_t body_len;
};

/* Parse a frame; pointers go into in. */
enum e2e_err e2e_frame_parse(const uint8_t *in, size_t len,
			     struct e2e_frame *out);
/* Append type || noise message. */
void e2e_frame_put_noise(struct buf *b, enum e2e_frame_type type,
			 const uint8_t *msg, size_t len);
/* Append RATCHET || hdr || body. */
void e2e_frame_put_ratchet(struct buf *b, const uint8_t *hdr,
			   const uint8_t *body, size_t blen);

/* ---- Padded plaintext inside a ratchet message ---- */

enum e2e_kind {
	E2E_KIND_TEXT = 1,      /* a message from the user */
	E2E_KIND_DELIVERED = 2, /* receipt: content = ids delivered */
	E2E_KIND_READ = 3,      /* receipt: content = ids read */
	E2E_KIND_CONTROL = 4,   /* in-band control (gateway move, ...) */
};

struct e2e_plain {
	enum e2e_kind kind;
	uint8_t msg_id[E2E_MSG_ID_LEN];
	const uint8_t *content; /* into the decoded input */
	size_t content_len;
};

/* The smallest size class holding n content bytes, or 0 if none does. */
size_t e2e_pad_size(size_t content_len);

/*
 * Append kind || msg id || u32 length || content || zeros up to the size
 * class. -1 (nothing appended) if too long or the kind is unknown.
 */
int e2e_plain_encode(enum e2e_kind kind, const uint8_t id[E2E_MSG_ID_LEN],
		     const uint8_t *content, size_t len, struct buf *out);
enum e2e_err e2e_plain_decode(const uint8_t *in, size_t len,
			      struct e2e_plain *out);

#endif /* BC_WIRE_E2E_MSG_H */
