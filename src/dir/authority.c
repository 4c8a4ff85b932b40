/*
 * The authority's timer loop: for the next epoch (and at start-up the
 * current one) it votes, fetches the other authorities' votes, computes and
 * signs the consensus, fetches their signatures and publishes once a
 * threshold has signed. HTTP fetches run with the lock released; the epoch
 * state is looked up again afterwards, since the HTTP thread may have
 * changed (or evicted) it meanwhile.
 */
#include "dir/authority.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/alloc.h"
#include "lib/keyfile.h"
#include "lib/log.h"
#include "lib/time.h"

#include "crypto/ed25519.h"
#include "crypto/secret.h"

#include "wire/dir_sigdoc.h"
#include "wire/dir_text.h"

#include "dir/authority_state.h"
#include "dir/fetch.h"
#include "dir/keysched.h"
#include "dir/tally.h"
#include "dir/verify.h"

#define FETCH_EVERY_MS   1000
#define FETCH_TIMEOUT_MS 2000

uint64_t
auth_current_epoch(const struct authority *a, int64_t now_ms)
{
	return dir_epoch_at(a->params.genesis, a->params.epoch_len_s,
			    now_ms / 1000);
}

static int64_t
epoch_start_ms(const struct authority *a, uint64_t e)
{
	return dir_epoch_start(a->params.genesis, a->params.epoch_len_s, e) *
	       1000;
}

static void
epoch_clear(struct auth_epoch *st)
{
	BC_FREE(st->desc);
	buf_free(&st->vote_text);
	for (size_t i = 0; i < DIR_MAX_AUTHORITIES; i++) {
		dir_vote_clear(st->votes[i]);
		BC_FREE(st->votes[i]);
	}
	dir_consensus_clear(&st->cons);
	buf_free(&st->body);
	buf_free(&st->sig_text);
	buf_free(&st->published_text);
	memset(st, 0, sizeof(*st));
}

struct auth_epoch *
auth_epoch_get(struct authority *a, uint64_t e, bool create)
{
	struct auth_epoch *victim = NULL;

	for (size_t i = 0; i < AUTH_EPOCHS; i++)
		if (a->ep[i].used && a->ep[i].epoch == e)
			return &a->ep[i];
	/* A free slot, or else the oldest epoch's. */
	for (size_t i = 0; i < AUTH_EPOCHS; i++) {
		struct auth_epoch *st = &a->ep[i];
		if (!st->used) {
			victim = st;
			break;
		}
		if (victim == NULL || st->epoch < victim->epoch)
			victim = st;
	}
	if (!create)
		return NULL;
	epoch_clear(victim);
	victim->used = true;
	victim->epoch = e;
	victim->desc = bc_calloc(DIR_MAX_NODES, sizeof(*victim->desc));
	buf_init(&victim->vote_text);
	buf_init(&victim->body);
	buf_init(&victim->sig_text);
	buf_init(&victim->published_text);
	return victim;
}

static void
make_vote(struct authority *a, struct auth_epoch *st)
{
	struct dir_vote *v = bc_calloc(1, sizeof(*v));

	v->epoch = st->epoch;
	memcpy(v->authority, a->pk, DIR_KEY_LEN);
	v->n_desc = st->n_desc;
	v->desc = bc_calloc(st->n_desc ? st->n_desc : 1, sizeof(*v->desc));
	memcpy(v->desc, st->desc, st->n_desc * sizeof(*v->desc));
	buf_reset(&st->vote_text);
	if (dir_vote_encode_body(v, &st->vote_text) < 0) {
		log_err("epoch %llu: cannot encode own vote",
			(unsigned long long)st->epoch);
		dir_vote_clear(v);
		free(v);
		return;
	}
	ed25519_sign(v->signature, st->vote_text.data, st->vote_text.len,
		     a->sk);
	dir_put_key(&st->vote_text, "vote-signature", v->signature,
		    DIR_SIG_LEN);
	st->votes[a->self] = v;
	st->voted = true;
	log_notice("epoch %llu: voted with %zu descriptors",
		   (unsigned long long)st->epoch, st->n_desc);
}

