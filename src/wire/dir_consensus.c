/*
 * Vote and consensus codecs. As for descriptors, the parser accepts exactly
 * the bytes the encoder produces: fields in order, bounded counts, sorted
 * lists without duplicates, and a final re-encode compared byte for byte.
 */
#include "wire/dir_consensus.h"

#include <stdio.h>
#include <string.h>

#include "lib/alloc.h"

#include "wire/dir_text.h"

static const char *const vote_keys[] = {
    "backchannel-vote",       "epoch",          "authority", "descriptor-count",
    "backchannel-descriptor", "vote-signature", NULL,
};

static const char *const cons_keys[] = {
    "backchannel-consensus",
    "epoch",
    "valid-after",
    "valid-until",
    "genesis",
    "epoch-length",
    "grace",
    "hops",
    "blob-length",
    "mean-delay-ms",
    "max-delay-ms",
    "lambda-p",
    "lambda-l",
    "lambda-d",
    "lambda-f",
    "mix-loop-rate",
    "node-count",
    "node",
    "authority-signature",
    NULL,
};

#define RATE_MAX 1000000u /* 1000 per second, in thousandths */

int
dir_params_check(const struct dir_params *p, char *err, size_t errlen)
{
	const char *why = NULL;

	if (p->genesis > (1ull << 40))
		why = "genesis beyond year 36812";
	else if (p->epoch_len_s < 10 || p->epoch_len_s > 7 * 86400)
		why = "epoch-length outside 10 s .. 7 days";
	else if (p->grace_s < 1 || p->grace_s > p->epoch_len_s)
		why = "grace outside 1 s .. epoch-length";
	else if (p->hops < 1 || p->hops > 10)
		why = "hops outside 1..10";
	else if (p->blob_len < 16 || p->blob_len > 65536)
		why = "blob-length outside 16..65536";
	else if (p->max_delay_ms > 600000 || p->mean_delay_ms > p->max_delay_ms)
		why = "delays: need mean <= max <= 600000 ms";
	else if (p->lambda_p > RATE_MAX || p->lambda_l > RATE_MAX ||
		 p->lambda_d > RATE_MAX || p->lambda_f > RATE_MAX ||
		 p->mix_loop > RATE_MAX)
		why = "rate above 1000 per second";
	if (why == NULL)
		return 0;
	if (err != NULL && errlen > 0) {
		size_t n = strlen(why);
		if (n >= errlen)
			n = errlen - 1;
		memcpy(err, why, n);
		err[n] = '\0';
	}
	return -1;
}

static int
memcmp_key(const uint8_t *a, const uint8_t *b)
{
	return memcmp(a, b, DIR_KEY_LEN);
}

/* ---- vote ---- */

int
dir_vote_encode_body(const struct dir_vote *v, struct buf *b)
{
	if (v->n_desc > DIR_MAX_NODES || v->epoch > DIR_EPOCH_MAX)
		return -1;
	for (size_t i = 0; i < v->n_desc; i++)
		if (v->desc[i].epoch != v->epoch ||
		    (i > 0 && memcmp_key(v->desc[i - 1].identity,
					 v->desc[i].identity) >= 0))
			return -1;
	buf_printf(b, "backchannel-vote 1\n");
	dir_put_u64(b, "epoch", v->epoch);
	dir_put_key(b, "authority", v->authority, DIR_KEY_LEN);
	dir_put_u64(b, "descriptor-count", v->n_desc);
	for (size_t i = 0; i < v->n_desc; i++)
		if (dir_descriptor_encode(&v->desc[i], b) < 0)
			return -1;
	return 0;
}

int
dir_vote_encode(const struct dir_vote *v, struct buf *b)
{
	if (dir_vote_encode_body(v, b) < 0)
		return -1;
	dir_put_key(b, "vote-signature", v->signature, DIR_SIG_LEN);
	return 0;
}

void
dir_vote_clear(struct dir_vote *v)
{
	if (v == NULL)
		return;
	BC_FREE(v->desc);
	v->n_desc = 0;
}

static int
vote_parse_descs(struct dir_cursor *c, struct dir_vote *v, uint64_t count)
{
	v->desc = bc_calloc(count ? count : 1, sizeof(*v->desc));
	for (uint64_t i = 0; i < count; i++) {
		struct dir_descriptor *d = &v->desc[i];
		if (dir_descriptor_parse_at(c, d, NULL) < 0)
			return -1;
		v->n_desc++;
		if (d->epoch != v->epoch)
			return dir_cursor_fail(c,
					       "descriptor for epoch %llu "
					       "in vote for %llu",
					       (unsigned long long)d->epoch,
					       (unsigned long long)v->epoch);
		if (i > 0 &&
		    memcmp_key(v->desc[i - 1].identity, d->identity) >= 0)
			return dir_cursor_fail(c, "descriptors not sorted by "
						  "identity, or repeated");
	}
	return 0;
}

