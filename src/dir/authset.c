/* Authority set parsing and threshold: see authset.h. */
#include "dir/authset.h"

#include <stdio.h>
#include <string.h>

#include "lib/codec.h"

static int
parse_one(struct dir_authority *a, const char *s, size_t n, char *err,
	  size_t errlen)
{
	const char *at = memchr(s, '@', n);
	size_t got = 0;

	if (at == NULL) {
		snprintf(err, errlen, "authority '%.*s': want KEY@host:port",
			 (int)(n > 60 ? 60 : n), s);
		return -1;
	}
	size_t kn = (size_t)(at - s), an = n - kn - 1;
	uint8_t tmp[48];
	if (base64_decode(tmp, sizeof(tmp), &got, s, kn) < 0 ||
	    got != DIR_KEY_LEN) {
		snprintf(err, errlen,
			 "authority %zu: key is not 32 bytes of "
			 "base64",
			 kn);
		return -1;
	}
	if (dir_address_check(at + 1, an) < 0) {
		snprintf(err, errlen,
			 "authority address '%.*s' is not "
			 "host:port",
			 (int)(an > 60 ? 60 : an), at + 1);
		return -1;
	}
	memcpy(a->key, tmp, DIR_KEY_LEN);
	memcpy(a->addr, at + 1, an);
	a->addr[an] = '\0';
	return 0;
}

int
dir_authset_parse(struct dir_authset *as, const char *spec, char *err,
		  size_t errlen)
{
	const char *p = spec;

	memset(as, 0, sizeof(*as));
	while (*p != '\0') {
		while (*p == ' ' || *p == ',' || *p == '\n' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, " ,\n\t");
		if (as->n == DIR_MAX_AUTHORITIES) {
			snprintf(err, errlen, "more than %d authorities",
				 DIR_MAX_AUTHORITIES);
			return -1;
		}
		struct dir_authority *a = &as->a[as->n];
		if (parse_one(a, p, n, err, errlen) < 0)
			return -1;
		if (dir_authset_find(as, a->key) >= 0) {
			snprintf(err, errlen, "authority %.*s listed twice",
				 (int)(n > 60 ? 60 : n), p);
			return -1;
		}
		as->n++;
		p += n;
	}
	if (as->n == 0) {
		snprintf(err, errlen, "no authorities configured");
		return -1;
	}
	return 0;
}

size_t
dir_authset_threshold(const struct dir_authset *as)
{
	return as->n / 2 + 1;
}

int
dir_authset_find(const struct dir_authset *as, const uint8_t key[DIR_KEY_LEN])
{
	for (size_t i = 0; i < as->n; i++)
		if (memcmp(as->a[i].key, key, DIR_KEY_LEN) == 0)
			return (int)i;
	return -1;
}

int
dir_authset_load(struct dir_authset *as, const char *spec, char *err,
		 size_t errlen)
{
	char text[8192];
	size_t n;
	FILE *f;

	if (strchr(spec, '@') != NULL)
		return dir_authset_parse(as, spec, err, errlen);
	f = fopen(spec, "r");
	if (f == NULL) {
		snprintf(err, errlen, "authorities: cannot open '%.200s'",
			 spec);
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	if (n == sizeof(text) - 1 || strlen(text) != n) {
		snprintf(err, errlen,
			 "authorities file '%.200s' too long or "
			 "not text",
			 spec);
		return -1;
	}
	return dir_authset_parse(as, text, err, errlen);
}
