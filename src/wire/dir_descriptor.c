/*
 * Node descriptor codec. The parser reads fields in their fixed order, checks
 * each, then re-encodes the body and requires it byte-identical to the input:
 * one descriptor has exactly one encoding, so "identical descriptor" in
 * different votes can be decided by comparing bytes or fields alike.
 */
#include "wire/dir_descriptor.h"

#include <string.h>

#include "wire/dir_text.h"

static const char *const desc_keys[] = {
    "backchannel-descriptor",
    "epoch",
    "identity",
    "link-key",
    "packet-key",
    "address",
    "role",
    "services",
    "version",
    "signature",
    NULL,
};

const char *
dir_role_name(enum dir_role r)
{
	switch (r) {
	case DIR_ROLE_MIX:
		return "mix";
	case DIR_ROLE_GATEWAY:
		return "gateway";
	}
	return "?";
}

int
dir_address_check(const char *s, size_t n)
{
	const char *colon = NULL;

	if (n < 3 || n > DIR_ADDRESS_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == ':')
			colon = s + i;
		else if (!((ch >= 'a' && ch <= 'z') ||
			   (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
			   ch == '[' || ch == ']'))
			return -1;
	}
	if (colon == NULL || colon == s)
		return -1;
	size_t pn = n - (size_t)(colon - s) - 1;
	if (pn == 0 || pn > 5 || colon[1] == '0')
		return -1;
	unsigned port = 0;
	for (size_t i = 0; i < pn; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9')
			return -1;
		port = port * 10 + (unsigned)(colon[1 + i] - '0');
	}
	return port >= 1 && port <= 65535 ? 0 : -1;
}

static int
version_check(const char *s, size_t n)
{
	if (n == 0 || n > DIR_VERSION_MAX)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
		      ch == '+' || ch == '_'))
			return -1;
	}
	return 0;
}

static int
services_check(const struct dir_descriptor *d)
{
	if (d->services & ~(DIR_SERVICE_ECHO | DIR_SERVICE_DROP))
		return -1;
	/* Services are what a gateway answers; a mix offers none. */
	if (d->role == DIR_ROLE_MIX)
		return d->services == 0 ? 0 : -1;
	if (d->role == DIR_ROLE_GATEWAY)
		return d->services != 0 ? 0 : -1;
	return -1;
}

int
dir_descriptor_encode_body(const struct dir_descriptor *d, struct buf *b)
{
	size_t an = strnlen(d->address, sizeof(d->address));
	size_t vn = strnlen(d->version, sizeof(d->version));

	if (d->epoch > DIR_EPOCH_MAX - DIR_PACKET_KEYS ||
	    dir_address_check(d->address, an) < 0 ||
	    version_check(d->version, vn) < 0 || services_check(d) < 0)
		return -1;
	buf_printf(b, "backchannel-descriptor 1\n");
	dir_put_u64(b, "epoch", d->epoch);
	dir_put_key(b, "identity", d->identity, DIR_KEY_LEN);
	dir_put_key(b, "link-key", d->link_key, DIR_KEY_LEN);
	for (unsigned i = 0; i < DIR_PACKET_KEYS; i++) {
		char t[100];
		dir_b64(t, sizeof(t), d->packet_keys[i], DIR_KEY_LEN);
		buf_printf(b, "packet-key %llu %s\n",
			   (unsigned long long)(d->epoch + i), t);
	}
	buf_printf(b, "address %s\n", d->address);
	buf_printf(b, "role %s\n", dir_role_name(d->role));
	if (d->services == 0)
		buf_printf(b, "services none\n");
	else
		buf_printf(b, "services%s%s\n",
			   d->services & DIR_SERVICE_ECHO ? " echo" : "",
			   d->services & DIR_SERVICE_DROP ? " drop" : "");
	buf_printf(b, "version %s\n", d->version);
	return 0;
}

int
dir_descriptor_encode(const struct dir_descriptor *d, struct buf *b)
{
	if (dir_descriptor_encode_body(d, b) < 0)
		return -1;
	dir_put_key(b, "signature", d->signature, DIR_SIG_LEN);
	return 0;
}

static int
parse_services(struct dir_cursor *c, const char *v, size_t n,
	       struct dir_descriptor *d)
{
	if (dir_value_is(v, n, "none"))
		d->services = 0;
	else if (dir_value_is(v, n, "echo"))
		d->services = DIR_SERVICE_ECHO;
	else if (dir_value_is(v, n, "drop"))
		d->services = DIR_SERVICE_DROP;
	else if (dir_value_is(v, n, "echo drop"))
		d->services = DIR_SERVICE_ECHO | DIR_SERVICE_DROP;
	else
		return dir_cursor_fail(c, "services must be 'none' or "
					  "'echo', 'drop', 'echo drop'");
	if (services_check(d) < 0)
		return dir_cursor_fail(c, "a mix offers no services, a "
					  "gateway at least one");
	return 0;
}

