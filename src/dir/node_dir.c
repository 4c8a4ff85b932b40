/* Node side of the directory: see node_dir.h. */
#include "dir/node_dir.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/keyfile.h"
#include "lib/log.h"

#include "crypto/ed25519.h"
#include "crypto/secret.h"

#include "dir/authset.h"
#include "dir/fetch.h"
#include "dir/keysched.h"
#include "dir/tally.h"
#include "dir/verify.h"

#define UPLOAD_TIMEOUT_MS 3000

/* An accepted upload is repeated every quarter epoch, so an authority that
 * restarted (and lost what it held) gets it again; a refusal (the vote is
 * cast, or the descriptor is bad) is final for that epoch. */
struct upload_state {
	uint64_t epoch;
	bool used;
	bool final[DIR_MAX_AUTHORITIES];
	int64_t ok_at[DIR_MAX_AUTHORITIES];
};

struct held {
	bool have;
	uint64_t epoch;
	uint64_t valid_until;
	struct buf text;
};

struct node_dir {
	struct node_dir_config cfg;
	char *id_path;
	struct dir_authset as;
	uint8_t *sk; /* Ed25519 secret, locked memory */
	uint8_t pk[32];
	struct keysched ks;
	struct upload_state up[2];
	/* Per authority: epochs whose current/next document we already
	 * hold from it, so each is fetched once per epoch. */
	uint64_t got_cur[DIR_MAX_AUTHORITIES];
	uint64_t got_next[DIR_MAX_AUTHORITIES];
	struct dir_seen seen;
	char last_err[512];      /* why no current consensus came, this round */
	uint64_t kept_logged;    /* epoch for which "keeping" was logged */
	uint64_t expired_logged; /* epoch whose expiry was logged */

	pthread_mutex_t mu; /* guards cur */
	struct held cur;
	struct held next;
};

static int
load_identity(struct node_dir *nd, const char *path, uint8_t *sk,
	      uint8_t pk[32], char *err, size_t errlen)
{
	struct secret32 *seed = secret32_new();
	int rc =
	    keyfile_read_private(path, "ed25519", seed->b, 32, err, errlen);
	if (rc == 0)
		ed25519_keypair_from_seed(pk, sk, seed->b);
	secret32_wipe(seed);
	secret_free(seed);
	(void)nd;
	return rc;
}

struct node_dir *
node_dir_open(const struct node_dir_config *cfg, char *err, size_t errlen)
{
	struct node_dir *nd = bc_calloc(1, sizeof(*nd));

	nd->cfg = *cfg; /* borrows the strings: cfg outlives nd */
	pthread_mutex_init(&nd->mu, NULL);
	buf_init(&nd->cur.text);
	buf_init(&nd->next.text);
	nd->sk = secret_alloc(ED25519_SECRET_LEN);
	if (dir_authset_load(&nd->as, cfg->authorities, err, errlen) < 0 ||
	    load_identity(nd, cfg->identity_key, nd->sk, nd->pk, err, errlen) <
		0 ||
	    keysched_open(&nd->ks, cfg->key_dir, cfg->genesis, cfg->epoch_len,
			  cfg->grace, err, errlen) < 0) {
		node_dir_free(nd);
		return NULL;
	}
	nd->kept_logged = UINT64_MAX;
	nd->expired_logged = UINT64_MAX;
	return nd;
}

void
node_dir_free(struct node_dir *nd)
{
	if (nd == NULL)
		return;
	keysched_close(&nd->ks);
	if (nd->sk != NULL)
		secret_wipe(nd->sk, ED25519_SECRET_LEN);
	SECRET_FREE(nd->sk);
	buf_free(&nd->cur.text);
	buf_free(&nd->next.text);
	pthread_mutex_destroy(&nd->mu);
	free(nd);
}

