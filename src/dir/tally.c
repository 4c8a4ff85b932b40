/* Vote tally and layer assignment: see tally.h. */
#include "dir/tally.h"

#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/bytes.h"
#include "lib/codec.h"

#include "crypto/hash.h"

void
dir_body_hash(const void *body, size_t len, uint8_t out[32])
{
	sha256(out, body, len);
}

void
dir_hash_hex(const uint8_t h[32], char out[65])
{
	if (hex_encode(out, 65, h, 32) < 0)
		out[0] = '\0';
}

static const struct dir_descriptor *
vote_find(const struct dir_vote *v, const uint8_t *identity)
{
	size_t lo = 0, hi = v->n_desc;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(v->desc[mid].identity, identity, DIR_KEY_LEN);
		if (r == 0)
			return &v->desc[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool
desc_same(const struct dir_descriptor *a, const struct dir_descriptor *b)
{
	struct buf x, y;
	bool same;

	buf_init(&x);
	buf_init(&y);
	same = dir_descriptor_encode(a, &x) == 0 &&
	       dir_descriptor_encode(b, &y) == 0 && x.len == y.len &&
	       memcmp(x.data, y.data, x.len) == 0;
	buf_free(&x);
	buf_free(&y);
	return same;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct dir_node *x = a, *y = b;
	return memcmp(x->desc.identity, y->desc.identity, DIR_KEY_LEN);
}

static bool
listed(const struct dir_consensus *c, const uint8_t *identity)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (memcmp(c->nodes[i].desc.identity, identity, DIR_KEY_LEN) ==
		    0)
			return true;
	return false;
}

void
dir_tally(const struct dir_vote *const *votes, size_t n, size_t threshold,
	  uint64_t epoch, const struct dir_params *params,
	  struct dir_consensus *out)
{
	memset(out, 0, sizeof(*out));
	out->epoch = epoch;
	out->params = *params;
	out->nodes = bc_calloc(DIR_MAX_NODES, sizeof(*out->nodes));
	for (size_t v = 0; v < n; v++) {
		for (size_t j = 0; j < votes[v]->n_desc; j++) {
			const struct dir_descriptor *d = &votes[v]->desc[j];
			size_t count = 0;
			if (d->epoch != epoch || listed(out, d->identity))
				continue;
			for (size_t w = 0; w < n; w++) {
				const struct dir_descriptor *e =
				    vote_find(votes[w], d->identity);
				if (e != NULL && desc_same(d, e))
					count++;
			}
			if (count >= threshold && out->n_nodes < DIR_MAX_NODES)
				out->nodes[out->n_nodes++].desc = *d;
		}
	}
	qsort(out->nodes, out->n_nodes, sizeof(*out->nodes), node_cmp);
	dir_assign_layers(out);
}

struct layer_key {
	uint8_t h[32];
	size_t idx;
};

static int
layer_key_cmp(const void *a, const void *b)
{
	const struct layer_key *x = a, *y = b;
	int r = memcmp(x->h, y->h, sizeof(x->h));
	if (r != 0)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Layer of each node in c, by the hash order of the mixes. */
static void
compute_layers(const struct dir_consensus *c, uint32_t *layer)
{
	struct layer_key *k =
	    bc_calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*k));
	size_t m = 0;

	for (size_t i = 0; i < c->n_nodes; i++) {
		layer[i] = 0;
		if (c->nodes[i].desc.role != DIR_ROLE_MIX)
			continue;
		uint8_t in[17 + 8 + DIR_KEY_LEN];
		memcpy(in, "backchannel-layer", 17);
		be64_put(in + 17, c->epoch);
		memcpy(in + 25, c->nodes[i].desc.identity, DIR_KEY_LEN);
		sha256(k[m].h, in, sizeof(in));
		k[m++].idx = i;
	}
	qsort(k, m, sizeof(*k), layer_key_cmp);
	for (size_t j = 0; j < m; j++)
		layer[k[j].idx] = (uint32_t)(j % DIR_LAYERS) + 1;
	free(k);
}

void
dir_assign_layers(struct dir_consensus *c)
{
	uint32_t *layer =
	    bc_calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*layer));
	compute_layers(c, layer);
	for (size_t i = 0; i < c->n_nodes; i++)
		c->nodes[i].layer = layer[i];
	free(layer);
}

bool
dir_layers_ok(const struct dir_consensus *c)
{
	uint32_t *layer =
	    bc_calloc(c->n_nodes ? c->n_nodes : 1, sizeof(*layer));
	bool ok = true;

	compute_layers(c, layer);
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i].layer != layer[i])
			ok = false;
	free(layer);
	return ok;
}
