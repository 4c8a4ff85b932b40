/* Directory documents: round trips, canonical encoding, every rejection. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/buf.h"

#include "wire/dir_consensus.h"
#include "wire/dir_descriptor.h"
#include "wire/dir_sigdoc.h"

static void
fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7);
}

static void
make_desc(struct dir_descriptor *d, uint8_t seed, enum dir_role role)
{
	memset(d, 0, sizeof(*d));
	d->epoch = 1000;
	fill(d->identity, sizeof(d->identity), seed);
	d->identity[0] = seed; /* distinct and sortable by seed */
	fill(d->link_key, sizeof(d->link_key), (uint8_t)(seed + 1));
	for (int i = 0; i < DIR_PACKET_KEYS; i++)
		fill(d->packet_keys[i], DIR_KEY_LEN, (uint8_t)(seed + 2 + i));
	snprintf(d->address, sizeof(d->address), "127.0.0.1:%d", 7000 + seed);
	d->role = role;
	d->services =
	    role == DIR_ROLE_GATEWAY ? DIR_SERVICE_ECHO | DIR_SERVICE_DROP : 0;
	snprintf(d->version, sizeof(d->version), "0.1.0");
	fill(d->signature, sizeof(d->signature), (uint8_t)(seed + 9));
}

static char *
desc_text(const struct dir_descriptor *d)
{
	struct buf b;
	buf_init(&b);
	cr_assert_eq(dir_descriptor_encode(d, &b), 0);
	buf_append_u8(&b, 0);
	return (char *)b.data;
}

/* Replaces the first `from` in text by `to` (new allocation). */
static char *
subst(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	cr_assert_not_null(at, "test bug: '%s' not in document", from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = bc_malloc(n);
	size_t pre = (size_t)(at - text);
	memcpy(out, text, pre);
	memcpy(out + pre, to, strlen(to));
	memcpy(out + pre + strlen(to), at + strlen(from),
	       strlen(at + strlen(from)) + 1);
	return out;
}

static void
desc_rejects(const char *text, const char *want)
{
	struct dir_descriptor d;
	size_t body;
	char err[200];

	cr_assert_eq(dir_descriptor_parse(text, strlen(text), &d, &body, err,
					  sizeof(err)),
		     -1, "accepted: %s", text);
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err,
			   want);
}

