/* Threshold listing, layer assignment, verification, equivocation, and the
 * authority list: the rules of docs/directory.md. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"
#include "lib/codec.h"

#include "crypto/crypto.h"
#include "crypto/ed25519.h"

#include "dir/authset.h"
#include "dir/tally.h"
#include "dir/verify.h"

static void
setup(void)
{
	cr_assert_eq(crypto_init(), 0);
}

TestSuite(dir_tally, .init = setup);
TestSuite(dir_verify, .init = setup);
TestSuite(dir_authset, .init = setup);

/* Signed descriptor of node `id` for epoch 1000; `variant` changes the
 * address, making a different descriptor of the same node. */
static void
make_desc(struct dir_descriptor *d, uint8_t id, enum dir_role role, int variant)
{
	uint8_t seed[32], sk[64];
	struct buf b;

	memset(d, 0, sizeof(*d));
	memset(seed, id, sizeof(seed));
	ed25519_keypair_from_seed(d->identity, sk, seed);
	d->epoch = 1000;
	memset(d->link_key, id + 1, 32);
	for (int i = 0; i < DIR_PACKET_KEYS; i++)
		memset(d->packet_keys[i], id + 2 + i, 32);
	snprintf(d->address, sizeof(d->address), "127.0.0.1:%d",
		 7000 + id + 100 * variant);
	d->role = role;
	d->services = role == DIR_ROLE_GATEWAY ? DIR_SERVICE_ECHO : 0;
	snprintf(d->version, sizeof(d->version), "0.1.0");
	buf_init(&b);
	cr_assert_eq(dir_descriptor_encode_body(d, &b), 0);
	ed25519_sign(d->signature, b.data, b.len, sk);
	buf_free(&b);
}

static int
desc_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dir_descriptor *)a)->identity,
		      ((const struct dir_descriptor *)b)->identity, 32);
}

/* A vote holding the given descriptors (sorted here). */
static struct dir_vote *
make_vote(const struct dir_descriptor *ds, size_t n)
{
	struct dir_vote *v = bc_calloc(1, sizeof(*v));
	v->epoch = 1000;
	v->desc = bc_calloc(n ? n : 1, sizeof(*v->desc));
	memcpy(v->desc, ds, n * sizeof(*ds));
	v->n_desc = n;
	qsort(v->desc, n, sizeof(*v->desc), desc_cmp);
	return v;
}

static void
free_vote(struct dir_vote *v)
{
	dir_vote_clear(v);
	free(v);
}

static void
params(struct dir_params *p)
{
	memset(p, 0, sizeof(*p));
	p->genesis = 1700000000;
	p->epoch_len_s = 30;
	p->grace_s = 10;
	p->hops = 5;
	p->blob_len = 2000;
	p->mean_delay_ms = 50;
	p->max_delay_ms = 1000;
	p->lambda_p = 2000;
}

static bool
has_node(const struct dir_consensus *c, const struct dir_descriptor *d)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (memcmp(&c->nodes[i].desc, d, sizeof(*d)) == 0)
			return true;
	return false;
}

Test(dir_tally, listing_needs_threshold_of_identical_descriptors)
{
	struct dir_descriptor A, B, C, D, D2, E1, E2;
	struct dir_params p;
	struct dir_consensus c;

	make_desc(&A, 1, DIR_ROLE_MIX, 0);     /* in all three votes */
	make_desc(&B, 2, DIR_ROLE_GATEWAY, 0); /* in two */
	make_desc(&C, 3, DIR_ROLE_MIX, 0);     /* in one */
	make_desc(&D, 4, DIR_ROLE_MIX, 0);     /* two votes agree, one not */
	make_desc(&D2, 4, DIR_ROLE_MIX, 1);
	make_desc(&E1, 5, DIR_ROLE_MIX, 0); /* two versions, one each */
	make_desc(&E2, 5, DIR_ROLE_MIX, 1);
	struct dir_descriptor v1[] = {A, B, C, D, E1};
	struct dir_descriptor v2[] = {A, B, D, E2};
	struct dir_descriptor v3[] = {A, D2};
	struct dir_vote *votes[3] = {make_vote(v1, 5), make_vote(v2, 4),
				     make_vote(v3, 2)};
	params(&p);
	dir_tally((const struct dir_vote *const *)votes, 3, 2, 1000, &p, &c);
	cr_assert_eq(c.n_nodes, 3);
	cr_assert(has_node(&c, &A));
	cr_assert(has_node(&c, &B));
	cr_assert(has_node(&c, &D), "the version two votes agree on");
	cr_assert_not(has_node(&c, &D2));
	cr_assert_not(has_node(&c, &C));
	cr_assert_not(has_node(&c, &E1));
	cr_assert_not(has_node(&c, &E2));
	for (size_t i = 1; i < c.n_nodes; i++)
		cr_assert_lt(memcmp(c.nodes[i - 1].desc.identity,
				    c.nodes[i].desc.identity, 32),
			     0);
	dir_consensus_clear(&c);

	/* With 4 authorities (threshold 3) two votes list nothing. */
	dir_tally((const struct dir_vote *const *)votes, 2, 3, 1000, &p, &c);
	cr_assert_eq(c.n_nodes, 0, "two votes never reach 3");
	dir_consensus_clear(&c);
	for (int i = 0; i < 3; i++)
		free_vote(votes[i]);
}