/* Fetches and checks authority i's vote for epoch e (lock not held). */
static struct dir_vote *
fetch_vote(const struct authority *a, size_t i, uint64_t e)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
	struct dir_vote *v = NULL;
	struct buf b;
	char path[64], err[256];
	long status = 0;
	size_t body;

	buf_init(&b);
	snprintf(path, sizeof(path), "/vote/%llu", (unsigned long long)e);
	if (dir_http_get(a->as.a[i].addr, path, DIR_DOC_MAX, FETCH_TIMEOUT_MS,
			 &b, &status, err, sizeof(err)) < 0 ||
	    status != 200)
		goto done; /* not there (yet): tried again later */
	v = bc_calloc(1, sizeof(*v));
	if (dir_vote_parse((const char *)b.data, b.len, v, &body, err,
			   sizeof(err)) < 0) {
		log_ratelim(&rl, LOG_LVL_WARN,
			    "vote of %s for epoch %llu: "
			    "%s",
			    a->as.a[i].addr, (unsigned long long)e, err);
		goto fail;
	}
	if (v->epoch != e ||
	    memcmp(v->authority, a->as.a[i].key, DIR_KEY_LEN) != 0 ||
	    ed25519_verify(v->signature, b.data, body, v->authority) != 0) {
		log_ratelim(&rl, LOG_LVL_WARN,
			    "vote of %s for epoch %llu: "
			    "wrong epoch, key or signature",
			    a->as.a[i].addr, (unsigned long long)e);
		goto fail;
	}
	for (size_t j = 0; j < v->n_desc; j++) {
		struct buf d;
		buf_init(&d);
		int ok = dir_descriptor_encode_body(&v->desc[j], &d) == 0 &&
			 ed25519_verify(v->desc[j].signature, d.data, d.len,
					v->desc[j].identity) == 0;
		buf_free(&d);
		if (!ok) {
			log_ratelim(&rl, LOG_LVL_WARN,
				    "vote of %s carries a "
				    "descriptor with a bad signature",
				    a->as.a[i].addr);
			goto fail;
		}
	}
	goto done;
fail:
	dir_vote_clear(v);
	BC_FREE(v);
done:
	buf_free(&b);
	return v;
}

static size_t
votes_held(const struct auth_epoch *st, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += st->votes[i] != NULL;
	return k;
}

/* Fetches the votes still missing for epoch e; takes and drops the lock. */
static void
gather_votes(struct authority *a, uint64_t e, const bool *missing)
{
	for (size_t i = 0; i < a->as.n; i++) {
		if (!missing[i])
			continue;
		struct dir_vote *v = fetch_vote(a, i, e);
		if (v == NULL)
			continue;
		pthread_mutex_lock(&a->mu);
		struct auth_epoch *st = auth_epoch_get(a, e, false);
		if (st != NULL && st->votes[i] == NULL && !st->computed) {
			st->votes[i] = v;
			v = NULL;
			log_info("epoch %llu: got the vote of %s",
				 (unsigned long long)e, a->as.a[i].addr);
		}
		pthread_mutex_unlock(&a->mu);
		if (v != NULL) {
			dir_vote_clear(v);
			free(v);
		}
	}
}

static void
write_published(const struct authority *a, const struct auth_epoch *st)
{
	char path[300], tmp[310];

	snprintf(path, sizeof(path), "%s/consensus-%llu", a->cfg.data_dir,
		 (unsigned long long)st->epoch);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (f == NULL)
		return;
	int ok = fwrite(st->published_text.data, 1, st->published_text.len,
			f) == st->published_text.len;
	if (fclose(f) != 0 || !ok || rename(tmp, path) != 0)
		log_warn("cannot store %s", path);
}

/* Publishes (again) when the signatures held reach the threshold. */
static void
maybe_publish(struct authority *a, struct auth_epoch *st)
{
	size_t good = st->cons.n_sigs; /* each one verified when added */

	if (good < dir_authset_threshold(&a->as))
		return;
	buf_reset(&st->published_text);
	if (dir_consensus_encode(&st->cons, &st->published_text) < 0)
		return;
	if (!st->published) {
		char hex[65];
		dir_hash_hex(st->hash, hex);
		log_notice("epoch %llu: published consensus %s (%zu nodes, "
			   "%zu signatures)",
			   (unsigned long long)st->epoch, hex, st->cons.n_nodes,
			   good);
	}
	st->published = true;
	write_published(a, st);
}

