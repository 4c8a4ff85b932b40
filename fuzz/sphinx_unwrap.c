/*
 * Fuzz target: Sphinx unwrap. The first input byte picks a mode:
 *  even: the rest is a packet for one fixed node (vector geometry, 611
 *        bytes), unwrapped as a mix would: any length, any bytes;
 *  odd:  the next two bytes pick a geometry (hops, user length), then come
 *        raw routing information and payload, which the target wraps in a
 *        header with a valid MAC for the fixed node (the payload given
 *        is what the node will decrypt): this reaches the
 *        command parser, the delay and tag checks and the forward rewrite,
 *        which no random packet could (it cannot forge the MAC). A packet
 *        that comes out forward is unwrapped again, up to the header size.
 * Checked on every input: an error leaves the packet byte for byte as it
 * was and the result zeroed; a success is self-consistent.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/aes_ctr.h"
#include "crypto/crypto.h"
#include "crypto/x25519.h"
#include "wire/sphinx_keys.h"
#include "wire/sphinx_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed keys: the fuzzer must be deterministic. */
static const uint8_t node_priv[32] = { 0x46, 0x55, 0x5a, 0x5a, 1, 2, 3, 4 };
static const uint8_t eph_priv[32] = { 0x45, 0x50, 0x48, 1, 2, 3, 4, 5 };

static void
check_unwrap(struct sphinx_unwrap_ctx *ctx, const struct sphinx_geometry *g,
	     uint8_t *pkt, size_t len, unsigned depth)
{
	struct sphinx_unwrap_result res;
	static const struct sphinx_unwrap_result zero;
	uint8_t *copy = malloc(len ? len : 1);

	if (copy == NULL)
		abort();
	memcpy(copy, pkt, len);
	/* A maximum delay that some commands exceed. */
	enum sphinx_err err = sphinx_unwrap(ctx, node_priv, pkt, len,
					    0x80000000u, &res);
	if (err != SPHINX_OK) {
		if (memcmp(copy, pkt, len) != 0 ||
		    memcmp(&res, &zero, sizeof(res)) != 0)
			abort();
		goto done;
	}
	if (len != g->packet_len ||
	    (res.kind == SPHINX_HOP_FORWARD) != res.cmds.has_next_hop ||
	    res.payload_off + res.payload_len > len)
		abort();
	if (res.kind == SPHINX_HOP_FORWARD && depth < g->hops)
		check_unwrap(ctx, g, pkt, len, depth + 1);
done:
	free(copy);
}

/* Wrap raw routing information and payload for the fixed node. */
static void
wrap_raw(const struct sphinx_geometry *g, const uint8_t *in, size_t n,
	 uint8_t *pkt)
{
	uint8_t node_pub[32], ss[32], mac[32];
	struct sphinx_hop_keys k;
	struct aes_ctr *aes = aes_ctr_new();
	struct aez_key aez;
	size_t r = g->routing_info_len;

	memset(pkt, 0, g->packet_len);
	memcpy(pkt + SPHINX_OFF_BETA, in, n < r ? n : r);
	if (n > r) {
		size_t p = n - r < g->payload_len ? n - r : g->payload_len;
		memcpy(pkt + g->header_len, in + r, p);
	}
	x25519_base(pkt + SPHINX_OFF_ALPHA, eph_priv);
	x25519_base(node_pub, node_priv);
	if (x25519(ss, eph_priv, node_pub) != 0)
		abort();
	sphinx_keys_derive(&k, ss);
	sphinx_header_stream(aes, &k, pkt + SPHINX_OFF_BETA,
			     pkt + SPHINX_OFF_BETA, r);
	sphinx_header_mac(mac, &k, g, pkt);
	memcpy(pkt + SPHINX_OFF_BETA + r, mac, SPHINX_MAC_LEN);
	AES_CTR_FREE(aes);
	/* The input's payload is the plaintext this hop will see. */
	uint8_t *payload = pkt + g->header_len;
	if (sphinx_sprp_encrypt(&aez, k.sprp_key, k.hdr_iv, payload, payload,
				g->payload_len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct sphinx_geometry g;

	if (!ready) {
		if (crypto_init() != 0)
			abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	if ((data[0] & 1) == 0) {
		if (sphinx_geometry_init(&g, 5, 103) != 0)
			abort();
		struct sphinx_unwrap_ctx *ctx = sphinx_unwrap_ctx_new(&g);
		uint8_t *pkt = malloc(size - 1 ? size - 1 : 1);
		if (pkt == NULL)
			abort();
		memcpy(pkt, data + 1, size - 1);
		check_unwrap(ctx, &g, pkt, size - 1, 0);
		free(pkt);
		SPHINX_UNWRAP_CTX_FREE(ctx);
		return 0;
	}
	if (size < 3 ||
	    sphinx_geometry_init(&g, 1 + data[1] % SPHINX_HOPS_MAX,
				 data[2]) != 0)
		return 0;
	struct sphinx_unwrap_ctx *ctx = sphinx_unwrap_ctx_new(&g);
	uint8_t *pkt = malloc(g.packet_len);
	if (pkt == NULL)
		abort();
	wrap_raw(&g, data + 3, size - 3, pkt);
	check_unwrap(ctx, &g, pkt, g.packet_len, 0);
	free(pkt);
	SPHINX_UNWRAP_CTX_FREE(ctx);
	return 0;
}