Test(dir_tally, same_votes_any_order_same_bytes)
{
	struct dir_descriptor ds[6];
	struct dir_params p;
	struct dir_consensus c1, c2;
	struct buf b1, b2;

	for (int i = 0; i < 6; i++)
		make_desc(&ds[i], (uint8_t)(10 + i),
			  i == 0 ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX, 0);
	struct dir_vote *va = make_vote(ds, 6), *vb = make_vote(ds + 1, 5);
	const struct dir_vote *o1[] = {va, vb}, *o2[] = {vb, va};
	params(&p);
	dir_tally(o1, 2, 2, 1000, &p, &c1);
	dir_tally(o2, 2, 2, 1000, &p, &c2);
	buf_init(&b1);
	buf_init(&b2);
	cr_assert_eq(dir_consensus_encode_body(&c1, &b1), 0);
	cr_assert_eq(dir_consensus_encode_body(&c2, &b2), 0);
	cr_assert_eq(b1.len, b2.len);
	cr_assert_eq(memcmp(b1.data, b2.data, b1.len), 0);
	cr_assert_eq(c1.n_nodes, 5);
	buf_free(&b1);
	buf_free(&b2);
	dir_consensus_clear(&c1);
	dir_consensus_clear(&c2);
	free_vote(va);
	free_vote(vb);
}

static void
consensus_with(struct dir_consensus *c, size_t mixes, size_t gateways,
	       uint64_t epoch)
{
	struct dir_params p;

	params(&p);
	memset(c, 0, sizeof(*c));
	c->epoch = epoch;
	c->params = p;
	c->n_nodes = mixes + gateways;
	c->nodes = bc_calloc(c->n_nodes, sizeof(*c->nodes));
	for (size_t i = 0; i < c->n_nodes; i++) {
		make_desc(&c->nodes[i].desc, (uint8_t)(20 + i),
			  i < gateways ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX, 0);
		c->nodes[i].desc.epoch = epoch;
	}
	qsort(c->nodes, c->n_nodes, sizeof(*c->nodes), desc_cmp);
	dir_assign_layers(c);
}

Test(dir_tally, layers_balanced_deterministic_and_checked)
{
	struct dir_consensus c, d;
	size_t count[4] = {0};

	consensus_with(&c, 10, 2, 1000);
	for (size_t i = 0; i < c.n_nodes; i++) {
		cr_assert_leq(c.nodes[i].layer, 3);
		cr_assert_eq(c.nodes[i].layer == 0,
			     c.nodes[i].desc.role == DIR_ROLE_GATEWAY);
		count[c.nodes[i].layer]++;
	}
	cr_assert_eq(count[0], 2);
	cr_assert_eq(count[1], 4);
	cr_assert_eq(count[2], 3);
	cr_assert_eq(count[3], 3);
	cr_assert(dir_layers_ok(&c));
	/* Same input, same layers. */
	consensus_with(&d, 10, 2, 1000);
	for (size_t i = 0; i < c.n_nodes; i++)
		cr_assert_eq(c.nodes[i].layer, d.nodes[i].layer);
	dir_consensus_clear(&d);
	/* A changed layer is caught. */
	for (size_t i = 0; i < c.n_nodes; i++)
		if (c.nodes[i].layer != 0) {
			c.nodes[i].layer = c.nodes[i].layer % 3 + 1;
			break;
		}
	cr_assert_not(dir_layers_ok(&c));
	dir_consensus_clear(&c);
	/* Another epoch reshuffles (for these 10 mixes it does). */
	consensus_with(&c, 10, 0, 1000);
	consensus_with(&d, 10, 0, 1001);
	int moved = 0;
	for (size_t i = 0; i < c.n_nodes; i++)
		moved += c.nodes[i].layer != d.nodes[i].layer;
	cr_assert_gt(moved, 0);
	dir_consensus_clear(&c);
	dir_consensus_clear(&d);
}

