/*
 * The pattern table is data written from the Noise specification, revision
 * 34: section 7.4 (one-way), 7.5 (interactive fundamental) and 7.6
 * (deferred). Pre-messages list what each side knows beforehand; message
 * token lists alternate, initiator first. psk modifiers (section 9.4) are
 * applied to a copy at parse time.
 */
#include "crypto/noise_pattern.h"

#include <string.h>

struct pattern_def {
	const char *name;
	const char *pre_init; /* "" or "s" */
	const char *pre_resp; /* "" or "s" */
	const char *msgs[NOISE_PATTERN_MAX_MSGS];
};

static const struct pattern_def patterns[] = {
    /* One-way: all transport traffic flows initiator -> responder. */
    {"N", "", "s", {"e es"}},
    {"K", "s", "s", {"e es ss"}},
    {"X", "", "s", {"e es s ss"}},
    /* Interactive, fundamental. */
    {"NN", "", "", {"e", "e ee"}},
    {"NK", "", "s", {"e es", "e ee"}},
    {"NX", "", "", {"e", "e ee s es"}},
    {"XN", "", "", {"e", "e ee", "s se"}},
    {"XK", "", "s", {"e es", "e ee", "s se"}},
    {"XX", "", "", {"e", "e ee s es", "s se"}},
    {"KN", "s", "", {"e", "e ee se"}},
    {"KK", "s", "s", {"e es ss", "e ee se"}},
    {"KX", "s", "", {"e", "e ee se s es"}},
    {"IN", "", "", {"e s", "e ee se"}},
    {"IK", "", "s", {"e es s ss", "e ee se"}},
    {"IX", "", "", {"e s", "e ee se s es"}},
    /* Interactive, deferred. */
    {"NK1", "", "s", {"e", "e ee es"}},
    {"NX1", "", "", {"e", "e ee s", "es"}},
    {"X1N", "", "", {"e", "e ee", "s", "se"}},
    {"X1K", "", "s", {"e es", "e ee", "s", "se"}},
    {"XK1", "", "s", {"e", "e ee es", "s se"}},
    {"X1K1", "", "s", {"e", "e ee es", "s", "se"}},
    {"X1X", "", "", {"e", "e ee s es", "s", "se"}},
    {"XX1", "", "", {"e", "e ee s", "es s se"}},
    {"X1X1", "", "", {"e", "e ee s", "es s", "se"}},
    {"K1N", "s", "", {"e", "e ee", "se"}},
    {"K1K", "s", "s", {"e es", "e ee", "se"}},
    {"KK1", "s", "s", {"e", "e ee se es"}},
    {"K1K1", "s", "s", {"e", "e ee es", "se"}},
    {"K1X", "s", "", {"e", "e ee s es", "se"}},
    {"KX1", "s", "", {"e", "e ee se s", "es"}},
    {"K1X1", "s", "", {"e", "e ee s", "se es"}},
    {"I1N", "", "", {"e s", "e ee", "se"}},
    {"I1K", "", "s", {"e es s", "e ee", "se"}},
    {"IK1", "", "s", {"e s", "e ee se es"}},
    {"I1K1", "", "s", {"e s", "e ee es", "se"}},
    {"I1X", "", "", {"e s", "e ee s es", "se"}},
    {"IX1", "", "", {"e s", "e ee se s", "es"}},
    {"I1X1", "", "", {"e s", "e ee s", "se es"}},
};

static int
token_parse(const char *w, size_t n, uint8_t *tok)
{
	static const struct {
		const char *s;
		enum noise_token t;
	} words[] = {
	    {"e", NOISE_TOK_E},   {"s", NOISE_TOK_S},   {"ee", NOISE_TOK_EE},
	    {"es", NOISE_TOK_ES}, {"se", NOISE_TOK_SE}, {"ss", NOISE_TOK_SS},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].s) == n && memcmp(words[i].s, w, n) == 0) {
			*tok = (uint8_t)words[i].t;
			return 0;
		}
	}
	return -1;
}

/* "e ee s" -> token list; the table is trusted but still bounds-checked. */
static int
msg_parse(const char *s, uint8_t *toks, size_t *ntoks)
{
	size_t n = 0;

	while (*s != '\0') {
		size_t len = strcspn(s, " ");

		if (len > 0) {
			if (n == NOISE_PATTERN_MAX_TOKENS ||
			    token_parse(s, len, &toks[n]) != 0)
				return -1;
			n++;
		}
		s += len;
		if (*s == ' ')
			s++;
	}
	*ntoks = n;
	return 0;
}

