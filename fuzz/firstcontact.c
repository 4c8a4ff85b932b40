/*
 * Fuzz target: first contact (wire/firstcontact.c) fed hostile input. A
 * deterministic first contact (rand in test mode) is made once; each input
 * restores the sides from their persisted bytes, and the first byte (mod 4)
 * picks: 0, the input is a HELLO for the unused inviter; 1, a WELCOME for
 * the waiting acceptor; 2 and 3, a persisted inviter or acceptor state.
 * Invariants: only the genuine bytes ever make a contact; a refused frame
 * answers nothing and leaves the side byte for byte as it was (so the
 * genuine frame still works, as the unit tests show); a state that parses
 * serialises back to the same bytes.
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

/* Made once: both sides' persisted state and the genuine frames. */
static uint8_t inv_id[32];
static uint8_t inv_state[FC_INVITER_STATE_LEN];
static struct buf acc_state, hello, welcome;

static void
setup_once(void)
{
	struct e2e_gateway gw = {0};
	struct invite inv;
	struct fc_inviter *fi, *used;
	struct fc_acceptor *fa;
	struct fc_contact *c = NULL;
	uint8_t pub[32], acc_id[32], q[32];
	enum fc_err e;

	if (crypto_init() != 0)
		abort();
	rand_set_deterministic(7);
	x25519_keypair(pub, inv_id);
	x25519_keypair(pub, acc_id);
	rand_bytes(gw.key, 32);
	memcpy(gw.host, "gw.example", 10);
	gw.port = 1;
	rand_bytes(q, 32);
	fi = fc_inviter_new(&gw, "inviter", NOW, 60, &inv);
	buf_init(&hello);
	buf_init(&welcome);
	buf_init(&acc_state);
	fa = fc_acceptor_new(&inv, acc_id, &gw, q, "acceptor", NOW, &hello, &e);
	if (fi == NULL || fa == NULL || fc_acceptor_serialize(fa, &acc_state))
		abort();
	fc_inviter_serialize(fi, inv_state);
	used = fc_inviter_deserialize(inv_state, sizeof(inv_state));
	if (used == NULL || fc_inviter_answer(used, inv_id, NOW, hello.data,
					      hello.len, &welcome, &c) != FC_OK)
		abort();
	fc_contact_free(c);
	fc_inviter_free(used);
	fc_inviter_free(fi);
	fc_acceptor_free(fa);
	invite_wipe(&inv);
	rand_set_system();
}

static bool
same(const uint8_t *a, size_t alen, const struct buf *b)
{
	return alen == b->len && memcmp(a, b->data, alen) == 0;
}

static void
as_hello(const uint8_t *in, size_t len)
{
	struct fc_inviter *fi =
	    fc_inviter_deserialize(inv_state, sizeof(inv_state));
	uint8_t after[FC_INVITER_STATE_LEN];
	struct fc_contact *c = NULL;
	struct buf reply;
	enum fc_err e;

	if (fi == NULL)
		abort();
	buf_init(&reply);
	e = fc_inviter_answer(fi, inv_id, NOW, in, len, &reply, &c);
	if (e == FC_OK) {
		if (!same(in, len, &hello) || c == NULL)
			abort();
		fc_contact_free(c);
	} else {
		fc_inviter_serialize(fi, after);
		if (c != NULL || reply.len != 0 ||
		    memcmp(after, inv_state, sizeof(after)) != 0)
			abort();
	}
	buf_free(&reply);
	fc_inviter_free(fi);
}

static void
as_welcome(const uint8_t *in, size_t len)
{
	struct fc_acceptor *fa =
	    fc_acceptor_deserialize(acc_state.data, acc_state.len);
	struct fc_contact *c = NULL;
	struct buf after;
	enum fc_err e;

	if (fa == NULL)
		abort();
	e = fc_acceptor_finish(fa, in, len, &c);
	if (e == FC_OK) {
		if (!same(in, len, &welcome) || c == NULL)
			abort();
		fc_contact_free(c);
	} else {
		buf_init(&after);
		if (c != NULL || fc_acceptor_serialize(fa, &after) != 0 ||
		    !same(after.data, after.len, &acc_state))
			abort();
		buf_wipe_free(&after);
	}
	fc_acceptor_free(fa);
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
	buf_wipe_free(&b);
	fc_acceptor_free(fa);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;

	if (!init) {
		setup_once();
		init = 1;
	}
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		as_hello(data + 1, size - 1);
		break;
	case 1:
		as_welcome(data + 1, size - 1);
		break;
	default:
		as_state(data[0] & 1, data + 1, size - 1);
		break;
	}
	return 0;
}