int
dir_vote_parse(const char *text, size_t len, struct dir_vote *out,
	       size_t *body_len, char *err, size_t errlen)
{
	struct dir_cursor c;
	const char *v;
	size_t n;
	uint64_t count;

	memset(out, 0, sizeof(*out));
	dir_cursor_init(&c, text, len, vote_keys, err, errlen);
	if (len > DIR_DOC_MAX)
		return dir_cursor_fail(&c, "vote longer than %u bytes",
				       DIR_DOC_MAX);
	if (dir_cursor_expect(&c, "backchannel-vote", &v, &n) < 0)
		return -1;
	if (!dir_value_is(v, n, "1"))
		return dir_cursor_fail(&c, "unsupported vote version");
	if (dir_cursor_expect(&c, "epoch", &v, &n) < 0 ||
	    dir_parse_u64(&c, v, n, DIR_EPOCH_MAX, &out->epoch) < 0)
		return -1;
	if (dir_cursor_expect(&c, "authority", &v, &n) < 0 ||
	    dir_parse_key(&c, v, n, out->authority, DIR_KEY_LEN) < 0)
		return -1;
	if (dir_cursor_expect(&c, "descriptor-count", &v, &n) < 0 ||
	    dir_parse_u64(&c, v, n, DIR_MAX_NODES, &count) < 0)
		return -1;
	if (vote_parse_descs(&c, out, count) < 0)
		goto fail;
	*body_len = c.off;
	if (dir_cursor_expect(&c, "vote-signature", &v, &n) < 0 ||
	    dir_parse_key(&c, v, n, out->signature, DIR_SIG_LEN) < 0)
		goto fail;
	if (!dir_cursor_done(&c)) {
		c.line++;
		dir_cursor_fail(&c, "trailing data after vote-signature");
		goto fail;
	}
	return 0;
fail:
	dir_vote_clear(out);
	return -1;
}

/* ---- consensus ---- */

static void
put_params(struct buf *b, const struct dir_params *p)
{
	dir_put_u64(b, "genesis", p->genesis);
	dir_put_u64(b, "epoch-length", p->epoch_len_s);
	dir_put_u64(b, "grace", p->grace_s);
	dir_put_u64(b, "hops", p->hops);
	dir_put_u64(b, "blob-length", p->blob_len);
	dir_put_u64(b, "mean-delay-ms", p->mean_delay_ms);
	dir_put_u64(b, "max-delay-ms", p->max_delay_ms);
	dir_put_milli(b, "lambda-p", p->lambda_p);
	dir_put_milli(b, "lambda-l", p->lambda_l);
	dir_put_milli(b, "lambda-d", p->lambda_d);
	dir_put_milli(b, "lambda-f", p->lambda_f);
	dir_put_milli(b, "mix-loop-rate", p->mix_loop);
}