static int
pattern_build(const struct pattern_def *d, struct noise_pattern *p)
{
	memset(p, 0, sizeof(*p));
	p->pre_init_s = strcmp(d->pre_init, "s") == 0;
	p->pre_resp_s = strcmp(d->pre_resp, "s") == 0;
	for (size_t i = 0; i < NOISE_PATTERN_MAX_MSGS && d->msgs[i]; i++) {
		if (msg_parse(d->msgs[i], p->tokens[i], &p->ntokens[i]) != 0)
			return -1;
		p->nmsgs = i + 1;
	}
	p->one_way = p->nmsgs == 1;
	return 0;
}

/* Insert a psk token: psk0 starts message 0, pskN ends message N-1. */
static int
psk_apply(struct noise_pattern *p, unsigned long n)
{
	size_t m = n == 0 ? 0 : n - 1;

	if (n > p->nmsgs || p->ntokens[m] == NOISE_PATTERN_MAX_TOKENS)
		return -1;
	if (n == 0) {
		memmove(&p->tokens[m][1], &p->tokens[m][0], p->ntokens[m]);
		p->tokens[m][0] = NOISE_TOK_PSK;
	} else {
		p->tokens[m][p->ntokens[m]] = NOISE_TOK_PSK;
	}
	p->ntokens[m]++;
	p->npsk++;
	return 0;
}

/* "psk0+psk2": each modifier once, each "psk" plus one decimal digit. */
static int
modifiers_apply(struct noise_pattern *p, const char *mods, size_t len)
{
	unsigned seen = 0;
	size_t i = 0;

	while (i < len) {
		size_t w = 0;

		while (i + w < len && mods[i + w] != '+')
			w++;
		if (w != 4 || memcmp(mods + i, "psk", 3) != 0 ||
		    mods[i + 3] < '0' || mods[i + 3] > '9')
			return -1;
		unsigned long n = (unsigned long)(mods[i + 3] - '0');
		if ((seen & (1u << n)) != 0 || psk_apply(p, n) != 0)
			return -1;
		seen |= 1u << n;
		i += w;
		if (i < len && ++i == len)
			return -1; /* trailing '+' */
	}
	return 0;
}

static int
pattern_parse(const char *s, size_t len, struct noise_pattern *p)
{
	size_t base = 0;

	while (base < len && ((s[base] >= 'A' && s[base] <= 'Z') ||
			      (s[base] >= '0' && s[base] <= '9')))
		base++;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		const struct pattern_def *d = &patterns[i];

		if (strlen(d->name) != base || memcmp(d->name, s, base) != 0)
			continue;
		if (pattern_build(d, p) != 0)
			return -1;
		return modifiers_apply(p, s + base, len - base);
	}
	return -1;
}

int
noise_protocol_parse(const char *name, struct noise_protocol *out)
{
	static const char prefix[] = "Noise_";
	static const char algs[] = "_25519_ChaChaPoly_";
	size_t len, plen;
	const char *pat, *rest;

	memset(out, 0, sizeof(*out));
	if (name == NULL)
		return -1;
	len = strnlen(name, NOISE_PROTOCOL_NAME_MAX + 1);
	if (len > NOISE_PROTOCOL_NAME_MAX ||
	    strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	pat = name + sizeof(prefix) - 1;
	rest = strchr(pat, '_');
	if (rest == NULL)
		return -1;
	plen = (size_t)(rest - pat);
	if (strncmp(rest, algs, sizeof(algs) - 1) != 0)
		return -1;
	rest += sizeof(algs) - 1;
	if (strcmp(rest, "SHA256") == 0)
		out->hash = NOISE_HASH_SHA256;
	else if (strcmp(rest, "SHA512") == 0)
		out->hash = NOISE_HASH_SHA512;
	else if (strcmp(rest, "BLAKE2b") == 0)
		out->hash = NOISE_HASH_BLAKE2B;
	else
		return -1;
	if (pattern_parse(pat, plen, &out->pattern) != 0)
		return -1;
	memcpy(out->name, name, len + 1);
	return 0;
}