int
node_dir_descriptor(struct node_dir *nd, uint64_t e, const char *other_key,
		    struct buf *out, char *err, size_t errlen)
{
	struct dir_descriptor d;
	struct buf body;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	d.epoch = e;
	memcpy(d.identity, nd->pk, 32);
	memcpy(d.link_key, nd->cfg.link_key, 32);
	for (unsigned i = 0; i < DIR_PACKET_KEYS; i++) {
		const struct keysched_key *k = keysched_get(&nd->ks, e + i);
		if (k == NULL) {
			snprintf(err, errlen, "no packet key for epoch %llu",
				 (unsigned long long)(e + i));
			return -1;
		}
		memcpy(d.packet_keys[i], k->pub, 32);
	}
	snprintf(d.address, sizeof(d.address), "%s", nd->cfg.address);
	d.role = nd->cfg.role;
	d.services = nd->cfg.services;
	snprintf(d.version, sizeof(d.version), "%s", nd->cfg.version);
	buf_init(&body);
	if (dir_descriptor_encode_body(&d, &body) < 0) {
		snprintf(err, errlen, "descriptor fields out of range");
		goto done;
	}
	if (other_key != NULL) {
		uint8_t *sk = secret_alloc(ED25519_SECRET_LEN), pk[32];
		int r = load_identity(nd, other_key, sk, pk, err, errlen);
		if (r == 0)
			ed25519_sign(d.signature, body.data, body.len, sk);
		secret_wipe(sk, ED25519_SECRET_LEN);
		secret_free(sk);
		if (r < 0)
			goto done;
	} else {
		ed25519_sign(d.signature, body.data, body.len, nd->sk);
	}
	rc = dir_descriptor_encode(&d, out);
done:
	buf_free(&body);
	return rc;
}

int
node_dir_update_keys(struct node_dir *nd, int64_t now_s, char *err,
		     size_t errlen)
{
	return keysched_update(&nd->ks, now_s, err, errlen);
}