static void
make_sig_text(struct auth_epoch *st, const struct dir_signature *s)
{
	struct dir_sigdoc d;

	d.epoch = st->epoch;
	memcpy(d.hash, st->hash, 32);
	d.sig = *s;
	buf_reset(&st->sig_text);
	if (dir_sigdoc_encode(&d, &st->sig_text) < 0)
		buf_reset(&st->sig_text);
}

/* Computes our document from the votes held and signs it, unless the sign
 * log says we signed a different one for this epoch. Lock held. */
static void
compute_and_sign(struct authority *a, struct auth_epoch *st)
{
	const struct dir_vote *votes[DIR_MAX_AUTHORITIES];
	size_t n = 0;
	uint8_t prior[32];
	char hex[65], phex[65];

	for (size_t i = 0; i < a->as.n; i++)
		if (st->votes[i] != NULL)
			votes[n++] = st->votes[i];
	dir_consensus_clear(&st->cons);
	dir_tally(votes, n, dir_authset_threshold(&a->as), st->epoch,
		  &a->params, &st->cons);
	buf_reset(&st->body);
	if (dir_consensus_encode_body(&st->cons, &st->body) < 0) {
		log_err("epoch %llu: cannot encode consensus",
			(unsigned long long)st->epoch);
		st->refused = true;
		return;
	}
	dir_body_hash(st->body.data, st->body.len, st->hash);
	st->computed = true;
	dir_hash_hex(st->hash, hex);
	if (auth_signlog_find(a, st->epoch, prior)) {
		if (memcmp(prior, st->hash, 32) != 0) {
			dir_hash_hex(prior, phex);
			log_warn("epoch %llu: refusing to sign %s: already "
				 "signed a different document (%s)",
				 (unsigned long long)st->epoch, hex, phex);
			st->refused = true;
			return;
		}
		log_notice("epoch %llu: signing %s again (the same document "
			   "as before the restart)",
			   (unsigned long long)st->epoch, hex);
	} else if (auth_signlog_record(a, st->epoch, st->hash) < 0) {
		st->refused = true; /* no record, no signature */
		return;
	}
	struct dir_signature s;
	memcpy(s.authority, a->pk, DIR_KEY_LEN);
	ed25519_sign(s.sig, st->body.data, st->body.len, a->sk);
	if (dir_consensus_add_sig(&st->cons, &s) < 0)
		return;
	make_sig_text(st, &s);
	log_notice("epoch %llu: signed consensus %s (%zu nodes from %zu "
		   "votes)",
		   (unsigned long long)st->epoch, hex, st->cons.n_nodes, n);
	maybe_publish(a, st);
}

static bool
has_sig(const struct dir_consensus *c, const uint8_t *key)
{
	for (size_t i = 0; i < c->n_sigs; i++)
		if (memcmp(c->sigs[i].authority, key, DIR_KEY_LEN) == 0)
			return true;
	return false;
}

/* Fetches authority i's signature for epoch e and adds it if it verifies
 * over our body. Takes and drops the lock. */