static int
get_u32(struct dir_cursor *c, const char *key, uint32_t *out)
{
	const char *v;
	size_t n;
	uint64_t x;

	if (dir_cursor_expect(c, key, &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, UINT32_MAX, &x) < 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int
get_milli(struct dir_cursor *c, const char *key, uint32_t *out)
{
	const char *v;
	size_t n;

	if (dir_cursor_expect(c, key, &v, &n) < 0)
		return -1;
	return dir_parse_milli(c, v, n, out);
}

static int
parse_params(struct dir_cursor *c, struct dir_params *p)
{
	const char *v;
	size_t n;
	char why[80];

	if (dir_cursor_expect(c, "genesis", &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, 1ull << 40, &p->genesis) < 0)
		return -1;
	if (get_u32(c, "epoch-length", &p->epoch_len_s) < 0 ||
	    get_u32(c, "grace", &p->grace_s) < 0 ||
	    get_u32(c, "hops", &p->hops) < 0 ||
	    get_u32(c, "blob-length", &p->blob_len) < 0 ||
	    get_u32(c, "mean-delay-ms", &p->mean_delay_ms) < 0 ||
	    get_u32(c, "max-delay-ms", &p->max_delay_ms) < 0 ||
	    get_milli(c, "lambda-p", &p->lambda_p) < 0 ||
	    get_milli(c, "lambda-l", &p->lambda_l) < 0 ||
	    get_milli(c, "lambda-d", &p->lambda_d) < 0 ||
	    get_milli(c, "lambda-f", &p->lambda_f) < 0 ||
	    get_milli(c, "mix-loop-rate", &p->mix_loop) < 0)
		return -1;
	if (dir_params_check(p, why, sizeof(why)) < 0)
		return dir_cursor_fail(c, "parameters: %s", why);
	return 0;
}

/* The validity interval follows from the epoch and the parameters; it is
 * written out so an operator reading the document need not compute it. */
static void
validity(const struct dir_consensus *c, uint64_t *after, uint64_t *until)
{
	*after = c->params.genesis + c->epoch * c->params.epoch_len_s;
	*until = *after + c->params.epoch_len_s + c->params.grace_s;
}

static int
node_check(const struct dir_consensus *c, size_t i)
{
	const struct dir_node *nd = &c->nodes[i];

	if (nd->desc.epoch != c->epoch)
		return -1;
	if (nd->desc.role == DIR_ROLE_MIX &&
	    (nd->layer < 1 || nd->layer > DIR_LAYERS))
		return -1;
	if (nd->desc.role == DIR_ROLE_GATEWAY && nd->layer != 0)
		return -1;
	if (i > 0 &&
	    memcmp_key(c->nodes[i - 1].desc.identity, nd->desc.identity) >= 0)
		return -1;
	return 0;
}

int
dir_consensus_encode_body(const struct dir_consensus *c, struct buf *b)
{
	uint64_t after, until;

	if (c->n_nodes > DIR_MAX_NODES || c->epoch > DIR_EPOCH_MAX ||
	    dir_params_check(&c->params, NULL, 0) < 0)
		return -1;
	for (size_t i = 0; i < c->n_nodes; i++)
		if (node_check(c, i) < 0)
			return -1;
	validity(c, &after, &until);
	buf_printf(b, "backchannel-consensus 1\n");
	dir_put_u64(b, "epoch", c->epoch);
	dir_put_u64(b, "valid-after", after);
	dir_put_u64(b, "valid-until", until);
	put_params(b, &c->params);
	dir_put_u64(b, "node-count", c->n_nodes);
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct dir_node *nd = &c->nodes[i];
		if (nd->desc.role == DIR_ROLE_MIX)
			buf_printf(b, "node mix %u\n", nd->layer);
		else
			buf_printf(b, "node gateway\n");
		if (dir_descriptor_encode(&nd->desc, b) < 0)
			return -1;
	}
	return 0;
}

int
dir_consensus_encode(const struct dir_consensus *c, struct buf *b)
{
	if (dir_consensus_encode_body(c, b) < 0 ||
	    c->n_sigs > DIR_MAX_AUTHORITIES)
		return -1;
	for (size_t i = 0; i < c->n_sigs; i++) {
		char id[100], sig[100];
		dir_b64(id, sizeof(id), c->sigs[i].authority, DIR_KEY_LEN);
		dir_b64(sig, sizeof(sig), c->sigs[i].sig, DIR_SIG_LEN);
		buf_printf(b, "authority-signature %s %s\n", id, sig);
	}
	return 0;
}

void
dir_consensus_clear(struct dir_consensus *c)
{
	if (c == NULL)
		return;
	BC_FREE(c->nodes);
	c->n_nodes = 0;
	c->n_sigs = 0;
}

int
dir_consensus_add_sig(struct dir_consensus *c, const struct dir_signature *s)
{
	size_t i;

	if (c->n_sigs >= DIR_MAX_AUTHORITIES)
		return -1;
	for (i = 0; i < c->n_sigs; i++) {
		int r = memcmp_key(c->sigs[i].authority, s->authority);
		if (r == 0)
			return -1;
		if (r > 0)
			break;
	}
	memmove(&c->sigs[i + 1], &c->sigs[i],
		(c->n_sigs - i) * sizeof(c->sigs[0]));
	c->sigs[i] = *s;
	c->n_sigs++;
	return 0;
}

static int
parse_header(struct dir_cursor *c, struct dir_consensus *out)
{
	const char *v;
	size_t n;
	uint64_t after, until;

	if (dir_cursor_expect(c, "backchannel-consensus", &v, &n) < 0)
		return -1;
	if (!dir_value_is(v, n, "1"))
		return dir_cursor_fail(c, "unsupported consensus version");
	if (dir_cursor_expect(c, "epoch", &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, DIR_EPOCH_MAX, &out->epoch) < 0)
		return -1;
	if (dir_cursor_expect(c, "valid-after", &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, UINT64_MAX, &out->valid_after) < 0)
		return -1;
	if (dir_cursor_expect(c, "valid-until", &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, UINT64_MAX, &out->valid_until) < 0)
		return -1;
	if (parse_params(c, &out->params) < 0)
		return -1;
	validity(out, &after, &until);
	if (after != out->valid_after || until != out->valid_until)
		return dir_cursor_fail(c,
				       "valid-after/valid-until do not "
				       "match epoch and parameters "
				       "(want %llu/%llu)",
				       (unsigned long long)after,
				       (unsigned long long)until);
	return 0;
}

static int
parse_node_line(struct dir_cursor *c, struct dir_node *nd)
{
	const char *v;
	size_t n;

	if (dir_cursor_expect(c, "node", &v, &n) < 0)
		return -1;
	if (dir_value_is(v, n, "gateway")) {
		nd->layer = 0;
		return 0;
	}
	if (n == 5 && memcmp(v, "mix ", 4) == 0 && v[4] >= '1' &&
	    v[4] <= '0' + DIR_LAYERS) {
		nd->layer = (uint32_t)(v[4] - '0');
		return 0;
	}
	return dir_cursor_fail(c,
			       "node must be 'gateway' or 'mix 1'..'mix "
			       "%d'",
			       DIR_LAYERS);
}

static int
parse_nodes(struct dir_cursor *c, struct dir_consensus *out, uint64_t count)
{
	out->nodes = bc_calloc(count ? count : 1, sizeof(*out->nodes));
	for (uint64_t i = 0; i < count; i++) {
		struct dir_node *nd = &out->nodes[i];
		if (parse_node_line(c, nd) < 0 ||
		    dir_descriptor_parse_at(c, &nd->desc, NULL) < 0)
			return -1;
		out->n_nodes++;
		if (node_check(out, (size_t)i) < 0)
			return dir_cursor_fail(c,
					       "node %llu: wrong epoch, "
					       "role/layer mismatch, or not "
					       "sorted by identity",
					       (unsigned long long)i + 1);
	}
	return 0;
}

static int
parse_sigs(struct dir_cursor *c, struct dir_consensus *out)
{
	while (!dir_cursor_done(c)) {
		const char *v, *t;
		size_t n, hn, tn;
		struct dir_signature s;

		if (out->n_sigs == DIR_MAX_AUTHORITIES) {
			c->line++;
			return dir_cursor_fail(c, "more than %d signatures",
					       DIR_MAX_AUTHORITIES);
		}
		if (dir_cursor_expect(c, "authority-signature", &v, &n) < 0)
			return -1;
		if (dir_split(v, n, &hn, &t, &tn) < 0)
			return dir_cursor_fail(c, "authority-signature needs "
						  "'KEY SIGNATURE'");
		if (dir_parse_key(c, v, hn, s.authority, DIR_KEY_LEN) < 0 ||
		    dir_parse_key(c, t, tn, s.sig, DIR_SIG_LEN) < 0)
			return -1;
		if (out->n_sigs > 0 &&
		    memcmp_key(out->sigs[out->n_sigs - 1].authority,
			       s.authority) >= 0)
			return dir_cursor_fail(c, "signatures not sorted by "
						  "authority key, or repeated");
		out->sigs[out->n_sigs++] = s;
	}
	return 0;
}

int
dir_consensus_parse(const char *text, size_t len, struct dir_consensus *out,
		    size_t *body_len, char *err, size_t errlen)
{
	struct dir_cursor c;
	const char *v;
	size_t n;
	uint64_t count;

	memset(out, 0, sizeof(*out));
	dir_cursor_init(&c, text, len, cons_keys, err, errlen);
	if (len > DIR_DOC_MAX)
		return dir_cursor_fail(&c, "consensus longer than %u bytes",
				       DIR_DOC_MAX);
	if (parse_header(&c, out) < 0)
		return -1;
	if (dir_cursor_expect(&c, "node-count", &v, &n) < 0 ||
	    dir_parse_u64(&c, v, n, DIR_MAX_NODES, &count) < 0)
		return -1;
	if (parse_nodes(&c, out, count) < 0)
		goto fail;
	*body_len = c.off;
	if (parse_sigs(&c, out) < 0)
		goto fail;
	return 0;
fail:
	dir_consensus_clear(out);
	return -1;
}
