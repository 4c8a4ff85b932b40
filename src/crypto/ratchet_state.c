/*
 * Serialisation of the Double Ratchet state, so the client store can keep
 * it (encrypted at rest by the caller). Layout, all integers big-endian:
 *
 *   u8 version (RATCHET_STATE_VERSION)   u8 flags (RATCHET_HAS_*)
 *   32 DHs private   32 DHr   32 RK   32 CKs   32 HKs   32 CKr   32 HKr
 *   32 NHKs   32 NHKr   u32 Ns   u32 Nr   u32 PN   u16 skipped count
 *   then per skipped key, oldest first: 32 header key, u32 N, 32 key
 *
 * The parser is strict: one encoding per state. Unknown flags, a part the
 * flags say is absent but that is not all zero, counters of an absent
 * chain that are not zero, more skipped keys than the cap, or a length
 * other than the exact one are refused. DHs public is recomputed, not
 * stored, so it cannot disagree with the private key.
 */
#include <stdbool.h>
#include <string.h>

#include "lib/bytes.h"

#include "crypto/ratchet.h"
#include "crypto/ratchet_impl.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

#define STATE_FIXED_LEN (2 + 9 * 32 + 3 * 4 + 2)
#define STATE_ENTRY_LEN (32 + 4 + 32)

size_t
ratchet_serialized_len(const struct ratchet *r)
{
	return STATE_FIXED_LEN + (size_t)r->st->nskipped * STATE_ENTRY_LEN;
}

/* The nine 32-byte fields in serialised order. */
static void
state_fields(struct ratchet_state *s, uint8_t *f[9])
{
	f[0] = s->dhs_priv;
	f[1] = s->dhr;
	f[2] = s->rk;
	f[3] = s->cks;
	f[4] = s->hks;
	f[5] = s->ckr;
	f[6] = s->hkr;
	f[7] = s->nhks;
	f[8] = s->nhkr;
}

int
ratchet_serialize(const struct ratchet *r, uint8_t *out, size_t cap,
		  size_t *outlen)
{
	struct ratchet_state *s = r->st;
	uint8_t *f[9], *p = out;

	*outlen = 0;
	if (cap < ratchet_serialized_len(r))
		return -1;
	state_fields(s, f);
	*p++ = RATCHET_STATE_VERSION;
	*p++ = (uint8_t)s->flags;
	for (size_t i = 0; i < 9; i++, p += 32)
		memcpy(p, f[i], 32);
	be32_put(p, s->ns);
	be32_put(p + 4, s->nr);
	be32_put(p + 8, s->pn);
	be16_put(p + 12, (uint16_t)s->nskipped);
	p += 14;
	for (size_t i = 0; i < s->nskipped; i++, p += STATE_ENTRY_LEN) {
		memcpy(p, s->skipped[i].hk, 32);
		be32_put(p + 32, s->skipped[i].n);
		memcpy(p + 36, s->skipped[i].mk, 32);
	}
	*outlen = (size_t)(p - out);
	return 0;
}

/* Whether the flags, absent parts and counters agree. */
static bool
state_consistent(const struct ratchet_state *s)
{
	if (s->flags & ~RATCHET_FLAGS_ALL)
		return false;
	if (secret_is_zero(s->dhs_priv, 32))
		return false;
	if (!(s->flags & RATCHET_HAS_DHR) && !secret_is_zero(s->dhr, 32))
		return false;
	if (!(s->flags & RATCHET_HAS_SEND) &&
	    (!secret_is_zero(s->cks, 32) || !secret_is_zero(s->hks, 32) ||
	     s->ns != 0 || s->pn != 0))
		return false;
	if (!(s->flags & RATCHET_HAS_RECV) &&
	    (!secret_is_zero(s->ckr, 32) || !secret_is_zero(s->hkr, 32) ||
	     s->nr != 0))
		return false;
	/* a receiving chain comes from the peer's ratchet key */
	if ((s->flags & RATCHET_HAS_RECV) && !(s->flags & RATCHET_HAS_DHR))
		return false;
	return true;
}

struct ratchet *
ratchet_deserialize(const uint8_t *in, size_t len, enum ratchet_err *err)
{
	struct ratchet *r = NULL;
	struct ratchet_state *s;
	uint8_t *f[9];
	const uint8_t *p = in;
	size_t n;

	*err = RATCHET_ERR_STATE;
	if (len < STATE_FIXED_LEN || p[0] != RATCHET_STATE_VERSION)
		return NULL;
	n = be16_get(in + STATE_FIXED_LEN - 2);
	if (n > RATCHET_MAX_SKIPPED ||
	    len != STATE_FIXED_LEN + n * STATE_ENTRY_LEN)
		return NULL;
	r = secret_alloc(sizeof(*r));
	r->st = secret_alloc(sizeof(*r->st));
	r->tmp = secret_alloc(sizeof(*r->tmp));
	s = r->st;
	s->flags = p[1];
	p += 2;
	state_fields(s, f);
	for (size_t i = 0; i < 9; i++, p += 32)
		memcpy(f[i], p, 32);
	s->ns = be32_get(p);
	s->nr = be32_get(p + 4);
	s->pn = be32_get(p + 8);
	s->nskipped = (uint32_t)n;
	p += 14;
	for (size_t i = 0; i < n; i++, p += STATE_ENTRY_LEN) {
		memcpy(s->skipped[i].hk, p, 32);
		s->skipped[i].n = be32_get(p + 32);
		memcpy(s->skipped[i].mk, p + 36, 32);
	}
	if (!state_consistent(s)) {
		ratchet_free(r);
		return NULL;
	}
	x25519_base(s->dhs_pub, s->dhs_priv);
	*err = RATCHET_OK;
	return r;
}
