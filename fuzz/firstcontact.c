/*
 * Fuzz target: first contact (wire/firstcontact.c) fed hostile frames. Each
 * input replays the same deterministic invitation and HELLO (rand in test
 * mode), then the first byte (mod 4) picks: 0, the input is a HELLO for
 * the inviter; 1, a WELCOME for the acceptor (after the genuine HELLO was
 * answered); 2 and 3, a persisted inviter or acceptor state. Invariants:
 * only the genuine bytes ever make a contact, a refused frame leaves the
 * side usable (the genuine frame still works), nothing is answered on
 * refusal, and a state that parses serialises back to the same bytes.
 */
#include "wire/firstcontact.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1790000000u

struct setup {
	uint8_t inv_id[32], acc_id[32];
	struct fc_inviter *fi;
	struct fc_acceptor *fa;
	struct buf hello;
};

static void
setup_new(struct setup *s)
{
	struct e2e_gateway gw = {0};
	struct invite inv;
	uint8_t pub[32], q[32];
	enum fc_err e;

	rand_set_deterministic(7);
	x25519_keypair(pub, s->inv_id);
	x25519_keypair(pub, s->acc_id);
	rand_bytes(gw.key, 32);
	memcpy(gw.host, "gw.example", 10);
	gw.port = 1;
	rand_bytes(q, 32);
	s->fi = fc_inviter_new(&gw, "inviter", NOW, 60, &inv);
	buf_init(&s->hello);
	s->fa = fc_acceptor_new(&inv, s->acc_id, &gw, q, "acceptor", NOW,
				&s->hello, &e);
	if (s->fi == NULL || s->fa == NULL)
		abort();
	invite_wipe(&inv);
}

static void
setup_free(struct setup *s)
{
	fc_inviter_free(s->fi);
	fc_acceptor_free(s->fa);
	buf_free(&s->hello);
	rand_set_system();
}

static bool
same(const uint8_t *a, size_t alen, const struct buf *b)
{
	return alen == b->len && memcmp(a, b->data, alen) == 0;
}

static void
as_hello(struct setup *s, const uint8_t *in, size_t len)
{
	struct fc_contact *c = NULL;
	struct buf reply;
	enum fc_err e;

	buf_init(&reply);
	e = fc_inviter_answer(s->fi, s->inv_id, NOW, in, len, &reply, &c);
	if (e == FC_OK) {
		if (!same(in, len, &s->hello) || c == NULL)
			abort();
		fc_contact_free(c);
	} else if (c != NULL || reply.len != 0) {
		abort();
	} else if (fc_inviter_answer(s->fi, s->inv_id, NOW, s->hello.data,
				     s->hello.len, &reply, &c) != FC_OK) {
		abort(); /* a refused frame must not burn the invitation */
	} else {
		fc_contact_free(c);
	}
	buf_free(&reply);
}

static void
as_welcome(struct setup *s, const uint8_t *in, size_t len)
{
	struct fc_contact *ci = NULL, *ca = NULL;
	struct buf welcome;
	enum fc_err e;

	buf_init(&welcome);
	if (fc_inviter_answer(s->fi, s->inv_id, NOW, s->hello.data,
			      s->hello.len, &welcome, &ci) != FC_OK)
		abort();
	e = fc_acceptor_finish(s->fa, in, len, &ca);
	if (e == FC_OK) {
		if (!same(in, len, &welcome) || ca == NULL)
			abort();
	} else if (ca != NULL ||
		   fc_acceptor_finish(s->fa, welcome.data, welcome.len, &ca) !=
		       FC_OK) {
		abort();
	}
	fc_contact_free(ca);
	fc_contact_free(ci);
	buf_free(&welcome);
}

static void
as_state(int acceptor, const uint8_t *in, size_t len)
{
	uint8_t out[FC_INVITER_STATE_LEN];
	struct fc_inviter *fi;
	struct fc_acceptor *fa;
	struct buf b;

	if (!acceptor) {
		fi = fc_inviter_deserialize(in, len);
		if (fi == NULL)
			return;
		fc_inviter_serialize(fi, out);
		if (len != sizeof(out) || memcmp(out, in, len) != 0)
			abort();
		fc_inviter_free(fi);
		return;
	}
	fa = fc_acceptor_deserialize(in, len);
	if (fa == NULL)
		return;
	buf_init(&b);
	if (fc_acceptor_serialize(fa, &b) != 0 || !same(in, len, &b))
		abort();
	buf_free(&b);
	fc_acceptor_free(fa);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct setup s;

	if (!init) {
		if (crypto_init() != 0)
			abort();
		init = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 2) {
		as_state(data[0] & 1, data + 1, size - 1);
		return 0;
	}
	setup_new(&s);
	if (data[0] & 1)
		as_welcome(&s, data + 1, size - 1);
	else
		as_hello(&s, data + 1, size - 1);
	setup_free(&s);
	return 0;
}