Test(dir_descriptor, round_trip_is_canonical)
{
	struct dir_descriptor d, back;
	size_t body;
	char err[200];

	make_desc(&d, 1, DIR_ROLE_GATEWAY);
	char *t = desc_text(&d);
	cr_assert_eq(
	    dir_descriptor_parse(t, strlen(t), &back, &body, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(memcmp(&d, &back, sizeof(d)), 0);
	cr_assert_eq(strncmp(t + body, "signature ", 10), 0);
	cr_assert_eq(strstr(t, "\nsignature ") + 1 - t, (long)body);
	char *t2 = desc_text(&back);
	cr_assert_str_eq(t, t2);
	cr_assert_not_null(strstr(t, "services echo drop\n"));
	cr_assert_not_null(strstr(t, "packet-key 1002 "));
	free(t);
	free(t2);
}

Test(dir_descriptor, mix_has_no_services)
{
	struct dir_descriptor d;
	make_desc(&d, 2, DIR_ROLE_MIX);
	char *t = desc_text(&d);
	cr_assert_not_null(strstr(t, "role mix\nservices none\n"));
	char *bad = subst(t, "services none", "services echo");
	desc_rejects(bad, "a mix offers no services");
	free(bad);
	d.services = DIR_SERVICE_ECHO;
	struct buf b;
	buf_init(&b);
	cr_assert_eq(dir_descriptor_encode(&d, &b), -1);
	buf_free(&b);
	free(t);
}

struct mutation {
	const char *from, *to, *why;
};

Test(dir_descriptor, every_rejection)
{
	static const struct mutation m[] = {
	    {"backchannel-descriptor 1", "backchannel-descriptor 2",
	     "unsupported descriptor version"},
	    {"epoch 1000", "epoch 01000", "bad number"},
	    {"epoch 1000", "epoch 99999999999999999999999", "bad number"},
	    {"epoch 1000", "epoch 4294967295", "above limit"},
	    {"epoch 1000", "epoch -1", "bad number"},
	    {"epoch 1000", "epoch  1000", "stray space"},
	    {"epoch 1000", "epoch 1000 ", "stray space"},
	    {"epoch 1000", "epoch", "needs one space"},
	    {"epoch 1000\n", "epoch 1000\nepoch 1000\n", "duplicate key"},
	    {"epoch 1000\n", "", "out of order"},
	    {"epoch 1000\n", "epoch 1000\nflavour x\n", "unknown key"},
	    {"epoch 1000\n", "epoch 1000\r\n", "not printable"},
	    {"epoch 1000\n", "epoch 10\x01\n", "not printable"},
	    {"identity ", "identity =", "base64"},
	    {"packet-key 1001", "packet-key 1004", "expected 1001"},
	    {"packet-key 1001 ", "packet-key 1001", "EPOCH KEY"},
	    {"address 127.0.0.1:7003", "address 127.0.0.1", "bad address"},
	    {"address 127.0.0.1:7003", "address 127.0.0.1:0", "bad address"},
	    {"address 127.0.0.1:7003", "address 127.0.0.1:70000",
	     "bad address"},
	    {"address 127.0.0.1:7003", "address host_x:1", "bad address"},
	    {"role gateway", "role relay", "role must be"},
	    {"services echo drop", "services drop echo", "services must"},
	    {"services echo drop", "services none", "at least one"},
	    {"version 0.1.0", "version 0.1.0/x", "bad version"},
	    {"\nsignature ", "\nsignature  ", "stray space"},
	    {"\nsignature ", "\nsignature x", "base64"},
	    {"\nsignature ", "\nsig ", "unknown key"},
	};
	struct dir_descriptor d;

	make_desc(&d, 3, DIR_ROLE_GATEWAY);
	char *t = desc_text(&d);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *bad = subst(t, m[i].from, m[i].to);
		desc_rejects(bad, m[i].why);
		free(bad);
	}
	free(t);
}

Test(dir_descriptor, truncation_trailing_and_size)
{
	struct dir_descriptor d;
	make_desc(&d, 4, DIR_ROLE_MIX);
	char *t = desc_text(&d);
	size_t n = strlen(t);

	/* Every proper prefix is rejected. */
	for (size_t cut = 0; cut < n; cut++) {
		char *p = bc_memdup(t, n + 1);
		p[cut] = '\0';
		struct dir_descriptor x;
		size_t body;
		char err[200];
		cr_assert_eq(
		    dir_descriptor_parse(p, cut, &x, &body, err, sizeof(err)),
		    -1, "prefix %zu accepted", cut);
		free(p);
	}
	char *more = subst(t, "\nsignature ", "\nsignature ");
	char *tail = bc_malloc(n + 8);
	memcpy(tail, more, n);
	memcpy(tail + n, "epoch 1\n", 8);
	struct dir_descriptor x;
	size_t body;
	char err[200];
	cr_assert_eq(
	    dir_descriptor_parse(tail, n + 8, &x, &body, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "trailing data"), "%s", err);
	char *big = bc_calloc(1, DIR_DESCRIPTOR_MAX + 2);
	memset(big, 'a', DIR_DESCRIPTOR_MAX + 1);
	desc_rejects(big, "longer than");
	free(big);
	free(tail);
	free(more);
	free(t);
}

Test(dir_descriptor, non_canonical_base64)
{
	struct dir_descriptor d;
	make_desc(&d, 5, DIR_ROLE_MIX);
	/* Last base64 char of a 32-byte key carries 2 unused bits: set them. */
	memset(d.link_key, 0, sizeof(d.link_key));
	char *t = desc_text(&d);
	char *bad = subst(t, "AAAAAAAAAAAAAAAA=\n", "AAAAAAAAAAAAAAAB=\n");
	desc_rejects(bad, "base64");
	free(bad);
	free(t);
}

static void
make_params(struct dir_params *p)
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
	p->lambda_l = 500;
	p->lambda_d = 500;
	p->lambda_f = 1000;
	p->mix_loop = 1000;
}

