/*
 * Fuzz target: a link responder (net/link_sm.h, no sockets) fed arbitrary
 * bytes. The first byte picks the mode:
 *   0: the bytes arrive before any handshake, as from a stranger;
 *   1: a real initiator completes the handshake, then the bytes arrive raw
 *      (garbage on an authenticated link);
 *   2: as 1, but the bytes are cut into frame plaintexts and sealed with
 *      the initiator's keys, so they reach the command decoder and the
 *      responder's handling of every command.
 * The second byte sets the read size (1..256 bytes per feed) so frames
 * are split at every boundary. Randomness is deterministic per run.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/rand.h"
#include "crypto/x25519.h"
#include "net/link_sm.h"
#include "wire/link_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PL LINK_PACKET_LEN_MIN

struct pipe {
	uint8_t buf[4096];
	size_t len;
	bool opened;
	unsigned cmds;
};

static void
fz_send(void *ctx, const uint8_t *b, size_t n)
{
	struct pipe *p = ctx;
	if (n > sizeof(p->buf) - p->len)
		abort(); /* more than a handshake message pending: a bug */
	memcpy(p->buf + p->len, b, n);
	p->len += n;
}

static void
fz_open(void *ctx)
{
	((struct pipe *)ctx)->opened = true;
}

static enum link_err
fz_cmd(void *ctx, const struct link_cmd *cmd)
{
	struct pipe *p = ctx;
	p->cmds++;
	/* Some commands end the link, as an application would. */
	return cmd->type == LINK_CMD_REGISTER ? LINK_ERR_DENIED : LINK_OK;
}

static bool
fz_auth(void *ctx, const uint8_t key[32])
{
	(void)ctx;
	return key[0] != 0; /* the fixed initiator key passes */
}

static uint8_t rpriv[32], rpub[32], ipriv[32];

static struct link_sm *
fz_new(bool initiator, struct pipe *p)
{
	struct link_sm_cfg c = {
		.initiator = initiator,
		.static_priv = initiator ? ipriv : rpriv,
		.remote_pub = rpub,
		.role = LINK_ROLE_NODE,
		.packet_len = PL,
		.rekey_frames = 3,
		.auth = fz_auth,
		.ops = {fz_send, fz_open, fz_cmd},
		.ops_ctx = p,
	};
	return link_sm_new(&c);
}

static void
feed(struct link_sm *sm, const uint8_t *d, size_t n, size_t step)
{
	while (n > 0 && link_sm_state(sm) != LINK_SM_DEAD) {
		size_t k = n < step ? n : step;
		enum link_err e = link_sm_feed(sm, d, k);
		if (e != LINK_OK && link_sm_state(sm) != LINK_SM_DEAD)
			abort();
		d += k;
		n -= k;
	}
}

/* Run a real handshake between ini and resp; false if it failed. */
static bool
handshake(struct link_sm *ini, struct pipe *pi, struct link_sm *resp,
	  struct pipe *pr)
{
	if (link_sm_start(ini) != LINK_OK)
		return false;
	for (int round = 0; round < 3; round++) {
		struct pipe *from = round % 2 == 0 ? pi : pr;
		struct link_sm *to = round % 2 == 0 ? resp : ini;
		if (link_sm_feed(to, from->buf, from->len) != LINK_OK)
			return false;
		from->len = 0;
	}
	return pr->opened && link_sm_state(resp) == LINK_SM_OPEN;
}

/* Cut d into frame plaintexts, seal each with ini's keys, feed resp. */
static void
feed_sealed(struct link_sm *ini, struct link_sm *resp, const uint8_t *d,
	    size_t n, size_t step)
{
	size_t plain = link_frame_plain_len(PL), wl = link_sm_wire_len(ini);
	uint8_t *pt = calloc(1, plain), *w = malloc(wl);
	if (pt == NULL || w == NULL)
		abort();
	for (size_t off = 0; off < n && link_sm_state(resp) != LINK_SM_DEAD;
	     off += plain) {
		size_t k = n - off < plain ? n - off : plain;
		memset(pt, 0, plain);
		memcpy(pt, d + off, k);
		if (link_sm_seal_raw(ini, pt, w) != LINK_OK)
			abort();
		feed(resp, w, wl, step);
	}
	free(pt);
	free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	if (!init) {
		if (crypto_init() != 0)
			abort();
		memset(rpriv, 0x41, 32);
		memset(ipriv, 0x42, 32);
		x25519_base(rpub, rpriv);
		init = true;
	}
	if (size < 2)
		return 0;
	rand_set_deterministic(1);
	unsigned mode = data[0] % 3;
	size_t step = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	struct pipe pr = {0}, pi = {0};
	struct link_sm *resp = fz_new(false, &pr), *ini = NULL;
	if (resp == NULL)
		abort();
	if (mode == 0) {
		feed(resp, data, size, step);
	} else {
		ini = fz_new(true, &pi);
		if (ini == NULL || !handshake(ini, &pi, resp, &pr))
			abort(); /* a valid handshake must succeed */
		if (mode == 1)
			feed(resp, data, size, step);
		else
			feed_sealed(ini, resp, data, size, step);
	}
	link_sm_free(ini);
	link_sm_free(resp);
	rand_set_system();
	return 0;
}
