/* Client packets: route, reply block, forward payload (cpacket.h). */
#include "client/cpacket.h"

#include <string.h>

#include "lib/alloc.h"

#include "crypto/rand.h"
#include "crypto/secret.h"

#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

int
cpacket_ctx_init(struct cpacket_ctx *x, const struct dir_consensus *c,
		 uint64_t epoch, const struct dir_node *own,
		 const uint8_t own_queue[static 32])
{
	memset(x, 0, sizeof(*x));
	/* Our routes are 5 hops forward, 4 back: the header must hold 5. */
	if (c->params.hops < ROUTE_FWD_HOPS ||
	    sphinx_geometry_forward(&x->g, c->params.hops, c->params.blob_len,
				    true) < 0)
		return -1;
	x->c = c;
	x->epoch = epoch;
	x->own = own;
	memcpy(x->own_queue, own_queue, 32);
	return 0;
}

int
cpacket_build(const struct cpacket_ctx *x, const struct dir_node *dest,
	      const uint8_t recipient[static 32], const uint8_t *blob,
	      size_t blob_len, bool reply, uint8_t *pkt,
	      uint8_t surb_id[static SPHINX_SURB_ID_LEN], uint8_t *token)
{
	struct sphinx_path_hop fwd[ROUTE_FWD_HOPS], back[ROUTE_REPLY_HOPS];
	uint8_t *user = bc_malloc(x->g.user_len);
	uint8_t *surb = NULL;
	int ret = -1;

	if (route_forward(x->c, x->epoch, x->own, dest, recipient, fwd) < 0)
		goto done;
	if (reply) {
		surb = bc_malloc(x->g.surb_len);
		rand_bytes(surb_id, SPHINX_SURB_ID_LEN);
		if (route_reply(x->c, x->epoch, x->own, x->own_queue, surb_id,
				back) < 0 ||
		    sphinx_surb_create(&x->g, back, ROUTE_REPLY_HOPS, surb,
				       token) != SPHINX_OK)
			goto done;
	}
	if (sphinx_fwd_encode(&x->g, user, surb, blob, blob_len) < 0 ||
	    sphinx_packet_create(&x->g, fwd, ROUTE_FWD_HOPS, user,
				 x->g.user_len, pkt,
				 x->g.packet_len) != SPHINX_OK)
		goto done;
	ret = 0;
done:
	if (surb != NULL)
		secret_wipe(surb, x->g.surb_len);
	secret_wipe(user, x->g.user_len);
	BC_FREE(surb);
	BC_FREE(user);
	return ret;
}
