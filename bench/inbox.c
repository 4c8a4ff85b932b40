/*
 * build/bench/inbox: start-up with a full inbox. The client store holds
 * the fetched items of K contacts whose messages were complete but not yet
 * handed up when the client stopped (its worst start: every stored item is
 * parked, then fed back, and every message handed up, each in its own
 * transaction). sessions_open is timed for a quarter of the items and for
 * all of them, in the same run: the ratio of the two times is about 4 when
 * start-up is linear in the items, about 16 when it is quadratic.
 *
 * The items are real: each contact's side of a Double Ratchet is in the
 * store, its texts are encrypted by the other side in the bench, framed,
 * cut into one ARQ fragment each and sealed under the contact's receiving
 * key, as a sender's are; they are written to the store as
 * sessions_on_item writes them. The store is on /dev/shm (tmpfs) where it
 * exists, so that the figures are the client's work, not the disk's.
 *
 *   build/bench/inbox [items-per-contact]   (default 4096: ARQ_RX_PARK_MAX;
 *                                            4 contacts: ARQ_RX_PARK_TOTAL)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/arq.h"
#include "client/contact.h"
#include "client/session.h"
#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/ratchet.h"
#include "crypto/x25519.h"
#include "crypto/xaead.h"
#include "lib/buf.h"
#include "lib/codec.h"
#include "lib/log.h"
#include "lib/time.h"
#include "wire/e2e_msg.h"
#include "wire/firstcontact.h"

#define NCONTACT 4
#define BLOB     2000
#define PLAIN    (BLOB - XAEAD_OVERHEAD)
#define TEXT_LEN 200 /* one fragment a message */

static char dir[64], path[128];
static uint8_t store_key[32];

static _Noreturn void
die(const char *what)
{
	fprintf(stderr, "inbox: %s\n", what);
	exit(1);
}

static int
no_queue_op(void *ctx, bool create, const uint8_t id[32])
{
	(void)ctx;
	(void)create;
	(void)id;
	return -1;
}

static struct client_store *
store_open(void)
{
	struct client_store_key k = {.key = store_key};
	char err[256];
	struct client_store *cs = client_store_open(path, &k, err, sizeof(err));

	if (cs == NULL)
		die(err);
	return cs;
}

/* Contact id in the store; the other side's ratchet in *alice. */
static struct contact *
contact_make(struct client_store *cs, uint64_t id, struct ratchet **alice)
{
	uint8_t sk[32], hk[32], nhk[32], bpub[32], bpriv[32];
	struct contact *c = contact_new();
	struct buf b;
	char name[32];

	rand_bytes(sk, 32);
	rand_bytes(hk, 32);
	rand_bytes(nhk, 32);
	x25519_keypair(bpub, bpriv);
	c->id = id;
	c->state = CONTACT_READY;
	c->flags = CONTACT_F_HAVE_PEER | CONTACT_F_HAVE_KEYS |
		   CONTACT_F_QUEUE_OK;
	snprintf(c->name, sizeof(c->name), "peer%llu", (unsigned long long)id);
	snprintf(c->peer_name, sizeof(c->peer_name), "%s", c->name);
	rand_bytes(c->our_queue, 32);
	rand_bytes(c->peer_gw.key, 32);
	snprintf(c->peer_gw.host, sizeof(c->peer_gw.host), "127.0.0.1");
	c->peer_gw.port = 9;
	rand_bytes(c->peer_queue, 32);
	rand_bytes(c->ad, sizeof(c->ad));
	rand_bytes(c->transport, 32);
	if (contact_derive_keys(c) != 0)
		die("contact keys");
	c->ratchet = ratchet_new_bob(sk, hk, nhk, bpriv);
	*alice = ratchet_new_alice(sk, hk, nhk, bpub);
	if (c->ratchet == NULL || *alice == NULL)
		die("ratchet");
	buf_init(&b);
	snprintf(name, sizeof(name), "peer/%llu", (unsigned long long)id);
	if (contact_encode(c, &b) != 0 ||
	    client_store_put(cs, name, b.data, b.len) != 0)
		die("contact store");
	buf_wipe_free(&b);
	return c;
}

/* Message seq of contact c as the stored item the gateway gave us. */
static void
item_put(struct client_store *cs, struct arq *a, struct contact *c,
	 struct ratchet *alice, uint64_t seq, uint64_t *next_item)
{
	uint8_t id[E2E_MSG_ID_LEN], aid[ARQ_ID_LEN], plain[PLAIN];
	uint8_t hdr[RATCHET_ENC_HEADER_LEN], body[4096], val[1 + 32 + BLOB];
	uint8_t item_id[16] = {0x17};
	char text[TEXT_LEN], name[48] = "inbox/";
	struct buf pt, fr;
	size_t blen = 0;