static void
gather_sig(struct authority *a, size_t i, uint64_t e)
{
	static struct log_ratelim rl = LOG_RATELIM_INIT(10000);
	struct buf b;
	char path[64], err[256], hex[65], ours[65];
	long status = 0;
	struct dir_sigdoc sd;
	const struct dir_signature *s = &sd.sig;
	struct auth_epoch *st;

	buf_init(&b);
	snprintf(path, sizeof(path), "/signature/%llu", (unsigned long long)e);
	if (dir_http_get(a->as.a[i].addr, path, DIR_SIGDOC_MAX,
			 FETCH_TIMEOUT_MS, &b, &status, err, sizeof(err)) < 0 ||
	    status != 200)
		goto done;
	if (dir_sigdoc_parse((const char *)b.data, b.len, &sd, err,
			     sizeof(err)) < 0 ||
	    sd.epoch != e ||
	    memcmp(s->authority, a->as.a[i].key, DIR_KEY_LEN) != 0) {
		log_ratelim(&rl, LOG_LVL_WARN,
			    "signature of %s for epoch "
			    "%llu: malformed or wrong key",
			    a->as.a[i].addr, (unsigned long long)e);
		goto done;
	}
	pthread_mutex_lock(&a->mu);
	st = auth_epoch_get(a, e, false);
	if (st != NULL && st->computed && !has_sig(&st->cons, s->authority)) {
		if (ed25519_verify(s->sig, st->body.data, st->body.len,
				   s->authority) == 0) {
			if (dir_consensus_add_sig(&st->cons, s) == 0)
				maybe_publish(a, st);
		} else {
			dir_hash_hex(st->hash, ours);
			dir_hash_hex(sd.hash, hex);
			log_ratelim(&rl, LOG_LVL_WARN,
				    "epoch %llu: %s signed "
				    "%s, ours is %s",
				    (unsigned long long)e, a->as.a[i].addr, hex,
				    ours);
		}
	}
	pthread_mutex_unlock(&a->mu);
done:
	buf_free(&b);
}

/* One pass over target epoch e. */
static void
target_step(struct authority *a, uint64_t e, int64_t now)
{
	bool missing[DIR_MAX_AUTHORITIES] = {false};
	bool want_votes = false, want_sigs = false;
	size_t need = dir_authset_threshold(&a->as);

	pthread_mutex_lock(&a->mu);
	struct auth_epoch *st = auth_epoch_get(a, e, false);
	if (st == NULL || st->vote_at_ms == 0 || now < st->vote_at_ms) {
		pthread_mutex_unlock(&a->mu);
		return;
	}
	if (!st->voted)
		make_vote(a, st);
	size_t held = votes_held(st, a->as.n);
	bool deadline = now >= st->vote_at_ms + a->cfg.vote_window_ms;
	if (st->voted && !st->computed && !st->refused) {
		if (held == a->as.n || (deadline && held >= need))
			compute_and_sign(a, st);
		else if (deadline && !st->short_logged &&
			 (st->short_logged = true))
			log_notice("epoch %llu: %zu of %zu votes, %zu needed; "
				   "not signing yet",
				   (unsigned long long)e, held, a->as.n, need);
	}
	bool fetch_now =
	    now >= st->next_fetch_ms && now < epoch_start_ms(a, e + 1);
	if (fetch_now)
		st->next_fetch_ms = now + FETCH_EVERY_MS;
	for (size_t i = 0; i < a->as.n; i++) {
		if ((int)i == a->self)
			continue;
		if (!st->computed && st->votes[i] == NULL) {
			missing[i] = true;
			want_votes = true;
		}
	}
	want_sigs = st->computed && st->cons.n_sigs < a->as.n;
	bool no_votes = st->computed || !fetch_now;
	pthread_mutex_unlock(&a->mu);

	if (want_votes && !no_votes)
		gather_votes(a, e, missing);
	if (want_sigs && fetch_now)
		for (size_t i = 0; i < a->as.n; i++)
			if ((int)i != a->self)
				gather_sig(a, i, e);
}

/* Sets when each target epoch votes: the middle of the epoch before it,
 * and not before bootstrap_delay after start-up (uploads need time). At
 * start-up the current epoch is a target too, so a new network runs at
 * once instead of an epoch later. */
static void
schedule(struct authority *a, uint64_t cur, int64_t now)
{
	int64_t boot_ready = a->boot_ms + a->cfg.bootstrap_delay_ms;
	int64_t half = (int64_t)a->params.epoch_len_s * 500;

	(void)now;
	pthread_mutex_lock(&a->mu);
	struct auth_epoch *st = auth_epoch_get(a, cur + 1, true);
	if (st->vote_at_ms == 0) {
		int64_t t = epoch_start_ms(a, cur) + half;
		st->vote_at_ms = t > boot_ready ? t : boot_ready;
	}
	if (cur == auth_current_epoch(a, a->boot_ms)) {
		st = auth_epoch_get(a, cur, true);
		if (st->vote_at_ms == 0)
			st->vote_at_ms = boot_ready;
	}
	pthread_mutex_unlock(&a->mu);
}

