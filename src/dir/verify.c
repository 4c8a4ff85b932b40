/* Consensus verification and the equivocation check: see verify.h. */
#include "dir/verify.h"

#include <stdio.h>
#include <string.h>

#include "crypto/ed25519.h"

#include "dir/tally.h"

size_t
dir_count_signatures(const struct dir_consensus *c, const void *body,
		     size_t body_len, const struct dir_authset *as)
{
	bool seen[DIR_MAX_AUTHORITIES] = {false};
	size_t good = 0;

	for (size_t i = 0; i < c->n_sigs; i++) {
		int a = dir_authset_find(as, c->sigs[i].authority);
		/* Signatures by keys we do not trust count for nothing. */
		if (a < 0 || seen[a])
			continue;
		if (ed25519_verify(c->sigs[i].sig, body, body_len,
				   as->a[a].key) != 0)
			continue;
		seen[a] = true;
		good++;
	}
	return good;
}

int
dir_verify_consensus(const char *text, size_t len, const struct dir_authset *as,
		     int64_t now, enum dir_verify_when when,
		     struct dir_consensus *out, uint8_t hash[32], char *err,
		     size_t errlen)
{
	char perr[200];
	size_t body, good, need;

	if (dir_consensus_parse(text, len, out, &body, perr, sizeof(perr)) <
	    0) {
		snprintf(err, errlen, "malformed consensus: %s", perr);
		return -1;
	}
	if (!dir_layers_ok(out)) {
		snprintf(err, errlen,
			 "consensus of epoch %llu: layers are not "
			 "the deterministic assignment",
			 (unsigned long long)out->epoch);
		goto fail;
	}
	if (now >= 0 && (uint64_t)now >= out->valid_until) {
		snprintf(err, errlen,
			 "consensus of epoch %llu expired at "
			 "%llu (now %lld)",
			 (unsigned long long)out->epoch,
			 (unsigned long long)out->valid_until, (long long)now);
		goto fail;
	}
	if (when == DIR_VERIFY_NOW &&
	    (now < 0 || (uint64_t)now < out->valid_after)) {
		snprintf(err, errlen,
			 "consensus of epoch %llu not valid "
			 "before %llu (now %lld)",
			 (unsigned long long)out->epoch,
			 (unsigned long long)out->valid_after, (long long)now);
		goto fail;
	}
	good = dir_count_signatures(out, text, body, as);
	need = dir_authset_threshold(as);
	if (good < need) {
		snprintf(err, errlen,
			 "consensus of epoch %llu has %zu valid "
			 "signatures of configured authorities, %zu needed",
			 (unsigned long long)out->epoch, good, need);
		goto fail;
	}
	dir_body_hash(text, body, hash);
	return 0;
fail:
	dir_consensus_clear(out);
	return -1;
}

int
dir_seen_check(struct dir_seen *s, uint64_t epoch, const uint8_t hash[32],
	       char *err, size_t errlen)
{
	size_t oldest = 0;

	for (size_t i = 0; i < s->n; i++) {
		if (s->epoch[i] == epoch) {
			if (memcmp(s->hash[i], hash, 32) == 0)
				return 0;
			char a[65], b[65];
			dir_hash_hex(s->hash[i], a);
			dir_hash_hex(hash, b);
			snprintf(err, errlen,
				 "two different valid consensuses "
				 "for epoch %llu: %s and %s (authorities "
				 "signed twice)",
				 (unsigned long long)epoch, a, b);
			return -1;
		}
		if (s->epoch[i] < s->epoch[oldest])
			oldest = i;
	}
	size_t slot = s->n < DIR_SEEN_MAX ? s->n++ : oldest;
	s->epoch[slot] = epoch;
	memcpy(s->hash[slot], hash, 32);
	return 0;
}