	memset(text, 'a' + (int)(seq % 26), sizeof(text));
	rand_bytes(id, sizeof(id));
	rand_bytes(aid, sizeof(aid));
	buf_init(&pt);
	buf_init(&fr);
	if (e2e_plain_encode(E2E_KIND_TEXT, id, (const uint8_t *)text,
			     sizeof(text), &pt) != 0 ||
	    pt.len + RATCHET_TAG_LEN > sizeof(body) ||
	    ratchet_encrypt(alice, c->ad, FC_AD_LEN, pt.data, pt.len, hdr,
			    body, sizeof(body), &blen) != RATCHET_OK)
		die("encrypt");
	e2e_frame_put_ratchet(&fr, hdr, body, blen);
	struct arq_msg *m = arq_add(a, 3, aid, seq, fr.data, fr.len, 0, NULL);
	if (m == NULL || m->nfrag != 1 ||
	    arq_frag_encode(a, m, 0, plain, PLAIN) != 0 ||
	    arq_wrap(val + 33, BLOB, plain, c->rx_key) != 0)
		die("fragment");
	arq_remove(a, m);
	val[0] = 1;
	memcpy(val + 1, c->our_queue, 32);
	uint64_t n = (*next_item)++;
	memcpy(item_id + 8, &n, sizeof(n));
	if (hex_encode(name + 6, sizeof(name) - 6, item_id, 16) != 0 ||
	    client_store_put(cs, name, val, sizeof(val)) != 0)
		die("item store");
	buf_free(&fr);
	buf_wipe_free(&pt);
}

/* A store with per items for each contact, messages 1..per in a
 * scrambled order across contacts. */
static void
world_make(size_t per)
{
	struct client_store *cs;
	struct contact *c[NCONTACT];
	struct ratchet *alice[NCONTACT];
	struct arq_params p;
	struct arq a;
	uint64_t next_item = 0;
	char f[160];

	/* A new store each time: the database and SQLite's side files. */
	unlink(path);
	snprintf(f, sizeof(f), "%.150s-wal", path);
	unlink(f);
	snprintf(f, sizeof(f), "%.150s-shm", path);
	unlink(f);
	cs = store_open();
	arq_params_default(&p, 1000);
	arq_init(&a, &p, BLOB);
	for (size_t i = 0; i < NCONTACT; i++)
		c[i] = contact_make(cs, i + 1, &alice[i]);
	/* The ratchets' order within a contact is 1..per; the store lists
	 * items by name, which the item number scrambles across contacts. */
	for (size_t seq = 1; seq <= per; seq++)
		for (size_t i = 0; i < NCONTACT; i++)
			item_put(cs, &a, c[i], alice[i], seq, &next_item);
	for (size_t i = 0; i < NCONTACT; i++) {
		RATCHET_FREE(alice[i]);
		contact_free(c[i]);
	}
	arq_free(&a);
	client_store_close(cs);
}

/* Seconds sessions_open takes; every message must come up. */
static double
startup(size_t per)
{
	struct session_ops ops = {.queue_op = no_queue_op};
	struct client_store *cs = store_open();
	struct sessions s;
	struct arq_params p;
	struct arq a;
	char err[256];

	arq_params_default(&p, 1000);
	arq_init(&a, &p, BLOB);
	int64_t t0 = time_mono_ns();
	if (sessions_open(&s, cs, &a, &ops, "me", err, sizeof(err)) != 0)
		die(err);
	double secs = (double)(time_mono_ns() - t0) / 1e9;
	if (s.nm != NCONTACT * per || s.nitems != 0) {
		fprintf(stderr, "inbox: %zu messages up, %zu items left\n",
			s.nm, s.nitems);
		die("not every message came up");
	}
	sessions_close(&s);
	arq_free(&a);
	client_store_close(cs);
	return secs;
}

int
main(int argc, char **argv)
{
	size_t per = ARQ_RX_PARK_MAX;
	char cmd[160];

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: %s [items-per-contact]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;
		per = strtoul(argv[1], &end, 10);
		if (*end != '\0' || per < 16 || per > 65536)
			die("items per contact: 16..65536");
	}
	if (crypto_init() != 0)
		die("crypto_init");
	log_init("inbox", LOG_LVL_ERR);
	rand_bytes(store_key, sizeof(store_key));
	snprintf(dir, sizeof(dir), "/dev/shm/bc-bench-inbox-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		snprintf(dir, sizeof(dir), "/tmp/bc-bench-inbox-XXXXXX");
		if (mkdtemp(dir) == NULL)
			die("mkdtemp");
	}
	snprintf(path, sizeof(path), "%s/client.db", dir);

	size_t sizes[2] = {per / 4, per};
	double t[2];
	printf("start-up with a full inbox: %d contacts, one-fragment "
	       "messages, every one complete\n",
	       NCONTACT);
	printf("%10s %10s %12s %14s\n", "items", "per stream", "start-up s",
	       "us per item");
	for (int k = 0; k < 2; k++) {
		world_make(sizes[k]);
		t[k] = startup(sizes[k]);
		printf("%10zu %10zu %12.3f %14.1f\n", NCONTACT * sizes[k],
		       sizes[k], t[k], t[k] * 1e6 / (double)(NCONTACT * sizes[k]));
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		die("rm");
	printf("ratio start-up %zu/%zu items = %.2f (4: linear, 16: "
	       "quadratic)\n",
	       NCONTACT * sizes[1], NCONTACT * sizes[0], t[1] / t[0]);
	return 0;
}