static void
make_consensus(struct dir_consensus *c, size_t n, size_t nsig)
{
	memset(c, 0, sizeof(*c));
	c->epoch = 1000;
	make_params(&c->params);
	c->nodes = bc_calloc(n, sizeof(*c->nodes));
	c->n_nodes = n;
	for (size_t i = 0; i < n; i++) {
		bool gw = i % 4 == 0;
		make_desc(&c->nodes[i].desc, (uint8_t)(10 + i),
			  gw ? DIR_ROLE_GATEWAY : DIR_ROLE_MIX);
		c->nodes[i].layer = gw ? 0 : (uint32_t)(i % 3) + 1;
	}
	for (size_t i = 0; i < nsig; i++) {
		struct dir_signature s;
		fill(s.authority, DIR_KEY_LEN, (uint8_t)(200 - i));
		s.authority[0] = (uint8_t)(200 - i);
		fill(s.sig, DIR_SIG_LEN, (uint8_t)i);
		cr_assert_eq(dir_consensus_add_sig(c, &s), 0);
	}
}

static char *
cons_text(const struct dir_consensus *c)
{
	struct buf b;
	buf_init(&b);
	cr_assert_eq(dir_consensus_encode(c, &b), 0);
	buf_append_u8(&b, 0);
	return (char *)b.data;
}

static void
cons_rejects(const char *text, const char *want)
{
	struct dir_consensus c;
	size_t body;
	char err[200];

	cr_assert_eq(dir_consensus_parse(text, strlen(text), &c, &body, err,
					 sizeof(err)),
		     -1, "accepted: %s", text);
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err,
			   want);
}

