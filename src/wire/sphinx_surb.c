/* Sphinx reply blocks: creation, use, and the creator's decryption. */
#include "wire/sphinx_surb.h"

#include <string.h>

#include "crypto/aez.h"
#include "crypto/rand.h"
#include "crypto/secret.h"

#include "wire/sphinx_keys.h"

enum sphinx_err
sphinx_surb_create(const struct sphinx_geometry *g,
		   const struct sphinx_path_hop *path, size_t n, uint8_t *surb,
		   uint8_t *token)
{
	enum sphinx_err err;

	if (surb == NULL || token == NULL)
		return SPHINX_ERR_ARGS;
	err = sphinx_header_create(g, path, n, surb, token);
	if (err != SPHINX_OK)
		return err;
	/* The token lists the hops last first: the order of decryption. */
	for (size_t i = 0; i < n / 2; i++) {
		uint8_t *a = token + i * SPHINX_KEY_IV_LEN;
		uint8_t *b = token + (n - 1 - i) * SPHINX_KEY_IV_LEN;
		for (size_t k = 0; k < SPHINX_KEY_IV_LEN; k++) {
			uint8_t t = a[k];
			a[k] = b[k];
			b[k] = t;
		}
	}
	uint8_t *tail = surb + g->header_len;
	memcpy(tail, path[0].id, SPHINX_NODE_ID_LEN);
	/* The SURB's own key and IV: the reply's first layer. */
	rand_bytes(tail + SPHINX_NODE_ID_LEN, SPHINX_KEY_IV_LEN);
	memcpy(token + n * SPHINX_KEY_IV_LEN, tail + SPHINX_NODE_ID_LEN,
	       SPHINX_KEY_IV_LEN);
	return SPHINX_OK;
}

enum sphinx_err
sphinx_surb_packet(const struct sphinx_geometry *g, const uint8_t *surb,
		   const uint8_t *user, size_t user_len, uint8_t *pkt,
		   uint8_t first_hop[static SPHINX_NODE_ID_LEN])
{
	if (surb == NULL || pkt == NULL || user_len > g->user_len ||
	    (user == NULL && user_len > 0))
		return SPHINX_ERR_ARGS;
	const uint8_t *tail = surb + g->header_len;
	const uint8_t *key = tail + SPHINX_NODE_ID_LEN;
	uint8_t *payload = pkt + g->header_len;

	memcpy(pkt, surb, g->header_len);
	memcpy(first_hop, tail, SPHINX_NODE_ID_LEN);
	memset(payload, 0, g->payload_len);
	if (user_len > 0)
		memcpy(payload + SPHINX_TAG_LEN, user, user_len);
	struct aez_key *aez = secret_alloc(sizeof(*aez));
	int rc = sphinx_sprp_encrypt(aez, key, key + SPHINX_SPRP_KEY_LEN,
				     payload, payload, g->payload_len);
	SECRET_FREE(aez);
	if (rc != 0) {
		secret_wipe(pkt, g->packet_len);
		return SPHINX_ERR_PAYLOAD;
	}
	return SPHINX_OK;
}

enum sphinx_err
sphinx_surb_decrypt(const struct sphinx_geometry *g, const uint8_t *token,
		    size_t token_len, uint8_t *payload)
{
	enum sphinx_err err = SPHINX_OK;

	if (token == NULL || payload == NULL ||
	    token_len % SPHINX_KEY_IV_LEN != 0 ||
	    token_len < 2 * SPHINX_KEY_IV_LEN ||
	    token_len > sphinx_surb_token_len(g->hops))
		return SPHINX_ERR_ARGS;
	size_t n = token_len / SPHINX_KEY_IV_LEN - 1;
	struct aez_key *aez = secret_alloc(sizeof(*aez));

	/* Undo each hop's decryption, last hop first (the token's order),
	 * then the SURB's own layer. */
	for (size_t i = 0; i < n && err == SPHINX_OK; i++) {
		const uint8_t *k = token + i * SPHINX_KEY_IV_LEN;

		if (sphinx_sprp_encrypt(aez, k, k + SPHINX_SPRP_KEY_LEN,
					payload, payload, g->payload_len) != 0)
			err = SPHINX_ERR_PAYLOAD;
	}
	const uint8_t *k = token + n * SPHINX_KEY_IV_LEN;
	if (err == SPHINX_OK &&
	    sphinx_sprp_decrypt(aez, k, k + SPHINX_SPRP_KEY_LEN, payload,
				payload, g->payload_len) != 0)
		err = SPHINX_ERR_PAYLOAD;
	if (err == SPHINX_OK && !secret_is_zero(payload, SPHINX_TAG_LEN))
		err = SPHINX_ERR_TAG;
	SECRET_FREE(aez);
	if (err != SPHINX_OK)
		secret_wipe(payload, g->payload_len);
	return err;
}