/* Authority keys from seeds 101.. and their set "KEY@127.0.0.1:PORT". */
static uint8_t auth_sk[5][64];

static void
authset_of(struct dir_authset *as, size_t n)
{
	char spec[2048] = "", b64[64], one[128];

	for (size_t i = 0; i < n; i++) {
		uint8_t seed[32], pk[32];
		memset(seed, (int)(101 + i), 32);
		ed25519_keypair_from_seed(pk, auth_sk[i], seed);
		cr_assert_eq(base64_encode(b64, sizeof(b64), pk, 32), 0);
		snprintf(one, sizeof(one), "%s@127.0.0.1:%zu, ", b64, 9000 + i);
		strncat(spec, one, sizeof(spec) - strlen(spec) - 1);
	}
	char err[200];
	cr_assert_eq(dir_authset_parse(as, spec, err, sizeof(err)), 0, "%s",
		     err);
}

/* Encodes c signed by the authorities whose bit is set in mask. */
static char *
signed_text(struct dir_consensus *c, const struct dir_authset *as,
	    unsigned mask, size_t *len)
{
	struct buf body, out;

	buf_init(&body);
	buf_init(&out);
	c->n_sigs = 0;
	cr_assert_eq(dir_consensus_encode_body(c, &body), 0);
	for (size_t i = 0; i < as->n; i++) {
		if (!(mask & (1u << i)))
			continue;
		struct dir_signature s;
		memcpy(s.authority, as->a[i].key, 32);
		ed25519_sign(s.sig, body.data, body.len, auth_sk[i]);
		cr_assert_eq(dir_consensus_add_sig(c, &s), 0);
	}
	cr_assert_eq(dir_consensus_encode(c, &out), 0);
	*len = out.len;
	buf_free(&body);
	return (char *)out.data;
}

static int
verify(const char *t, size_t n, const struct dir_authset *as, int64_t now,
       enum dir_verify_when w, char *err)
{
	struct dir_consensus c;
	uint8_t h[32];
	int rc = dir_verify_consensus(t, n, as, now, w, &c, h, err, 300);
	if (rc == 0)
		dir_consensus_clear(&c);
	return rc;
}

Test(dir_verify, threshold_of_configured_signatures)
{
	struct dir_authset as;
	struct dir_consensus c;
	char err[300];
	size_t n;
	int64_t now = 1700000000 + 1000 * 30 + 5;

	authset_of(&as, 3);
	cr_assert_eq(dir_authset_threshold(&as), 2);
	consensus_with(&c, 3, 1, 1000);
	char *t = signed_text(&c, &as, 0x7, &n);
	cr_assert_eq(verify(t, n, &as, now, DIR_VERIFY_NOW, err), 0, "%s", err);
	free(t);
	t = signed_text(&c, &as, 0x5, &n);
	cr_assert_eq(verify(t, n, &as, now, DIR_VERIFY_NOW, err), 0, "%s", err);
	free(t);
	t = signed_text(&c, &as, 0x2, &n);
	cr_assert_eq(verify(t, n, &as, now, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "has 1 valid signatures"), "%s", err);
	free(t);
	/* Signatures by keys not configured count for nothing: signed by
	 * authorities 3 and 4 of a 5-set, checked against the first 3. */
	struct dir_authset five;
	authset_of(&five, 5);
	t = signed_text(&c, &five, 0x18 | 0x1, &n);
	authset_of(&as, 3);
	cr_assert_eq(verify(t, n, &as, now, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "1 valid"), "%s", err);
	free(t);
	dir_consensus_clear(&c);
}