bool
node_dir_current(struct node_dir *nd, struct buf *out)
{
	bool have;

	pthread_mutex_lock(&nd->mu);
	have = nd->cur.have;
	if (have)
		buf_append(out, nd->cur.text.data, nd->cur.text.len);
	pthread_mutex_unlock(&nd->mu);
	return have;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Compares the local clock with the median of the authorities' answers. */
static enum node_dir_status
check_clock(struct node_dir *nd, int64_t now, char *err, size_t errlen)
{
	int64_t off[DIR_MAX_AUTHORITIES];
	size_t n = 0;

	for (size_t i = 0; i < nd->as.n; i++) {
		int64_t t;
		char e[200];
		if (dir_fetch_time(nd->as.a[i].addr, &t, e, sizeof(e)) == 0)
			off[n++] = now - t;
	}
	if (n == 0)
		return NODE_DIR_OK; /* nobody to compare with: retry later */
	qsort(off, n, sizeof(off[0]), cmp_i64);
	int64_t skew = off[n / 2];
	if (skew > DIR_CLOCK_SKEW_MAX || skew < -DIR_CLOCK_SKEW_MAX) {
		snprintf(err, errlen,
			 "the local clock is %lld s %s the "
			 "directory authorities' (more than %d s): fix the "
			 "clock; refusing to run",
			 (long long)llabs(skew),
			 skew > 0 ? "ahead of" : "behind", DIR_CLOCK_SKEW_MAX);
		return NODE_DIR_FATAL;
	}
	return NODE_DIR_OK;
}

static struct upload_state *
upload_state(struct node_dir *nd, uint64_t e)
{
	struct upload_state *old = &nd->up[0];

	for (int i = 0; i < 2; i++) {
		if (nd->up[i].used && nd->up[i].epoch == e)
			return &nd->up[i];
		if (!nd->up[i].used || nd->up[i].epoch < old->epoch)
			old = &nd->up[i];
	}
	memset(old, 0, sizeof(*old));
	old->used = true;
	old->epoch = e;
	return old;
}

/* The first line of an authority's answer, printable ASCII only: what an
 * authority says must not forge lines in our log. */
static void
printable(char *out, size_t cap, const struct buf *ans)
{
	size_t n = 0;

	for (size_t i = 0; i < ans->len && n + 1 < cap; i++) {
		char ch = (char)ans->data[i];
		if (ch == '\n')
			break;
		out[n++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	out[n] = '\0';
}

/* Uploads the descriptor of epoch e to every authority that has not
 * answered yet. Network failures are retried on the next step. */
static void
upload(struct node_dir *nd, uint64_t e, int64_t now)
{
	struct upload_state *u = upload_state(nd, e);
	struct buf text, ans;
	char err[256];

	buf_init(&text);
	buf_init(&ans);
	for (size_t i = 0; i < nd->as.n; i++) {
		long status = 0;
		if (u->final[i] ||
		    (u->ok_at[i] != 0 &&
		     now - u->ok_at[i] < (int64_t)nd->cfg.epoch_len / 4))
			continue;
		if (text.len == 0 &&
		    node_dir_descriptor(nd, e, NULL, &text, err, sizeof(err)) <
			0) {
			log_err("descriptor for epoch %llu: %s",
				(unsigned long long)e, err);
			break;
		}
		buf_reset(&ans);
		if (dir_http_post(nd->as.a[i].addr, "/descriptor", text.data,
				  text.len, UPLOAD_TIMEOUT_MS, &ans, &status,
				  err, sizeof(err)) < 0) {
			log_info("upload to %s failed, will retry: %s",
				 nd->as.a[i].addr, err);
			continue;
		}
		if (status == 200) {
			if (u->ok_at[i] == 0)
				log_info("descriptor for epoch %llu accepted "
					 "by %s",
					 (unsigned long long)e,
					 nd->as.a[i].addr);
			u->ok_at[i] = now;
		} else if (status == 409 && u->ok_at[i] != 0) {
			u->final[i] = true; /* the vote is cast */
		} else {
			char why[161];
			u->final[i] = true;
			printable(why, sizeof(why), &ans);
			log_warn("descriptor for epoch %llu refused by %s "
				 "(HTTP %ld): %s",
				 (unsigned long long)e, nd->as.a[i].addr,
				 status, why);
		}
	}
	buf_free(&text);
	buf_free(&ans);
}

static void
hold(struct node_dir *nd, struct held *h, const struct dir_consensus *c,
     const struct buf *text)
{
	pthread_mutex_lock(&nd->mu);
	h->have = true;
	h->epoch = c->epoch;
	h->valid_until = c->valid_until;
	buf_reset(&h->text);
	buf_append(&h->text, text->data, text->len);
	pthread_mutex_unlock(&nd->mu);
}

/* Adds one authority's reason to last_err (current-epoch fetches only: the
 * log lines built from it are about the current epoch). */
static void
note_err(struct node_dir *nd, bool next, const char *what)
{
	size_t n = strlen(nd->last_err), w = strlen(what);
	size_t room = sizeof(nd->last_err) - 1;

	if (next || n + 2 >= room)
		return;
	if (n > 0) {
		memcpy(nd->last_err + n, "; ", 2);
		n += 2;
	}
	if (w > room - n)
		w = room - n;
	memcpy(nd->last_err + n, what, w);
	nd->last_err[n + w] = '\0';
}

/* Fetches one document (current or next) from authority i. Returns
 * FATAL on equivocation; a plain failure only records last_err. */

static enum node_dir_status
fetch_one(struct node_dir *nd, size_t i, bool next, uint64_t want, int64_t now,
	  char *err, size_t errlen)
{
	struct buf b;
	struct dir_consensus c;
	uint8_t hash[32];
	char e[256], hex[65];
	long status = 0;
	enum node_dir_status rc = NODE_DIR_OK;
	const char *addr = nd->as.a[i].addr;
	struct held *h = next ? &nd->next : &nd->cur;

	buf_init(&b);
	if (dir_http_get(addr, next ? "/consensus/next" : "/consensus",
			 DIR_DOC_MAX, 5000, &b, &status, e, sizeof(e)) < 0) {
		note_err(nd, next, e);
		goto done;
	}
	if (status != 200) {
		snprintf(e, sizeof(e),
			 "%s has no consensus for epoch %llu "
			 "(HTTP %ld)",
			 addr, (unsigned long long)want, status);
		note_err(nd, next, e);
		goto done;
	}
	if (dir_verify_consensus((const char *)b.data, b.len, &nd->as, now,
				 next ? DIR_VERIFY_FUTURE : DIR_VERIFY_NOW, &c,
				 hash, e, sizeof(e)) < 0) {
		log_warn("rejected a consensus from %s: %s", addr, e);
		note_err(nd, next, e);
		goto done;
	}
	if (dir_seen_check(&nd->seen, c.epoch, hash, err, errlen) < 0) {
		rc = NODE_DIR_FATAL;
		goto clear;
	}
	if (c.epoch != want)
		goto clear;
	(next ? nd->got_next : nd->got_cur)[i] = want + 1;
	if (!h->have || h->epoch != c.epoch) {
		dir_hash_hex(hash, hex);
		hold(nd, h, &c, &b);
		log_notice("%s consensus of epoch %llu accepted from %s: %s, "
			   "%zu nodes",
			   next ? "next" : "current",
			   (unsigned long long)c.epoch, addr, hex, c.n_nodes);
	}
clear:
	dir_consensus_clear(&c);
done:
	buf_free(&b);
	return rc;
}

/* Promotes the next consensus when its epoch begins; drops the current one
 * when it expires; says why when no fresh one is at hand. */
static void
age(struct node_dir *nd, int64_t now, uint64_t cur)
{
	pthread_mutex_lock(&nd->mu);
	if (nd->next.have && nd->next.epoch == cur &&
	    (!nd->cur.have || nd->cur.epoch < cur)) {
		struct held t = nd->cur;
		nd->cur = nd->next;
		nd->next = t;
		nd->next.have = false;
		log_notice("current consensus is now that of epoch %llu",
			   (unsigned long long)cur);
	}
	if (nd->cur.have && nd->cur.epoch < cur) {
		if ((uint64_t)now >= nd->cur.valid_until) {
			log_warn("the consensus of epoch %llu expired at %llu "
				 "and no valid consensus for epoch %llu was "
				 "found (last error: %s): no consensus held",
				 (unsigned long long)nd->cur.epoch,
				 (unsigned long long)nd->cur.valid_until,
				 (unsigned long long)cur, nd->last_err);
			nd->cur.have = false;
			nd->expired_logged = cur;
		} else if (nd->kept_logged != cur) {
			log_warn("keeping the consensus of epoch %llu until it "
				 "expires at %llu: no valid consensus for "
				 "epoch %llu yet (last error: %s)",
				 (unsigned long long)nd->cur.epoch,
				 (unsigned long long)nd->cur.valid_until,
				 (unsigned long long)cur, nd->last_err);
			nd->kept_logged = cur;
		}
	} else if (!nd->cur.have && nd->expired_logged != cur &&
		   nd->kept_logged != cur) {
		log_warn("no valid consensus for epoch %llu (last error: %s)",
			 (unsigned long long)cur, nd->last_err);
		nd->kept_logged = cur;
	}
	pthread_mutex_unlock(&nd->mu);
}

const struct keysched *
node_dir_keys(const struct node_dir *nd)
{
	return &nd->ks;
}

enum node_dir_status
node_dir_step(struct node_dir *nd, int64_t now, char *err, size_t errlen)
{
	uint64_t cur = dir_epoch_at(nd->cfg.genesis, nd->cfg.epoch_len, now);
	char e[256];

	if (check_clock(nd, now, err, errlen) == NODE_DIR_FATAL)
		return NODE_DIR_FATAL;
	if (keysched_update(&nd->ks, now, e, sizeof(e)) < 0) {
		log_err("%s", e);
		return NODE_DIR_OK;
	}
	upload(nd, cur, now);
	upload(nd, cur + 1, now);
	nd->last_err[0] = '\0';
	for (size_t i = 0; i < nd->as.n; i++) {
		if (nd->got_cur[i] != cur + 1 &&
		    fetch_one(nd, i, false, cur, now, err, errlen) ==
			NODE_DIR_FATAL)
			return NODE_DIR_FATAL;
		if (nd->got_next[i] != cur + 2 &&
		    fetch_one(nd, i, true, cur + 1, now, err, errlen) ==
			NODE_DIR_FATAL)
			return NODE_DIR_FATAL;
	}
	age(nd, now, cur);
	return NODE_DIR_OK;
}