Test(dir_consensus, round_trip_is_canonical)
{
	struct dir_consensus c, back;
	size_t body;
	char err[200];

	make_consensus(&c, 7, 3);
	cr_assert_eq(c.sigs[0].authority[0], 198, "signatures sorted");
	char *t = cons_text(&c);
	cr_assert_eq(
	    dir_consensus_parse(t, strlen(t), &back, &body, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(back.n_nodes, 7);
	cr_assert_eq(back.n_sigs, 3);
	cr_assert_eq(back.valid_after, 1700000000 + 1000 * 30);
	cr_assert_eq(back.valid_until, back.valid_after + 40);
	cr_assert_eq(memcmp(&back.params, &c.params, sizeof(c.params)), 0);
	for (size_t i = 0; i < 7; i++) {
		cr_assert_eq(back.nodes[i].layer, c.nodes[i].layer);
		cr_assert_eq(memcmp(&back.nodes[i].desc, &c.nodes[i].desc,
				    sizeof(c.nodes[i].desc)),
			     0);
	}
	cr_assert_eq(strncmp(t + body, "authority-signature ", 20), 0);
	char *t2 = cons_text(&back);
	cr_assert_str_eq(t, t2);
	cr_assert_not_null(strstr(t, "lambda-p 2.000\nlambda-l 0.500\n"));
	/* The body alone (zero signatures) is itself a valid encoding. */
	t[body] = '\0';
	dir_consensus_clear(&back);
	cr_assert_eq(
	    dir_consensus_parse(t, body, &back, &body, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(back.n_sigs, 0);
	dir_consensus_clear(&back);
	dir_consensus_clear(&c);
	free(t);
	free(t2);
}

Test(dir_consensus, every_rejection)
{
	static const struct mutation m[] = {
	    {"backchannel-consensus 1", "backchannel-consensus 9",
	     "unsupported"},
	    {"valid-after 1700030000", "valid-after 1700030001",
	     "do not match"},
	    {"valid-until 1700030040", "valid-until 1700030070",
	     "do not match"},
	    {"epoch-length 30", "epoch-length 5", "epoch-length outside"},
	    {"grace 10", "grace 31", "grace outside"},
	    {"hops 5", "hops 11", "hops outside"},
	    {"blob-length 2000", "blob-length 8", "blob-length outside"},
	    {"mean-delay-ms 50", "mean-delay-ms 5000", "delays"},
	    {"lambda-p 2.000", "lambda-p 2.0", "I.FFF"},
	    {"lambda-p 2.000", "lambda-p 2.00x", "I.FFF"},
	    {"lambda-p 2.000", "lambda-p 02.000", "bad number"},
	    {"lambda-p 2.000", "lambda-p 1001.000", "rate above"},
	    {"lambda-l 0.500\n", "", "out of order"},
	    {"node-count 5", "node-count 513", "above limit"},
	    {"node-count 5", "node-count 6", "expected 'node'"},
	    {"node-count 5", "node-count 4", "key 'node' out of order"},
	    {"node gateway", "node mix 1", "role/layer mismatch"},
	    {"node mix 2", "node mix 4", "node must be"},
	    {"node mix 2", "node gateway", "role/layer mismatch"},
	    {"epoch 1000\nidentity", "epoch 999\nidentity", "expected 999"},
	    {"authority-signature ", "authority-signature x", "bad base64"},
	    {"authority-signature ", "authority-signatures ", "unknown key"},
	};
	struct dir_consensus c;

	make_consensus(&c, 5, 2);
	char *t = cons_text(&c);
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *bad = subst(t, m[i].from, m[i].to);
		cons_rejects(bad, m[i].why);
		free(bad);
	}
	dir_consensus_clear(&c);
	free(t);
}

Test(dir_consensus, node_epoch_must_match)
{
	struct dir_consensus c;

	make_consensus(&c, 2, 0);
	c.nodes[1].desc.epoch = 999;
	struct buf b;
	buf_init(&b);
	cr_assert_eq(dir_consensus_encode(&c, &b), -1);
	for (size_t i = 0; i < c.n_nodes; i++)
		c.nodes[i].desc.epoch = 999;
	c.epoch = 999;
	char *t = cons_text(&c);
	char *bad = subst(t,
			  "epoch 999\nvalid-after 1700029970\n"
			  "valid-until 1700030010\n",
			  "epoch 1000\nvalid-after 1700030000\n"
			  "valid-until 1700030040\n");
	cons_rejects(bad, "wrong epoch");
	free(bad);
	free(t);
	buf_free(&b);
	dir_consensus_clear(&c);
}

Test(dir_consensus, order_and_count_limits)
{
	struct dir_consensus c;
	struct buf b;

	/* Nodes out of identity order cannot be encoded nor parsed. */
	make_consensus(&c, 3, 0);
	struct dir_node tmp = c.nodes[1];
	c.nodes[1] = c.nodes[2];
	c.nodes[2] = tmp;
	buf_init(&b);
	cr_assert_eq(dir_consensus_encode(&c, &b), -1);
	c.nodes[2] = c.nodes[1];
	c.nodes[1] = tmp;
	/* Repeated signature key refused; unsorted signatures rejected. */
	struct dir_signature s = c.sigs[0];
	memset(&s, 7, sizeof(s));
	cr_assert_eq(dir_consensus_add_sig(&c, &s), 0);
	cr_assert_eq(dir_consensus_add_sig(&c, &s), -1);
	s.authority[0] = 1;
	cr_assert_eq(dir_consensus_add_sig(&c, &s), 0);
	char *t = cons_text(&c);
	char *first = strstr(t, "authority-signature ");
	char *second = strstr(first + 1, "authority-signature ");
	size_t ln = (size_t)(second - first);
	char *swapped = bc_strdup(t);
	memcpy(swapped + (first - t), second, strlen(second));
	memcpy(swapped + (first - t) + strlen(second), first, ln);
	cons_rejects(swapped, "not sorted");
	/* Too many signatures. */
	for (int i = 2; i < DIR_MAX_AUTHORITIES; i++) {
		s.authority[0] = (uint8_t)(10 + i);
		cr_assert_eq(dir_consensus_add_sig(&c, &s), 0);
	}
	s.authority[0] = 99;
	cr_assert_eq(dir_consensus_add_sig(&c, &s), -1);
	char *full = cons_text(&c);
	size_t fn = strlen(full);
	char *over = bc_malloc(fn + (size_t)(second - first) + 1);
	memcpy(over, full, fn);
	memcpy(over + fn, first, ln);
	over[fn + ln] = '\0';
	cons_rejects(over, "more than 16 signatures");
	free(over);
	free(full);
	free(swapped);
	free(t);
	buf_free(&b);
	dir_consensus_clear(&c);
}

Test(dir_vote, round_trip_and_rejections)
{
	struct dir_vote v, back;
	size_t body;
	char err[200];
	struct buf b;

	memset(&v, 0, sizeof(v));
	v.epoch = 1000;
	fill(v.authority, DIR_KEY_LEN, 77);
	v.n_desc = 3;
	v.desc = bc_calloc(3, sizeof(*v.desc));
	for (size_t i = 0; i < 3; i++)
		make_desc(&v.desc[i], (uint8_t)(i + 1),
			  i ? DIR_ROLE_MIX : DIR_ROLE_GATEWAY);
	fill(v.signature, DIR_SIG_LEN, 5);
	buf_init(&b);
	cr_assert_eq(dir_vote_encode(&v, &b), 0);
	buf_append_u8(&b, 0);
	char *t = (char *)b.data;
	cr_assert_eq(
	    dir_vote_parse(t, strlen(t), &back, &body, err, sizeof(err)), 0,
	    "%s", err);
	cr_assert_eq(back.n_desc, 3);
	cr_assert_eq(memcmp(back.desc, v.desc, 3 * sizeof(*v.desc)), 0);
	cr_assert_eq(strncmp(t + body, "vote-signature ", 15), 0);
	dir_vote_clear(&back);

	static const struct mutation m[] = {
	    {"backchannel-vote 1", "backchannel-vote 0", "unsupported"},
	    {"descriptor-count 3", "descriptor-count 2",
	     "'backchannel-descriptor' out of order"},
	    {"descriptor-count 3", "descriptor-count 4", "expected 'backch"},
	    {"descriptor-count 3", "descriptor-count 513", "above limit"},
	    {"\nepoch 1000\nauthority", "\nepoch 1001\nauthority",
	     "in vote for 1001"},
	    {"vote-signature ", "vote-signature  ", "stray space"},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *bad = subst(t, m[i].from, m[i].to);
		cr_assert_eq(dir_vote_parse(bad, strlen(bad), &back, &body, err,
					    sizeof(err)),
			     -1, "%s", bad);
		cr_assert_not_null(strstr(err, m[i].why), "'%s' lacks '%s'",
				   err, m[i].why);
		free(bad);
	}
	/* Unsorted descriptors: encoder refuses, parser rejects. */
	struct dir_descriptor tmp = v.desc[0];
	v.desc[0] = v.desc[1];
	v.desc[1] = tmp;
	struct buf b2;
	buf_init(&b2);
	cr_assert_eq(dir_vote_encode(&v, &b2), -1);
	buf_free(&b2);
	dir_vote_clear(&v);
	buf_free(&b);
}

Test(dir_sigdoc, round_trip_and_rejections)
{
	struct dir_sigdoc s, back;
	struct buf b;
	char err[200];

	memset(&s, 0, sizeof(s));
	s.epoch = 1000;
	fill(s.hash, 32, 3);
	s.hash[0] = 0xab;
	fill(s.sig.authority, DIR_KEY_LEN, 4);
	fill(s.sig.sig, DIR_SIG_LEN, 5);
	buf_init(&b);
	cr_assert_eq(dir_sigdoc_encode(&s, &b), 0);
	buf_append_u8(&b, 0);
	char *t = (char *)b.data;
	cr_assert_eq(dir_sigdoc_parse(t, strlen(t), &back, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(memcmp(&s, &back, sizeof(s)), 0);
	cr_assert_not_null(strstr(t, "consensus-hash ab"));

	static const struct mutation m[] = {
		{"consensus-hash ab", "consensus-hash AB", "lower-case hex"},
		{"consensus-hash ab", "consensus-hash a", "64 lower-case"},
		{"consensus-hash ab", "consensus-hash abab", "64 lower-case"},
		{"epoch 1000", "epoch x", "bad number"},
		{"backchannel-signature 1", "backchannel-signature 2",
		 "unsupported"},
		{"authority-signature ", "authority-signature x", "base64"},
		{"epoch 1000\n", "", "out of order"},
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		char *bad = subst(t, m[i].from, m[i].to);
		cr_assert_eq(dir_sigdoc_parse(bad, strlen(bad), &back, err,
					      sizeof(err)),
			     -1, "%s", bad);
		cr_assert_not_null(strstr(err, m[i].why), "'%s' lacks '%s'",
				   err, m[i].why);
		free(bad);
	}
	size_t n = strlen(t);
	char *more = bc_malloc(n + 8);
	memcpy(more, t, n);
	memcpy(more + n, "epoch 1\n", 8);
	cr_assert_eq(dir_sigdoc_parse(more, n + 8, &back, err, sizeof(err)),
		     -1);
	cr_assert_not_null(strstr(err, "trailing"), "%s", err);
	free(more);
	buf_free(&b);
}
