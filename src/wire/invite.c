/* Invitation line: binary body, checksum, base32 (layout in invite.h). */
#include "wire/invite.h"

#include <string.h>

#include "lib/buf.h"
#include "lib/codec.h"

#include "crypto/hash.h"
#include "crypto/secret.h"

const char *
invite_strerror(enum invite_err e)
{
	switch (e) {
	case INVITE_OK:
		return "ok";
	case INVITE_ERR_PREFIX:
		return "not an invitation: it must start with \"bc1\"";
	case INVITE_ERR_ENCODING:
		return "invitation damaged: a character is not valid or the "
		       "length is wrong (was it cut off?)";
	case INVITE_ERR_CHECKSUM:
		return "invitation damaged: checksum mismatch (a typo?)";
	case INVITE_ERR_VERSION:
		return "invitation made by a newer version of backchannel";
	case INVITE_ERR_FORMAT:
		return "invitation malformed: fields truncated or extra bytes";
	case INVITE_ERR_GATEWAY:
		return "invitation names an invalid gateway address";
	case INVITE_ERR_NAME:
		return "invitation carries an invalid name";
	case INVITE_ERR_KEY:
		return "invitation carries an unusable key";
	}
	return "unknown invitation error";
}

void
invite_wipe(struct invite *inv)
{
	secret_wipe(inv, sizeof(*inv));
}

static void
body_put(struct buf *b, const struct invite *inv)
{
	buf_append_u8(b, INVITE_VERSION);
	e2e_gateway_put(b, &inv->gw);
	buf_append(b, inv->queue_id, E2E_QUEUE_ID_LEN);
	buf_append(b, inv->otk_pub, E2E_KEY_LEN);
	buf_append(b, inv->secret, INVITE_SECRET_LEN);
	buf_append_u64be(b, inv->expiry);
	e2e_name_put(b, inv->name);
}

int
invite_encode(const struct invite *inv, char *out, size_t cap)
{
	struct buf b;
	uint8_t sum[SHA256_LEN];
	int rc = -1;

	if (e2e_gateway_check(&inv->gw) != E2E_OK ||
	    !e2e_name_valid(inv->name, strnlen(inv->name, sizeof(inv->name))) ||
	    secret_is_zero(inv->otk_pub, E2E_KEY_LEN) ||
	    cap < INVITE_PREFIX_LEN + 1)
		return -1;
	buf_init(&b);
	body_put(&b, inv);
	sha256(sum, b.data, b.len);
	buf_append(&b, sum, INVITE_CHECKSUM_LEN);
	memcpy(out, INVITE_PREFIX, INVITE_PREFIX_LEN);
	if (base32_encode(out + INVITE_PREFIX_LEN, cap - INVITE_PREFIX_LEN,
			  b.data, b.len) == 0)
		rc = 0;
	else
		out[0] = '\0';
	buf_wipe_free(&b);
	return rc;
}

static enum invite_err
e2e_to_invite(enum e2e_err e)
{
	switch (e) {
	case E2E_OK:
		return INVITE_OK;
	case E2E_ERR_HOST:
	case E2E_ERR_PORT:
		return INVITE_ERR_GATEWAY;
	case E2E_ERR_NAME:
		return INVITE_ERR_NAME;
	case E2E_ERR_TRUNCATED:
	case E2E_ERR_TRAILING:
	case E2E_ERR_VERSION:
	case E2E_ERR_TYPE:
	case E2E_ERR_SIZE:
	case E2E_ERR_PADDING:
	case E2E_ERR_KIND:
		break;
	}
	return INVITE_ERR_FORMAT;
}

/* Parse the checksummed binary form (len includes the checksum). */
static enum invite_err
body_parse(const uint8_t *bin, size_t len, struct invite *out)
{
	uint8_t sum[SHA256_LEN];
	struct rd r;
	enum invite_err e;

	if (len < 1 + INVITE_CHECKSUM_LEN)
		return INVITE_ERR_FORMAT;
	sha256(sum, bin, len - INVITE_CHECKSUM_LEN);
	if (memcmp(sum, bin + len - INVITE_CHECKSUM_LEN, INVITE_CHECKSUM_LEN) !=
	    0)
		return INVITE_ERR_CHECKSUM;
	rd_init(&r, bin, len - INVITE_CHECKSUM_LEN);
	if (rd_u8(&r) != INVITE_VERSION)
		return INVITE_ERR_VERSION;
	e = e2e_to_invite(e2e_gateway_get(&r, &out->gw));
	if (e != INVITE_OK)
		return e;
	rd_bytes(&r, out->queue_id, E2E_QUEUE_ID_LEN);
	rd_bytes(&r, out->otk_pub, E2E_KEY_LEN);
	rd_bytes(&r, out->secret, INVITE_SECRET_LEN);
	out->expiry = rd_u64be(&r);
	if (!rd_ok(&r))
		return INVITE_ERR_FORMAT;
	e = e2e_to_invite(e2e_name_get(&r, out->name));
	if (e != INVITE_OK)
		return e;
	if (rd_remaining(&r) != 0)
		return INVITE_ERR_FORMAT;
	if (secret_is_zero(out->otk_pub, E2E_KEY_LEN))
		return INVITE_ERR_KEY;
	return INVITE_OK;
}

enum invite_err
invite_decode(const char *text, size_t len, struct invite *out)
{
	char low[INVITE_TEXT_MAX];
	uint8_t bin[INVITE_BIN_MAX];
	size_t n = 0, blen;
	enum invite_err e;

	memset(out, 0, sizeof(*out));
	if (len < INVITE_PREFIX_LEN ||
	    (memcmp(text, INVITE_PREFIX, INVITE_PREFIX_LEN) != 0 &&
	     memcmp(text, "BC1", INVITE_PREFIX_LEN) != 0))
		return INVITE_ERR_PREFIX;
	text += INVITE_PREFIX_LEN;
	len -= INVITE_PREFIX_LEN;
	if (len >= sizeof(low))
		return INVITE_ERR_ENCODING;
	for (n = 0; n < len; n++) {
		char c = text[n];
		low[n] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	if (base32_decode(bin, sizeof(bin), &blen, low, n) != 0) {
		e = INVITE_ERR_ENCODING;
		goto done;
	}
	e = body_parse(bin, blen, out);
done:
	if (e != INVITE_OK)
		invite_wipe(out);
	secret_wipe(bin, sizeof(bin));
	secret_wipe(low, sizeof(low));
	return e;
}
