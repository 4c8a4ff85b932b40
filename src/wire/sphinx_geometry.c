/* Sphinx geometry: every packet length derived from the parameters. */
#include "wire/sphinx_geometry.h"

#include <string.h>

int
sphinx_geometry_init(struct sphinx_geometry *g, size_t hops, size_t user_len)
{
	memset(g, 0, sizeof(*g));
	if (hops < 1 || hops > SPHINX_HOPS_MAX ||
	    user_len > SPHINX_USER_LEN_MAX)
		return -1;
	g->hops = hops;
	g->routing_info_len = hops * SPHINX_PER_HOP_RI_LEN;
	g->header_len = SPHINX_AD_LEN + SPHINX_GROUP_LEN + g->routing_info_len +
			SPHINX_MAC_LEN;
	g->user_len = user_len;
	g->payload_len = SPHINX_TAG_LEN + user_len;
	g->packet_len = g->header_len + g->payload_len;
	g->surb_len = g->header_len + SPHINX_NODE_ID_LEN + SPHINX_KEY_IV_LEN;
	return 0;
}

int
sphinx_geometry_forward(struct sphinx_geometry *g, size_t hops, size_t blob_len,
			bool with_reply)
{
	struct sphinx_geometry probe;

	/* The SURB length depends only on hops: learn it from a probe. */
	if (sphinx_geometry_init(&probe, hops, 0) != 0 ||
	    blob_len > SPHINX_USER_LEN_MAX) {
		memset(g, 0, sizeof(*g));
		return -1;
	}
	size_t fixed = SPHINX_FWD_FLAGS_LEN + SPHINX_FWD_RESERVED_LEN;
	size_t reply = with_reply ? probe.surb_len : 0;
	if (sphinx_geometry_init(g, hops, fixed + reply + blob_len) != 0)
		return -1;
	g->has_layout = true;
	g->with_reply = with_reply;
	g->reply_off = fixed;
	g->blob_off = fixed + reply;
	g->blob_len = blob_len;
	return 0;
}

void
sphinx_geometry_default(struct sphinx_geometry *g)
{
	/* Cannot fail: the defaults are inside every bound. */
	(void)sphinx_geometry_forward(g, SPHINX_DEFAULT_HOPS,
				      SPHINX_DEFAULT_BLOB_LEN, true);
}

int
sphinx_fwd_encode(const struct sphinx_geometry *g, uint8_t *user,
		  const uint8_t *surb, const uint8_t *blob, size_t blob_len)
{
	if (!g->has_layout || blob_len > g->blob_len ||
	    (surb != NULL && !g->with_reply) || (blob == NULL && blob_len > 0))
		return -1;
	memset(user, 0, g->user_len);
	if (surb != NULL) {
		user[0] = SPHINX_FWD_FLAG_REPLY;
		memcpy(user + g->reply_off, surb, g->surb_len);
	}
	if (blob_len > 0)
		memcpy(user + g->blob_off, blob, blob_len);
	return 0;
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int
sphinx_fwd_decode(const struct sphinx_geometry *g, const uint8_t *user,
		  struct sphinx_fwd_view *v)
{
	memset(v, 0, sizeof(*v));
	if (!g->has_layout)
		return -1;
	uint8_t flags = user[0];
	if ((flags & (uint8_t)~SPHINX_FWD_FLAG_REPLY) != 0 || user[1] != 0)
		return -1;
	if (flags & SPHINX_FWD_FLAG_REPLY) {
		if (!g->with_reply)
			return -1;
		v->surb = user + g->reply_off;
	} else if (g->with_reply &&
		   !all_zero(user + g->reply_off, g->surb_len)) {
		return -1;
	}
	v->blob = user + g->blob_off;
	return 0;
}