void
authority_run(struct authority *a, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		int64_t now = time_wall_ms();
		uint64_t cur = auth_current_epoch(a, now);
		schedule(a, cur, now);
		target_step(a, cur, now);
		target_step(a, cur + 1, now);
		time_sleep_ms(200);
	}
}

/* Serves again what this authority published before a restart. */
static void
load_published(struct authority *a, uint64_t e, int64_t now_ms)
{
	char path[300], err[256];
	struct buf b;
	uint8_t hash[32];
	struct dir_consensus c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/consensus-%llu", a->cfg.data_dir,
		 (unsigned long long)e);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	buf_init(&b);
	buf_reserve(&b, DIR_DOC_MAX);
	size_t n = fread(b.data, 1, DIR_DOC_MAX, f);
	fclose(f);
	b.len = n;
	if (dir_verify_consensus((const char *)b.data, b.len, &a->as,
				 now_ms / 1000, DIR_VERIFY_FUTURE, &c, hash,
				 err, sizeof(err)) == 0) {
		struct auth_epoch *st = auth_epoch_get(a, e, true);
		buf_append(&st->published_text, b.data, b.len);
		st->published = true;
		dir_consensus_clear(&c);
		log_notice("serving the consensus of epoch %llu stored before "
			   "the restart",
			   (unsigned long long)e);
	}
	buf_free(&b);
}

static int
load_identity(struct authority *a, char *err, size_t errlen)
{
	struct secret32 *seed = secret32_new();
	int rc = -1;

	if (keyfile_read_private(a->cfg.identity_key, "ed25519", seed->b, 32,
				 err, errlen) < 0)
		goto done;
	a->sk = secret_alloc(ED25519_SECRET_LEN);
	ed25519_keypair_from_seed(a->pk, a->sk, seed->b);
	a->self = dir_authset_find(&a->as, a->pk);
	if (a->self < 0) {
		snprintf(err, errlen,
			 "this authority's key is not in the "
			 "configured authorities list");
		goto done;
	}
	rc = 0;
done:
	secret32_wipe(seed);
	secret_free(seed);
	return rc;
}

struct authority *
authority_start(const struct authority_config *cfg, char *err, size_t errlen)
{
	struct authority *a = bc_calloc(1, sizeof(*a));
	uint64_t cur;

	a->cfg = *cfg; /* borrows the strings: cfg outlives a */
	pthread_mutex_init(&a->mu, NULL);
	if (authority_config_params(cfg, &a->params, err, errlen) < 0 ||
	    dir_authset_load(&a->as, cfg->authorities, err, errlen) < 0 ||
	    load_identity(a, err, errlen) < 0)
		goto fail;
	if (mkdir(cfg->data_dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "data_dir %s: %s", cfg->data_dir,
			 strerror(errno));
		goto fail;
	}
	if (auth_signlog_load(a, err, errlen) < 0)
		goto fail;
	a->boot_ms = time_wall_ms();
	cur = auth_current_epoch(a, a->boot_ms);
	load_published(a, cur, a->boot_ms);
	load_published(a, cur + 1, a->boot_ms);
	if (auth_http_start(a, err, errlen) < 0)
		goto fail;
	log_notice("authority %d of %zu (threshold %zu) listening on %s, "
		   "epoch %llu",
		   a->self + 1, a->as.n, dir_authset_threshold(&a->as),
		   cfg->listen, (unsigned long long)cur);
	return a;
fail:
	authority_free(a);
	return NULL;
}

void
authority_free(struct authority *a)
{
	if (a == NULL)
		return;
	auth_http_stop(a);
	for (size_t i = 0; i < AUTH_EPOCHS; i++)
		epoch_clear(&a->ep[i]);
	if (a->sk != NULL)
		secret_wipe(a->sk, ED25519_SECRET_LEN);
	SECRET_FREE(a->sk);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