Test(dir_verify, validity_layers_and_foreign_body)
{
	struct dir_authset as;
	struct dir_consensus c;
	char err[300];
	size_t n;
	int64_t start = 1700000000 + 1000 * 30;

	authset_of(&as, 3);
	consensus_with(&c, 3, 1, 1000);
	char *t = signed_text(&c, &as, 0x7, &n);
	cr_assert_eq(verify(t, n, &as, start - 1, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "not valid before"), "%s", err);
	cr_assert_eq(verify(t, n, &as, start - 1, DIR_VERIFY_FUTURE, err), 0,
		     "%s", err);
	cr_assert_eq(verify(t, n, &as, start + 39, DIR_VERIFY_NOW, err), 0,
		     "%s", err);
	cr_assert_eq(verify(t, n, &as, start + 40, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "expired"), "%s", err);
	free(t);

	/* Signatures made over another body do not verify over this one. */
	struct dir_consensus other;
	consensus_with(&other, 3, 1, 1000);
	other.params.lambda_p = 3000;
	char *t2 = signed_text(&other, &as, 0x7, &n);
	t = signed_text(&c, &as, 0, &n);
	struct buf mix;
	buf_init(&mix);
	buf_append(&mix, t, n);
	const char *sigs = strstr(t2, "authority-signature");
	buf_append(&mix, sigs, strlen(sigs));
	cr_assert_eq(verify((const char *)mix.data, mix.len, &as, start,
			    DIR_VERIFY_NOW, err),
		     -1);
	cr_assert_not_null(strstr(err, "has 0 valid"), "%s", err);
	buf_free(&mix);
	free(t);
	free(t2);
	dir_consensus_clear(&other);

	/* Layers other than the deterministic ones are refused. */
	for (size_t i = 0; i < c.n_nodes; i++)
		if (c.nodes[i].layer != 0) {
			c.nodes[i].layer = c.nodes[i].layer % 3 + 1;
			break;
		}
	t = signed_text(&c, &as, 0x7, &n);
	cr_assert_eq(verify(t, n, &as, start, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "layers"), "%s", err);
	free(t);
	cr_assert_eq(verify("junk\n", 5, &as, start, DIR_VERIFY_NOW, err), -1);
	cr_assert_not_null(strstr(err, "malformed consensus: line 1"), "%s",
			   err);
	dir_consensus_clear(&c);
}

Test(dir_verify, equivocation_names_both_hashes)
{
	struct dir_seen s;
	uint8_t h1[32], h2[32];
	char err[300], hex1[65], hex2[65];

	memset(&s, 0, sizeof(s));
	memset(h1, 0x11, 32);
	memset(h2, 0x22, 32);
	cr_assert_eq(dir_seen_check(&s, 5, h1, err, sizeof(err)), 0);
	cr_assert_eq(dir_seen_check(&s, 5, h1, err, sizeof(err)), 0);
	cr_assert_eq(dir_seen_check(&s, 6, h2, err, sizeof(err)), 0);
	cr_assert_eq(dir_seen_check(&s, 5, h2, err, sizeof(err)), -1);
	dir_hash_hex(h1, hex1);
	dir_hash_hex(h2, hex2);
	cr_assert_not_null(strstr(err, hex1));
	cr_assert_not_null(strstr(err, hex2));
	cr_assert_not_null(strstr(err, "epoch 5"));
	/* Old epochs make room; the newest stay. */
	for (uint64_t e = 10; e < 10 + 2 * DIR_SEEN_MAX; e++)
		cr_assert_eq(dir_seen_check(&s, e, h1, err, sizeof(err)), 0);
	cr_assert_eq(
	    dir_seen_check(&s, 9 + 2 * DIR_SEEN_MAX, h2, err, sizeof(err)), -1);
}

Test(dir_authset, parse_and_threshold)
{
	struct dir_authset as;
	char err[200];
	const char *k = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
	char spec[512];

	for (size_t n = 1; n <= 5; n++) {
		as.n = n;
		cr_assert_eq(dir_authset_threshold(&as), n / 2 + 1);
	}
	as.n = 4;
	cr_assert_eq(dir_authset_threshold(&as), 3, "2/2 cannot decide");
	snprintf(spec, sizeof(spec), "%s@127.0.0.1:1", k);
	cr_assert_eq(dir_authset_parse(&as, spec, err, sizeof(err)), 0, "%s",
		     err);
	cr_assert_eq(as.n, 1);
	cr_assert_str_eq(as.a[0].addr, "127.0.0.1:1");
	snprintf(spec, sizeof(spec), "%s@127.0.0.1:1, %s@127.0.0.1:2", k, k);
	cr_assert_eq(dir_authset_parse(&as, spec, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "twice"), "%s", err);
	cr_assert_eq(dir_authset_parse(&as, "", err, sizeof(err)), -1);
	cr_assert_eq(dir_authset_parse(&as, "nokey", err, sizeof(err)), -1);
	cr_assert_eq(
	    dir_authset_parse(&as, "AAAA@127.0.0.1:1", err, sizeof(err)), -1);
	snprintf(spec, sizeof(spec), "%s@127.0.0.1", k);
	cr_assert_eq(dir_authset_parse(&as, spec, err, sizeof(err)), -1);
	cr_assert_eq(
	    dir_authset_load(&as, "/nonexistent/list", err, sizeof(err)), -1);
}
