/*
 * Checker for Sphinx vector files of Katzenpost's shape
 * (katzenpost/sphinx_vectors_current.json):
 *   sphinx_vectors FILE [HOPS]
 * For every case, every hop is unwrapped with that hop's private key and must
 * give the next packet byte for byte and the expected routing commands; the
 * last hop must give the payload, directly or (reply cases) through the SURB
 * decryption token. Reply cases also rebuild the first packet from the SURB.
 * HOPS (the header's slots) is inferred from the sizes when not given.
 * Prints a line per case and ends with `N passed, M failed`.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/vecfile.h"
#include "crypto/secret.h"
#include "lib/alloc.h"
#include "crypto/x25519.h"
#include "wire/sphinx_packet.h"
#include "wire/sphinx_surb.h"

#define WHY_LEN 200

struct vcase {
	const json_t *nodes, *path, *packets;
	size_t n;
	uint8_t *payload, *surb, *token;
	size_t payload_len, surb_len, token_len;
};

static void
vcase_free(struct vcase *c)
{
	BC_FREE(c->payload);
	BC_FREE(c->surb);
	BC_FREE(c->token);
}

/* The commands hop i must find: the vector's list plus the next hop. */
static int
expected_commands(const struct vcase *c, size_t i,
		  struct sphinx_commands *want)
{
	const json_t *hop = json_array_get(c->path, i);
	const json_t *cmds = json_object_get(hop, "Commands");
	const json_t *v;
	size_t k;

	memset(want, 0, sizeof(*want));
	if (!json_is_array(cmds))
		return -1;
	json_array_foreach(cmds, k, v) {
		uint8_t *b;
		size_t len;
		struct sphinx_commands one;

		if (!json_is_string(v) ||
		    vec_hex_str(json_string_value(v), &b, &len) != 0)
			return -1;
		int rc = sphinx_commands_parse(&one, b, len);
		free(b);
		if (rc != SPHINX_CMD_OK)
			return -1;
		/* Merge: each vector command is a single one. */
		if (one.has_recipient) {
			want->has_recipient = true;
			memcpy(want->recipient_id, one.recipient_id,
			       sizeof(one.recipient_id));
		}
		if (one.has_surb_reply) {
			want->has_surb_reply = true;
			memcpy(want->surb_id, one.surb_id, sizeof(one.surb_id));
		}
		if (one.has_delay) {
			want->has_delay = true;
			want->delay_ms = one.delay_ms;
		}
	}
	return 0;
}

/* Hop i of case c: unwrap packet i, compare with packet i+1 or payload. */
static bool
check_hop(const struct sphinx_geometry *g, struct sphinx_unwrap_ctx *ctx,
	  const struct vcase *c, size_t i, char *why)
{
	uint8_t priv[32], pub[32];
	uint8_t *pkt = NULL, *next = NULL;
	size_t len = 0, nlen = 0;
	struct sphinx_commands want;
	struct sphinx_unwrap_result res;
	enum sphinx_err err;
	uint8_t derived[32];
	bool last = i + 1 == c->n, ok = false;
	const json_t *node = json_array_get(c->nodes, i);
	const json_t *hop = json_array_get(c->path, i);

	if (vec_hex_fixed(node, "PrivateKey", priv, 32) != 0 ||
	    vec_hex_fixed(hop, "PublicKey", pub, 32) != 0 ||
	    vec_hex_str(json_string_value(json_array_get(c->packets, i)),
			&pkt, &len) != 0 ||
	    expected_commands(c, i, &want) != 0) {
		snprintf(why, WHY_LEN, "hop %zu: unreadable vector fields", i);
		goto done;
	}
	x25519_base(derived, priv);
	if (memcmp(derived, pub, 32) != 0) {
		snprintf(why, WHY_LEN, "hop %zu: key pair mismatch", i);
		goto done;
	}
	err = sphinx_unwrap(ctx, priv, pkt, len, UINT32_MAX, &res);
	if (err != SPHINX_OK) {
		snprintf(why, WHY_LEN, "hop %zu: unwrap: %s", i,
			 sphinx_strerror(err));
		goto done;
	}
	if (!last) {
		const json_t *nh = json_array_get(c->path, i + 1);
		if (vec_hex_str(json_string_value(json_array_get(c->packets,
								 i + 1)),
				&next, &nlen) != 0 ||
		    nlen != g->packet_len ||
		    vec_hex_fixed(nh, "ID", want.next_hop_id, 32) != 0) {
			snprintf(why, WHY_LEN, "hop %zu: bad next packet", i);
			goto done;
		}
		want.has_next_hop = true;
		memcpy(want.next_hop_mac,
		       next + g->header_len - SPHINX_MAC_LEN, SPHINX_MAC_LEN);
	}
	if (memcmp(&res.cmds, &want, sizeof(want)) != 0) {
		snprintf(why, WHY_LEN, "hop %zu: commands differ", i);
		goto done;
	}
	if (!last) {
		ok = res.kind == SPHINX_HOP_FORWARD &&
		     memcmp(pkt, next, g->packet_len) == 0;
		if (!ok)
			snprintf(why, WHY_LEN, "hop %zu: next packet differs",
				 i);
		goto done;
	}
	if (c->token != NULL) {
		ok = res.kind == SPHINX_HOP_SURB_REPLY &&
		     sphinx_surb_decrypt(g, c->token, c->token_len,
					 pkt + res.payload_off) == SPHINX_OK &&
		     memcmp(pkt + res.payload_off + SPHINX_TAG_LEN,
			    c->payload, c->payload_len) == 0;
	} else {
		ok = res.kind == SPHINX_HOP_FINAL &&
		     res.payload_len == c->payload_len &&
		     memcmp(pkt + res.payload_off, c->payload,
			    c->payload_len) == 0;
	}
	if (!ok)
		snprintf(why, WHY_LEN, "hop %zu: final payload differs", i);
done:
	secret_wipe(priv, sizeof(priv));
	free(pkt);
	free(next);
	return ok;
}