static int
parse_packet_keys(struct dir_cursor *c, struct dir_descriptor *d)
{
	for (unsigned i = 0; i < DIR_PACKET_KEYS; i++) {
		const char *v, *t;
		size_t n, hn, tn;
		uint64_t e;

		if (dir_cursor_expect(c, "packet-key", &v, &n) < 0)
			return -1;
		if (dir_split(v, n, &hn, &t, &tn) < 0)
			return dir_cursor_fail(c, "packet-key needs "
						  "'EPOCH KEY'");
		if (dir_parse_u64(c, v, hn, DIR_EPOCH_MAX, &e) < 0)
			return -1;
		if (e != d->epoch + i)
			return dir_cursor_fail(
			    c,
			    "packet-key epoch %llu, "
			    "expected %llu",
			    (unsigned long long)e,
			    (unsigned long long)(d->epoch + i));
		if (dir_parse_key(c, t, tn, d->packet_keys[i], DIR_KEY_LEN) < 0)
			return -1;
	}
	return 0;
}

static int
parse_fields(struct dir_cursor *c, struct dir_descriptor *d)
{
	const char *v;
	size_t n;

	if (dir_cursor_expect(c, "backchannel-descriptor", &v, &n) < 0)
		return -1;
	if (!dir_value_is(v, n, "1"))
		return dir_cursor_fail(c, "unsupported descriptor version");
	if (dir_cursor_expect(c, "epoch", &v, &n) < 0 ||
	    dir_parse_u64(c, v, n, DIR_EPOCH_MAX - DIR_PACKET_KEYS, &d->epoch) <
		0)
		return -1;
	if (dir_cursor_expect(c, "identity", &v, &n) < 0 ||
	    dir_parse_key(c, v, n, d->identity, DIR_KEY_LEN) < 0)
		return -1;
	if (dir_cursor_expect(c, "link-key", &v, &n) < 0 ||
	    dir_parse_key(c, v, n, d->link_key, DIR_KEY_LEN) < 0)
		return -1;
	if (parse_packet_keys(c, d) < 0)
		return -1;
	if (dir_cursor_expect(c, "address", &v, &n) < 0)
		return -1;
	if (dir_address_check(v, n) < 0)
		return dir_cursor_fail(c, "bad address (want host:port)");
	memcpy(d->address, v, n);
	d->address[n] = '\0';
	if (dir_cursor_expect(c, "role", &v, &n) < 0)
		return -1;
	if (dir_value_is(v, n, "mix"))
		d->role = DIR_ROLE_MIX;
	else if (dir_value_is(v, n, "gateway"))
		d->role = DIR_ROLE_GATEWAY;
	else
		return dir_cursor_fail(c, "role must be 'mix' or 'gateway'");
	if (dir_cursor_expect(c, "services", &v, &n) < 0 ||
	    parse_services(c, v, n, d) < 0)
		return -1;
	if (dir_cursor_expect(c, "version", &v, &n) < 0)
		return -1;
	if (version_check(v, n) < 0)
		return dir_cursor_fail(c, "bad version string");
	memcpy(d->version, v, n);
	d->version[n] = '\0';
	return 0;
}

int
dir_descriptor_parse_at(struct dir_cursor *c, struct dir_descriptor *out,
			size_t *body_end)
{
	const char *const *outer = c->keys;
	size_t start = c->off;
	struct buf b;
	const char *v;
	size_t n, body;
	int rc = -1;

	buf_init(&b);
	memset(out, 0, sizeof(*out));
	c->keys = desc_keys;
	if (parse_fields(c, out) < 0)
		goto done;
	body = c->off - start;
	if (body > DIR_DESCRIPTOR_MAX) {
		dir_cursor_fail(c, "descriptor longer than %d bytes",
				DIR_DESCRIPTOR_MAX);
		goto done;
	}
	if (dir_descriptor_encode_body(out, &b) < 0 || b.len != body ||
	    memcmp(b.data, c->p + start, body) != 0) {
		dir_cursor_fail(c, "descriptor is not in canonical encoding");
		goto done;
	}
	if (body_end != NULL)
		*body_end = c->off;
	if (dir_cursor_expect(c, "signature", &v, &n) < 0 ||
	    dir_parse_key(c, v, n, out->signature, DIR_SIG_LEN) < 0)
		goto done;
	rc = 0;
done:
	c->keys = outer;
	buf_free(&b);
	return rc;
}

int
dir_descriptor_parse(const char *text, size_t len, struct dir_descriptor *out,
		     size_t *body_len, char *err, size_t errlen)
{
	struct dir_cursor c;

	dir_cursor_init(&c, text, len, desc_keys, err, errlen);
	if (len > DIR_DESCRIPTOR_MAX) {
		c.line = 0;
		return dir_cursor_fail(&c, "descriptor longer than %d bytes",
				       DIR_DESCRIPTOR_MAX);
	}
	if (dir_descriptor_parse_at(&c, out, body_len) < 0)
		return -1;
	if (!dir_cursor_done(&c)) {
		c.line++;
		return dir_cursor_fail(&c, "trailing data after signature");
	}
	return 0;
}
