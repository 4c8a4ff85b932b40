/*
 * Sphinx packet geometry: every length of a packet, derived from three
 * parameters (how many hops the header has room for, how long the blob is,
 * whether the payload carries a reply block). Nothing else in the code may
 * hard-code a packet length: the network publishes these parameters in its
 * consensus and every size follows from them here.
 */
#ifndef BC_WIRE_SPHINX_GEOMETRY_H
#define BC_WIRE_SPHINX_GEOMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fixed by the x25519-v0 suite (docs/sphinx.md). */
#define SPHINX_AD_LEN           2
#define SPHINX_GROUP_LEN        32
#define SPHINX_MAC_LEN          32
#define SPHINX_PER_HOP_RI_LEN   82
#define SPHINX_NODE_ID_LEN      32
#define SPHINX_RECIPIENT_ID_LEN 32
#define SPHINX_SURB_ID_LEN      16
#define SPHINX_TAG_LEN          32
#define SPHINX_SPRP_KEY_LEN     48
#define SPHINX_SPRP_IV_LEN      16
#define SPHINX_KEY_IV_LEN       (SPHINX_SPRP_KEY_LEN + SPHINX_SPRP_IV_LEN)
#define SPHINX_REPLAY_TAG_LEN   32

/* Header layout offsets (independent of the number of hops up to beta). */
#define SPHINX_OFF_AD    0
#define SPHINX_OFF_ALPHA SPHINX_AD_LEN
#define SPHINX_OFF_BETA  (SPHINX_AD_LEN + SPHINX_GROUP_LEN)

/*
 * Bounds on the parameters, so that per-packet scratch can live on the stack
 * or in one context allocated up front, and lengths never overflow.
 */
#define SPHINX_HOPS_MAX     8
#define SPHINX_USER_LEN_MAX 65536

/* The forward payload (our layout above Sphinx): flags, reserved, SURB, blob */
#define SPHINX_FWD_FLAGS_LEN    1
#define SPHINX_FWD_RESERVED_LEN 1
#define SPHINX_FWD_FLAG_REPLY   0x01

/* The network default: 5 hops, a reply block and a 2000-byte blob. */
#define SPHINX_DEFAULT_HOPS     5
#define SPHINX_DEFAULT_BLOB_LEN 2000

struct sphinx_geometry {
	size_t hops;             /* routing-information slots in a header */
	size_t routing_info_len; /* beta: hops * SPHINX_PER_HOP_RI_LEN */
	size_t header_len;       /* AD | alpha | beta | gamma */
	size_t user_len;         /* payload after the zero tag */
	size_t payload_len;      /* SPHINX_TAG_LEN + user_len */
	size_t packet_len;       /* header_len + payload_len */
	size_t surb_len;         /* header | first hop id | key | iv */
	/*
	 * The forward payload layout, set by sphinx_geometry_forward() only
	 * (raw geometries leave has_layout false): offsets into the user
	 * payload.
	 */
	bool has_layout;
	bool with_reply;
	size_t reply_off; /* where the SURB sits, when with_reply */
	size_t blob_off;
	size_t blob_len;
};

/*
 * A raw geometry: hops slots and user_len bytes of user payload, with no
 * layout of our own above it (what the Katzenpost vectors use: 5 hops, 103
 * bytes). Returns 0, or -1 when a parameter is out of range.
 */
int sphinx_geometry_init(struct sphinx_geometry *g, size_t hops,
			 size_t user_len);

/*
 * The geometry of our forward payload: flags, reserved, a reply block for the
 * same number of hops when with_reply, then blob_len bytes of blob. Returns 0
 * or -1 when out of range.
 */
int sphinx_geometry_forward(struct sphinx_geometry *g, size_t hops,
			    size_t blob_len, bool with_reply);

/* The network default (5 hops, reply block, 2000-byte blob: 3082 bytes). */
void sphinx_geometry_default(struct sphinx_geometry *g);

/* The length of a reply-block decryption token for a path of n hops. */
static inline size_t
sphinx_surb_token_len(size_t nhops)
{
	return (nhops + 1) * SPHINX_KEY_IV_LEN;
}

/*
 * Fill the user payload (g->user_len bytes at user) with our forward layout:
 * flags, reserved, the reply block when surb is not NULL (g->surb_len bytes;
 * needs g->with_reply), and blob zero-padded to g->blob_len. Returns 0, or -1
 * when the geometry has no such layout or the blob is too long.
 */
int sphinx_fwd_encode(const struct sphinx_geometry *g, uint8_t *user,
		      const uint8_t *surb, const uint8_t *blob,
		      size_t blob_len);

/* A parsed forward payload: pointers into the user payload given. */
struct sphinx_fwd_view {
	const uint8_t *surb; /* g->surb_len bytes, or NULL: no reply block */
	const uint8_t *blob; /* g->blob_len bytes */
};

/*
 * Parse a user payload of g->user_len bytes. Returns 0, or -1 on unknown
 * flags, a nonzero reserved byte, a reply flag in a geometry without room
 * for one, or a geometry without forward layout. Unused SURB room must be
 * zero, so that one plaintext has one encoding.
 */
int sphinx_fwd_decode(const struct sphinx_geometry *g, const uint8_t *user,
		      struct sphinx_fwd_view *v)
    __attribute__((warn_unused_result));

#endif /* BC_WIRE_SPHINX_GEOMETRY_H */