/* Reply cases: the first packet is the SURB used on the payload. */
static bool
check_surb_use(const struct sphinx_geometry *g, const struct vcase *c,
	       char *why)
{
	uint8_t first_hop[SPHINX_NODE_ID_LEN], id[SPHINX_NODE_ID_LEN];
	uint8_t *want = NULL, *pkt = bc_malloc(g->packet_len);
	size_t len;
	bool ok = false;

	if (c->surb_len != g->surb_len ||
	    vec_hex_str(json_string_value(json_array_get(c->packets, 0)),
			&want, &len) != 0 ||
	    len != g->packet_len ||
	    vec_hex_fixed(json_array_get(c->path, 0), "ID", id, 32) != 0) {
		snprintf(why, WHY_LEN, "reply block: bad sizes");
		goto done;
	}
	if (sphinx_surb_packet(g, c->surb, c->payload, c->payload_len, pkt,
			       first_hop) != SPHINX_OK ||
	    memcmp(pkt, want, g->packet_len) != 0 ||
	    memcmp(first_hop, id, sizeof(id)) != 0) {
		snprintf(why, WHY_LEN, "reply block: packet differs");
		goto done;
	}
	ok = true;
done:
	free(want);
	free(pkt);
	return ok;
}

/* Read one case; -1 when its shape is wrong. */
static int
vcase_read(const json_t *v, struct vcase *c)
{
	memset(c, 0, sizeof(*c));
	c->nodes = json_object_get(v, "Nodes");
	c->path = json_object_get(v, "Path");
	c->packets = json_object_get(v, "Packets");
	c->n = json_array_size(c->path);
	if (c->n == 0 || json_array_size(c->nodes) != c->n ||
	    json_array_size(c->packets) != c->n + 1 ||
	    vec_hex(v, "Payload", &c->payload, &c->payload_len) != 0)
		return -1;
	/* Forward cases have empty Surb and SurbKeys (or none at all). */
	const char *surb = vec_str(v, "Surb");
	if (surb != NULL && surb[0] != '\0') {
		if (vec_hex(v, "Surb", &c->surb, &c->surb_len) != 0 ||
		    vec_hex(v, "SurbKeys", &c->token, &c->token_len) != 0)
			return -1;
	}
	return 0;
}

/* Header slots from the sizes: packet = header(hops) + tag + payload. */
static int
infer_geometry(const struct vcase *c, size_t hops_arg,
	       struct sphinx_geometry *g)
{
	const char *p0 = json_string_value(json_array_get(c->packets, 0));
	size_t pkt_len = p0 == NULL ? 0 : strlen(p0) / 2;
	size_t fixed = SPHINX_AD_LEN + SPHINX_GROUP_LEN + SPHINX_MAC_LEN +
		       SPHINX_TAG_LEN + c->payload_len;

	if (hops_arg == 0) {
		if (pkt_len < fixed ||
		    (pkt_len - fixed) % SPHINX_PER_HOP_RI_LEN != 0)
			return -1;
		hops_arg = (pkt_len - fixed) / SPHINX_PER_HOP_RI_LEN;
	}
	if (sphinx_geometry_init(g, hops_arg, c->payload_len) != 0 ||
	    g->packet_len != pkt_len)
		return -1;
	return 0;
}

static bool
check_case(const json_t *v, size_t hops_arg, char *why, char *what,
	   size_t what_len)
{
	struct vcase c;
	struct sphinx_geometry g;
	struct sphinx_unwrap_ctx *ctx = NULL;
	bool ok = false;

	if (vcase_read(v, &c) != 0 || infer_geometry(&c, hops_arg, &g) != 0) {
		snprintf(why, WHY_LEN, "unreadable case or unknown geometry");
		goto done;
	}
	snprintf(what, what_len, "%zu hop%s, %s, %zu-byte packets", c.n,
		 c.n == 1 ? "" : "s", c.token ? "reply block" : "forward",
		 g.packet_len);
	if (c.token != NULL && !check_surb_use(&g, &c, why))
		goto done;
	ctx = sphinx_unwrap_ctx_new(&g);
	ok = true;
	for (size_t i = 0; i < c.n && ok; i++)
		ok = check_hop(&g, ctx, &c, i, why);
	SPHINX_UNWRAP_CTX_FREE(ctx);
done:
	vcase_free(&c);
	return ok;
}

int
main(int argc, char **argv)
{
	struct vec_tally t = { 0, 0 };
	size_t hops = 0;
	json_t *root = vec_start(argc, argv);
	const json_t *v;
	size_t i;

	if (root == NULL)
		return 2;
	if (argc > 2) {
		char *end;
		unsigned long h = strtoul(argv[2], &end, 10);
		if (*end != '\0' || h == 0 || h > SPHINX_HOPS_MAX) {
			fprintf(stderr, "bad HOPS %s\n", argv[2]);
			json_decref(root);
			return 2;
		}
		hops = h;
	}
	if (!json_is_array(root))
		vec_fail(&t, "file: not a list of cases");
	json_array_foreach(root, i, v) {
		char why[WHY_LEN] = "", what[100] = "?";
		if (check_case(v, hops, why, what, sizeof(what))) {
			vec_pass(&t);
			printf("case %zu (%s): ok\n", i, what);
		} else {
			vec_fail(&t, "case %zu (%s): FAIL: %s", i, what, why);
		}
	}
	json_decref(root);
	return vec_finish(&t);
}
